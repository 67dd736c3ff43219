"""The dashboard's lever: from a slider let go to the page redrawn from 10,000 samples.

Two measures of a ``baseline`` preview (the levers' inputs set, warm):

- ``POST /api/preview`` through the app in this process (FastAPI's TestClient: no network),
  1,000 samples (a drag's quick draw) and 10,000 (the draw when the slider is let go), the
  chunks on one worker process per core as ``labecon serve`` runs them
  (``--preview-workers``), and on the server's own threads (``--preview-workers 0``);
- ``--browser``: the whole loop in Debian's chromium against a real ``labecon serve``
  started here: a lever's slider is set and let go (its ``input`` and ``change`` events),
  and the page records the time from that change until the browser paints the charts
  redrawn from 10,000 samples (request, server, JSON, Plotly).

Prints the median and the fastest of --repeats.

Usage: python bench/preview.py [--repeats 7] [--browser]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from labecon.backends import available_cores
from labecon.scenario.loading import builtin_text
from labecon.store import Store
from labecon.web import create_app
from labecon.web.preview import warm


def measure(preview_workers: int, repeats: int) -> None:
    app = create_app(Store("sqlite://"), preview_workers=preview_workers)
    if app.state.previewers is not None:
        warm(app.state.previewers)
    where = f"{preview_workers} worker processes" if preview_workers else "the server's threads"
    with TestClient(app) as client:
        text = builtin_text("baseline")
        levers = client.post("/api/levers", json={"text": text}).json()
        inputs = {lever["name"]: lever["value"] for lever in levers}
        print(f"baseline preview on {where}, {len(inputs)} levers set, warm; seconds a request")
        for samples in (1_000, 10_000):
            body = {"text": text, "inputs": inputs, "samples": samples}
            client.post("/api/preview", json=body).raise_for_status()  # warm
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                client.post("/api/preview", json=body).raise_for_status()
                times.append(time.perf_counter() - start)
            print(
                f"{samples:>7,} samples: median {statistics.median(times):.3f} s, "
                f"fastest {min(times):.3f} s ({repeats} requests)"
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _chromium() -> str:
    for candidate in (os.environ.get("LABECON_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    if found is None:
        sys.exit(
            "chromium is not installed: run scripts/install-system-deps.sh (Debian's chromium)"
        )
    return found


def _chart(page: Any, key: str) -> str:
    """A data attribute of the scenario page's cash chart."""
    return str(page.evaluate(f"() => document.querySelector('#chart').dataset.{key}"))


def measure_browser(repeats: int) -> None:
    """Slider let go -> charts painted from 10,000 samples, in chromium on `labecon serve`."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        command = [
            str(Path(sys.executable).with_name("labecon")),
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{folder}/bench.db",
        ]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(base + "/api/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            body = json.dumps({"name": "bench", "text": "extends: baseline\n"}).encode()
            created = urllib.request.Request(
                base + "/api/scenarios", data=body, headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(created, timeout=30)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=_chromium(), args=["--no-sandbox", "--disable-dev-shm-usage"]
                )
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(base + "/scenarios/bench", wait_until="load")
                page.wait_for_function(
                    "() => document.querySelector('#chart').dataset.tookSamples === '10000'",
                    timeout=120_000,
                )
                slider = page.locator("#levers input[type=range]").first
                took: list[float] = []
                answered: list[float] = []
                for i in range(repeats + 1):  # the first move warms the page's code paths
                    page.evaluate(
                        "() => { document.querySelector('#chart').dataset.tookSamples = ''; }"
                    )
                    end = "s.max" if i % 2 == 0 else "s.min"
                    slider.evaluate(
                        f"(s) => {{ s.value = {end}; s.dispatchEvent(new Event('input'));"
                        " s.dispatchEvent(new Event('change')); }"
                    )
                    page.wait_for_function(
                        "() => document.querySelector('#chart').dataset.tookSamples === '10000'"
                    )
                    if i:
                        took.append(float(_chart(page, "took")) / 1000)
                        answered.append(float(_chart(page, "answered")) / 1000)
                    time.sleep(0.3)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"browser (chromium, labecon serve on {available_cores()} preview workers): slider let go "
        f"-> charts painted from 10,000 samples: median {statistics.median(took):.3f} s, "
        f"fastest {min(took):.3f} s, slowest {max(took):.3f} s ({repeats} moves); of which "
        f"waiting for the answer: median {statistics.median(answered):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="also measure in chromium")
    args = parser.parse_args()
    measure(available_cores(), args.repeats)
    measure(0, args.repeats)
    if args.browser:
        measure_browser(args.repeats)


if __name__ == "__main__":
    main()
