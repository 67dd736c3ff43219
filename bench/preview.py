"""The dashboard's lever: time from a request to its answer for a `baseline` preview.

Measures ``POST /api/preview`` through the app in this process (FastAPI's TestClient: no
network), warm (after one preview of each size), as a slider move asks for it: the levers'
inputs set to their medians, 1,000 samples (a drag's quick draw) and 10,000 (the draw when
the slider is let go). The chunks run as ``labecon serve`` runs them, on one worker process
per core (``--preview-workers``), and, for comparison, on this process's threads
(``--preview-workers 0``). Prints the median and the fastest of --repeats requests.

Usage: python bench/preview.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    measure(available_cores(), args.repeats)
    measure(0, args.repeats)


if __name__ == "__main__":
    main()
