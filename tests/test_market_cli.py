"""``labecon run`` on a market, and the built-in market frontier-2026 (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from labecon.cli import app
from labecon.facts import get_fact
from labecon.market import load_market
from labecon.market.loading import builtin_market_names

LABS = ["openai", "anthropic", "cloud-giant", "challenger-eu", "challenger-us"]


def test_frontier_2026_has_the_essays_cast_and_cites_the_fact_base() -> None:
    assert "frontier-2026" in builtin_market_names()
    loaded = load_market("frontier-2026")
    assert loaded.names == LABS
    cash = {s.name: s.capital.starting_cash for s in loaded.scenarios}
    assert cash["openai"] == get_fact("openai.raise.2026-03").value == 1.22e11
    assert cash["anthropic"] == get_fact("anthropic.raise.2026-02").value == 3.0e10
    backed = [lab.name for lab in loaded.market.labs if lab.cloud_backed]
    assert backed == ["cloud-giant"]
    assert loaded.market.open_weight is not None
    assert loaded.market.consolidation.acquirer == "largest-cloud-backed"


def test_run_frontier_2026_prints_survival_and_the_consolidation_timeline() -> None:
    outcome = CliRunner().invoke(app, ["run", "frontier-2026", "-n", "40", "--seed", "2"])
    assert outcome.exit_code == 0, outcome.output
    text = outcome.output
    assert "Probability each lab is still independent" in text
    assert "Consolidation timeline" in text
    assert "How each lab ends" in text
    for lab in LABS:
        assert lab in text
    assert "open-weight" in text


def test_run_frontier_2026_as_json_and_files(tmp_path: Path) -> None:
    runner = CliRunner()
    outcome = runner.invoke(app, ["run", "frontier-2026", "-n", "30", "--json"])
    assert outcome.exit_code == 0, outcome.output
    document = json.loads(outcome.stdout)
    assert document["labs"] == LABS and document["samples"] == 30
    for lab in LABS:
        by_year = document["survival"][lab]
        assert list(by_year) == [str(y) for y in range(2026, 2036)]
        assert all(0.0 <= p <= 1.0 for p in by_year.values())
        assert list(by_year.values()) == sorted(by_year.values(), reverse=True)  # never rises
    for row in document["timeline"]:
        assert row["exits"] == row["acquisitions"] + row["wind_downs"]
        assert 0 <= row["independent_labs"] <= 5
    out = tmp_path / "market"
    outcome = runner.invoke(app, ["run", "frontier-2026", "-n", "30", "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    each_lab = [
        f"{lab}.{f}" for lab in LABS for f in ("annual.csv", "generations.csv", "metrics.json")
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["survival.csv", "timeline.csv", "events.csv", "shares.csv", "market.json", *each_lab]
    )
    # Each lab's files are those of a single-lab run: its yearly statements, tidy.
    annual = (out / "challenger-eu.annual.csv").read_text().splitlines()
    assert annual[0] == "view,item,year,mean,p5,p25,p50,p75,p95"
    assert len(json.loads((out / "openai.metrics.json").read_text())) > 5
    shares = (out / "shares.csv").read_text().splitlines()
    assert shares[0] == "segment,month,option,mean"
    assert len(shares) == 1 + 120 * 6  # every month, five labs and open weights
    assert json.loads((out / "market.json").read_text()) == document


def test_a_bad_market_exits_2_naming_the_problem(tmp_path: Path) -> None:
    market = tmp_path / "bad.yaml"
    market.write_text(
        yaml.safe_dump(
            {
                "kind": "market",
                "labs": [{"name": "a", "scenario": "baseline"}, {"name": "a", "scenario": "nwc"}],
            }
        )
    )
    outcome = CliRunner().invoke(app, ["run", str(market), "-n", "5"])
    assert outcome.exit_code == 2
    text = " ".join(outcome.output.split())
    assert "labs.1.name: 'a' is already the name of labs.0" in text
    assert "Traceback" not in outcome.output
    outcome = CliRunner().invoke(app, ["run", "frontier-2026", "-n", "5", "--workers", "2"])
    assert outcome.exit_code == 2
    assert "--workers: applies to a single-lab scenario" in " ".join(outcome.output.split())


def test_validate_and_examples_know_the_markets(tmp_path: Path) -> None:
    runner = CliRunner()
    outcome = runner.invoke(app, ["validate", "frontier-2026"])
    assert outcome.exit_code == 0
    assert "OK: the market frontier-2026 is valid (5 labs: openai, anthropic" in outcome.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "kind": "market",
                "labs": [{"name": "a", "scenario": "baseline"}],
                "consolidation": {"acquirer": "b"},
            }
        )
    )
    outcome = runner.invoke(app, ["validate", str(bad)])
    assert outcome.exit_code == 1
    assert "consolidation.acquirer: 'b' is neither a rule nor a lab" in outcome.output
    listing = runner.invoke(app, ["examples"]).output
    assert "frontier-2026" in listing and "Market: The frontier from 2026" in listing
