"""The dashboard in Debian's chromium (Playwright): open, move a lever, see the chart change,
fix a scenario as the editor flags it, save a new version. Nothing is fetched elsewhere."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import labecon
from labecon.facts import load_facts
from labecon.store import Store
from labecon.web import create_app
from test_report import browser, chromium_executable

__all__ = ["browser", "chromium_executable"]


@contextlib.contextmanager
def _serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port, in a thread; yield its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
    store.create_scenario("base", "extends: baseline\n")
    with _serving(create_app(store)) as base:
        yield base, store


def test_move_a_lever_see_the_chart_change_fix_and_save(
    server: tuple[str, Store],
    browser: Any,
) -> None:
    base, store = server
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(base) else None,
    )
    page.goto(base + "/", wait_until="load")
    assert page.locator("#stored a").first.inner_text() == "base"
    page.locator("#stored a").first.click()
    page.wait_for_function("() => Number(document.querySelector('#chart').dataset.draws) >= 1")
    assert page.locator("#levers input[type=range]").count() == 8
    cost = page.evaluate("() => document.querySelector('#generations').dataset.cost")
    first = page.evaluate("() => document.querySelector('#chart').dataset.median")
    draws = page.evaluate("() => Number(document.querySelector('#chart').dataset.draws)")

    # The key lever first: the largest tornado swing of the capital need.
    ranked = labecon.sensitivity("baseline", "capital_need_usd")
    page.wait_for_function("() => Number(document.querySelector('#swings').dataset.draws) >= 1")
    assert page.locator("#swings .bars .point").count() == 8  # a bar per lever
    assert (
        page.locator("#levers input[type=range]").first.get_attribute("data-name")
        == (ranked["input"].iloc[0])
    )
    # A lever at its 95th percentile: a dearer largest training run changes the cash.
    slider = page.locator("#levers input[type=range][data-name='generations.max_training_cost']")
    slider.evaluate("(s) => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function(
        "n => Number(document.querySelector('#chart').dataset.draws) > n", arg=draws
    )
    moved = page.evaluate("() => document.querySelector('#chart').dataset.median")
    assert float(moved) != float(first)
    # ...and the generations with it: the last one's median training cost grows with the cap
    dearer = page.evaluate("() => document.querySelector('#generations').dataset.cost")
    assert float(dearer) > float(cost)
    # ...from 1,000 samples while the slider is dragged, from 10,000 once it is let go
    assert page.evaluate("() => document.querySelector('#chart').dataset.samples") == "1000"
    page.evaluate("() => { document.querySelector('#chart').dataset.tookSamples = ''; }")
    slider.evaluate("(s) => s.dispatchEvent(new Event('change'))")
    page.wait_for_function("() => document.querySelector('#chart').dataset.samples === '10000'")
    assert "over 10,000 samples" in page.locator("#status").inner_text()
    # The page records how long the redraw took (bench/preview.py --browser reports it).
    page.wait_for_function("() => document.querySelector('#chart').dataset.tookSamples === '10000'")
    assert float(page.evaluate("() => document.querySelector('#chart').dataset.took")) > 0
    # A value typed next to a slider moves it and redraws.
    draws = page.evaluate("() => Number(document.querySelector('#chart').dataset.draws)")
    typed = page.locator("#levers input[type=number][data-name='generations.max_training_cost']")
    typed.fill("30000000000")
    typed.dispatch_event("change")
    page.wait_for_function(
        "n => Number(document.querySelector('#chart').dataset.draws) > n", arg=draws
    )
    step = float(slider.evaluate("(s) => s.step"))
    assert abs(float(slider.evaluate("(s) => s.value")) - 30e9) <= step  # snapped to its step
    lever = page.locator("#levers label").filter(
        has=page.locator("input[type=number][data-name='generations.max_training_cost']")
    )
    shown = lever.locator("output").inner_text()
    assert shown == "$30.00B"  # the typed value is the one set
    assert page.locator("#chart svg.main-svg .trace").count() >= 2  # the fan and the median

    # The editor flags a bad value with its field path, then takes the fix.
    editor = page.locator("#editor")
    editor.fill("extends: baseline\ngenerations:\n  cost_multiplier: -2\n")
    page.wait_for_selector("#problems li")
    assert "generations.cost_multiplier" in page.locator("#problems li").first.inner_text()
    # A lever's input made a fixed number: its lever goes, the rest still draw (no stale value)
    draws = page.evaluate("() => Number(document.querySelector('#chart').dataset.draws)")
    editor.fill("extends: baseline\ngenerations:\n  max_training_cost: $40B\n")
    page.wait_for_function(
        "n => Number(document.querySelector('#chart').dataset.draws) > n", arg=draws
    )
    assert page.locator("#levers input[data-name='generations.max_training_cost']").count() == 0
    assert page.locator("#problems").is_hidden()
    editor.fill("extends: baseline\nhorizon_months: 60\n")
    page.wait_for_function("() => document.querySelector('#problems').children.length === 0")
    page.locator("#save").click()
    page.wait_for_function("() => document.querySelector('#version').textContent === 'version 2'")
    assert store.get_scenario("base").text == "extends: baseline\nhorizon_months: 60\n"
    assert errors == [] and outside == []  # no script error, nothing fetched elsewhere
    page.close()


def test_the_data_page_and_a_run_page_draw_their_charts(
    server: tuple[str, Store], browser: Any
) -> None:
    base, store = server
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/data", wait_until="load")
    page.wait_for_function("() => Number(document.querySelector('#prices').dataset.draws) >= 1")
    points = int(page.evaluate("() => document.querySelector('#prices').dataset.points"))
    assert points > 50  # first-party text models with a launch date (genai-prices)
    assert page.locator("#facts tr").count() == 1 + len(load_facts())  # a header, every fact
    assert "alphabet.revenue" in page.locator("#facts").inner_text()

    store.create_scenario("small", "extends: nwc\n")
    run = store.create_run("small", samples=50, seed=2)
    page.goto(base + "/", wait_until="load")
    assert page.locator("#runs a").count() == 1  # the queued run is listed...
    # ...and runs once a worker takes it: here, through the API.
    started = page.request.post(base + "/api/runs", data={"scenario": "small", "samples": 50})
    new_id = started.json()["id"]
    page.goto(base + f"/runs/{new_id}", wait_until="load")
    page.wait_for_function("() => document.querySelector('#run').dataset.status === 'complete'")
    for chart in ("cash", "revenue", "operating_income"):  # monthly fans
        page.wait_for_function(
            f"() => Number(document.querySelector('#run-{chart}').dataset.draws) >= 1"
        )
    ticks = page.locator("#run-cash .xtick").all_inner_texts()
    assert len(ticks) >= 3  # a month axis
    # nwc: one generation per row, under a header; the metrics with their quantiles
    generations = labecon.simulate("nwc", samples=50, seed=0).generations("p50")
    assert page.locator("#generations tr").count() == 1 + len(generations)
    assert page.locator("#metrics tr").count() > 3
    assert "capital_need_usd" in page.locator("#metrics").inner_text()
    assert "complete (50 of 50 samples)" in page.locator("#run-status").inner_text()
    assert store.get_run(run.id).status == "queued"  # stored only: no worker took it
    assert errors == []
    page.close()


def test_compare_two_scenarios(server: tuple[str, Store], browser: Any) -> None:
    base, store = server
    store.create_scenario("thin", "extends: baseline\ngenerations: {first_training_cost: $1B}\n")
    store.create_scenario("thick", "extends: baseline\ngenerations: {first_training_cost: $8B}\n")
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/", wait_until="load")
    page.get_by_text("Compare scenarios").click()
    page.wait_for_selector("#choices")
    page.locator("#choices input[value='thin']").check()
    page.locator("#choices input[value='thick']").check()
    page.locator("#compare-samples").fill("300")
    page.locator("#compare-button").click()
    page.wait_for_function(
        "() => Number(document.querySelector('#compare-chart').dataset.draws) >= 1"
    )
    assert page.evaluate("() => document.querySelector('#compare').dataset.compared") == (
        "thin,thick"
    )
    header = page.locator("#compare-table tr").first.inner_text()
    assert "thin (reference)" in header and "thick (difference ± se)" in header
    table = page.locator("#compare-table").inner_text()
    assert "capital_need_usd" in table
    # a median line and two band edges per scenario
    assert page.locator("#compare-chart svg.main-svg .trace").count() >= 6
    # Fewer than two scenarios: the API's 422 is shown with its field.
    page.locator("#choices input[value='thick']").uncheck()
    page.locator("#compare-button").click()
    page.wait_for_selector("#problems li")
    assert page.locator("#problems li").first.inner_text().startswith("scenarios:")
    assert errors == []
    page.close()


def test_start_from_an_example_run_it_and_cancel(server: tuple[str, Store], browser: Any) -> None:
    base, store = server
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/", wait_until="load")
    page.locator("#examples button[data-example='baseline']").click()
    page.wait_for_url(base + "/scenarios/baseline")
    assert store.get_scenario("baseline").text == "extends: baseline\n"
    page.wait_for_function("() => Number(document.querySelector('#chart').dataset.draws) >= 1")
    page.goto(base + "/", wait_until="load")  # the name is taken now: the next is baseline-2
    page.locator("#examples button[data-example='baseline']").click()
    page.wait_for_url(base + "/scenarios/baseline-2")

    page.locator("#run-button").click()  # 10,000 samples in a worker process
    page.wait_for_url(base + "/runs/*")
    page.locator("#cancel").click()  # shown while the run is queued or running
    page.wait_for_function("() => document.querySelector('#run').dataset.status === 'cancelled'")
    run_id = page.url.rsplit("/", 1)[-1]
    assert store.get_run(run_id).status == "cancelled" and store.get_run(run_id).samples == 10_000
    assert page.locator("#cancel").is_hidden()
    assert errors == []
    page.close()


def test_a_server_with_a_token_asks_for_it_once_then_saves(tmp_path: Path, browser: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'token.db'}")
    store.create_scenario("base", "extends: nwc\n")
    with _serving(create_app(store, token="s3cret")) as base:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        asked: list[str] = []

        def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept("s3cret")

        page.on("dialog", answer)
        page.goto(base + "/scenarios/base", wait_until="load")
        page.wait_for_function("() => Number(document.querySelector('#chart').dataset.draws) >= 1")
        page.locator("#editor").fill("extends: nwc\nhorizon_months: 48\n")
        page.wait_for_function("() => document.querySelector('#problems').hidden")
        page.locator("#save").click()
        page.wait_for_function(
            "() => document.querySelector('#version').textContent === 'version 2'"
        )
        assert len(asked) == 1 and "API token" in asked[0]
        assert store.get_scenario("base").version == 2
        page.locator("#editor").fill("extends: nwc\nhorizon_months: 36\n")
        page.wait_for_function("() => document.querySelector('#problems').hidden")
        page.locator("#save").click()  # the token is kept: not asked again
        page.wait_for_function(
            "() => document.querySelector('#version').textContent === 'version 3'"
        )
        assert len(asked) == 1
        page.close()
