"""Backtests: calibrate on a lab's public figures up to a cut-off, predict the ones after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from labecon.calibration import Calibration, CalibrationError, TargetSet, calibrate, load_targets
from labecon.errors import Problem
from labecon.scenario.loading import SUFFIXES


@dataclass(frozen=True)
class Backtest:
    """A calibration on the figures up to ``cutoff`` and its errors on the figures after it."""

    name: str
    cutoff: str
    calibration: Calibration

    def table(self) -> pd.DataFrame:
        """Held-out targets: observed, prior/point/posterior predictions, errors, coverage.

        ``*_error`` is prediction / observed - 1 (a relative error); ``inside_90`` says
        whether the observed figure lies in the posterior's 90% predictive interval.
        """
        frame = self.calibration.targets_table(tracked=True)
        for column in ("prior_p50", "point_median", "posterior_p50"):
            if column in frame:
                name = column.removesuffix("_p50").removesuffix("_median")
                frame[f"{name}_error"] = frame[column] / frame["observed"] - 1.0
        if "posterior_p5" in frame:
            frame["inside_90"] = (frame["posterior_p5"] <= frame["observed"]) & (
                frame["observed"] <= frame["posterior_p95"]
            )
        return frame

    def summary(self) -> dict[str, float]:
        """Median absolute relative error of each prediction, and the 90% interval coverage."""
        frame = self.table()
        out: dict[str, float] = {"held_out": float(len(frame))}
        for name in ("prior", "point", "posterior"):
            column = f"{name}_error"
            if column in frame:
                out[f"{name}_median_abs_error"] = float(np.nanmedian(np.abs(frame[column])))
        if "inside_90" in frame:
            out["coverage_90"] = float(frame["inside_90"].mean())
        return out


def backtest(
    name: str | Path,
    *,
    scenario: str | Path | None = None,
    cutoff: str | None = None,
    samples: int = 4000,
    point_samples: int = 400,
    seed: int | None = 0,
) -> Backtest:
    """Calibrate a target set's scenario on its figures up to the cut-off; score the rest.

    ``name`` is a built-in target set (``labecon backtest --list``) or a targets file with
    ``scenario:``, ``fit:`` and ``cutoff:``; ``scenario`` and ``cutoff`` override them.
    """
    targets = load_targets(name)
    problems = []
    chosen_cutoff = cutoff or targets.cutoff
    chosen_scenario = scenario or targets.scenario
    if scenario is None and targets.scenario and targets.source:
        # A scenario file named in a targets file is found beside that file.
        beside = Path(targets.source).parent / targets.scenario
        if Path(targets.scenario).suffix.lower() in SUFFIXES and beside.is_file():
            chosen_scenario = str(beside)
    if chosen_cutoff is None:
        problems.append(Problem("cutoff", None, "a backtest needs cutoff: YYYY-MM"))
    if chosen_scenario is None:
        problems.append(Problem("scenario", None, "a backtest needs the scenario to calibrate"))
    if not targets.fit:
        problems.append(Problem("fit", [], "a backtest needs the inputs to fit"))
    if problems:
        raise CalibrationError(problems, targets.source or targets.name)
    assert chosen_cutoff is not None and chosen_scenario is not None
    dated = TargetSet(
        targets.name,
        targets.targets,
        targets.description,
        str(chosen_scenario),
        targets.fit,
        chosen_cutoff,
        targets.source,
    )
    before, after = dated.split()
    for part, label in ((before, "before"), (after, "after")):
        if not part.targets:
            raise CalibrationError(
                [
                    Problem(
                        "cutoff",
                        chosen_cutoff,
                        f"leaves no target {label} it; accepted: a "
                        "month with targets on both sides",
                    )
                ],
                targets.source or targets.name,
            )
    fitted = calibrate(
        chosen_scenario,
        before,
        targets.fit,
        samples=samples,
        point_samples=point_samples,
        seed=seed,
        track=after.targets,
    )
    return Backtest(targets.name, chosen_cutoff, fitted)
