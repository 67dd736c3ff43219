"""Seeded draws of a scenario's uncertain inputs, one value per input per sample (DESIGN §2).

Each input has its own random stream, keyed by the seed and the input's name, and sample
``i`` always takes output ``i`` of that stream (a counter-based Philox generator, advanced to
the chunk's first sample). So:

- the same seed gives the same numbers whatever the chunk size;
- an input keeps its draws when other inputs are added or removed, which gives common
  random numbers when scenarios that share inputs are compared;
- ``seed=0`` is a seed like any other.

Rank correlations are applied with a Gaussian copula: the uniforms of correlated inputs are
mapped to normals, mixed by the Cholesky factor of the copula matrix and mapped back.
"""

from __future__ import annotations

import functools
import secrets
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import special

from labecon.errors import OptionError
from labecon.scenario.citations import field_meta
from labecon.scenario.quantities import Distribution
from labecon.scenario.schema import Scenario, correlation_matrix

Draws = dict[str, NDArray[np.float64]]
# Philox yields four 64-bit words per counter step; each uniform double takes one word.
_WORDS_PER_STEP = 4


def normalise_seed(seed: int | None) -> int:
    """A non-negative integer seed; ``None`` draws fresh entropy (record it to reproduce)."""
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise OptionError(f"seed: {seed!r} is not an integer; accepted: an integer >= 0 or None")
    if seed < 0:
        raise OptionError(f"seed: {seed} is negative; accepted: an integer >= 0 or None")
    return int(seed)


def uniform_stream(seed: int, name: str, start: int, count: int) -> NDArray[np.float64]:
    """Uniforms in (0, 1) for samples ``start .. start+count-1`` of input ``name``."""
    bit_generator = _philox(_stream_key(seed, name))
    steps, skip = divmod(start, _WORDS_PER_STEP)
    bit_generator.advance(steps)
    words = np.random.Generator(bit_generator).random(skip + count)[skip:]
    # random() is in [0, 1); nudge exact zeros so inverse CDFs stay finite.
    return np.maximum(words, np.finfo(np.float64).tiny)


@functools.lru_cache(maxsize=4096)
def _stream_key(seed: int, name: str) -> tuple[int, int]:
    """The Philox key of input ``name``'s stream under ``seed`` (derived by a SeedSequence)."""
    key = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode("utf-8")),))
    first, second = key.generate_state(2, np.uint64)
    return int(first), int(second)


_per_thread = threading.local()


def _philox(key: tuple[int, int]) -> np.random.Philox:
    """A Philox generator of this thread, set to the start of the stream with ``key``.

    The state a new ``Philox(key=key)`` starts in, set on a generator made once per thread:
    making one draws OS entropy for a seed it then ignores, ten times the cost of a chunk's
    draws of one input.
    """
    bit_generator: np.random.Philox | None = getattr(_per_thread, "philox", None)
    if bit_generator is None:
        bit_generator = _per_thread.philox = np.random.Philox(key=np.zeros(2, np.uint64))
    bit_generator.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.zeros(4, np.uint64), "key": np.array(key, np.uint64)},
        "buffer": np.zeros(4, np.uint64),
        "buffer_pos": _WORDS_PER_STEP,
        "has_uint32": 0,
        "uinteger": 0,
    }
    return bit_generator


Overrides = Mapping[str, "NDArray[np.float64] | float"]


