"""Benchmark M1: labecon's built-in scenario ``bench-m1`` against the same model written by hand.

Peers (in bench/peers/, see m1_spec.py for the model):
  numpy       hand-vectorised NumPy, what an expert writes without a modelling tool
  squigglepy  a model function per sample, as a squigglepy user writes it (optional)

One invocation does, for every --samples N:
  1. agreement: each tool's statistics (summarised by the same m1_spec.summarise) are compared
     with labecon's within Monte Carlo error; any disagreement stops the run with exit code 1;
  2. timing: each tool runs in a fresh process (so peak RSS is per case), --repeats times; the
     wall time of simulate + summarise is taken with time.perf_counter and the median reported.
Then a table is printed and everything is written to --json.

Exit status: 0 done; 1 the tools disagree (no timing done); 2 labecon or squigglepy not
importable (see --no-squigglepy); 3 a case's process died (e.g. killed for lack of memory).

Usage: python bench/m1.py [--samples 100000 1000000] [--repeats 3] [--json bench/results/m1.json]
       (`make bench` installs squigglepy into .venv and runs this.)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"
DEFAULT_JSON_PATH = BENCH_DIR / "results" / "m1.json"
SCENARIO_NAME = "bench-m1"

# The peers are scripts that import m1_spec from their own directory; make that importable here
# (and in the spawned case processes, which inherit sys.path).
if str(PEERS_DIR) not in sys.path:
    sys.path.insert(0, str(PEERS_DIR))

from m1_spec import MONTHS, standard_errors, summarise  # noqa: E402

LABECON = "labecon"
NUMPY = "numpy"
SQUIGGLEPY = "squigglepy"

# Agreement: a peer agrees with labecon on a statistic when |difference| <= 4 combined standard
# errors, SE = sqrt(SE_labecon**2 + SE_peer**2) (the runs are independent samples):
#   * year_income_mean: SE = sample standard deviation / sqrt(n) (m1_spec.standard_errors);
#   * year_income_p50: asymptotic SE of the sample median, with the density at the median
#     estimated from neighbouring empirical quantiles (m1_spec.standard_errors);
#   * p_year_profitable: binomial SE of the pooled share, sqrt(p (1 - p) (1/n1 + 1/n2)).
# 4 SE rather than 2 or 3: 30 statistics are checked per peer and N, and yearly income is
# heavy-tailed (a product of lognormals, m**9 dominates), so its sample SD is itself noisy. At
# 4 SE a correct implementation fails a given check with probability ~6e-5 under normality.
# Statistics that are exactly equal (e.g. year 0 is never profitable, so the share is 0 for both)
# have SE 0 and pass; a relative floor of 1e-9 absorbs floating-point summation order.
AGREEMENT_Z = 4.0
RELATIVE_FLOOR = 1e-9
CHECKED_STATISTICS = ("year_income_mean", "year_income_p50", "p_year_profitable")
WARM_UP_SAMPLES = 1_000

ResultT = TypeVar("ResultT")
MonthlyIncomeSimulator = Callable[[int, int], np.ndarray]


# --------------------------------------------------------------------------------------------
# Cases: these functions run in fresh spawned processes.


def prepare_simulator(tool: str) -> MonthlyIncomeSimulator:
    """Import the tool and set up the model (not timed); return simulate(samples, seed)."""
    if tool == LABECON:
        import labecon

        scenario = labecon.load_scenario(SCENARIO_NAME)

        def simulate_labecon(samples: int, seed: int) -> np.ndarray:
            result = labecon.simulate(scenario, samples=samples, seed=seed)
            return np.asarray(result.samples("expensed", "operating_income"), dtype=float)

        return simulate_labecon
    if tool == NUMPY:
        import m1_numpy

        return m1_numpy.simulate
    if tool == SQUIGGLEPY:
        import m1_squigglepy

        return m1_squigglepy.simulate
    raise ValueError(f"unknown tool {tool!r}")


def agreement_case(tool: str, samples: int, seed: int) -> dict[str, Any]:
    monthly_income_usd = prepare_simulator(tool)(samples, seed)
    if monthly_income_usd.shape != (samples, MONTHS):
        raise ValueError(
            f"{tool}: monthly operating income has shape {monthly_income_usd.shape}, "
            f"expected ({samples}, {MONTHS})"
        )
    return {
        "summary": summarise(monthly_income_usd),
        "standard_errors": standard_errors(monthly_income_usd),
    }


def timing_case(tool: str, samples: int, seed: int, repeats: int) -> dict[str, Any]:
    simulate = prepare_simulator(tool)
    summarise(simulate(min(samples, WARM_UP_SAMPLES), seed))  # first-call costs, not timed
    setup_rss_mb = peak_rss_mb()
    run_seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        summarise(simulate(samples, seed))
        run_seconds.append(time.perf_counter() - started)
    return {"run_seconds": run_seconds, "peak_rss_mb": peak_rss_mb(), "setup_rss_mb": setup_rss_mb}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far [MB]."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bytes_per_unit = 1 if sys.platform == "darwin" else 1024  # macOS: bytes, Linux: KiB
    return peak * bytes_per_unit / 1e6


class CaseCrashedError(RuntimeError):
    """A case's process died without returning (typically killed by the OS for lack of memory)."""


