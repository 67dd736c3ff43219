"""Generation schedule, training cost and capability (DESIGN §4, 'Generations').

Training of generation g starts at s_g = s_0 + g * cadence, lasts D months and releases at
r_g = s_g + D; it retires L months after release. Final-run cost C_g = C_0 * m^g, capped at
the plateau; development spend C_g * (1 + experiment overhead) is spread evenly over the
training window. Capability q_g = gain^min(g, K) stalls after generation K (overhang).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine.inputs import Array, Inputs


def whole_months(value: Array, minimum: int = 1) -> NDArray[np.int64]:
    """Round month counts to whole months, at least ``minimum`` [months]."""
    return np.maximum(np.rint(value), minimum).astype(np.int64)


@dataclass(frozen=True)
class Schedule:
    """Per-sample, per-generation schedule and costs, arrays of shape (samples, G)."""

    training_start: NDArray[np.int64]  # s_g [month index from scenario start]
    training_months: NDArray[np.int64]  # D [months], same for every generation of a sample
    release: NDArray[np.int64]  # r_g [month]
    retire: NDArray[np.int64]  # r_g + L [month], first month no longer sold
    final_run_cost: Array  # C_g [USD], what the run costs the lab
    scale_cost: Array  # C_g before any reuse saving [USD]: the model's scale
    development_cost: Array  # C_g (1 + overhead) [USD]
    capability: Array  # q_g [relative to generation 0]

    @property
    def lifetime(self) -> NDArray[np.int64]:
        """Commercial life L [months]."""
        return self.retire - self.release


def final_run_cost(
    first_cost: Array,
    multiplier: Array,
    cap: Array,
    count: int,
    last_escalation: Array | None = None,
) -> Array:
    """C_g = min(C_0 * m^min(g, E), cap) [USD], shape (samples, G).

    The 10x-per-generation escalation of Amodei's worked example (seed 003); the cap is
    the plateau path ("the models can't get larger"); E, the last generation whose cost
    still escalates (NaN: none), is the lab giving up on scale after an overhang.
    """
    g = np.arange(count, dtype=np.float64)[None, :]
    if last_escalation is not None:
        g = np.minimum(g, np.where(np.isnan(last_escalation), np.inf, last_escalation)[:, None])
    cost = first_cost[:, None] * multiplier[:, None] ** g
    return np.where(np.isnan(cap)[:, None], cost, np.minimum(cost, cap[:, None]))


def reuse_saving(cost: Array, saving: Array) -> Array:
    """C_g (1 - saving) for g >= 1 [USD]: blocks reused from the previous generation.

    Seed 000: "re-use model blocks from one training run to the next such that it improves
    model intelligence without adding cost to training" (the SpaceX reusable-rocket analogy).
    """
    out = cost * (1 - saving[:, None])
    out[:, 0] = cost[:, 0]
    return out


def capability(gain: Array, stall_after: Array, count: int) -> Array:
    """q_g = gain^min(g, K) [-]: flat after generation K (overhang, seed 003)."""
    g = np.arange(count, dtype=np.float64)
    stall = np.where(np.isnan(stall_after), np.inf, np.floor(stall_after))
    return gain[:, None] ** np.minimum(g[None, :], stall[:, None])


def schedule(inputs: Inputs, count: int, *, open_release: bool = True) -> Schedule:
    """Build the schedule of ``count`` generations for every sample of the chunk.

    With ``open_release=False`` an end-of-life open release is ignored: the natural life,
    over which a top-down revenue multiple is earned.
    """
    gen = inputs.scenario.generations
    n = inputs.count
    cadence = whole_months(inputs["generations.cadence_months"])
    duration = whole_months(inputs["generations.training_months"])
    lifetime = whole_months(inputs["lifecycle.lifetime_months"])
    if open_release and inputs.scenario.strategies.open_source_eol is not None:
        # Seed 000: "always open-source their models after it passes a commercially-defined
        # EOL (e.g. 2-3 years)": the open release ends the commercial life.
        eol = whole_months(inputs["strategies.open_source_eol.after_months"])
        lifetime = np.minimum(lifetime, eol)
    start = gen.first_training_start_month + cadence[:, None] * np.arange(count)[None, :]
    release = start + duration[:, None]
    stall = inputs["generations.capability_stall_after"]
    patience = inputs["generations.stop_escalating_after"]
    cost = final_run_cost(
        inputs["generations.first_training_cost"],
        inputs["generations.cost_multiplier"],
        inputs["generations.max_training_cost"],
        count,
        # After the stall at K, generations K+1 .. K+patience bring no gain: then stop.
        np.floor(stall) + np.floor(patience),
    )
    paid = cost
    if inputs.scenario.strategies.reuse is not None:
        # Reuse saves money, not scale: the model is as large and capable as without it.
        paid = reuse_saving(cost, inputs["strategies.reuse.saving"])
    overhead = inputs["generations.experiment_overhead"]
    return Schedule(
        training_start=start,
        training_months=np.broadcast_to(duration[:, None], (n, count)).copy(),
        release=release,
        retire=release + lifetime[:, None],
        final_run_cost=paid,
        scale_cost=cost,
        development_cost=paid * (1.0 + overhead[:, None]),
        capability=capability(
            inputs["generations.capability_gain"],
            inputs["generations.capability_stall_after"],
            count,
        ),
    )
