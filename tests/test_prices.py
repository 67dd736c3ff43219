"""API price data from genai-prices: offline load, tidy table, reproducible fitted declines."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import socket
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labecon.facts import prices

# --- Loading offline -----------------------------------------------------------------------

_OFFLINE_LOAD = textwrap.dedent(
    """
    import json, socket, threading

    def refuse(*args, **kwargs):
        raise OSError("network blocked by test_prices")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from labecon.facts import prices

    table = prices.price_table()
    row = lambda provider, model: table[
        (table.provider == provider) & (table.model == model) & (table.period == 0)
    ].iloc[0]
    gpt4o, sonnet = row("openai", "gpt-4o"), row("anthropic", "claude-3-5-sonnet")
    print(json.dumps({
        "rows": len(table),
        "gpt4o": [gpt4o.input_usd_per_mtok, gpt4o.output_usd_per_mtok],
        "sonnet": [sonnet.input_usd_per_mtok, sonnet.output_usd_per_mtok],
        "rate": prices.price_decline().rate_per_year,
        "threads": sorted(t.name for t in threading.enumerate()),
    }))
    """
)


def test_load_makes_no_network_call() -> None:
    # A fresh interpreter, so genai_prices is really imported (not reused from this process)
    # with every way out to the network refused.
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_LOAD], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["rows"] > 1000
    assert out["gpt4o"] == [2.5, 10.0]
    assert out["sonnet"] == [3.0, 15.0]
    assert 0 < out["rate"] < 1
    assert not [name for name in out["threads"] if "genai_prices" in name]


def test_load_in_process_with_network_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network blocked by test_prices")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    prices._price_table.cache_clear()
    table = prices.price_table()
    assert len(table) > 1000


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "genai_prices.data", None)
    with pytest.raises(ModuleNotFoundError, match="pip install genai-prices"):
        prices._genai_prices()


# --- The table -----------------------------------------------------------------------------


def _launch_row(table: pd.DataFrame, provider: str, model: str) -> pd.Series:
    rows = table[(table.provider == provider) & (table.model == model) & (table.period == 0)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_known_prices() -> None:
    table = prices.price_table()
    gpt4o = _launch_row(table, "openai", "gpt-4o")
    assert (gpt4o.input_usd_per_mtok, gpt4o.output_usd_per_mtok) == (2.5, 10.0)
    assert gpt4o.blended_usd_per_mtok == pytest.approx(0.75 * 2.5 + 0.25 * 10.0)
    assert gpt4o.tier == "mid" and gpt4o.first_party and gpt4o.text
    sonnet = _launch_row(table, "anthropic", "claude-3-5-sonnet")
    assert (sonnet.input_usd_per_mtok, sonnet.output_usd_per_mtok) == (3.0, 15.0)
    # Its launch date comes from a dated alias elsewhere in the data.
    assert sonnet.launch_date == pd.Timestamp("2024-06-20")
    assert sonnet.launch_date_source == "dated alias"
    assert _launch_row(table, "openai", "gpt-4o-2024-05-13").launch_date_source == "model id"
    assert _launch_row(table, "anthropic", "claude-3-haiku").tier == "small"
    # Google's Vertex listing of Claude is resale, not first party.
    assert not _launch_row(table, "google", "claude-3-5-sonnet").first_party


def test_o3_price_cut_is_a_dated_period() -> None:
    table = prices.price_table()
    o3 = table[(table.provider == "openai") & (table.model == "o3")].sort_values("period")
    assert list(o3.input_usd_per_mtok) == [10.0, 2.0]
    assert list(o3.start_date) == [pd.Timestamp("2025-04-16"), pd.Timestamp("2025-06-10")]


def test_table_is_tidy() -> None:
    table = prices.price_table()
    assert list(table.columns) == list(prices.COLUMNS)
    price_columns = ["input_usd_per_mtok", "output_usd_per_mtok", "blended_usd_per_mtok"]
    assert table[price_columns].notna().all().all()
    assert (table[price_columns] > 0).all().all()
    assert pd.api.types.is_datetime64_any_dtype(table.launch_date)
    assert pd.api.types.is_datetime64_any_dtype(table.start_date)
    assert not table.duplicated(["provider", "model", "period"]).any()
    assert set(table.tier.astype(str)) <= set(prices.TIERS)
    dated = table.launch_date.notna()
    # Every row of a dated model has a start date; period 0 starts at launch.
    assert table.loc[dated, "start_date"].notna().all()
    first = table[table.period == 0]
    assert (first.start_date.dropna() == first.launch_date.dropna()).all()
    assert set(table.launch_date_source) <= {
        "model id",
        "match clause",
        "dated alias",
        "first price start",
        "unknown",
    }
    assert (table.launch_date_source == "unknown").eq(table.launch_date.isna()).all()
    # genai-prices records no release dates; ids give them for a third of the labs' models.
    lab_models = first[first.first_party & first.text]
    assert lab_models.launch_date.notna().mean() > 0.3
    assert lab_models[lab_models.provider.isin(["anthropic"])].launch_date.notna().mean() > 0.7


def test_price_table_is_cached_and_returns_a_copy() -> None:
    table = prices.price_table()
    table.loc[:, "input_usd_per_mtok"] = -1.0
    assert (prices.price_table().input_usd_per_mtok > 0).all()


@pytest.mark.parametrize(
    ("model", "tier"),
    [
        ("claude-3-5-haiku", "small"),
        ("gpt-4o-mini", "small"),
        ("gemini-2.5-flash-lite", "small"),
        ("mistral-small-24b-instruct-2501", "small"),
        ("gemini-flash-1.5-8b", "small"),
        ("claude-opus-4-1", "frontier"),
        ("gpt-5-pro", "frontier"),
        ("mistral-large-2512", "frontier"),
        ("gpt-4o", "mid"),
        ("claude-sonnet-4-5", "mid"),
        ("MiniMax-M2", "mid"),
        ("gpt-oss-120b", "mid"),
    ],
)
def test_tier_by_name(model: str, tier: str) -> None:
    assert prices.tier_of(model) == tier


def test_dates_in_ids() -> None:
    assert prices.dates_in("gpt-4o-2024-05-13") == [dt.date(2024, 5, 13)]
    assert prices.dates_in("claude-3-5-sonnet-20240620") == [dt.date(2024, 6, 20)]
    assert prices.dates_in("mistral-large-2407") == [dt.date(2024, 7, 1)]
    assert prices.dates_in("command-r-08-2024") == [dt.date(2024, 8, 1)]
    # Month-day suffixes without a year are not dates we can place.
    assert prices.dates_in("gpt-4-0613") == []
    assert prices.dates_in("kimi-k2-0711-preview") == []
    assert prices.dates_in("glm-4-32b-0414-128k") == []


def test_launch_prices_by_tier() -> None:
    summary = prices.launch_prices()
    assert list(summary.columns) == ["tier", "launch_year", "median_usd_per_mtok", "n_models"]
    assert set(summary.tier.astype(str)) == set(prices.TIERS)
    assert (summary.median_usd_per_mtok > 0).all()
    launches = prices.fit_rows()
    assert summary.n_models.sum() == (launches.period == 0).sum()
    by_provider = prices.launch_prices(by="provider")
    assert "anthropic" in set(by_provider.provider)


# --- The fits on data with a known answer --------------------------------------------------


def _halving_launches(noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Launches every quarter 2023-2026 in three tiers of two providers; price halves yearly."""
    rng = np.random.default_rng(seed)
    rows = []
    for provider, provider_level in (("lab-a", 1.0), ("lab-b", 0.3)):
        for tier, level in (("frontier", 40.0), ("mid", 6.0), ("small", 0.5)):
            for quarter in range(16):
                launch = pd.Timestamp("2023-01-01") + pd.Timedelta(days=quarter * 365.25 / 4)
                years = quarter / 4
                price = provider_level * level * 0.5**years * np.exp(noise * rng.normal())
                rows.append(
                    {
                        "provider": provider,
                        "model": f"{provider}-{tier}-{quarter}",
                        "tier": tier,
                        "launch_date": launch,
                        "period": 0,
                        "blended_usd_per_mtok": price,
                    }
                )
    return pd.DataFrame(rows)


