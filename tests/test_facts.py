"""The fact base: format, coverage of the seed essays, search, and citations in scenarios."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import labecon
from labecon.cli import app
from labecon.errors import ScenarioError
from labecon.facts import UNITS, Fact, FactBase, FactError, get_fact, load_facts, parse_facts
from labecon.scenario.citations import Citation
from labecon.scenario.explain import explain
from labecon.scenario.loading import builtin_names, builtin_text
from labecon.scenario.quantities import Distribution

runner = CliRunner(env={"COLUMNS": "140", "NO_COLOR": "1"})
B = 1e9


def fact(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "test.figure",
        "value": 2.0,
        "unit": "multiplier",
        "as_of": "2025-01",
        "source": {"title": "A title", "publisher": "A publisher"},
        "note": "A note.",
    }
    base.update(overrides)
    return base


# -- the shipped facts ------------------------------------------------------------------------
def test_every_fact_has_a_source_a_unit_and_a_unique_id() -> None:
    raw = yaml.safe_load(
        (Path(labecon.__file__).parent / "facts" / "facts.yaml").read_text("utf-8")
    )
    ids = [entry["id"] for entry in raw]
    assert len(ids) == len(set(ids)), "fact ids must be unique"
    facts = load_facts()
    assert len(facts) >= len(ids)  # the shipped ones and the derived ones
    for item in facts.values():
        assert item.unit in UNITS
        assert item.source.title.strip() and item.source.publisher.strip()
        assert item.note.strip()
        assert item.value is not None or item.low is not None


# Figures quoted in the seed essays, copied from the essays by hand: (fact id, value or
# (low, high)).
SEED_FIGURES: list[tuple[str, float | tuple[float, float]]] = [
    ("nwc.training_cost", 2.25 * B),  # seed 000: "training costs exceeding $2.25B"
    ("nwc.required_monthly_revenue", 0.8 * B),  # "$800M+ in monthly inference revenue"
    ("nwc.run_rate", 30 * B),  # "an annual run rate of $30B"
    ("nwc.monthly_revenue", 2.5 * B),  # "roughly $2.5B in monthly revenue"
    ("nwc.active_models", 5),  # "roughly five active models"
    ("nwc.lifecycle_months", 3),  # "over a three-month period"
    ("nwc.revenue_per_model_lifecycle", 0.5 * B),  # "about $500M"
    ("spacex.launch_cost_per_kg.after", 2500),  # "roughly $2,500/kg"
    ("spacex.launch_cost_per_kg.before", (10_000, 20_000)),
    ("frontier.training_cost.2023", (78e6, 191e6)),  # seed 002: "$78-191 million"
    ("openai.cost_per_revenue_dollar", 5),  # seed 002: "$5 to deliver"
    ("amodei.training_cost.2023", 0.1 * B),  # seed 003
    ("amodei.training_cost.2024", 1 * B),
    ("amodei.training_cost.2025", 10 * B),
    ("amodei.revenue.2024", 0.2 * B),
    ("amodei.revenue.2025", 2 * B),
    ("amodei.revenue_multiple", 2),
    ("amodei.cost_growth_per_generation", 10),
    ("pricing.chatgpt_plus", 20),  # seed 001: "twenty dollars per month"
    ("pricing.chatgpt_pro", 200),
    ("openai.raise.2024-10", 6.6 * B),  # "six and a half billion" (6.6 reported)
    ("openai.valuation.2024-10", 157 * B),
    ("amazon.anthropic_commitment", 8 * B),
    ("frontier_labs.next_raise", (250 * B, 500 * B)),  # seed 004
    ("frontier_labs.next_valuation", (1500 * B, 2500 * B)),
    ("frontier_labs.valuation", 900 * B),
    ("pricing.individual_spend_per_company", 2000),
    ("open_weight.catch_up.seed004", (6, 12)),
    ("trading.industry_revenue", 200 * B),
    ("trading.top_firm_revenue", 50 * B),
    ("anthropic.annualised_revenue.44b", 44 * B),
    ("compute.cost_per_gw_year", (12 * B, 15 * B)),
    ("anthropic.compute_gw.first_party", (1.0, 1.5)),
    ("anthropic.gross_margin.first_party", 0.72),
    ("anthropic.gross_margin.cloud", 0.30),
    ("anthropic.gross_profit.annualised", 22 * B),
    ("trend.training_cost_growth", 2.4),  # Epoch AI 2024: 2.4x a year
]


@pytest.mark.parametrize(("fact_id", "expected"), SEED_FIGURES, ids=[f[0] for f in SEED_FIGURES])
def test_seed_figures_are_facts(fact_id: str, expected: float | tuple[float, float]) -> None:
    item = get_fact(fact_id)
    if isinstance(expected, tuple):
        assert (item.low, item.high) == pytest.approx(expected)
    else:
        assert item.value == pytest.approx(expected)


def test_disagreeing_facts_are_both_kept() -> None:
    # GPT-4-era training cost: Stanford AI Index's $78M and Gemini Ultra's $191M, and the
    # open-weight lag: Epoch's ~12 months (2024) and ~3.5 months (2025).
    assert get_fact("ai_index.training_cost.gpt4").value == pytest.approx(78.4e6)
    assert get_fact("ai_index.training_cost.gemini_ultra").value == pytest.approx(191.4e6)
    assert get_fact("trend.open_weight_lag").value == 12
    assert get_fact("trend.open_weight_lag.eci_2025").value == 3.5


def test_search_finds_every_word() -> None:
    found = {f.id for f in load_facts().search("gross margin cloud")}
    assert "anthropic.gross_margin.cloud" in found
    assert "anthropic.gross_margin.first_party" not in found
    assert load_facts().search("no-such-word-anywhere") == []


# -- the fact format --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"unit": "dollars"}, "unknown unit 'dollars'"),
        ({"id": "Bad Id"}, "lowercase"),
        ({"as_of": "2025-13"}, "YYYY"),
        ({"value": None}, "needs a value, a range"),
        ({"low": 1.0}, "both low and high"),
        ({"low": 3.0, "high": 1.0, "value": 2.0}, "low 3 is above high 1"),
        ({"low": 3.0, "high": 4.0}, "outside [3, 4]"),
        ({"source": {"title": "t"}}, "publisher"),
        ({"note": ""}, "note"),
    ],
)
def test_bad_facts_are_refused_with_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(FactError, match=re.escape(message)):
        parse_facts([fact(**overrides)], "test.yaml")


def test_duplicate_ids_are_refused() -> None:
    one = Fact.model_validate(fact())
    with pytest.raises(FactError, match="used twice"):
        FactBase([one, one])


def test_unknown_id_names_close_ones() -> None:
    with pytest.raises(FactError, match=r"unknown fact id 'nwc.training_cots'.*nwc.training_cost"):
        get_fact("nwc.training_cots")


# -- citations --------------------------------------------------------------------------------
def with_input(path: str, value: Any, base: str = "amodei") -> dict[str, Any]:
    data = yaml.safe_load(builtin_text(base))
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return data


def test_every_builtin_citation_resolves_and_is_used() -> None:
    cited = 0
    for name in builtin_names():
        scenario = labecon.load_scenario(name)  # raises on an unknown id
        for citation in scenario.citations:
            assert isinstance(citation, Citation)
            assert citation.fact.id in load_facts()
            cited += 1
    assert cited >= 15


def test_amodei_takes_its_figures_from_the_facts() -> None:
    scenario = labecon.load_scenario("amodei")
    assert scenario.generations.first_training_cost == 100e6
    assert scenario.generations.cost_multiplier == 10
    assert scenario.revenue.top_down.revenue_multiple == 2
    assert {c.input for c in scenario.citations} >= {
        "generations.first_training_cost",
        "generations.cost_multiplier",
        "revenue.top_down.revenue_multiple",
    }


def test_range_citations_become_distributions() -> None:
    # compute.cost_per_gw_year is $12-15B per GW-year (seed 004).
    uniform = labecon.load_scenario(
        with_input(
            "inference.cost_per_gw_year", {"fact": "compute.cost_per_gw_year", "dist": "uniform"}
        )
    ).inference.cost_per_gw_year
    assert isinstance(uniform, Distribution)
    assert (uniform.quantile(0.0), uniform.quantile(1.0)) == pytest.approx((12e9, 15e9))
    lognormal = labecon.load_scenario(
        with_input("inference.cost_per_gw_year", {"fact": "compute.cost_per_gw_year"})
    ).inference.cost_per_gw_year
    assert isinstance(lognormal, Distribution)
    assert (lognormal.quantile(0.05), lognormal.quantile(0.95)) == pytest.approx((12e9, 15e9))
    low = labecon.load_scenario(
        with_input(
            "inference.cost_per_gw_year", {"fact": "compute.cost_per_gw_year", "dist": "high"}
        )
    ).inference.cost_per_gw_year
    assert low == 15e9


def test_times_converts_units() -> None:
    # $44B a year / 12 months / $10 per Mtok = 366,666,666.7 Mtok a month.
    scenario = labecon.load_scenario("compute-bound")
    assert scenario.revenue.api.demand_mtok_per_month == pytest.approx(44e9 / 120)


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        ({"fact": "no.such.fact"}, "generations.first_training_cost.fact", "unknown fact id"),
        (
            {"fact": "anthropic.gross_margin.cloud"},
            "generations.first_training_cost",
            "is in fraction but this input is a money",
        ),
        (
            {"fact": "compute.cost_per_gw_year", "dist": "value"},
            "generations.first_training_cost.dist",
            "gives only a range",
        ),
        (
            {"fact": "nwc.training_cost", "dist": "uniform"},
            "generations.first_training_cost.dist",
            "gives a value but no range",
        ),
        (
            {"fact": "nwc.training_cost", "dist": "wide"},
            "generations.first_training_cost.dist",
            "accepted: value",
        ),
        (
            {"fact": "nwc.training_cost", "times": -1},
            "generations.first_training_cost.times",
            "> 0",
        ),
        (
            {"fact": "nwc.training_cost", "scale": 2},
            "generations.first_training_cost",
            "unknown key",
        ),
    ],
)
def test_bad_citations_name_the_field(value: Any, path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        labecon.load_scenario(with_input("generations.first_training_cost", value))
    problems = caught.value.problems
    assert [p.path for p in problems] == [path]
    assert message in problems[0].message


def test_validate_cli_fails_on_an_unknown_fact(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(with_input("generations.first_training_cost", {"fact": "nwc.trainig_cost"}))
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "unknown fact id 'nwc.trainig_cost'" in result.output
    assert "nwc.training_cost" in result.output  # the close match


# -- explain ----------------------------------------------------------------------------------
def test_explain_names_each_input_and_its_source() -> None:
    table = explain("compute-bound").set_index("input")
    assert table.loc["compute.owned_gw", "origin"] == "fact"
    assert "anthropic.compute_gw.first_party_inference" in table.loc["compute.owned_gw", "facts"]
    assert "seed 004" in table.loc["compute.owned_gw", "sources"]
    assert table.loc["compute.owned_gw", "p50"] == 0.5
    assert table.loc["revenue.cloud_partners.take", "origin"] == "scenario"
    assert table.loc["costs.talent.headcount", "origin"] == "default"


def test_explain_cli_prints_facts_and_sources() -> None:
    result = runner.invoke(app, ["explain", "amodei"])
    assert result.exit_code == 0, result.output
    assert "amodei.training_cost.2023" in result.output
    assert "from facts" in result.output
    as_json = json.loads(runner.invoke(app, ["explain", "amodei", "--json", "--facts"]).stdout)
    assert {row["input"] for row in as_json} == {
        "generations.first_training_cost",
        "generations.cost_multiplier",
        "revenue.top_down.revenue_multiple",
    }


# -- facts CLI --------------------------------------------------------------------------------
def test_facts_cli_lists_searches_and_prints_json() -> None:
    listed = runner.invoke(app, ["facts"])
    assert listed.exit_code == 0
    assert "nwc.training_cost" in listed.output
    found = runner.invoke(app, ["facts", "--search", "trading"])
    assert found.exit_code == 0
    assert "trading.industry_revenue" in found.output
    assert "nwc.training_cost" not in found.output
    document = json.loads(runner.invoke(app, ["facts", "--json", "cost per gw"]).stdout)
    by_id = {entry["id"]: entry for entry in document}
    assert by_id["compute.cost_per_gw_year"]["low"] == 12e9
    assert by_id["compute.cost_per_gw_year"]["source"]["publisher"]
    missing = runner.invoke(app, ["facts", "zzzz-nothing"])
    assert missing.exit_code == 1
    assert "No fact matches" in missing.output
    missing_json = runner.invoke(app, ["facts", "--json", "zzzz-nothing"])
    assert missing_json.exit_code == 1
    assert json.loads(missing_json.stdout) == []
