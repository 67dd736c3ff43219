"""The public face of labecon: load a scenario, simulate it, get a Result."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from labecon.backends import Backend, InProcess, balanced_size, chunk_bounds, using
from labecon.engine import simulate_chunk
from labecon.errors import OptionError
from labecon.ledger import Ledger
from labecon.result import (
    MEAN_BLOCK,
    Result,
    ResultBuilder,
    StoredChunk,
    check_keep,
    reduce_chunk,
)
from labecon.sampler import Draws, Overrides, Sampler, check_overrides, normalise_seed
from labecon.scenario.loading import load_scenario
from labecon.scenario.schema import Scenario
from labecon.views import SampleViews, sample_views

Array = NDArray[np.float64]

Progress = Callable[[int, int], None]
Output = TypeVar("Output")
# Cells of (samples x grid months x generations) arrays held at once per chunk; bounds the
# memory of a chunk at a few hundred MB whatever the scenario's size.
_CELLS_PER_CHUNK = 2_500_000
MAX_SAMPLES = 10_000_000
# Share of physical memory a run's stored results may take.
_MEMORY_SHARE = 0.5


def default_chunk_size(scenario: Scenario, samples: int) -> int:
    """Samples per chunk: as many as keep the per-generation arrays near a fixed size."""
    first = min(0, scenario.generations.first_training_start_month)
    cells = (scenario.horizon_months - first + 24) * scenario.generation_count
    return max(1, min(samples, _CELLS_PER_CHUNK // max(cells, 1)))


@dataclass(frozen=True)
class Run:
    """What every chunk of a run shares: sent once to each worker of a cluster."""

    scenario: Scenario
    seed: int
    samples: int = 0  # of the whole run (what a chunk keeps of a one-sample chunk depends on it)
    keep: str = "monthly"
    # The run's overrides were checked once for all its chunks (each chunk's are a part).
    inputs_checked: bool = False


@dataclass(frozen=True)
class Chunk:
    """Samples ``start .. start+count-1`` of a run, with their overridden input values.

    Array values of ``inputs`` hold one value per sample of this chunk only.
    """

    start: int
    count: int
    inputs: Overrides


def simulate_ledger(run: Run, chunk: Chunk) -> tuple[Ledger, Draws]:
    """One chunk of a run through the engine: its ledger and its input draws.

    Draws depend only on the seed and the sample's index, so a chunk's results are the
    same whichever process computes them.
    """
    sampler = Sampler(
        run.scenario,
        run.seed,
        chunk.inputs,
        first_sample=chunk.start,
        check=not run.inputs_checked,
    )
    draws = sampler.draw(chunk.start, chunk.count)
    return simulate_chunk(run.scenario, draws, chunk.count), draws


def simulate_samples(run: Run, chunk: Chunk) -> SampleViews:
    """Per-sample results of one chunk of a run: the unit of work of every backend."""
    ledger, draws = simulate_ledger(run, chunk)
    return sample_views(ledger, run.scenario, draws)


def stored_samples(run: Run, chunk: Chunk) -> StoredChunk:
    """What the run's Result keeps of one chunk, reduced where the chunk runs.

    With ``keep="annual"`` the yearly values and the monthly means' block sums, not every
    sample's months; revenue by generation as block sums (:class:`labecon.result.BlockSums`).
    """
    views = simulate_samples(run, chunk)
    return reduce_chunk(views, run.scenario, chunk.start, run.samples, run.keep)


def packed_samples(run: Run, chunk: Chunk) -> StoredChunk:
    """:func:`stored_samples` for a task in another process: all-zero arrays made empty.

    A quarter of baseline's per-sample arrays are zero in every sample (channels and
    strategies it does not use); they travel as zero-length arrays, restored by
    :func:`unpacked`. Arrays shared between places stay shared.
    """
    return _map_arrays(stored_samples(run, chunk), lambda a: a if np.any(a) else a[:0])


def unpacked(stored: StoredChunk, count: int) -> StoredChunk:
    """The chunk of ``count`` samples that :func:`packed_samples` packed."""
    return _map_arrays(
        stored, lambda a: np.zeros((count, *a.shape[1:]), a.dtype) if len(a) != count else a
    )


def _map_arrays(stored: StoredChunk, change: Callable[[Array], Array]) -> StoredChunk:
    """``stored`` with ``change`` applied to each per-sample array, once per distinct array."""
    done: dict[int, Array] = {}

    def once(values: Array) -> Array:
        if id(values) not in done:
            done[id(values)] = change(values)
        return done[id(values)]

    return replace(stored, arrays={key: once(values) for key, values in stored.arrays.items()})


def check_run_options(samples: object, chunk_size: object, most: int) -> None:
    """Refuse a sample count outside 1..``most`` or a chunk size below 1, naming the option."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= most:
        raise OptionError(
            f"samples: {samples!r} is not accepted; accepted: an integer from 1 to {most:,}"
        )
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise OptionError(f"chunk_size: {chunk_size!r} is not accepted; accepted: an integer >= 1")