def test_fit_decline_recovers_halving_each_year() -> None:
    fit = prices.fit_decline(_halving_launches(), version="test")
    assert fit.rate_per_year == pytest.approx(0.5, abs=1e-9)
    assert fit.low == pytest.approx(0.5, abs=1e-6) and fit.high == pytest.approx(0.5, abs=1e-6)
    assert fit.n_models == fit.n_points == 96
    assert fit.data_date == dt.date(2026, 10, 1)
    assert fit.package_version == "test"


def test_fit_decline_equals_ols_with_group_dummies_by_hand() -> None:
    frame = _halving_launches(noise=0.4, seed=7)
    fit = prices.fit_decline(frame, version="test")
    years = (frame.launch_date - pd.Timestamp("2020-01-01")).dt.total_seconds() / (86400 * 365.25)
    groups = frame.provider + "|" + frame.tier
    dummies = pd.get_dummies(groups).to_numpy(float)
    design = np.column_stack([years.to_numpy(), dummies])
    log_price = np.log(frame.blended_usd_per_mtok.to_numpy())
    beta, *_ = np.linalg.lstsq(design, log_price, rcond=None)
    residuals = log_price - design @ beta
    dof = len(frame) - design.shape[1]
    se = np.sqrt(residuals @ residuals / dof * np.linalg.inv(design.T @ design)[0, 0])
    t95 = stats.t.ppf(0.95, dof)
    assert fit.slope_per_year == pytest.approx(beta[0], rel=1e-9)
    assert fit.rate_per_year == pytest.approx(1 - np.exp(beta[0]), rel=1e-9)
    assert fit.low == pytest.approx(1 - np.exp(beta[0] + t95 * se), rel=1e-9)
    assert fit.high == pytest.approx(1 - np.exp(beta[0] - t95 * se), rel=1e-9)
    assert fit.low < fit.rate_per_year < fit.high


