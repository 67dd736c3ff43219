"""Runs through the API: a worker pool that simulates stored scenarios into the store.

A request starts a run and returns at once; a pool of worker threads (NumPy releases the GIL
in the engine's arithmetic) runs it: the store records it running, then complete with its
whole result (JSON document and per-sample Parquet) in one transaction, or failed with why.
Progress is kept in memory (samples done of total); a cancel is seen at the next chunk.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labecon.api import simulate
from labecon.cli import json_text
from labecon.report.parquet import parquet_bytes
from labecon.store import ConflictError, Store, scenario_from_text
from labecon.web.preview import monthly_fans


class _CancelledError(Exception):
    """Raised in a run's progress callback once the run was cancelled."""


@dataclass
class Progress:
    """Samples done of a running run (in this process)."""

    done: int = 0
    total: int = 0


@dataclass
class RunPool:
    """Runs of one store on ``workers`` threads."""

    store: Store
    workers: int = 2
    progress: dict[str, Progress] = field(default_factory=dict)
    _cancelled: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="labecon-run")

    def submit(self, run_id: str) -> None:
        """Queue a stored run (status queued) on the pool."""
        self.progress[run_id] = Progress()
        self._pool.submit(self._execute, run_id)

    def cancel(self, run_id: str) -> None:
        """Cancel a queued or running run; a running one stops at its next chunk."""
        self.store.cancel_run(run_id)
        with self._lock:
            self._cancelled.add(run_id)

    def shutdown(self) -> None:
        """Stop taking runs; wait for those running."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _execute(self, run_id: str) -> None:
        try:
            self.store.start_run(run_id)
        except ConflictError:
            return  # cancelled while queued
        info = self.store.get_run(run_id)
        progress = self.progress.setdefault(run_id, Progress())
        progress.total = info.samples

        def tick(done: int, total: int) -> None:
            progress.done, progress.total = done, total
            with self._lock:
                if run_id in self._cancelled:
                    raise _CancelledError

        try:
            scenario = scenario_from_text(self.store.run_scenario_text(run_id), info.scenario_name)
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
            return
        except Exception as exc:  # any failure is recorded on the run, with what it was
            with contextlib.suppress(ConflictError):  # cancelled meanwhile
                self.store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
            return
        with contextlib.suppress(ConflictError):  # cancelled while it finished: it stands
            self.store.complete_run(run_id, document, table, monthly)
