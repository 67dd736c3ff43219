"""The dashboard's lever: time from a request to its answer for a `baseline` preview.

Measures ``POST /api/preview`` through the app in this process (FastAPI's TestClient: no
network), warm (after one preview of each size), as a slider move asks for it: the levers'
inputs set to their medians, 1,000 samples (the quick draw) and 10,000 (the refinement).
Prints the median and the fastest of --repeats requests of each size.

Usage: python bench/preview.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from fastapi.testclient import TestClient

from labecon.scenario.loading import builtin_text
from labecon.store import Store
from labecon.web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    client = TestClient(create_app(Store("sqlite://")))
    text = builtin_text("baseline")
    levers = client.post("/api/levers", json={"text": text}).json()
    inputs = {lever["name"]: lever["value"] for lever in levers}
    print(f"baseline preview, {len(inputs)} levers set, warm; seconds per request")
    for samples in (1_000, 10_000):
        body = {"text": text, "inputs": inputs, "samples": samples}
        client.post("/api/preview", json=body).raise_for_status()  # warm
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            client.post("/api/preview", json=body).raise_for_status()
            times.append(time.perf_counter() - start)
        print(
            f"{samples:>7,} samples: median {statistics.median(times):.3f} s, "
            f"fastest {min(times):.3f} s ({args.repeats} requests)"
        )


if __name__ == "__main__":
    main()