def test_fit_decline_one_group_is_linregress() -> None:
    frame = _halving_launches(noise=0.3, seed=3)
    frame = frame[(frame.provider == "lab-a") & (frame.tier == "mid")]
    fit = prices.fit_decline(frame, version="test")
    years = (frame.launch_date - pd.Timestamp("2020-01-01")).dt.total_seconds() / (86400 * 365.25)
    line = stats.linregress(years, np.log(frame.blended_usd_per_mtok))
    assert fit.slope_per_year == pytest.approx(line.slope, rel=1e-9)
    half = stats.t.ppf(0.95, len(frame) - 2) * line.stderr
    assert fit.high == pytest.approx(1 - np.exp(line.slope - half), rel=1e-9)


def test_fit_decline_drops_later_periods_and_needs_data() -> None:
    frame = _halving_launches()
    later = frame.assign(period=1, blended_usd_per_mtok=1e6)
    fit = prices.fit_decline(pd.concat([frame, later]), version="test")
    assert fit.rate_per_year == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(ValueError, match="more launches than parameters"):
        prices.fit_decline(frame.iloc[:2], version="test")


def _monthly_path(model: str, launch: str, months: int, monthly_factor: float) -> pd.DataFrame:
    """A model whose price changes by ``monthly_factor`` in the middle of each month."""
    start = pd.Timestamp(launch)
    month = pd.Timedelta(days=365.25 / 12)
    starts = [start] + [start + month * (k + 0.5) for k in range(months)]
    return pd.DataFrame(
        {
            "provider": "lab",
            "model": model,
            "launch_date": start,
            "start_date": starts,
            "blended_usd_per_mtok": [10.0 * monthly_factor**k for k in range(months + 1)],
        }
    )


def test_fit_cut_after_launch_recovers_halving_each_year() -> None:
    halving = 0.5 ** (1 / 12)
    frame = pd.concat(
        [
            _monthly_path("a", "2024-01-01", 36, halving),
            _monthly_path("b", "2025-01-01", 24, halving),
        ]
    )
    fit = prices.fit_cut_after_launch(frame, data_date=dt.date(2027, 1, 2), version="test")
    assert fit.rate_per_year == pytest.approx(0.5, abs=1e-9)
    assert fit.low == pytest.approx(0.5, abs=1e-9) and fit.high == pytest.approx(0.5, abs=1e-9)
    assert (fit.n_models, fit.n_points) == (2, 37 + 25)