def in_fresh_process(function: Callable[..., ResultT], *args: Any) -> ResultT:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as executor:
        try:
            return executor.submit(function, *args).result()
        except BrokenProcessPool as error:
            case = ", ".join(repr(argument) for argument in args)
            raise CaseCrashedError(
                f"{function.__name__}({case}): the process died without a result "
                "(killed by the OS? out of memory? see `dmesg`)"
            ) from error


# --------------------------------------------------------------------------------------------
# Agreement


@dataclass
class Check:
    statistic: str
    year: int
    labecon: float
    peer: float
    standard_error: float
    passed: bool

    @property
    def z(self) -> float:
        difference = self.peer - self.labecon
        if self.standard_error > 0:
            return difference / self.standard_error
        return 0.0 if self.passed else math.inf


@dataclass
class Agreement:
    samples: int
    tool: str
    tool_samples: int
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def max_abs_z(self) -> float:
        return max((abs(check.z) for check in self.checks), default=0.0)

    def label(self) -> str:
        verdict = "ok" if self.passed else "FAIL"
        return f"{verdict}, max |z| {self.max_abs_z:.1f}"

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "tool": self.tool,
            "tool_samples": self.tool_samples,
            "passed": self.passed,
            "max_abs_z": self.max_abs_z,
            "checks": [asdict(check) | {"z": check.z} for check in self.checks],
        }


def compare(
    samples: int, tool: str, labecon_case: dict[str, Any], peer_case: dict[str, Any]
) -> Agreement:
    reference, peer = labecon_case["summary"], peer_case["summary"]
    n_reference, n_peer = reference["samples"], peer["samples"]
    agreement = Agreement(samples=samples, tool=tool, tool_samples=n_peer)
    for statistic in CHECKED_STATISTICS:
        for year, (reference_value, peer_value) in enumerate(
            zip(reference[statistic], peer[statistic], strict=True)
        ):
            if statistic == "p_year_profitable":
                pooled = (reference_value * n_reference + peer_value * n_peer) / (
                    n_reference + n_peer
                )
                standard_error = math.sqrt(
                    pooled * (1.0 - pooled) * (1.0 / n_reference + 1.0 / n_peer)
                )
            else:
                standard_error = math.hypot(
                    labecon_case["standard_errors"][statistic][year],
                    peer_case["standard_errors"][statistic][year],
                )
            tolerance = AGREEMENT_Z * standard_error + RELATIVE_FLOOR * max(
                abs(reference_value), abs(peer_value)
            )
            passed = abs(peer_value - reference_value) <= tolerance
            agreement.checks.append(
                Check(statistic, year, reference_value, peer_value, standard_error, passed)
            )
    return agreement


# --------------------------------------------------------------------------------------------
# Timing and reporting


