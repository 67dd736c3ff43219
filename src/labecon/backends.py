"""Where chunks of samples run: in this process, or as tasks on a Dask cluster.

A backend maps one function over a sequence of items and hands the results back in the
items' order, so a run's chunks reach :class:`labecon.result.ResultBuilder` in sample order
whatever ran them, and the same seed gives the same numbers on every backend. Backends are
context managers (they may own a cluster); :func:`open_backend` builds one from the options
``labecon.simulate`` and the CLI take (``backend``, ``scheduler``, ``workers``).

Dask is imported only when a Dask backend is opened, so ``import labecon`` does not pay for
it, and it is an optional extra (``pip install 'labecon[dask]'``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import logging
import os
import platform
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from types import TracebackType
from typing import Any, TypeVar

from labecon.errors import OptionError

Shared = TypeVar("Shared")
Item = TypeVar("Item")
Output = TypeVar("Output")

#: Accepted values of ``backend``.
BACKENDS = ("in-process", "dask")
#: Seconds to wait for a scheduler to answer, and for a cluster to have a worker [s].
CONNECT_TIMEOUT_S = 5.0
#: Tasks in flight per worker thread: enough to keep every worker busy while the caller
#: stores earlier results, few enough that finished results waiting on workers stay small.
TASKS_PER_THREAD = 2


class Backend(ABC):
    """Runs a function over items and yields the results in the items' order."""

    #: Worker threads the backend runs tasks on (1 in this process).
    threads: int = 1

    def __enter__(self) -> Backend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - most backends own nothing to close
        """Release what the backend owns (a cluster it started)."""

    @abstractmethod
    def map_ordered(
        self,
        function: Callable[[Shared, Item], Output],
        shared: Shared,
        items: Sequence[Item],
    ) -> Iterator[Output]:
        """``function(shared, item)`` for each item, in order; ``shared`` is sent once."""

    def describe(self) -> str:
        """A few words for progress messages, e.g. 'on 2 Dask workers'."""
        return ""


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# Set in the threads of an InProcess pool: a run started inside one (a sensitivity batch)
# stays on that thread instead of starting a pool of its own.
_pool_thread = threading.local()


def _mark_pool_thread() -> None:
    _pool_thread.inside = True


class InProcess(Backend):
    """Chunks in this process, on ``threads`` threads (the default backend).

    NumPy releases the GIL for the array arithmetic that is nearly all of a chunk's work,
    so chunks on two threads run on two cores. ``threads=None`` takes every core the
    process may use, or 1 inside a thread of another InProcess pool. Each chunk's numbers
    depend only on the seed and its samples, so any number of threads gives the same
    results; results are handed back in the chunks' order.
    """

    def __init__(self, threads: int | None = None) -> None:
        if threads is None:
            threads = 1 if getattr(_pool_thread, "inside", False) else available_cores()
        self.threads = check_count("threads", threads)

    def describe(self) -> str:
        """How many threads run the chunks, for progress messages."""
        return f"on {self.threads} threads" if self.threads > 1 else ""

    def map_ordered(
        self,
        function: Callable[[Shared, Item], Output],
        shared: Shared,
        items: Sequence[Item],
    ) -> Iterator[Output]:
        """``function`` on each item, up to ``threads`` at once, yielded in the items' order.

        At most one finished result per thread waits to be taken, which bounds the memory
        of results not yet stored.
        """
        if self.threads == 1 or len(items) <= 1:
            for item in items:
                yield function(shared, item)
            return
        pool = ThreadPoolExecutor(
            self.threads, thread_name_prefix="labecon", initializer=_mark_pool_thread
        )
        try:
            yield from _in_flight(pool, function, shared, items, TASKS_PER_THREAD * self.threads)
        finally:
            # A run stopped early (an error, Ctrl-C, the caller closing the iterator) drops
            # the chunks not started and waits for those running.
            pool.shutdown(wait=True, cancel_futures=True)


def _in_flight(
    pool: Executor,
    function: Callable[[Shared, Item], Output],
    shared: Shared,
    items: Sequence[Item],
    most: int,
) -> Iterator[Output]:
    """``function(shared, item)`` for each item on ``pool``, at most ``most`` at once, in order.

    Stopped early, the tasks not yet started are cancelled.
    """
    pending: deque[Future[Output]] = deque()
    upcoming = iter(items)
    try:
        for item in upcoming:
            pending.append(pool.submit(function, shared, item))
            if len(pending) >= most:
                break
        while pending:
            output = pending.popleft().result()
            for item in upcoming:
                pending.append(pool.submit(function, shared, item))
                break
            yield output
    finally:
        for future in pending:
            future.cancel()


