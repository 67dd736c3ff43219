"""The public face of labecon: load a scenario, simulate it, get a Result."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from labecon.engine import simulate_chunk
from labecon.errors import OptionError
from labecon.result import Result, ResultBuilder
from labecon.sampler import Overrides, Sampler, check_overrides, normalise_seed
from labecon.scenario.loading import load_scenario
from labecon.scenario.schema import Scenario
from labecon.views import sample_views

Progress = Callable[[int, int], None]
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


def simulate(
    scenario: Scenario | str | Path | Mapping[str, Any],
    samples: int = 1000,
    seed: int | None = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    inputs: Overrides | None = None,
) -> Result:
    """Simulate ``samples`` Monte Carlo samples of a scenario.

    ``scenario`` is a Scenario, a built-in name, a file path or a mapping. The same ``seed``
    gives the same numbers whatever ``chunk_size``; ``seed=None`` draws a fresh seed, kept in
    ``Result.seed``. ``progress(done, total)`` is called after each chunk. ``inputs`` sets
    uncertain inputs by name instead of drawing them: a number, or one value per sample.
    """
    loaded = load_scenario(scenario)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise OptionError(
            f"samples: {samples!r} is not accepted; accepted: an integer from 1 to {MAX_SAMPLES:,}"
        )
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise OptionError(f"chunk_size: {chunk_size!r} is not accepted; accepted: an integer >= 1")
    fixed_seed = normalise_seed(seed)
    size = chunk_size or default_chunk_size(loaded, samples)
    check_overrides(loaded, inputs or {}, samples)
    sampler = Sampler(loaded, fixed_seed, inputs or {})
    builder = ResultBuilder(loaded, fixed_seed, samples)
    for start in range(0, samples, size):
        count = min(size, samples - start)
        draws = sampler.draw(start, count)
        chunk = sample_views(simulate_chunk(loaded, draws, count), loaded, draws)
        if start == 0:
            check_memory(ResultBuilder.bytes_per_sample(chunk), samples)
        builder.add(chunk)
        if progress is not None:
            progress(start + count, samples)
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
