"""Scenario discovery: outcomes, PRIM by hand, planted boxes, and `labecon discover`.

The planted-box scenario below is worked out by hand in :func:`test_outcome_is_the_box`;
PRIM must find that box from the simulated samples alone.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import labecon
from labecon.cli import app
from labecon.discovery import (
    NothingToDiscoverError,
    Outcome,
    discover,
    parse_outcome,
    prim,
    prim_boxes,
)
from labecon.errors import OptionError

runner = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
B = 1e9

# One generation trains over months 0-11 of 2026 and costs E = min(C0, M) (first-run cost C0,
# plateau cap M, no experiment overhead), spent evenly: E/12 a month. Starting cash $2B, no
# other cost, no funding (policy none), and no revenue before the release in month 12. The
# other uncertain inputs act only after month 12 (revenue multiple, lifetime) or on GW
# (cost per GW-year): nuisances for any outcome up to month 11.
PLANTED: dict[str, Any] = {
    "name": "planted-box",
    "start": "2026-01",
    "horizon_months": 24,
    "generations": {
        "count": 1,
        "first_training_start_month": 0,
        "training_months": 12,
        "first_training_cost": {"uniform": {"low": "$2B", "high": "$8B"}},
        "max_training_cost": {"uniform": {"low": "$3B", "high": "$9B"}},
    },
    "lifecycle": {"lifetime_months": {"choice": {"values": [6, 12, 18]}}},
    "revenue": {
        "mode": "top_down",
        "top_down": {"revenue_multiple": {"uniform": {"low": 1, "high": 3}}},
    },
    "inference": {"cost_per_gw_year": {"uniform": {"low": "$12B", "high": "$15B"}}},
    "capital": {"starting_cash": "$2B", "funding": {"policy": "none"}},
}
C0 = "generations.first_training_cost"
CAP = "generations.max_training_cost"
OVERHEAD = "generations.experiment_overhead"
NUISANCES = [
    "lifecycle.lifetime_months",
    "revenue.top_down.revenue_multiple",
    "inference.cost_per_gw_year",
]


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def box_row(box: pd.DataFrame, name: str) -> dict[str, Any]:
    rows = box[box["input"] == name]
    assert len(rows) == 1, name
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()}


# -- outcomes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "metric", "comparison", "value"),
    [
        # baseline starts 2026-01: 2029-12 is 3 * 12 + 11 = 47 months later.
        ("insolvent_by:2029-12", "insolvency_month", "<=", 47),
        ("breakeven_before:2030-01", "breakeven_month", "<", 48),
        ("cash_breakeven_before:2027-06", "cash_breakeven_month", "<", 17),
        # "before" may name the month after the horizon (2026-01 + 120 months = 2036-01).
        ("breakeven_before:2036-01", "breakeven_month", "<", 120),
        ("capital_need_above:$50B", "capital_need_usd", ">", 50 * B),
        ("capital_need_above: 800M", "capital_need_usd", ">", 800e6),
        ("operating_income_2028<0", "operating_income_2028", "<", 0),
        ("operating_income_2030 > -$5B", "operating_income_2030", ">", -5 * B),
        ("ownership_at_horizon>=30%", "ownership_at_horizon", ">=", 0.3),
        ("breakeven_month<2027-06", "breakeven_month", "<", 17),
        ("insolvency_month<=36", "insolvency_month", "<=", 36),
    ],
)
def test_outcome_forms(text: str, metric: str, comparison: str, value: float) -> None:
    outcome = parse_outcome(text, "baseline")
    assert (outcome.metric, outcome.comparison) == (metric, comparison)
    assert outcome.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("solvent_by:2029-12", ["'solvent_by' is not an outcome form", "insolvent_by:YYYY-MM"]),
        ("insolvency", ["'insolvency' is not an outcome", "METRIC>VALUE"]),
        ("revenue_2028>0", ["'revenue_2028' is not a metric", "capital_need_usd"]),
        # the horizon covers 2026-2035: no operating_income_2040
        ("operating_income_2040<0", ["'operating_income_2040'", "operating_income_2035"]),
        ("insolvent_by:2040-01", ["2040-01 is outside the horizon", "2026-01 to 2035-12"]),
        ("insolvent_by:2025-12", ["2025-12 is outside the horizon", "2026-01 to 2035-12"]),
        ("breakeven_before:2026-01", ["outside the horizon", "2026-02 to 2036-01"]),
        ("insolvent_by:2029-13", ["'2029-13' is not a month", "YYYY-MM"]),
        ("insolvent_by:late", ["'late' is not a month"]),
        ("capital_need_above:lots", ["'lots' is not a money amount", '"$2.25B"']),
        ("ownership_at_horizon>half", ["'half'", "percentage", "ownership_at_horizon"]),
        ("", ["is not an outcome", "insolvent_by:YYYY-MM"]),
    ],
)
def test_bad_outcomes_name_the_value_and_the_accepted_forms(text: str, named: list[str]) -> None:
    with pytest.raises(OptionError) as caught:
        parse_outcome(text, "baseline")
    message = str(caught.value)
    assert message.startswith("outcome: ")
    for part in named:
        assert part in message


def test_outcome_evaluates_designed_samples_by_hand() -> None:
    # cash(t) = $2B - E (t + 1) / 12 for t <= 11 [USD]; it first goes negative at
    # t = floor(24e9 / E) when E > $2B, and never when E <= $2B (cash(11) = $2B - E >= 0).
    c0 = np.array([7.0, 5.0, 2.5, 8.0, 1.8]) * B
    cap = np.array([9.0, 9.0, 9.0, 6.5, 9.0]) * B
    # E = 7, 5, 2.5, 6.5, 1.8 [$B]: 24/7 = 3.4 -> month 3; 24/5 = 4.8 -> 4; 24/2.5 = 9.6 -> 9;
    # 24/6.5 = 3.7 -> 3; E = 1.8 -> never (cash(11) = $0.2B).
    result = labecon.simulate(PLANTED, samples=5, inputs={C0: c0, CAP: cap})
    months = result.metric_values["insolvency_month"]
    np.testing.assert_array_equal(months, [3, 4, 9, 3, np.nan])
    by_april = parse_outcome("insolvent_by:2026-04", PLANTED)  # month 3
    assert by_april.evaluate(result).tolist() == [True, False, False, True, False]
    # Never insolvent counts as later than every month: > 5 holds, < 5 does not.
    later = parse_outcome("insolvency_month>5", PLANTED)
    assert later.evaluate(result).tolist() == [False, False, True, False, True]
    assert parse_outcome("insolvency_month<5", PLANTED).evaluate(result).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]
    # Capital need: all E is burnt by month 11 before any revenue: E itself.
    above = parse_outcome("capital_need_above:$5B", PLANTED)
    assert above.evaluate(result).tolist() == [True, False, False, True, False]


# -- PRIM by hand ------------------------------------------------------------------------------
def tiny() -> tuple[pd.DataFrame, np.ndarray]:
    # a = 1 .. 10; the outcome holds at a = 5, 7, 8, 10: base rate 4/10.
    x = pd.DataFrame({"a": np.arange(1.0, 11.0)})
    y = np.isin(x["a"], [5, 7, 8, 10])
    return x, y


def test_prim_trajectory_by_hand() -> None:
    x, y = tiny()
    # alpha 0.2: each peel removes ceil(0.2 n) cases at one end. min_mass 0.35 stops at 4 cases.
    # step 1 (n = 10, peel 2): low end leaves 3..10, density 4/8 = 0.5; high end leaves 1..8,
    #   3/8: peel low. Coverage 4/4, mass 8/10.
    # step 2 (n = 8, peel 2): low leaves 5..10, 4/6 = 0.667; high leaves 3..8, 3/6: low.
    # step 3 (n = 6, peel 2): low leaves 7..10, 3/4; high leaves 5..8, 3/4; equal density and
    #   size: the first candidate (low). Coverage 3/4, mass 4/10.
    # step 4 would leave 3 cases, mass 0.3 < 0.35: peeling stops.
    found = prim(x, y, alpha=0.2, min_mass=0.35, threshold=0.7)
    trajectory = found.trajectory
    assert trajectory["step"].tolist() == [0, 1, 2, 3]
    assert trajectory["side"].tolist()[1:] == ["low", "low", "low"]
    assert trajectory["limit"].tolist()[1:] == [3.0, 5.0, 7.0]
    np.testing.assert_allclose(trajectory["density"], [0.4, 0.5, 4 / 6, 0.75])
    np.testing.assert_allclose(trajectory["coverage"], [1, 1, 1, 0.75])
    np.testing.assert_allclose(trajectory["mass"], [1, 0.8, 0.6, 0.4])
    # threshold 0.7: only step 3 reaches it. Pasting a = 6 (no outcome) would give 3/5 < 3/4.
    assert found.step == 3
    assert (found.coverage, found.density, found.mass) == (0.75, 0.75, 0.4)
    assert (found.n_cases, found.n_cases_of_interest) == (4, 3)
    row = box_row(found.box, "a")
    assert (row["low"], row["high"], row["restricted"]) == (7.0, 10.0, True)
    # Without the restriction the box is all the data: density 0.4.
    assert row["density_if_dropped"] == pytest.approx(0.4)


def test_prim_takes_the_widest_box_that_is_dense_enough() -> None:
    x, y = tiny()
    # threshold 0.6: steps 2 (0.667, coverage 1) and 3 (0.75, coverage 0.75) reach it; step 2
    # keeps every case of interest: the box a in [5, 10], density 4/6, mass 6/10.
    found = prim(x, y, alpha=0.2, min_mass=0.35, threshold=0.6)
    assert found.step == 2
    assert (found.coverage, found.mass) == (1.0, 0.6)
    assert found.density == pytest.approx(4 / 6)
    assert box_row(found.box, "a")["low"] == 5.0
    # The user's choice of step overrides the threshold.
    assert prim(x, y, alpha=0.2, min_mass=0.35, step=1).step == 1


def test_prim_pastes_back_cases_of_interest() -> None:
    # b = 1 .. 20, outcome at b >= 6. alpha 0.3 peels 6 of 20 (b <= 6) at once, one case of
    # interest too many: density 14/14 = 1 at once, coverage 14/15. Pasting 1 case at a time
    # brings b = 6 back (15/15) and stops before b = 5 (15/16 < 1).
    x = pd.DataFrame({"b": np.arange(1.0, 21.0)})
    y = x["b"].to_numpy() >= 6
    peeled = prim(x, y, alpha=0.3, paste=False)
    assert box_row(peeled.box, "b")["low"] == 7.0
    assert peeled.coverage == pytest.approx(14 / 15)
    pasted = prim(x, y, alpha=0.3)
    assert box_row(pasted.box, "b")["low"] == 6.0
    assert (pasted.coverage, pasted.density) == (1.0, 1.0)


def test_prim_peels_discrete_inputs_by_whole_values() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    level = rng.choice([0.0, 1.0, 2.0], size=n)  # a choice input
    u = rng.uniform(0, 1, size=n)
    noise = rng.uniform(0, 1, size=n)
    y = (level == 2) & (u > 0.5)
    found = prim(pd.DataFrame({"level": level, "u": u, "noise": noise}), y)
    assert found.restricted == ["level", "u"]
    assert (box_row(found.box, "level")["low"], box_row(found.box, "level")["high"]) == (2, 2)
    assert box_row(found.box, "u")["low"] == pytest.approx(0.5, abs=0.03)
    assert found.coverage >= 0.95
    assert found.density >= 0.9


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    low_a=st.floats(0.05, 0.55),
    width_a=st.floats(0.3, 0.4),
    low_b=st.floats(0.05, 0.55),
    width_b=st.floats(0.3, 0.4),
    seed=st.integers(0, 2**16),
)
def test_prim_finds_a_planted_box_in_uniform_data(
    low_a: float, width_a: float, low_b: float, width_b: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(0, 1, size=(3000, 4)), columns=["a", "b", "c", "d"])
    high_a, high_b = low_a + width_a, low_b + width_b
    y = (x["a"].between(low_a, high_a) & x["b"].between(low_b, high_b)).to_numpy()
    found = prim(x, y)
    assert found.restricted == ["a", "b"]
    # Tolerance: a last peel of 5% of the box cases, over the box's other side, moves a limit
    # by at most 0.05 * width <= 0.02; sampling adds a little.
    for name, low, high in (("a", low_a, high_a), ("b", low_b, high_b)):
        row = box_row(found.box, name)
        assert row["low"] == pytest.approx(low, abs=0.03)
        assert row["high"] == pytest.approx(high, abs=0.03)
    assert found.coverage >= 0.9
    assert found.density >= 0.8


def test_second_box_covers_what_the_first_left() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(0, 1, size=(4000, 3)), columns=["a", "b", "c"])
    # Two disjoint boxes: a < 0.4 and b < 0.5 (mass 0.2), a > 0.8 and c > 0.7 (mass 0.06).
    # (PRIM is greedy: two boxes of equal strength in opposite corners trap it, since no peel
    # of an end raises the density; here the larger box leads the peeling.)
    first = (x["a"] < 0.4) & (x["b"] < 0.5)
    second = (x["a"] > 0.8) & (x["c"] > 0.7)
    y = (first | second).to_numpy()
    found = prim_boxes(x, y, boxes=2)
    assert [b.restricted for b in found] == [["a", "b"], ["a", "c"]]
    assert box_row(found[0].box, "a")["high"] == pytest.approx(0.4, abs=0.03)
    assert box_row(found[0].box, "b")["high"] == pytest.approx(0.5, abs=0.03)
    assert box_row(found[1].box, "a")["low"] == pytest.approx(0.8, abs=0.03)
    assert box_row(found[1].box, "c")["low"] == pytest.approx(0.7, abs=0.03)
    # Coverage is a share of all cases of interest: 0.2 / 0.26 = 0.77 and 0.06 / 0.26 = 0.23.
    assert found[0].coverage == pytest.approx(0.77, abs=0.05)
    assert found[1].coverage == pytest.approx(0.23, abs=0.05)
    assert sum(b.coverage for b in found) == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"alpha": 0.7}, "alpha: 0.7 is not accepted; accepted: a share in (0, 0.5)"),
        ({"threshold": 0.0}, "threshold: 0.0 is not accepted; accepted: a density in (0, 1]"),
        ({"min_mass": 1.5}, "min_mass: 1.5 is not accepted"),
        ({"step": 99}, "step: 99 is not a step of the trajectory; accepted: 0 to"),
    ],
)
def test_bad_prim_options(options: dict[str, Any], named: str) -> None:
    x, y = tiny()
    with pytest.raises(OptionError) as caught:
        prim(x, y, **options)
    assert named in str(caught.value)


def test_prim_refuses_data_without_contrast() -> None:
    x, _ = tiny()
    with pytest.raises(NothingToDiscoverError, match="false in all 10 cases"):
        prim(x, np.zeros(10, dtype=bool))
    with pytest.raises(OptionError, match="does not match x's 10 rows"):
        prim(x, np.ones(3, dtype=bool))


# -- the planted box in a scenario -------------------------------------------------------------
def test_outcome_is_the_box() -> None:
    """Insolvency by April 2026 happens exactly when both C0 and M exceed $6B.

    Training spend is E/12 a month from month 0 (E = min(C0, M)), cash starts at $2B and
    nothing else flows before month 12, so cash(t) = $2B - E (t + 1)/12. Insolvent by April
    (month 3) means cash(3) < 0: $2B - 4E/12 < 0, i.e. E > $6B, i.e. min(C0, M) > $6B, i.e.
    C0 > $6B AND M > $6B: the box [$6B, $8B] x [$6B, $9B] of C0 ~ U($2B, $8B) and
    M ~ U($3B, $9B), probability (2/6)(3/6) = 1/6. Nothing else moves cash before month 12.
    """
    result = labecon.simulate(PLANTED, samples=3000, seed=1)
    c0, cap = result.input_values[C0], result.input_values[CAP]
    outcome = parse_outcome("insolvent_by:2026-04", PLANTED)
    box = (c0 > 6 * B) & (cap > 6 * B)
    np.testing.assert_array_equal(outcome.evaluate(result), box)
    assert box.mean() == pytest.approx(1 / 6, abs=0.02)  # sd of the share: 0.0068


def test_prim_finds_the_planted_box() -> None:
    found = discover(PLANTED, "insolvent_by:2026-04", samples=4000, seed=0)
    assert found.base_rate == pytest.approx(1 / 6, abs=0.02)
    box = found.box
    assert found.boxes[0].restricted == [C0, CAP]
    # Lower limits at $6B (within $0.1B, 2% of C0's $6B range); upper ends unrestricted.
    assert box_row(box, C0)["low"] == pytest.approx(6 * B, abs=0.1 * B)
    assert box_row(box, CAP)["low"] == pytest.approx(6 * B, abs=0.1 * B)
    assert box_row(box, C0)["high"] == box_row(box, C0)["data_high"]
    for name in NUISANCES:
        assert not box_row(box, name)["restricted"]
    assert found.boxes[0].coverage >= 0.97
    assert found.boxes[0].density >= 0.9
    assert box_row(box, C0)["kind"] == "money"
    assert box_row(box, "lifecycle.lifetime_months")["kind"] == "months"
    # The last step of the trajectory, pasted back out, is the box itself: density 1.
    last = len(found.trajectory) - 1
    exact = discover(PLANTED, "insolvent_by:2026-04", samples=4000, seed=0, step=last)
    assert exact.boxes[0].density == 1.0
    assert exact.boxes[0].coverage >= 0.98
    assert box_row(exact.box, C0)["low"] == pytest.approx(6 * B, abs=0.05 * B)


def test_prim_finds_a_planted_box_with_a_choice_input() -> None:
    # With experiment overhead o in {0, 100%}, E = min(C0, M)(1 + o). Insolvent by March
    # (month 2): $2B - 3E/12 < 0, E > $8B. With o = 0 that needs min(C0, M) > $8B, impossible
    # (C0 <= $8B); with o = 1, min(C0, M) > $4B. The box: o = 1, C0 > $4B, M > $4B, probability
    # (1/2)(4/6)(5/6) = 0.278.
    overhead = {"experiment_overhead": {"choice": {"values": ["0%", "100%"]}}}
    scenario = {**PLANTED, "generations": {**PLANTED["generations"], **overhead}}
    found = discover(scenario, "insolvent_by:2026-03", samples=4000, seed=2)
    assert found.base_rate == pytest.approx(0.278, abs=0.03)
    box = found.box
    assert found.boxes[0].restricted == [C0, CAP, OVERHEAD]
    assert (box_row(box, OVERHEAD)["low"], box_row(box, OVERHEAD)["high"]) == (1.0, 1.0)
    assert box_row(box, OVERHEAD)["kind"] == "rate"
    assert box_row(box, C0)["low"] == pytest.approx(4 * B, abs=0.15 * B)
    assert box_row(box, CAP)["low"] == pytest.approx(4 * B, abs=0.15 * B)
    assert found.boxes[0].coverage >= 0.95
    assert found.boxes[0].density >= 0.9


# -- errors of discover ------------------------------------------------------------------------
def test_nothing_to_discover_says_why_and_what_to_try() -> None:
    # Insolvency needs cash(0) = $2B - E/12 < 0, E > $24B, impossible: no sample by January.
    with pytest.raises(NothingToDiscoverError) as caught:
        discover(PLANTED, "insolvent_by:2026-01", samples=500)
    message = str(caught.value)
    assert "'insolvent_by:2026-01' never happens in the 500 samples (rate 0%)" in message
    # E ranges over ($2B, $8B]: insolvency from month floor(24/8) = 3 to floor(24/2.x) = 11.
    assert "from 2026-04 to 2026-12" in message
    # The capital need is E > $2B in every sample.
    with pytest.raises(NothingToDiscoverError, match=r"always happens .*\(rate 100%\)"):
        discover(PLANTED, "capital_need_above:$1B", samples=500)


def test_scenario_without_uncertain_inputs_is_refused() -> None:
    with pytest.raises(OptionError, match="'amodei' has no uncertain inputs"):
        discover("amodei", "insolvent_by:2024-01", samples=10)


def test_designed_inputs_that_fix_the_outcome_leave_nothing_to_discover() -> None:
    # C0 = M = $7B in every sample: E = $7B > $6B, insolvent by April everywhere.
    fixed = {C0: 7 * B, CAP: 7 * B}
    with pytest.raises(NothingToDiscoverError, match="always happens in the 20 samples"):
        discover(PLANTED, "insolvent_by:2026-04", samples=20, inputs=fixed)


def test_discovery_document_is_json_ready() -> None:
    found = discover(PLANTED, "insolvent_by:2026-04", samples=1000, seed=0)
    document = found.to_dict()
    assert document["outcome"] == "insolvent_by:2026-04"
    assert document["n_cases_of_interest"] == int(found.y.sum())
    assert isinstance(found.outcome, Outcome)
    assert found.x.shape == (1000, 5)


# -- command line ------------------------------------------------------------------------------
@pytest.fixture()
def planted_file(tmp_path: Path) -> Path:
    path = tmp_path / "planted-box.yaml"
    path.write_text(yaml.safe_dump(PLANTED), encoding="utf-8")
    return path


def test_cli_prints_the_box_in_the_inputs_units(planted_file: Path) -> None:
    result = invoke(
        "discover", str(planted_file), "--outcome", "insolvent_by:2026-04", "-n", "4000"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "insolvent_by:2026-04 happens in 16.8% of 4,000 samples (672)" in out
    assert "generations.first_training_cost" in out
    assert "≥ $5.9" in out or "≥ $6.0" in out  # a money limit near $6B
    assert "$2.0B to $8.0B" in out  # the input's range in the samples
    assert "lifecycle.lifetime_months" not in out.split("Peeling")[0]  # left unrestricted
    assert "Peeling trajectory" in out


def test_cli_json(planted_file: Path) -> None:
    result = invoke(
        "discover", str(planted_file), "--outcome", "insolvent_by:2026-04", "-n", "2000", "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (first,) = document["boxes"]
    restricted = [row["input"] for row in first["box"] if row["restricted"]]
    assert restricted == [C0, CAP]
    assert math.isclose(document["base_rate"], document["n_cases_of_interest"] / 2000)


@pytest.mark.parametrize(
    ("outcome", "named"),
    [
        ("revenue_2028>0", "'revenue_2028' is not a metric; accepted: breakeven_month"),
        ("solvent:2029-01", "'solvent' is not an outcome form; accepted: insolvent_by:YYYY-MM"),
        ("insolvent_by:2040-01", "2040-01 is outside the horizon of 'baseline'"),
    ],
)
def test_cli_bad_outcome_exits_2_without_traceback(outcome: str, named: str) -> None:
    result = invoke("discover", "baseline", "--outcome", outcome, "-n", "10")
    assert result.exit_code == 2
    assert named in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_cli_nothing_to_discover_exits_2(planted_file: Path) -> None:
    result = invoke("discover", str(planted_file), "--outcome", "insolvent_by:2026-01")
    assert result.exit_code == 2
    assert "nothing to discover" in result.stderr
    assert "Traceback" not in result.output + result.stderr
