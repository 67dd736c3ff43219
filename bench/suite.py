"""The benchmark suite: every case of bench/README.md's issue-6 list, in one invocation.

Cases (each (case, tool) measured in its own freshly spawned process, so its peak resident
memory is its own):

  m1-100k, m1-1m     M1 (built-in ``bench-m1``) vs the NumPy and squigglepy peers in
                     bench/peers/; squigglepy runs at most --squigglepy-max samples and its
                     time is extrapolated linearly (marked in the table)
  baseline-10k, -100k, -1m
                     the full ``baseline`` scenario, a cold run: a fresh process that has
                     imported labecon and loaded the scenario simulates N samples and
                     summarises them (first call included); no peer implements baseline
  interactive-10k    10,000 samples of ``baseline`` in an already-warm process (after a
                     warm-up run), as in a notebook
  scaling            ``baseline`` at 1,000,000 samples (keep="annual") on a local Dask
                     cluster of 1 and of 2 worker processes

Order of work: first agreement (M1: each peer's statistics within Monte Carlo error of
labecon's, as bench/m1.py checks them; Dask: the 1- and 2-worker runs identical to the
in-process run), and only then timing. A run labecon refuses (the memory check of
``labecon.simulate``) is reported as refused with its reason, not as a failure.

Time: wall time of simulate + summary (time.perf_counter), median of up to --repeats runs;
a case stops repeating once its runs have used --budget seconds (at least one run).

Exit status: 0 done; 1 disagreement (nothing timed); 2 a tool is missing; 3 a case's process
died (e.g. killed by the OS for lack of memory).

Usage: python bench/suite.py [--quick] [--repeats 3] [--budget 150] [--json PATH]
       (`make bench` installs squigglepy and Dask into .venv and runs this.)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import m1  # noqa: E402  (bench/m1.py: the M1 agreement check and peers, shared)
from m1 import (  # noqa: E402
    LABECON,
    MONTHS,
    NUMPY,
    SQUIGGLEPY,
    CaseCrashedError,
    compare,
    in_fresh_process,
    machine_description,
    peak_rss_mb,
    prepare_simulator,
    standard_errors,
    summarise,
)

DEFAULT_JSON_PATH = BENCH_DIR / "results" / "suite.json"
BASELINE = "baseline"
WARM_UP_SAMPLES = 1_000
# The scaling runs keep every sample's years (keep="annual"): 1,000,000 samples of baseline
# with every sample's months would need 28 GB and are refused on a 24 GB machine.
SCALING_KEEP = "annual"
DASK_CHECK_SAMPLES = 600
CASES = ("m1", "baseline", "interactive", "scaling")
# Share of CPU time used by other processes above which the machine counts as busy: a case
# started then is marked in the table (the machine has 2 cores: one busy core is 50%).
QUIET_BUSY_SHARE = 0.15


@dataclass(frozen=True)
class Sizes:
    """Sample counts of each case (full run or --quick smoke run)."""

    m1: tuple[int, ...]
    baseline: tuple[int, ...]
    interactive: int
    scaling_cap: int
    squigglepy_max: int


FULL = Sizes((100_000, 1_000_000), (10_000, 100_000, 1_000_000), 10_000, 1_000_000, 20_000)
QUICK = Sizes((2_000, 10_000), (1_000, 3_000), 1_000, 3_000, 2_000)


# --------------------------------------------------------------------------------------------
# Case bodies: each runs in a fresh spawned process and returns a JSON-ready dict. A run that
# labecon refuses returns {"refused": reason}.


def _refusal(error: Exception) -> dict[str, Any]:
    return {"refused": str(error), "peak_rss_mb": peak_rss_mb()}


def _timed_runs(run: Callable[[], None], repeats: int, budget_s: float) -> list[float]:
    """Up to ``repeats`` timed calls of ``run``, fewer once ``budget_s`` is spent (>= 1)."""
    seconds: list[float] = []
    while len(seconds) < repeats:
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
        if sum(seconds) + statistics.median(seconds) > budget_s:
            break
    return seconds


def busy_share(seconds: float = 1.0) -> float | None:
    """Share of the machine's CPU time used over ``seconds`` (by other processes, when this
    one is idle); None where /proc/stat is not available."""

    def counters() -> tuple[int, int] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    before = counters()
    time.sleep(seconds)
    after = counters()
    if before is None or after is None or after[0] == before[0]:
        return None
    return 1.0 - (after[1] - before[1]) / (after[0] - before[0])


def wait_until_quiet(limit_s: float, threshold: float = QUIET_BUSY_SHARE) -> float | None:
    """Wait up to ``limit_s`` for the machine to be idle; return the last busy share seen."""
    deadline = time.monotonic() + limit_s
    busy = busy_share()
    while busy is not None and busy > threshold and time.monotonic() < deadline:
        busy = busy_share(5.0)
    return busy


def m1_agreement_case(tool: str, samples: int, seed: int) -> dict[str, Any]:
    import labecon

    try:
        monthly_income_usd = prepare_simulator(tool)(samples, seed)
    except labecon.OptionError as error:
        return _refusal(error)
    if monthly_income_usd.shape != (samples, MONTHS):
        raise ValueError(f"{tool}: monthly income of shape {monthly_income_usd.shape}")
    return {
        "summary": summarise(monthly_income_usd),
        "standard_errors": standard_errors(monthly_income_usd),
    }


def m1_timing_case(
    tool: str, samples: int, seed: int, repeats: int, budget_s: float
) -> dict[str, Any]:
    import labecon

    simulate = prepare_simulator(tool)
    summarise(simulate(min(samples, WARM_UP_SAMPLES), seed))  # first-call costs, not timed
    try:
        seconds = _timed_runs(lambda: summarise(simulate(samples, seed)), repeats, budget_s)
    except labecon.OptionError as error:
        return _refusal(error)
    return {"run_seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def _baseline_summary(result: Any) -> None:
    """What a user reads after a run: the yearly statements and the key metrics."""
    result.annual("expensed", "p50")
    result.annual("cash", "p5")
    result.metrics()


def baseline_cold_case(samples: int, seed: int, keep: str = "monthly") -> dict[str, Any]:
    started = time.perf_counter()
    import labecon

    scenario = labecon.load_scenario(BASELINE)
    import_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        _baseline_summary(labecon.simulate(scenario, samples=samples, seed=seed, keep=keep))
        seconds = time.perf_counter() - started
    except labecon.OptionError as error:
        return _refusal(error)
    return {
        "run_seconds": [seconds],
        "import_seconds": import_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def interactive_case(samples: int, seed: int, repeats: int, budget_s: float) -> dict[str, Any]:
    import labecon

    scenario = labecon.load_scenario(BASELINE)
    _baseline_summary(labecon.simulate(scenario, samples=WARM_UP_SAMPLES, seed=seed))

    def run() -> None:
        _baseline_summary(labecon.simulate(scenario, samples=samples, seed=seed))

    return {"run_seconds": _timed_runs(run, repeats, budget_s), "peak_rss_mb": peak_rss_mb()}


def fingerprint(result: Any) -> str:
    """SHA-256 of every per-sample array of a Result (monthly or annual), in a fixed order."""
    digest = hashlib.sha256()
    groups = {
        "statements": {
            f"{v}.{i}": a for v, items in result.statements.items() for i, a in items.items()
        },
        "annual": {
            f"{v}.{i}": a for v, items in result.annual_values.items() for i, a in items.items()
        },
        "monthly_means": {
            f"{v}.{i}": a for v, items in result.monthly_means.items() for i, a in items.items()
        },
        "generations": result.generation_values,
        "metrics": result.metric_values,
        "inputs": result.input_values,
    }
    for group, arrays in groups.items():
        for name in sorted(arrays):
            digest.update(f"{group}.{name}".encode())
            digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    digest.update(np.ascontiguousarray(result.revenue_by_generation_mean).tobytes())
    return digest.hexdigest()


def dask_identity_case(samples: int, seed: int) -> dict[str, Any]:
    """Fingerprints of the same run in-process and on 1 and on 2 local Dask workers."""
    import labecon
    from labecon.api import default_chunk_size

    scenario = labecon.load_scenario(BASELINE)
    size = max(1, default_chunk_size(scenario, samples) // 4)  # several chunks per worker
    out = {"in-process": fingerprint(labecon.simulate(scenario, samples, seed, chunk_size=size))}
    for workers in (1, 2):
        result = labecon.simulate(scenario, samples, seed, chunk_size=size, workers=workers)
        out[f"{workers} workers"] = fingerprint(result)
    return {"fingerprints": out, "identical": len(set(out.values())) == 1}


def scaling_case(
    samples: int, seed: int, workers: int, repeats: int, budget_s: float
) -> dict[str, Any]:
    import labecon
    from labecon.backends import DaskBackend

    scenario = labecon.load_scenario(BASELINE)
    started = time.perf_counter()
    with DaskBackend(workers=workers) as backend:
        cluster_seconds = time.perf_counter() - started
        # Workers import labecon on their first task: warm them up, untimed.
        labecon.simulate(scenario, samples=2 * workers, seed=seed, chunk_size=1, backend=backend)
        results: list[Any] = []

        def run() -> None:
            results.clear()  # one Result at a time in memory
            result = labecon.simulate(
                scenario, samples=samples, seed=seed, backend=backend, keep=SCALING_KEEP
            )
            _baseline_summary(result)
            results.append(result)

        try:
            seconds = _timed_runs(run, repeats, budget_s)
        except labecon.OptionError as error:
            return _refusal(error)
        worker_rss = backend._client.run(peak_rss_mb)
    return {
        "run_seconds": seconds,
        "cluster_start_seconds": cluster_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": max(worker_rss.values()),
        "fingerprint": fingerprint(results[0]),
    }


# --------------------------------------------------------------------------------------------
# Rows of the table


@dataclass
class Row:
    case: str
    samples: int
    tool: str
    run_samples: int = 0
    run_seconds: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    note: str = ""
    refused: str | None = None
    ratio: float | None = None  # peer seconds / labecon seconds, or speed-up for scaling
    busy_share: float | None = None  # CPU share other processes used as the case started
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def extrapolated(self) -> bool:
        return bool(self.run_seconds) and self.run_samples not in (0, self.samples)

    @property
    def seconds(self) -> float | None:
        if not self.run_seconds:
            return None
        scale = self.samples / self.run_samples if self.run_samples else 1.0
        return statistics.median(self.run_seconds) * scale

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"seconds": self.seconds, "extrapolated": self.extrapolated}


def row_from(case: str, samples: int, tool: str, run_samples: int, measured: dict[str, Any]) -> Row:
    extra = {
        k: v
        for k, v in measured.items()
        if k not in ("run_seconds", "peak_rss_mb", "refused", "fingerprint")
    }
    return Row(
        case=case,
        samples=samples,
        tool=tool,
        run_samples=run_samples,
        run_seconds=list(measured.get("run_seconds", [])),
        peak_rss_mb=measured.get("peak_rss_mb"),
        refused=measured.get("refused"),
        extra=extra,
    )


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| case | samples | tool | seconds (median of runs) | vs labecon | peak RSS MB | notes |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        if row.refused is not None:
            seconds = "refused"
        elif row.seconds is None:
            seconds = "—"
        else:
            runs = len(row.run_seconds)
            seconds = f"{row.seconds:,.3g} ({runs} run{'s' if runs != 1 else ''})"
            if row.seconds >= 100:
                seconds = f"{row.seconds:,.0f} ({runs} run{'s' if runs != 1 else ''})"
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x"
        rss = "—" if row.peak_rss_mb is None else f"{row.peak_rss_mb:,.0f}"
        note = row.note
        if row.refused is not None:
            note = f"refused: {row.refused}"
        elif row.extrapolated:
            note = f"extrapolated from {row.run_samples:,} samples; {note}".rstrip("; ")
        if row.busy_share is not None and row.busy_share > QUIET_BUSY_SHARE:
            note += f"; BUSY machine: {row.busy_share:.0%} of CPU used by others at the start"
        note = note.replace("|", "\\|")  # "max |z|" inside a Markdown cell
        lines.append(
            f"| {row.case} | {row.samples:,} | {row.tool} | {seconds} | {ratio} | {rss} | {note} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The suite


def run_suite(arguments: argparse.Namespace) -> int:
    for module, hint in (("labecon", "pip install -e ."), ("dask.distributed", "'.[dask]'")):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            print(f"{module} is not importable: run `make bench` ({hint}).", file=sys.stderr)
            return 2
    sizes = QUICK if arguments.quick else FULL
    tools = [LABECON, NUMPY]
    if not arguments.no_squigglepy:
        if importlib.util.find_spec("squigglepy") is None:
            print("squigglepy is not installed: `make bench`, or --no-squigglepy.", file=sys.stderr)
            return 2
        tools.append(SQUIGGLEPY)
    seed, repeats, budget = arguments.seed, arguments.repeats, arguments.budget
    document: dict[str, Any] = {
        "benchmark": "suite",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description() | {"dask": _version("dask")},
        "settings": {
            "quick": arguments.quick,
            "repeats": repeats,
            "budget_seconds": budget,
            "seed": seed,
            "sizes": asdict(sizes),
            "tools": tools,
        },
        "load_average_at_start": os.getloadavg(),
    }

    def run_samples(tool: str, samples: int) -> int:
        return min(samples, sizes.squigglepy_max) if tool == SQUIGGLEPY else samples

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    # 1. Agreement, before any timing.
    agreement_json: list[dict[str, Any]] = []
    agreement_labels: dict[tuple[str, int], str] = {}
    cases: dict[tuple[str, int], dict[str, Any]] = {}
    failed = False
    selected = set(arguments.cases)
    for samples in sizes.m1 if "m1" in selected else ():
        for tool in tools:
            key = (tool, run_samples(tool, samples))
            if key not in cases:
                progress(f"agreement run: M1, {tool}, {key[1]:,} samples")
                cases[key] = in_fresh_process(m1_agreement_case, tool, key[1], seed)
        for tool in tools[1:]:
            reference = cases[LABECON, samples]
            if "refused" in reference:
                # labecon refused this N: check the peer against labecon at the largest N
                # labecon ran instead (same statistics, both within their own error).
                ran = [n for n in sizes.m1 if "refused" not in cases[LABECON, n]]
                if not ran:
                    agreement_labels[tool, samples] = "not checked (labecon refused)"
                    continue
                reference_n = max(ran)
                reference = cases[LABECON, reference_n]
            else:
                reference_n = samples
            agreement = compare(samples, tool, reference, cases[tool, run_samples(tool, samples)])
            label = agreement.label()
            if reference_n != samples:
                label += f" (vs labecon at {reference_n:,})"
            agreement_labels[tool, samples] = label
            agreement_json.append(agreement.to_json() | {"labecon_samples": reference_n})
            progress(f"agreement M1 {tool} vs labecon at {samples:,}: {label}")
            failed |= not agreement.passed
    if "scaling" in selected:
        progress(f"agreement run: baseline in-process vs Dask, {DASK_CHECK_SAMPLES} samples")
        identity = in_fresh_process(dask_identity_case, DASK_CHECK_SAMPLES, seed)
        document["dask_identity"] = identity
        progress(f"Dask 1 and 2 workers identical to in-process: {identity['identical']}")
        failed |= not identity["identical"]
    document["agreement"] = agreement_json
    if failed:
        _write(arguments.json, document)
        print("Disagreement (see above); nothing timed.", file=sys.stderr)
        return 1

    # 2. Timing, each (case, tool) in a fresh process, on a machine as quiet as it gets.
    rows: list[Row] = []
    busy_at_start: list[float | None] = []

    def timed(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        busy_at_start.append(wait_until_quiet(arguments.wait_quiet))
        return in_fresh_process(function, *args)

    def add(row: Row) -> None:
        row.busy_share = busy_at_start[-1] if busy_at_start else None
        rows.append(row)

    measured_m1: dict[tuple[str, int], dict[str, Any]] = {}
    for samples in sizes.m1 if "m1" in selected else ():
        case = f"M1 ({m1.SCENARIO_NAME})"
        labecon_row: Row | None = None
        for tool in tools:
            n = run_samples(tool, samples)
            if (tool, n) not in measured_m1:  # squigglepy's capped run serves every N
                progress(f"timing: M1, {tool}, {n:,} samples")
                measured_m1[tool, n] = timed(m1_timing_case, tool, n, seed, repeats, budget)
            measured = measured_m1[tool, n]
            row = row_from(case, samples, tool, n, measured)
            row.note = "reference" if tool == LABECON else agreement_labels[tool, samples]
            if tool == LABECON:
                labecon_row = row
            elif labecon_row is not None and labecon_row.seconds and row.seconds:
                row.ratio = row.seconds / labecon_row.seconds
            add(row)

    for samples in sizes.baseline if "baseline" in selected else ():
        # keep="annual" (every sample's years, not its months) where the default is refused.
        for keep in ("monthly", "annual"):
            runs: list[dict[str, Any]] = []
            started = time.perf_counter()
            while len(runs) < repeats:
                progress(
                    f"timing: baseline cold, {samples:,} samples, keep={keep}, run {len(runs) + 1}"
                )
                runs.append(timed(baseline_cold_case, samples, seed, keep))
                if "refused" in runs[-1] or time.perf_counter() - started > budget:
                    break
            merged = dict(runs[0])
            if "refused" not in merged:
                merged["run_seconds"] = [r["run_seconds"][0] for r in runs]
                merged["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
                merged["import_seconds"] = statistics.median(r["import_seconds"] for r in runs)
            case = "baseline, cold process" + ("" if keep == "monthly" else ", keep='annual'")
            row = row_from(case, samples, LABECON, samples, merged)
            row.note = "no peer: the benchmark spec defines M1 only"
            if "import_seconds" in merged:
                row.note += f"; import + load {merged['import_seconds']:.1f} s not included"
            add(row)
            if "refused" not in merged:
                break

    if "interactive" in selected:
        progress(f"timing: baseline interactive, {sizes.interactive:,} samples")
        measured = timed(interactive_case, sizes.interactive, seed, repeats, budget)
        row = row_from(
            "baseline, warm process", sizes.interactive, LABECON, sizes.interactive, measured
        )
        row.note = f"after a {WARM_UP_SAMPLES:,}-sample warm-up run in the same process"
        add(row)

    if "scaling" in selected:
        time_scaling(arguments, sizes, document, timed, add, progress)
    _finish(arguments, document, rows)
    return 0


def time_scaling(
    arguments: argparse.Namespace,
    sizes: Sizes,
    document: dict[str, Any],
    timed: Callable[..., dict[str, Any]],
    add: Callable[[Row], None],
    progress: Callable[[str], None],
) -> None:
    """baseline on a local Dask cluster of 1, then 2 workers; the speed-up on the second row."""
    seed, repeats, budget = arguments.seed, arguments.repeats, arguments.budget
    samples = arguments.scaling_samples or sizes.scaling_cap
    fit = {"samples": samples, "keep": SCALING_KEEP}
    document["scaling_size"] = fit
    scaling: dict[int, Row] = {}
    fingerprints: dict[int, str] = {}
    for workers in (1, 2):
        progress(f"timing: baseline on {workers} Dask worker(s), {fit['samples']:,} samples")
        measured = timed(scaling_case, fit["samples"], seed, workers, repeats, budget)
        fingerprints[workers] = measured.get("fingerprint", "")
        row = row_from(
            f"baseline, Dask scaling, keep='{SCALING_KEEP}'",
            fit["samples"],
            f"labecon, {workers} worker" + ("s" if workers > 1 else ""),
            fit["samples"],
            measured,
        )
        if "worker_peak_rss_mb" in measured:
            row.note = (
                f"client process; each worker's peak RSS {measured['worker_peak_rss_mb']:,.0f} "
                f"MB; cluster start {measured['cluster_start_seconds']:.1f} s not included"
            )
        scaling[workers] = row
        add(row)
    one, two = scaling[1], scaling[2]
    if one.seconds and two.seconds:
        two.ratio = one.seconds / two.seconds
        two.note = f"speed-up vs 1 worker {two.ratio:.2f}x (ratio column); " + two.note
        identical = fingerprints[1] == fingerprints[2]
        two.note += "; numbers identical to 1 worker" if identical else "; NUMBERS DIFFER"
        document["scaling_identical"] = identical


def _finish(arguments: argparse.Namespace, document: dict[str, Any], rows: list[Row]) -> None:
    """Print the table and write the JSON document."""
    document["rows"] = [row.to_json() for row in rows]
    table = markdown_table(rows)
    document["table"] = table
    print()
    print(table)
    print()
    print(
        "vs labecon: peer seconds / labecon seconds (above 1: labecon is faster); for the Dask "
        "rows, seconds on 1 worker / seconds on 2 workers."
    )
    _write(arguments.json, document)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"Results written to {path}")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--repeats", type=m1.positive_int, default=3, help="runs per case, at most")
    parser.add_argument(
        "--budget", type=float, default=150.0, help="seconds of runs after which a case stops"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON_PATH)
    parser.add_argument("--no-squigglepy", action="store_true", help="skip squigglepy")
    parser.add_argument(
        "--cases", nargs="+", choices=CASES, default=list(CASES), help="cases to run (all)"
    )
    parser.add_argument(
        "--scaling-samples",
        type=m1.positive_int,
        default=None,
        help="samples of the Dask scaling case (default: 1,000,000; --quick: 3,000)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        help="before each timed case, wait up to this many seconds for other processes to "
        f"use less than {QUIET_BUSY_SHARE:.0%} of the CPU (cases started busy are marked)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        return run_suite(parse_arguments(argv))
    except CaseCrashedError as error:
        print(f"Benchmark case failed: {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
