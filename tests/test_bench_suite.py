"""bench/suite.py's agreement check and table at tiny sizes (nothing here is timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import suite  # noqa: E402


def test_labecon_and_the_numpy_peer_agree_at_a_few_thousand_samples() -> None:
    labecon_case = suite.m1_agreement_case(suite.LABECON, 3_000, 1)
    numpy_case = suite.m1_agreement_case(suite.NUMPY, 3_000, 1)
    agreement = suite.compare(3_000, suite.NUMPY, labecon_case, numpy_case)
    assert agreement.passed, agreement.label()
    assert len(agreement.checks) == 30


def test_a_wrong_peer_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    import m1_numpy

    right = m1_numpy.simulate
    # An extra $10M of cost a month: year 0's median income moves from -$100M to -$220M.
    monkeypatch.setattr(m1_numpy, "simulate", lambda n, seed: right(n, seed) - 10e6)
    labecon_case = suite.m1_agreement_case(suite.LABECON, 3_000, 1)
    wrong_case = suite.m1_agreement_case(suite.NUMPY, 3_000, 2)
    assert not suite.compare(3_000, suite.NUMPY, labecon_case, wrong_case).passed


def test_a_refused_run_is_a_row_with_its_reason() -> None:
    reason = "samples: 1,000,000 would need 35.1 GB for the per-sample results"
    rows = [
        suite.Row("baseline, cold process", 1_000_000, "labecon", refused=reason),
        suite.Row("M1", 100_000, "squigglepy", run_samples=20_000, run_seconds=[1.0, 2.0, 3.0]),
    ]
    table = suite.markdown_table(rows).splitlines()
    assert table[2].startswith("| baseline, cold process | 1,000,000 | labecon | refused |")
    assert f"refused: {reason}" in table[2]
    # 2 s median over 20,000 samples, scaled to 100,000.
    assert "| 10 (3 runs) |" in table[3] and "extrapolated from 20,000 samples" in table[3]
