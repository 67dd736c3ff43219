"""Runs through the API: a pool of worker processes that simulates stored scenarios.

A request starts a run and returns at once; a worker process runs it, on its own store
connection: it marks the run running (with its own process id and machine), writes its
progress (samples done) after each chunk, and stores the whole result (JSON document,
per-sample Parquet, monthly fans) with the status complete in one transaction, or the run
failed with why. A run is cancelled in the store; its worker sees that at its next chunk.

A worker whose run is killed (SIGKILL, out of memory) breaks the pool: that run is marked
failed, runs still queued go to a new pool. A worker whose server is gone stops at its next
chunk and marks its run failed. A store in memory cannot be shared between processes, so
its runs go to threads of the server's process instead (same steps).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from labecon.api import simulate
from labecon.backends import keep_freed_memory
from labecon.cli import json_text
from labecon.report.parquet import parquet_bytes
from labecon.store import ConflictError, Store, scenario_from_text
from labecon.web.preview import monthly_fans


class _CancelledError(Exception):
    """Raised in a run's progress callback: the run no longer runs (cancelled, failed)."""


class _OrphanedError(Exception):
    """Raised in a run's progress callback: the server that started the worker is gone."""


_STORES: dict[str, Store] = {}  # a worker process's store, one per URL


def _store(target: Store | str) -> Store:
    if isinstance(target, Store):
        return target
    if target not in _STORES:
        _STORES[target] = Store(target, recover=False)
    return _STORES[target]


def execute(target: Store | str, run_id: str, server_pid: int) -> str:
    """Run a queued run of the store (a Store, or its URL in a worker process); its status."""
    store = _store(target)
    try:
        info = store.start_run(run_id)
    except ConflictError:
        return "cancelled"  # cancelled while queued

    def tick(done: int, _total: int) -> None:
        if not store.set_progress(run_id, done):
            raise _CancelledError
        if os.getppid() != server_pid and os.getpid() != server_pid:
            raise _OrphanedError

    try:
        scenario = scenario_from_text(store.run_scenario_text(run_id), info.scenario_name)
        result = simulate(
            scenario,
            samples=info.samples,
            seed=info.seed,
            progress=tick,
            threads=1,  # the pool's workers are the unit of parallel work
        )
        document = json_text(result.to_dict())
        table = parquet_bytes(result)
        monthly = json_text(monthly_fans(result))
    except _CancelledError:
        return "cancelled"
    except _OrphanedError:
        error = f"interrupted: its server (pid {server_pid}) stopped; start the run again"
        with contextlib.suppress(ConflictError):
            store.fail_run(run_id, error)
        return "failed"
    except Exception as exc:  # any failure is recorded on the run, with what it was
        with contextlib.suppress(ConflictError):  # cancelled meanwhile
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        return "failed"
    try:
        store.complete_run(run_id, document, table, monthly)
    except ConflictError:  # cancelled while it finished: it stands
        return "cancelled"
    return "complete"


#: Pools a queued run is given to, at most, when the one it waits in breaks.
MAX_TRIES = 3


def _ready() -> bool:
    """A worker's first task: nothing, once this module (and the engine) is imported."""
    return True


@dataclass
class RunPool:
    """Runs of one store on ``workers`` worker processes (threads for a store in memory)."""

    store: Store
    workers: int = 2
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _active: set[str] = field(default_factory=set)  # submitted, not finished

    def __post_init__(self) -> None:
        self.processes = not self.store.in_memory
        self._pool = self._new_pool()

    def _new_pool(self) -> Executor:
        if not self.processes:
            return ThreadPoolExecutor(self.workers, thread_name_prefix="labecon-run")
        # spawn: a clean interpreter per worker, nothing inherited from the server's threads
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=keep_freed_memory)

    def submit(self, run_id: str, tries: int = 1) -> None:
        """Queue a stored run (status queued) on the pool (``tries``: pools it was given to)."""
        target: Store | str = self.store.url if self.processes else self.store
        with self._lock:
            pool = self._pool
            self._active.add(run_id)
            try:
                future = pool.submit(execute, target, run_id, os.getpid())
            except RuntimeError:  # the server is shutting down: nothing runs any more
                self._active.discard(run_id)
                self._fail(run_id, "interrupted: the server stopped before it started")
                return
        future.add_done_callback(lambda done: self._finished(done, run_id, pool, tries))

    def _finished(self, future: Future[str], run_id: str, pool: Executor, tries: int) -> None:
        """A worker died under a run (killed, out of memory): fail it; requeue those waiting."""
        with self._lock:
            self._active.discard(run_id)
        if future.cancelled() or not isinstance(future.exception(), BrokenProcessPool):
            return
        with self._lock:
            if self._pool is pool:  # the first run to see it replaces the pool
                self._pool = self._new_pool()
        status = self.store.get_run(run_id).status
        if status == "queued" and tries < MAX_TRIES:
            self.submit(run_id, tries + 1)
        elif status == "queued":  # workers that cannot even start: do not loop on them
            self._fail(
                run_id,
                f"the worker processes stopped before running it, {tries} times (see the "
                "server's log); start the run again",
            )
        elif status == "running":
            self._fail(
                run_id,
                "interrupted: the worker process running it stopped (killed, or out of "
                "memory); start the run again",
            )

    def _fail(self, run_id: str, error: str) -> None:
        with contextlib.suppress(ConflictError):  # it ended meanwhile
            self.store.fail_run(run_id, error)

    def warm(self) -> None:
        """Start the worker processes now, so that the first run does not wait for them."""
        for _ in range(self.workers):
            self._pool.submit(_ready)

    def cancel(self, run_id: str) -> None:
        """Cancel a queued or running run; a running one stops at its next chunk."""
        self.store.cancel_run(run_id)

    def shutdown(self) -> None:
        """The server stops: mark its queued and running runs failed, close the pool.

        A running run stops at its next chunk, seeing it no longer runs.
        """
        with self._lock:
            active = sorted(self._active)
        for run_id in active:
            self._fail(run_id, "interrupted: the server stopped before it finished; start it again")
        self._pool.shutdown(wait=True, cancel_futures=True)