def _aligned(size: int, samples: int) -> int:
    """``size`` rounded up to whole blocks of the streamed means (MEAN_BLOCK), at most all.

    Chunks that start and end on block boundaries send their blocks' sums, not their rows.
    """
    if size <= MEAN_BLOCK:
        return size
    return min(samples, -(-size // MEAN_BLOCK) * MEAN_BLOCK)


def _chunk_inputs(inputs: Overrides, start: int, count: int) -> dict[str, Any]:
    """The overrides of samples ``start .. start+count-1``: numbers as they are, arrays cut."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        array = np.asarray(value, dtype=np.float64)
        out[name] = float(array) if array.ndim == 0 else array[start : start + count]
    return out


def simulate(
    scenario: Scenario | str | Path | Mapping[str, Any],
    samples: int = 1000,
    seed: int | None = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    inputs: Overrides | None = None,
    *,
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    keep: str = "monthly",
) -> Result:
    """Simulate ``samples`` Monte Carlo samples of a scenario.

    ``scenario`` is a Scenario, a built-in name, a file path or a mapping. The same ``seed``
    gives the same numbers whatever ``chunk_size``; ``seed=None`` draws a fresh seed, kept in
    ``Result.seed``. ``progress(done, total)`` is called after each chunk. ``inputs`` sets
    uncertain inputs by name instead of drawing them: a number, or one value per sample.

    Chunks run in this process by default, on ``threads`` threads (default: every core
    the process may use; ``threads=1`` runs them one after the other). ``backend="dask"``
    runs them as tasks on a Dask cluster: the one at ``scheduler`` (e.g.
    ``"tcp://host:8786"``), or, with ``workers=N`` and no scheduler, a local cluster of N
    worker processes started and closed here (``scheduler`` or ``workers`` alone imply
    ``"dask"``). An open
    :class:`labecon.backends.Backend` can be passed instead, to reuse one cluster for many
    runs. Every backend gives the same numbers for the same seed and chunk size.

    ``keep="annual"`` keeps every sample's yearly values and the monthly means instead of
    every sample's monthly statements (an eighth of the memory for baseline), with the same
    numbers in every table it can give (docs/performance.md, "Memory").
    """
    loaded = load_scenario(scenario)
    check_keep(keep)
    check_run_options(samples, chunk_size, MAX_SAMPLES)
    fixed_seed = normalise_seed(seed)
    check_overrides(loaded, inputs or {}, samples)
    with using(backend, scheduler, workers, threads) as opened:
        chunks = _chunks(opened, loaded, samples, chunk_size, inputs or {})
        run = Run(loaded, fixed_seed, inputs_checked=True)
        return _run(opened, run, chunks, samples, progress, keep)


def map_chunks(
    task: Callable[[Run, Chunk], Output],
    scenario: Scenario,
    samples: int,
    seed: int,
    inputs: Overrides,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    backend: Backend | None = None,
) -> list[Output]:
    """``task(run, chunk)`` on every chunk of a run, in sample order.

    The chunks, draws and backends of :func:`simulate` (by default this process's
    threads) for a caller that keeps less than a Result of each chunk (the dashboard's
    preview keeps only what it draws): the same samples give the same numbers. ``seed`` is
    a number (:func:`normalise_seed`); ``task`` must pickle for a backend of processes.
    """
    check_run_options(samples, chunk_size, MAX_SAMPLES)
    check_overrides(scenario, inputs, samples)
    run = Run(scenario, seed, samples, inputs_checked=True)
    with using(backend, None, None, threads) as opened:
        chunks = _chunks(opened, scenario, samples, chunk_size, inputs)
        outputs = opened.map_ordered(task, run, chunks)
        return [output for _, output in _in_order(chunks, outputs, samples, progress)]


def _chunks(
    backend: Backend,
    scenario: Scenario,
    samples: int,
    chunk_size: int | None,
    inputs: Overrides,
) -> list[Chunk]:
    """A run's chunks, of ``chunk_size`` samples or as many as suit the backend's threads."""
    size = chunk_size or _aligned(
        balanced_size(samples, default_chunk_size(scenario, samples), backend.threads), samples
    )
    return [
        Chunk(start, count, _chunk_inputs(inputs, start, count))
        for start, count in chunk_bounds(samples, size)
    ]


def _in_order(
    chunks: list[Chunk], outputs: Iterator[Output], samples: int, progress: Progress | None
) -> Iterator[tuple[Chunk, Output]]:
    """Each chunk with its output as it arrives, reporting progress after each.

    An exception (from ``progress`` or the caller) stops the run: a cluster's tasks still in
    flight are cancelled.
    """
    try:
        for chunk, received in zip(chunks, outputs, strict=True):
            yield chunk, received
            if progress is not None:
                progress(chunk.start + chunk.count, samples)
    finally:
        close = getattr(outputs, "close", None)
        if close is not None:
            close()


def _run(
    backend: Backend,
    run: Run,
    chunks: list[Chunk],
    samples: int,
    progress: Progress | None,
    keep: str = "monthly",
) -> Result:
    """Every chunk's results through ``backend``, stored in sample order."""
    builder = ResultBuilder(run.scenario, run.seed, samples, keep)
    remote = not isinstance(backend, InProcess)
    task = replace(run, samples=samples, keep=builder.keep)
    outputs = backend.map_ordered(packed_samples if remote else stored_samples, task, chunks)
    for chunk, received in _in_order(chunks, outputs, samples, progress):
        stored = unpacked(received, chunk.count) if remote else received
        if chunk.start == 0:
            check_memory(builder.stored_bytes_per_sample(stored), samples)
        builder.add(stored)
    return builder.build()


def check_memory(bytes_per_sample: float, samples: int) -> None:
    """Refuse a run whose per-sample results would not fit in memory, before allocating them.

    A Result keeps every sample's monthly statements; runs beyond about half the machine's
    memory are refused with the largest sample count that fits.
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return
    budget = physical * _MEMORY_SHARE
    needed = bytes_per_sample * samples
    if needed > budget:
        fits = int(budget // max(bytes_per_sample, 1.0))
        raise OptionError(
            f"samples: {samples:,} would need {needed / 1e9:.1f} GB for the per-sample results "
            f"(this machine has {physical / 1e9:.1f} GB); accepted: at most {fits:,} samples of "
            "this scenario here"
        )