#: glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Have glibc keep freed memory for the next chunk, in a process that runs chunks.

    A chunk allocates its arrays afresh, the same sizes each time. By default glibc hands
    large freed blocks back to the OS and the next chunk faults every page in again:
    measured, a ``baseline`` preview chunk of 512 samples took 60 ms in a worker process
    instead of 32 ms. After this, arrays up to 32 MB come from the heap and up to 256 MB of
    freed heap is kept. For labecon's own processes only (its worker pools, ``labecon
    serve``): a library does not set the allocator of the program that imports it. Returns
    whether it applied (glibc only).
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mmap_set = libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    trim_set = libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)
    return bool(mmap_set and trim_set)


class ProcessPool(Backend):
    """Chunks on ``workers`` worker processes, kept open from one run to the next.

    Each process has its own interpreter lock: the parts of a chunk that hold it (its
    Python, NumPy's small calls) run at once in every worker, where threads of one process
    take turns. For many short runs on one machine (the dashboard's previews; readied by
    ``labecon.web.preview.warm``); the pool starts on first use (spawn) and stops with
    :meth:`close`. Tasks, their function and results are pickled; the numbers are those of
    every other backend. A worker that dies (killed, out of memory) fails the run it was in;
    the next run starts a new pool.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.threads = check_count("workers", available_cores() if workers is None else workers)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """How many processes run the chunks, for progress messages."""
        return f"on {self.threads} worker processes"

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.threads, mp_context=get_context("spawn"), initializer=keep_freed_memory
                )
            return self._pool

    def map_ordered(
        self,
        function: Callable[[Shared, Item], Output],
        shared: Shared,
        items: Sequence[Item],
    ) -> Iterator[Output]:
        """``function`` on each item in the worker processes, yielded in the items' order."""
        pool = self._executor()
        try:
            yield from _in_flight(pool, function, shared, items, TASKS_PER_THREAD * self.threads)
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        """Stop the worker processes (those busy finish their task first)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """Chunks as tasks on a Dask cluster: one at ``scheduler``, or a local one of ``workers``.

    With ``scheduler`` (an address such as ``tcp://host:8786``, as ``dask scheduler``
    prints) it connects to that cluster and leaves it running on close. With ``workers``
    it starts a :class:`dask.distributed.LocalCluster` of that many single-threaded worker
    processes on this machine and closes it on close.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        try:
            distributed = importlib.import_module("dask.distributed")
        except ImportError:  # pragma: no cover - the tests install the extra
            raise OptionError(
                "backend: 'dask' needs Dask's distributed scheduler, which is not installed; "
                "accepted after `pip install 'labecon[dask]'`"
            ) from None
        self._cluster: Any = None
        self.scheduler = scheduler
        if scheduler is None:
            count = workers or 1
            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers so they hand freed
            # memory back to the OS; setting it also switches off glibc's adaptive mmap
            # threshold, so each of the engine's large temporary arrays is mapped and
            # zero-filled afresh, which made a chunk 1.6x slower. The engine's memory is
            # bounded per chunk (default_chunk_size): the workers, labecon's own processes,
            # keep freed memory for the next chunk instead (keep_freed_memory).
            config = importlib.import_module("dask.config")
            with config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self._cluster = distributed.LocalCluster(
                    n_workers=count,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never clash with a running one
                    silence_logs=logging.ERROR,
                )
            self._client: Any = distributed.Client(self._cluster)
            self._client.run(keep_freed_memory)
        else:
            try:
                self._client = distributed.Client(scheduler, timeout=f"{timeout_s}s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise OptionError(
                    f"scheduler: cannot reach a Dask scheduler at {scheduler!r} ({exc}); "
                    "accepted: the address a running `dask scheduler` prints, e.g. "
                    "tcp://192.0.2.10:8786"
                ) from None
            try:
                self._client.wait_for_workers(1, timeout=timeout_s)
            except (OSError, TimeoutError) as exc:
                self._client.close()
                raise OptionError(
                    f"scheduler: the Dask scheduler at {scheduler!r} has no worker after "
                    f"{timeout_s:g} s ({exc}); start some with `dask worker {scheduler}`"
                ) from None
        self.threads = max(1, sum(self._client.nthreads().values()))

    def close(self) -> None:
        """Disconnect; a cluster started here is shut down."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> str:
        """Where the tasks run, for progress messages."""
        place = f" at {self.scheduler}" if self.scheduler else ""
        return f"on {self.threads} Dask worker thread{'s' if self.threads != 1 else ''}{place}"

    def map_ordered(
        self,
        function: Callable[[Shared, Item], Output],
        shared: Shared,
        items: Sequence[Item],
    ) -> Iterator[Output]:
        """Submit tasks a few at a time, yield their results in order, release each one.

        At most ``TASKS_PER_THREAD`` tasks per worker thread are in flight, so finished
        results do not pile up on the workers while earlier ones are being stored.
        """
        client = self._client
        # Sent to every worker once rather than pickled into every task.
        shared_future = client.scatter(shared, broadcast=True, hash=False)
        window = max(2, TASKS_PER_THREAD * self.threads)
        pending: deque[Any] = deque()
        upcoming = iter(items)
        try:
            for item in upcoming:
                pending.append(client.submit(function, shared_future, item, pure=False))
                if len(pending) >= window:
                    break
            while pending:
                future = pending.popleft()
                output: Output = future.result()
                future.release()
                for item in upcoming:
                    pending.append(client.submit(function, shared_future, item, pure=False))
                    break
                yield output
        finally:
            if pending:
                client.cancel(list(pending))
            shared_future.release()


def check_count(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1, else :class:`OptionError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{name}: {value!r} is not accepted; accepted: an integer >= 1")
    return value


def open_backend(
    backend: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> Backend:
    """The backend the options ask for; bad options raise :class:`OptionError`.

    ``backend=None`` means ``"dask"`` when ``scheduler`` or ``workers`` is given, else
    ``"in-process"`` (on ``threads`` threads, default every core).
    """
    if backend is None:
        backend = "dask" if scheduler is not None or workers is not None else "in-process"
    if backend not in BACKENDS:
        raise OptionError(f"backend: {backend!r} is not accepted; accepted: {', '.join(BACKENDS)}")
    if workers is not None:
        check_count("workers", workers)
    if threads is not None:
        check_count("threads", threads)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise OptionError(
            f"scheduler: {scheduler!r} is not accepted; accepted: a Dask scheduler address "
            "such as tcp://192.0.2.10:8786"
        )
    if backend == "in-process":
        if scheduler is not None or workers is not None:
            given = "scheduler" if scheduler is not None else "workers"
            raise OptionError(
                f"{given}: runs on a Dask cluster; accepted with backend='dask' (or no backend)"
            )
        return InProcess(threads)
    if threads is not None:
        raise OptionError(
            "threads: sets the threads of a run in this process; not accepted with a Dask "
            "cluster (backend='dask', scheduler or workers), whose workers have their own"
        )
    if scheduler is not None and workers is not None:
        raise OptionError(
            "workers: sets the size of the local cluster labecon starts; not accepted with "
            "scheduler, whose cluster has its own workers"
        )
    return DaskBackend(scheduler=scheduler, workers=workers)


@contextmanager
def using(
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> Iterator[Backend]:
    """An open backend: ``backend`` itself if it is one (left open), else :func:`open_backend`."""
    if isinstance(backend, Backend):
        if threads is not None:
            raise OptionError(
                "threads: sets the threads of the backend labecon opens; not accepted with "
                "an open backend (give InProcess(threads=N) instead)"
            )
        yield backend
        return
    with open_backend(backend, scheduler, workers, threads) as opened:
        yield opened


def balanced_size(samples: int, size: int, threads: int) -> int:
    """A chunk size near ``size`` that splits ``samples`` into a multiple of ``threads`` chunks.

    Seven chunks on two threads leave one thread idle for the last; eight smaller ones keep
    both busy to the end. Chunk sizes do not change the numbers.
    """
    chunks = -(-samples // max(size, 1))
    if threads <= 1 or chunks % threads == 0:
        return size
    chunks = -(-chunks // threads) * threads
    return max(1, -(-samples // chunks))


def chunk_bounds(samples: int, size: int) -> list[tuple[int, int]]:
    """(start, count) of each chunk of ``size`` samples, the last one shorter."""
    return [(start, min(size, samples - start)) for start in range(0, samples, size)]