@dataclass(frozen=True)
class Sampler:
    """Draws of a scenario's uncertain inputs for any range of samples.

    ``overrides`` set chosen uncertain inputs instead of drawing them: a number for every
    sample, or an array with one value per sample from ``first_sample`` on (sample ``i``
    takes element ``i - first_sample``; by default the whole run). Sensitivity analyses,
    scenario discovery and calibration use them; a chunk sent to another process carries
    only its own samples' values, with ``first_sample`` its first sample.
    """

    scenario: Scenario
    seed: int
    overrides: Overrides = field(default_factory=dict)
    first_sample: int = 0
    #: False where the whole run's overrides were checked once before its chunks drew.
    check: bool = True

    def __post_init__(self) -> None:
        if self.check:
            check_overrides(self.scenario, self.overrides)

    def draw(self, start: int, count: int) -> Draws:
        """Values of every uncertain input for samples ``start .. start+count-1``."""
        draws = self._draw(start, count)
        for name, value in self.overrides.items():
            array = np.asarray(value, dtype=np.float64)
            draws[name] = (
                np.full(count, float(array))
                if array.ndim == 0
                else array[start - self.first_sample : start - self.first_sample + count]
            )
        return draws

    def _draw(self, start: int, count: int) -> Draws:
        uncertain = dict(self.scenario.uncertain_inputs())
        uniforms = {name: uniform_stream(self.seed, name, start, count) for name in uncertain}
        if self.scenario.correlations:
            names, matrix = correlation_matrix(self.scenario.correlations)
            chol = np.linalg.cholesky(matrix)
            normals = [special.ndtri(uniforms[n]) for n in names]
            for i, name in enumerate(names):
                # Elementwise sums in a fixed order, not a BLAS product: a matrix product may
                # round differently with the array's length, and results must not depend on
                # the chunk size.
                z = np.zeros(count)
                for j in range(i + 1):
                    z = z + chol[i, j] * normals[j]
                uniforms[name] = np.clip(special.ndtr(z), np.finfo(np.float64).tiny, 1 - 1e-16)
        draws = {name: dist.ppf(uniforms[name]) for name, dist in uncertain.items()}
        for name in monthly_streams(self.scenario):
            months = self.scenario.horizon_months
            flat = uniform_stream(self.seed, name, start * months, count * months)
            draws[name] = flat.reshape(count, months)
        return draws


def check_input_names(scenario: Scenario, names: Iterable[str]) -> None:
    """Refuse names that are not the scenario's uncertain inputs, saying what each is."""
    uncertain = dict(scenario.uncertain_inputs())
    for name in names:
        if name not in uncertain:
            fixed = dict(scenario.inputs())
            why = "is a fixed number in the scenario" if name in fixed else "is not an input"
            raise OptionError(
                f"inputs: {name!r} {why}; accepted: the uncertain inputs "
                f"({', '.join(uncertain) or 'none'})"
            )


def check_overrides(scenario: Scenario, overrides: Overrides, samples: int | None = None) -> None:
    """Refuse overrides that are not uncertain inputs, of the wrong size, or out of range.

    A value's range is its field's in the scenario schema (what a scenario file may hold).
    """
    check_input_names(scenario, overrides)
    for name, value in overrides.items():
        array = np.asarray(value, dtype=np.float64)
        if array.ndim > 1 or (samples is not None and array.ndim == 1 and len(array) != samples):
            raise OptionError(
                f"inputs: {name!r} needs one number or one value per sample "
                f"({samples}), got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise OptionError(f"inputs: {name!r} has values that are not finite numbers")
        meta = field_meta(name.split("."))
        if meta is not None and array.size:
            for extreme in sorted({float(array.min()), float(array.max())}):
                try:
                    meta.validate(extreme)  # the field's own range, as in a scenario file
                except ValueError as exc:
                    raise OptionError(f"inputs: {name!r} = {extreme:g}: {exc}") from None


#: Draws that are not inputs but random events per sample and month start with this prefix.
EVENT_PREFIX = "@"
RAISE_OUTCOME = EVENT_PREFIX + "capital.funding.raise_outcome"


def monthly_streams(scenario: Scenario) -> list[str]:
    """Names of the per-month random streams a scenario needs.

    Sample i reads outputs i*T .. i*T+T-1 of a stream, so chunking changes nothing.
    """
    success = scenario.capital.funding.raise_success_probability
    if scenario.capital.funding.policy == "runway" and (
        isinstance(success, Distribution) or success < 1
    ):
        return [RAISE_OUTCOME]
    return []


def value_of(
    draws: Draws, name: str, value: float | Distribution | None, count: int
) -> NDArray[np.float64]:
    """The per-sample values of input ``name``: its draws, or its constant repeated."""
    if isinstance(value, Distribution):
        return draws[name]
    return np.full(count, np.nan if value is None else float(value))