@dataclass
class Timing:
    samples: int
    tool: str
    run_samples: int
    run_seconds: list[float]
    peak_rss_mb: float
    setup_rss_mb: float
    agreement: str
    seconds_median: float = field(init=False)
    ratio_vs_labecon: float = field(init=False, default=1.0)

    def __post_init__(self) -> None:
        # Extrapolated linearly when the tool ran fewer samples than N (squigglepy's cap).
        self.seconds_median = statistics.median(self.run_seconds) * self.samples / self.run_samples

    @property
    def extrapolated(self) -> bool:
        return self.run_samples != self.samples

    @property
    def throughput(self) -> float:
        return self.samples / self.seconds_median

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"extrapolated": self.extrapolated, "throughput": self.throughput}


def print_table(timings: list[Timing]) -> None:
    headers = [
        "samples",
        "tool",
        "seconds (median)",
        "samples/s",
        "time vs labecon",
        "peak RSS MB",
        "agreement",
    ]
    rows = []
    for timing in timings:
        mark = " *" if timing.extrapolated else ""
        rows.append(
            [
                f"{timing.samples:,}",
                timing.tool,
                f"{timing.seconds_median:.3f}{mark}",
                f"{timing.throughput:,.0f}",
                f"{timing.ratio_vs_labecon:.2f}x",
                f"{timing.peak_rss_mb:,.0f}{mark}",
                timing.agreement,
            ]
        )
    notes = [
        "time vs labecon = tool seconds / labecon seconds (above 1: labecon is faster).",
        "seconds: wall time of simulate + summarise, median of the repeats, each tool in its own"
        " fresh process; peak RSS of that process (includes interpreter and imports).",
    ]
    capped = sorted({t.run_samples for t in timings if t.extrapolated})
    if capped:
        sizes = ", ".join(f"{size:,}" for size in capped)
        notes.append(
            f"* extrapolated: ran {sizes} samples; seconds scaled linearly to N, "
            "peak RSS as measured at the smaller run."
        )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, ["-" * width for width in widths], *rows]:
            cells = [
                cell.ljust(width) if index in (1, 6) else cell.rjust(width)
                for index, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            print("  ".join(cells))
    else:
        table = Table(title="M1 benchmark")
        for index, header in enumerate(headers):
            table.add_column(header, justify="left" if index in (1, 6) else "right")
        for row in rows:
            table.add_row(*row)
        console = Console()
        if not console.is_terminal:  # e.g. piped to a log: do not squeeze into 80 columns
            console = Console(width=120)
        console.print(table)
    for note in notes:
        print(note)


def machine_description() -> dict[str, Any]:
    def version(distribution: str) -> str | None:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "labecon": version("labecon"),
        "squigglepy": version("squigglepy"),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"Results written to {path}")