def test_fit_cut_after_launch_flat_model_halves_the_log_slope() -> None:
    # Two models with the same months, one halving yearly and one flat: the pooled
    # within-model slope is the mean of ln(0.5) and 0, so the rate is 1 - sqrt(0.5).
    frame = pd.concat(
        [
            _monthly_path("cut", "2024-01-01", 24, 0.5 ** (1 / 12)),
            _monthly_path("flat", "2024-01-01", 24, 1.0),
        ]
    )
    fit = prices.fit_cut_after_launch(frame, data_date=dt.date(2026, 1, 1), version="test")
    assert fit.rate_per_year == pytest.approx(1 - np.sqrt(0.5), abs=1e-9)
    assert fit.low <= fit.rate_per_year <= fit.high
    again = prices.fit_cut_after_launch(frame, data_date=dt.date(2026, 1, 1), version="test")
    assert again == fit


def test_fit_cut_after_launch_ignores_prices_after_data_date() -> None:
    path = _monthly_path("a", "2024-01-01", 12, 1.0)
    announced = path.iloc[[-1]].assign(
        start_date=pd.Timestamp("2030-01-01"), blended_usd_per_mtok=99.0
    )
    frame = pd.concat([path, _monthly_path("b", "2024-01-01", 12, 1.0), announced])
    fit = prices.fit_cut_after_launch(frame, data_date=dt.date(2025, 1, 1), version="test")
    assert fit.rate_per_year == 0.0


# --- The fits on the shipped data ----------------------------------------------------------


def test_price_decline_is_reproducible_and_plausible() -> None:
    fit = prices.price_decline()
    table = prices.price_table()
    recomputed = prices.fit_decline(prices.fit_rows(table), data_date=prices.data_date(table))
    assert recomputed == fit
    # The fitted fall per year of launch prices at fixed tier: wide, because tiers are
    # product lines rather than fixed capabilities (see the module docstring).
    assert 0.05 < fit.rate_per_year < 0.9
    assert fit.low < fit.rate_per_year < fit.high
    assert fit.n_models >= 50
    assert fit.data_date == prices.data_date() >= dt.date(2026, 1, 1)
    assert fit.package_version == importlib.metadata.version("genai-prices")


def test_cut_after_launch_is_reproducible() -> None:
    fit = prices.cut_after_launch()
    table = prices.price_table()
    recomputed = prices.fit_cut_after_launch(
        prices.fit_rows(table), data_date=prices.data_date(table)
    )
    assert recomputed == fit
    assert fit.low <= fit.rate_per_year <= fit.high
    # List prices of a model rarely move after launch.
    assert -0.2 < fit.rate_per_year < 0.5
    assert fit.n_models >= 50


def test_derived_facts_have_the_fact_shape() -> None:
    facts = prices.derived_facts()
    assert [fact["id"] for fact in facts] == [
        "prices.api_decline_per_year.fitted",
        "prices.api_cut_after_launch_per_year.fitted",
    ]
    assert facts[0] == prices.decline_fact()
    for fact in facts:
        assert set(fact) == {
            "id",
            "value",
            "low",
            "high",
            "unit",
            "as_of",
            "source",
            "note",
            "tags",
            "method",
        }
        assert fact["unit"] == "fraction/year"
        assert fact["low"] <= fact["value"] <= fact["high"]
        assert dt.date.fromisoformat(fact["as_of"]) == prices.data_date()
        assert fact["source"] == {
            "title": f"genai-prices {prices.package_version()} price snapshot",
            "publisher": "Pydantic (genai-prices, MIT licence)",
            "url": "https://github.com/pydantic/genai-prices",
        }
        assert fact["tags"] == ["prices", "trend", "derived"]
        assert fact["method"] and fact["as_of"] in fact["note"]
    assert facts[0]["value"] == prices.price_decline().rate_per_year
