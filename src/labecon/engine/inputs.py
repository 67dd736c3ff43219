"""Per-sample values of every scenario input for one chunk, by dotted name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.sampler import Draws, value_of
from labecon.scenario.fields import Param
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Inputs:
    """Arrays of shape (samples,) for each input; constants are broadcast, ``None`` is NaN."""

    scenario: Scenario
    draws: Draws
    count: int

    def __getitem__(self, name: str) -> Array:
        return value_of(self.draws, name, self._raw(name), self.count)

    def given(self, name: str) -> bool:
        """Whether an optional input (``None`` by default) was set."""
        return self._raw(name) is not None

    def _raw(self, name: str) -> Param | None:
        node: object = self.scenario
        for part in name.split("."):
            node = node[int(part)] if isinstance(node, list) else getattr(node, part)
        return node  # type: ignore[return-value]

    def event(self, name: str) -> Array | None:
        """A per-sample, per-month random stream (samples, months), if the sampler drew one."""
        return self.draws.get(name)

    def subset(self, rows: NDArray[np.intp]) -> Inputs:
        """The same inputs restricted to some samples (rows of the chunk)."""
        return Inputs(self.scenario, {k: v[rows] for k, v in self.draws.items()}, len(rows))