# --------------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def sample_count(text: str) -> int:
    value = int(text)
    if value < WARM_UP_SAMPLES:
        raise argparse.ArgumentTypeError(f"need at least {WARM_UP_SAMPLES:,} samples, got {text}")
    return value


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="M1 benchmark: labecon vs hand-written NumPy and squigglepy."
    )
    parser.add_argument(
        "--samples", type=sample_count, nargs="+", default=[100_000], help="sample counts N"
    )
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed runs per case")
    parser.add_argument("--seed", type=int, default=1, help="random seed for every tool")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON_PATH, help="results file")
    parser.add_argument(
        "--squigglepy-max",
        type=sample_count,
        default=20_000,
        help="largest sample count squigglepy runs; its time is extrapolated linearly beyond",
    )
    parser.add_argument(
        "--no-squigglepy", action="store_true", help="skip squigglepy (e.g. if not installed)"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        return run_benchmark(arguments)
    except CaseCrashedError as error:
        print(f"Benchmark case failed: {error}", file=sys.stderr)
        return 3


def run_benchmark(arguments: argparse.Namespace) -> int:
    if importlib.util.find_spec("labecon") is None:
        print(
            "labecon is not importable from this Python. Run `make bench` (or "
            "`pip install -e .` in the project's environment) first.",
            file=sys.stderr,
        )
        return 2
    tools = [LABECON, NUMPY]
    if not arguments.no_squigglepy:
        if importlib.util.find_spec("squigglepy") is None:
            print(
                "squigglepy is not installed in this Python. `make bench` installs it into .venv "
                "(pip install '.[bench]'); or pass --no-squigglepy to benchmark without it.",
                file=sys.stderr,
            )
            return 2
        tools.append(SQUIGGLEPY)
    sample_counts = sorted(set(arguments.samples))

    def samples_run_by(tool: str, samples: int) -> int:
        return min(samples, arguments.squigglepy_max) if tool == SQUIGGLEPY else samples

    document: dict[str, Any] = {
        "benchmark": "M1",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "settings": {
            "samples": sample_counts,
            "repeats": arguments.repeats,
            "seed": arguments.seed,
            "squigglepy_max": arguments.squigglepy_max,
            "tools": tools,
            "agreement_z": AGREEMENT_Z,
        },
    }

    # 1. Agreement, before any timing.
    cases: dict[tuple[str, int], dict[str, Any]] = {}
    agreements: dict[tuple[str, int], Agreement] = {}
    for samples in sample_counts:
        for tool in tools:
            run_samples = samples_run_by(tool, samples)
            if (tool, run_samples) not in cases:
                print(f"agreement run: {tool}, {run_samples:,} samples", flush=True)
                cases[tool, run_samples] = in_fresh_process(
                    agreement_case, tool, run_samples, arguments.seed
                )
        for tool in tools[1:]:
            agreement = compare(
                samples, tool, cases[LABECON, samples], cases[tool, samples_run_by(tool, samples)]
            )
            agreements[tool, samples] = agreement
            print(f"agreement {tool} vs labecon at {samples:,}: {agreement.label()}", flush=True)
    document["agreement"] = [agreement.to_json() for agreement in agreements.values()]
    document["summaries"] = [
        {"tool": tool, "samples": run_samples, **case["summary"]}
        for (tool, run_samples), case in cases.items()
    ]
    failed = [agreement for agreement in agreements.values() if not agreement.passed]
    if failed:
        for agreement in failed:
            print(
                f"DISAGREEMENT: {agreement.tool} ({agreement.tool_samples:,} samples) vs labecon "
                f"({agreement.samples:,} samples):",
                file=sys.stderr,
            )
            for check in agreement.checks:
                if not check.passed:
                    print(
                        f"  {check.statistic}[year {check.year}]: labecon {check.labecon:.6g}, "
                        f"{agreement.tool} {check.peer:.6g}, z = {check.z:.1f}",
                        file=sys.stderr,
                    )
        write_json(arguments.json, document)
        print("Tools disagree beyond Monte Carlo error; no timing done.", file=sys.stderr)
        return 1
    # 2. Timing, each case in a fresh process.
    # A capped tool runs the same sample count for several N: measure that once.
    measurements: dict[tuple[str, int], dict[str, Any]] = {}
    timings: list[Timing] = []
    for samples in sample_counts:
        for tool in tools:
            run_samples = samples_run_by(tool, samples)
            if (tool, run_samples) not in measurements:
                print(f"timing: {tool}, {run_samples:,} samples x {arguments.repeats}", flush=True)
                measurements[tool, run_samples] = in_fresh_process(
                    timing_case, tool, run_samples, arguments.seed, arguments.repeats
                )
            agreement = "reference" if tool == LABECON else agreements[tool, samples].label()
            measured = measurements[tool, run_samples]
            timings.append(Timing(samples, tool, run_samples, agreement=agreement, **measured))
        labecon_seconds = next(
            t.seconds_median for t in timings if t.samples == samples and t.tool == LABECON
        )
        for timing in timings:
            if timing.samples == samples:
                timing.ratio_vs_labecon = timing.seconds_median / labecon_seconds

    document["timings"] = [timing.to_json() for timing in timings]
    print_table(timings)
    write_json(arguments.json, document)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
