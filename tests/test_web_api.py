"""The REST API on the run store (issue 8, first part): scenarios, validation, examples, facts."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import labecon
from labecon.cli import app as cli_app
from labecon.cli import json_text
from labecon.scenario.loading import builtin_names, builtin_text
from labecon.store import Store
from labecon.web import Limits, create_app
from labecon.web.runs import MAX_TRIES, RunPool

AMODEI = "extends: amodei\n"


@pytest.fixture
def store(url: str) -> Store:
    """An empty store on SQLite, then on PostgreSQL (tests/conftest.py): every test runs on both."""
    return Store(url)


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(create_app(store))


def test_health_examples_facts_and_the_openapi_document(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["schema"] == "0002"
    examples = client.get("/api/examples").json()
    assert [e["name"] for e in examples] == builtin_names()
    amodei = next(e for e in examples if e["name"] == "amodei")
    assert amodei["text"] == builtin_text("amodei")
    assert "Amodei's worked example" in amodei["description"]
    facts = client.get("/api/facts", params={"search": "alphabet"}).json()
    assert {f["id"] for f in facts} >= {"alphabet.revenue"}
    assert next(f for f in facts if f["id"] == "alphabet.revenue")["value"] == 3.0e11
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/scenarios", "/api/scenarios/{name}", "/api/scenarios/validate"} <= set(paths)


def test_scenario_lifecycle_with_versions(client: TestClient) -> None:
    created = client.post("/api/scenarios", json={"name": "mine", "text": AMODEI})
    assert created.status_code == 201
    assert created.json()["version"] == 1 and created.json()["text"] == AMODEI
    assert client.post("/api/scenarios", json={"name": "mine", "text": AMODEI}).status_code == 409
    updated = client.put(
        "/api/scenarios/mine", json={"text": AMODEI + "horizon_months: 24\n", "version": 1}
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.put("/api/scenarios/mine", json={"text": AMODEI, "version": 1})
    assert stale.status_code == 409
    assert "version: 1 is not the latest version of 'mine' (2)" in stale.json()["detail"]
    assert client.get("/api/scenarios/mine", params={"version": 1}).json()["text"] == AMODEI
    assert [s["name"] for s in client.get("/api/scenarios").json()] == ["mine"]
    assert client.delete("/api/scenarios/mine").status_code == 204
    missing = client.get("/api/scenarios/mine")
    assert missing.status_code == 404 and "no scenario 'mine'" in missing.json()["detail"]
    assert client.delete("/api/scenarios/mine").status_code == 404


def test_an_invalid_scenario_is_a_422_with_each_field_path(client: TestClient) -> None:
    bad = "generations:\n  cost_multiplier: -3\ncapital:\n  starting_cash: lots\n"
    response = client.post("/api/scenarios", json={"name": "bad", "text": bad})
    assert response.status_code == 422
    locations = [tuple(error["loc"]) for error in response.json()["detail"]]
    assert ("body", "text", "generations", "cost_multiplier") in locations
    assert ("body", "text", "capital", "starting_cash") in locations
    checked = client.post("/api/scenarios/validate", json={"text": bad}).json()
    assert checked["valid"] is False and len(checked["problems"]) == 2
    assert client.post("/api/scenarios/validate", json={"text": AMODEI}).json() == {
        "valid": True,
        "problems": [],
    }
    # Request fields FastAPI checks itself carry their path too.
    response = client.post("/api/scenarios", json={"text": AMODEI})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "name"]
    response = client.put("/api/scenarios/x", json={"text": AMODEI, "version": 0})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
        "body",
        "version",
    ]


def test_yaml_is_data_never_code(client: TestClient) -> None:
    evil = "!!python/object/apply:os.system ['touch /tmp/labecon-pwned']\n"
    response = client.post("/api/scenarios", json={"name": "evil", "text": evil})
    assert response.status_code == 422
    assert not Path("/tmp/labecon-pwned").exists()


def test_requests_over_the_size_limit_are_refused_naming_it(store: Store) -> None:
    client = TestClient(create_app(store, limits=Limits(max_request_bytes=100)))
    response = client.post("/api/scenarios", json={"name": "big", "text": AMODEI + "#" * 200})
    assert response.status_code == 422
    assert "at most 100 (limit max_request_bytes)" in response.json()["detail"][0]["msg"]


def test_with_a_token_writes_need_it_and_reads_do_not(store: Store) -> None:
    client = TestClient(create_app(store, token="s3cret"))
    refused = client.post("/api/scenarios", json={"name": "mine", "text": AMODEI})
    assert refused.status_code == 401 and "needs the API token" in refused.json()["detail"]
    wrong = {"Authorization": "Bearer nope"}
    assert (
        client.post("/api/scenarios", json={"name": "m", "text": AMODEI}, headers=wrong).status_code
        == 401
    )
    right = {"Authorization": "Bearer s3cret"}
    assert (
        client.post(
            "/api/scenarios", json={"name": "mine", "text": AMODEI}, headers=right
        ).status_code
        == 201
    )
    assert client.get("/api/scenarios").status_code == 200


def test_serve_refuses_to_listen_beyond_loopback_without_a_token() -> None:
    outcome = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0"], env={"LABECON_API_TOKEN": ""}
    )
    assert outcome.exit_code == 2
    assert "--token: '0.0.0.0' is reachable from other machines" in " ".join(outcome.output.split())
    zero = CliRunner().invoke(cli_app, ["serve", "--workers", "0"])
    assert zero.exit_code == 2
    assert "--workers: 0 is not accepted; accepted: 1 to 64" in " ".join(zero.output.split())


# -- runs --------------------------------------------------------------------------------------


def _wait(client: TestClient, run_id: str, *, until: tuple[str, ...]) -> dict[str, object]:
    for _ in range(600):
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in until:
            return dict(run)
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} stayed {run['status']}")


def test_a_run_starts_at_once_and_its_result_is_the_cli_document(client: TestClient) -> None:
    client.post("/api/scenarios", json={"name": "nwc", "text": "extends: nwc\n"})
    started = client.post("/api/runs", json={"scenario": "nwc", "samples": 20, "seed": 4})
    assert started.status_code == 202
    run = started.json()
    assert run["status"] in ("queued", "running", "complete") and run["version"] == 1
    done = _wait(client, run["id"], until=("complete", "failed"))
    assert done["status"] == "complete" and done["done"] == 20
    document = client.get(f"/api/runs/{run['id']}/result").json()
    cli = CliRunner().invoke(cli_app, ["run", "nwc", "-n", "20", "--seed", "4", "--json"])
    assert document == json.loads(cli.stdout)  # the same numbers as `labecon run --json`
    csv = client.get(f"/api/runs/{run['id']}/result.csv").text.splitlines()
    assert csv[0] == "view,item,year,mean,p5,p25,p50,p75,p95"
    monthly = client.get(f"/api/runs/{run['id']}/monthly").json()
    direct = labecon.simulate("nwc", samples=20, seed=4)
    assert monthly["months"] == [str(m) for m in direct.months]
    for view, item in (("cash", "cash"), ("expensed", "revenue")):
        values = direct.samples(view, item)
        for stat, level in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95)):
            expected = np.quantile(values, level, axis=0)  # NumPy's own, not labecon's
            assert monthly[item][stat] == pytest.approx(expected.tolist(), rel=1e-12)
    parquet = client.get(f"/api/runs/{run['id']}/result.parquet").content
    assert parquet[:4] == b"PAR1" and parquet[-4:] == b"PAR1"
    assert [r["id"] for r in client.get("/api/runs", params={"scenario": "nwc"}).json()] == [
        run["id"]
    ]


def test_runs_over_the_limits_or_of_unknown_scenarios_are_refused(store: Store) -> None:
    client = TestClient(create_app(store, limits=Limits(max_samples=1000, max_months=12)))
    client.post("/api/scenarios", json={"name": "nwc", "text": "extends: nwc\n"})
    over = client.post("/api/runs", json={"scenario": "nwc", "samples": 5000})
    assert over.status_code == 422
    assert over.json()["detail"][0]["loc"] == ["body", "samples"]
    assert "at most 1,000 (limit max_samples)" in over.json()["detail"][0]["msg"]
    long = client.post("/api/runs", json={"scenario": "nwc", "samples": 10})
    assert long.status_code == 422 and "(limit max_months)" in long.json()["detail"][0]["msg"]
    missing = client.post("/api/runs", json={"scenario": "nope", "samples": 10})
    assert missing.status_code == 404
    assert client.get("/api/runs/nope").status_code == 404
    assert store.list_runs() == []  # nothing was started


def test_a_cancelled_run_stays_cancelled_and_has_no_result(client: TestClient) -> None:
    client.post("/api/scenarios", json={"name": "base", "text": "extends: baseline\n"})
    run = client.post("/api/runs", json={"scenario": "base", "samples": 50_000}).json()
    cancelled = client.post(f"/api/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    time.sleep(0.5)
    assert client.get(f"/api/runs/{run['id']}").json()["status"] == "cancelled"
    result = client.get(f"/api/runs/{run['id']}/result")
    assert result.status_code == 409 and "is cancelled, it has no result" in result.json()["detail"]
    again = client.post(f"/api/runs/{run['id']}/cancel")
    assert again.status_code == 409


def test_compare_is_labecon_compare_on_the_stored_scenarios(store: Store) -> None:
    client = TestClient(create_app(store, limits=Limits(max_compare_samples=500)))
    client.post("/api/scenarios", json={"name": "a", "text": "extends: baseline\n"})
    client.post("/api/scenarios", json={"name": "b", "text": "extends: baseline-reuse\n"})
    answer = client.post("/api/compare", json={"scenarios": ["a", "b"], "samples": 200, "seed": 3})
    assert answer.status_code == 200
    direct = labecon.compare(
        [{"extends": "baseline"}, {"extends": "baseline-reuse"}],
        samples=200,
        seed=3,
        labels=["a", "b"],
    )
    document = answer.json()
    fans = document.pop("fans")  # what the compare page draws, besides labecon compare's
    assert document == json.loads(json_text(direct.to_dict()))
    cash = direct.result("b").samples("cash", "cash")
    assert fans["b"]["cash"]["p50"] == pytest.approx(np.median(cash, axis=0).tolist(), rel=1e-12)
    assert fans["a"]["months"][0] == "2026-01" and set(fans["a"]["cash"]) == {"p5", "p50", "p95"}
    over = client.post("/api/compare", json={"scenarios": ["a", "b"], "samples": 501})
    assert over.status_code == 422 and "(limit max_compare_samples)" in over.text
    missing = client.post("/api/compare", json={"scenarios": ["a", "zzz"], "samples": 100})
    assert missing.status_code == 404
    one = client.post("/api/compare", json={"scenarios": ["a"]})
    assert one.status_code == 422 and one.json()["detail"][0]["loc"] == ["body", "scenarios"]
    bad = client.post(
        "/api/compare", json={"scenarios": ["a", "b"], "samples": 20, "metrics": ["x"]}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "metrics"]


def test_sensitivity_is_labecon_sensitivity_on_the_stored_scenario(store: Store) -> None:
    client = TestClient(create_app(store, limits=Limits(max_sensitivity_runs=200)))
    client.post("/api/scenarios", json={"name": "base", "text": "extends: baseline\n"})
    body = {"scenario": "base", "metric": "capital_need_usd", "method": "morris"}
    answer = client.post("/api/sensitivity", json=body | {"trajectories": 4, "seed": 2})
    assert answer.status_code == 200
    direct = labecon.sensitivity("baseline", "capital_need_usd", "morris", trajectories=4, seed=2)
    got = answer.json()
    assert got["rows"] == json.loads(json_text(direct.to_dict("records")))
    # baseline has 30 uncertain inputs: a Morris design runs r (k + 1) = 4 x 31 = 124 times
    assert got["runs"] == got["attrs"]["evaluations"] == 4 * 31
    assert got["rows"][0]["input"] == direct["input"].iloc[0]
    tornado = client.post("/api/sensitivity", json=body | {"method": "tornado"}).json()
    assert tornado["runs"] == tornado["attrs"]["evaluations"] == 2 * 30 + 1
    assert {r["input"] for r in tornado["rows"]} == set(direct["input"])


def test_sensitivity_refuses_bad_requests_with_the_field(store: Store) -> None:
    client = TestClient(create_app(store, limits=Limits(max_sensitivity_runs=200)))
    client.post("/api/scenarios", json={"name": "base", "text": "extends: baseline\n"})
    body = {"scenario": "base", "metric": "capital_need_usd"}

    def problem(extra: dict[str, object]) -> tuple[int, list[str], str]:
        answer = client.post("/api/sensitivity", json=body | extra)
        detail = answer.json()["detail"]
        return answer.status_code, detail[0]["loc"], detail[0]["msg"]

    # sobol n (k + 2) = 8 x 32 = 256 runs: over the limit of 200, named
    status, loc, msg = problem({"method": "sobol", "n": 8})
    assert (status, loc) == (422, ["body", "n"]) and "(limit max_sensitivity_runs" in msg
    assert "256 is over the limit; accepted: at most 200" in msg
    status, loc, msg = problem({"method": "tornado", "trajectories": 4})
    assert (status, loc) == (422, ["body", "trajectories"]) and "method morris only" in msg
    status, loc, msg = problem({"metric": "no_such_metric"})
    assert (status, loc) == (422, ["body", "metric"]) and "no_such_metric" in msg
    status, loc, msg = problem({"inputs": ["generations.no_such_input"]})
    assert (status, loc) == (422, ["body", "inputs"]) and "no_such_input" in msg
    status, loc, _msg = problem({"method": "shapley"})
    assert (status, loc) == (422, ["body", "method"])
    missing = client.post("/api/sensitivity", json=body | {"scenario": "zzz"})
    assert missing.status_code == 404 and "zzz" in missing.json()["detail"]


def test_a_preview_superseded_by_a_newer_one_of_its_session_stops(client: TestClient) -> None:
    text = "extends: baseline\n"
    body = {"text": text, "samples": 100, "session": "page-1"}
    assert client.post("/api/preview", json=body | {"ticket": 5}).status_code == 200
    older = client.post("/api/preview", json=body | {"ticket": 3})
    assert older.status_code == 409 and "3 of this session is superseded" in older.text
    other = client.post("/api/preview", json=body | {"ticket": 3, "session": "page-2"})
    assert other.status_code == 200 and other.json()["samples"] == 100
    unnamed = client.post("/api/preview", json={"text": text, "samples": 64})
    assert unnamed.status_code == 200
    # a preview's numbers are a run's: the fan is the quantiles of simulate's cash
    run = labecon.simulate("baseline", samples=64, seed=0)
    direct = run.samples("cash", "cash")
    fan = unnamed.json()["cash"]
    assert fan["p5"] == pytest.approx(np.quantile(direct, 0.05, axis=0).tolist(), rel=1e-12)
    generations = unnamed.json()["generations"]
    medians = run.generations("p50")
    assert generations["release_month"] == medians["release_month"].tolist()
    assert generations["training_cost_usd"] == pytest.approx(medians["training_cost_usd"].tolist())


@pytest.mark.parametrize("samples", [1, 513, 1100])
def test_a_preview_gives_a_runs_numbers_bit_for_bit(client: TestClient, samples: int) -> None:
    # The preview computes only what it draws, in chunks spread over every core; its
    # numbers are those of the Result of the same run (here one chunk; two of 257 and 256;
    # two of 550).
    inputs = {"generations.cost_multiplier": 2.5, "lifecycle.legacy_retention": 0.3}
    body = {"text": "extends: baseline\n", "samples": samples, "seed": 7, "inputs": inputs}
    got = client.post("/api/preview", json=body).json()
    run = labecon.simulate("baseline", samples=samples, seed=7, inputs=inputs, chunk_size=1000)
    cash = run.monthly("cash", "p50")["cash"].tolist()
    assert got["cash"]["p50"] == cash
    assert got["cash"]["p95"] == run.monthly("cash", "p95")["cash"].tolist()
    medians = run.generations("p50")
    for column in ("release_month", "training_cost_usd", "lifetime_revenue_usd"):
        assert got["generations"][column] == [
            None if isinstance(v, float) and np.isnan(v) else v for v in medians[column]
        ]
    yearly = run.annual("expensed")
    assert got["years"] == list(yearly.index)
    assert got["revenue"] == yearly["revenue"].tolist()
    assert got["operating_income"] == yearly["operating_income"].tolist()
    assert got["insolvent"] == run.metrics()["insolvency_month"]["probability"]


def test_levers_span_each_uncertain_input_from_p5_to_p95(client: TestClient) -> None:
    text = 'extends: nwc\ngenerations: {cost_multiplier: "2 to 4"}\n'
    (lever,) = client.post("/api/levers", json={"text": text}).json()
    # "2 to 4" is a lognormal with 2 and 4 as its 5th and 95th percentiles: median sqrt(2 x 4)
    assert lever["name"] == "generations.cost_multiplier" and lever["kind"] == "number"
    assert (lever["low"], lever["high"]) == (pytest.approx(2.0), pytest.approx(4.0))
    assert lever["value"] == pytest.approx(8**0.5) and lever["step"] == pytest.approx(0.02)
    assert lever["swing"] is None or lever["swing"] > 0
    # The key levers: the inputs that move the capital need most, ranked by tornado swing.
    ranked = client.post("/api/levers", json={"text": "extends: baseline\n"}).json()
    assert len(ranked) == 8  # of baseline's 30 uncertain inputs
    swings = [lever["swing"] for lever in ranked]
    assert swings == sorted(swings, reverse=True) and swings[-1] > 0
    frame = labecon.sensitivity("baseline", "capital_need_usd")
    assert [lever["name"] for lever in ranked] == list(frame["input"][:8])
    assert swings == pytest.approx(list(frame["swing"][:8]))
    bad = client.post("/api/levers", json={"text": "extends: nwc\nhorizon_months: -1\n"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == [
        "body",
        "text",
        "horizon_months",
    ]


def test_preview_bad_input_is_a_422_with_its_field(client: TestClient) -> None:
    unknown = client.post(
        "/api/preview", json={"text": "extends: nwc\n", "inputs": {"generations.zzz": 1}}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "inputs"]
    assert "'generations.zzz' is not an input" in unknown.text
    negative = client.post(
        "/api/preview",
        json={"text": "extends: baseline\n", "inputs": {"generations.max_training_cost": -5}},
    )
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "inputs"]
    assert "'generations.max_training_cost' = -5: must be > 0" in negative.text
    over = client.post("/api/preview", json={"text": "extends: nwc\n", "samples": 10_001})
    assert over.status_code == 422 and "(limit max_preview_samples)" in over.text
    long = client.post("/api/preview", json={"text": "extends: nwc\nhorizon_months: 300\n"})
    assert long.status_code == 422 and "(limit max_months)" in long.text


def test_prices_and_pages(client: TestClient) -> None:
    prices = client.get("/api/prices").json()
    haiku = next(p for p in prices if p["name"] == "Claude Haiku 3.5")
    # genai-prices: $0.80 in, $4 out per Mtok; blended 3:1 = (3 x 0.8 + 4) / 4 = $1.60
    assert haiku["blended_usd_per_mtok"] == pytest.approx(1.6)
    assert haiku["launch_date"] == "2024-10-22" and haiku["provider"] == "anthropic"
    client.post("/api/scenarios", json={"name": "mine", "text": AMODEI})
    assert "Compare scenarios" in client.get("/").text
    assert "value='mine' checked" in client.get("/compare", params={"scenarios": "mine"}).text
    assert client.get("/scenarios/mine").status_code == 200
    missing = client.get("/scenarios/zzz")  # a page: HTML for the browser, still a 404
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no scenario &#x27;zzz&#x27; in the store" in missing.text
    assert client.get("/runs/zzz").status_code == 404
    assert client.get("/api/runs/zzz").json()["detail"].startswith("run: ")  # the API: JSON
    assert client.get("/static/plotly.min.js").content.startswith(b"/**")


def test_an_in_memory_store_is_one_database_for_every_thread() -> None:
    client = TestClient(create_app(Store("sqlite:///:memory:")))
    assert client.post("/api/scenarios", json={"name": "m", "text": AMODEI}).status_code == 201
    assert [s["name"] for s in client.get("/api/scenarios").json()] == ["m"]


def test_runs_are_listed_newest_first_a_page_at_a_time(store: Store) -> None:
    store.create_scenario("mine", AMODEI)
    made = [store.create_run("mine", samples=5, seed=seed).id for seed in range(5)]
    client = TestClient(create_app(store))
    newest_first = made[::-1]
    assert [r["id"] for r in client.get("/api/runs").json()] == newest_first
    page = client.get("/api/runs", params={"limit": 2, "offset": 1}).json()
    assert [r["id"] for r in page] == newest_first[1:3]
    assert client.get("/api/runs", params={"limit": 0}).status_code == 422
    assert client.get("/api/runs", params={"scenario": "other"}).json() == []


def test_a_run_whose_workers_cannot_start_fails_after_three_tries(tmp_path: Path) -> None:
    """Workers that die as they start (a broken install) fail the run; no endless respawn."""
    store = Store(f"sqlite:///{tmp_path / 'runs.db'}")
    store.create_scenario("mine", AMODEI)
    pool = RunPool(store, workers=1)
    spawn = multiprocessing.get_context("spawn")

    def dying() -> ProcessPoolExecutor:  # each worker process exits at once, with status 3
        return ProcessPoolExecutor(1, mp_context=spawn, initializer=os._exit, initargs=(3,))

    pool._pool.shutdown()
    pool._new_pool = dying  # type: ignore[method-assign]
    pool._pool = dying()
    run = store.create_run("mine", samples=5, seed=1)
    pool.submit(run.id)
    for _ in range(600):
        if store.get_run(run.id).status != "queued":
            break
        time.sleep(0.1)
    failed = store.get_run(run.id)
    assert failed.status == "failed"
    assert f"stopped before running it, {MAX_TRIES} times" in (failed.error or "")
    assert MAX_TRIES == 3
