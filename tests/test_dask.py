"""The Dask backend: chunks of samples as tasks on a cluster give the in-process numbers exactly.

One local cluster of two single-threaded worker processes serves the module (it starts in a
few seconds); the CLI's ``--workers 2`` starts and closes its own.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas.testing as pd_testing
import pytest
from dask.distributed import LocalCluster
from typer.testing import CliRunner

import labecon
from labecon.backends import DaskBackend, InProcess, balanced_size, open_backend
from labecon.cli import app
from labecon.result import Result
from labecon.scenario.loading import builtin_names

DISCOUNT = "analysis.discount_rate_per_year"


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """Address of a local cluster of two worker processes, one thread each."""
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def dask(address: str) -> Iterator[DaskBackend]:
    with DaskBackend(scheduler=address) as backend:
        yield backend


def assert_identical(a: Result, b: Result) -> None:
    """Every per-sample array, and the mean revenue by generation, bit for bit."""
    assert a.statements.keys() == b.statements.keys()
    for view, items in a.statements.items():
        assert items.keys() == b.statements[view].keys()
        for item, values in items.items():
            assert np.array_equal(values, b.statements[view][item], equal_nan=True), (view, item)
    for group in ("generation_values", "metric_values", "input_values"):
        left, right = getattr(a, group), getattr(b, group)
        assert left.keys() == right.keys(), group
        for key in left:
            assert np.array_equal(left[key], right[key], equal_nan=True), (group, key)
    assert np.array_equal(a.revenue_by_generation_mean, b.revenue_by_generation_mean)
    assert a.seed == b.seed and a.scenario == b.scenario


def test_every_builtin_scenario_pickles_to_an_equal_scenario() -> None:
    # Distributions hold closures; they travel as their definition and are rebuilt.
    for name in builtin_names():
        scenario = labecon.load_scenario(name)
        copy = pickle.loads(pickle.dumps(scenario))
        assert copy == scenario, name
        for (_, original), (_, rebuilt) in zip(
            scenario.uncertain_inputs(), copy.uncertain_inputs(), strict=True
        ):
            u = np.array([0.01, 0.5, 0.99])
            assert np.array_equal(original.ppf(u), rebuilt.ppf(u)), name


def test_baseline_on_two_workers_is_identical_to_in_process(dask: DaskBackend) -> None:
    assert dask.threads == 2
    scenario = labecon.load_scenario("baseline")
    local = labecon.simulate(scenario, samples=300, seed=11, chunk_size=40)
    remote = labecon.simulate(scenario, samples=300, seed=11, chunk_size=40, backend=dask)
    assert_identical(local, remote)
    assert remote.sample_count == 300
    # Default chunking, and the address given as a string (a connection of its own).
    assert_identical(
        labecon.simulate(scenario, samples=300, seed=11),
        labecon.simulate(scenario, samples=300, seed=11, scheduler=dask.scheduler),
    )


@pytest.mark.parametrize("size", [1, 7, 60])
def test_any_chunk_size_on_dask_gives_the_in_process_numbers(dask: DaskBackend, size: int) -> None:
    # bench-m1 has no event streams; baseline-financed has financing and compute credits.
    for name in ("baseline-financed", "bench-m1"):
        whole = labecon.simulate(name, samples=60, seed=4, chunk_size=60)
        chunked = labecon.simulate(name, samples=60, seed=4, chunk_size=size, backend=dask)
        same_chunks = labecon.simulate(name, samples=60, seed=4, chunk_size=size)
        assert_identical(same_chunks, chunked)
        # Across chunkings the per-sample numbers are identical; the mean layer cake is a sum
        # of chunk sums, equal to rounding.
        for view, items in whole.statements.items():
            for item, values in items.items():
                assert np.array_equal(values, chunked.statements[view][item], equal_nan=True)
        for key, values in whole.metric_values.items():
            assert np.array_equal(values, chunked.metric_values[key], equal_nan=True), key
        np.testing.assert_allclose(
            whole.revenue_by_generation_mean, chunked.revenue_by_generation_mean, rtol=1e-12
        )


def test_overridden_inputs_reach_each_chunk_with_their_own_samples(dask: DaskBackend) -> None:
    scenario = labecon.load_scenario("baseline")
    name = next(name for name, _ in scenario.uncertain_inputs())
    values = np.linspace(1.0, 2.0, 90) * scenario_median(scenario, name)
    options = {"samples": 90, "seed": 2, "chunk_size": 13, "inputs": {name: values}}
    remote = labecon.simulate(scenario, backend=dask, **options)  # type: ignore[arg-type]
    assert np.array_equal(remote.input_values[name], values)
    assert_identical(labecon.simulate(scenario, **options), remote)  # type: ignore[arg-type]


def scenario_median(scenario: labecon.Scenario, name: str) -> float:
    return dict(scenario.uncertain_inputs())[name].median


def test_progress_is_reported_in_sample_order(dask: DaskBackend) -> None:
    seen: list[tuple[int, int]] = []
    labecon.simulate(
        "bench-m1",
        samples=50,
        chunk_size=10,
        backend=dask,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(10, 50), (20, 50), (30, 50), (40, 50), (50, 50)]


def test_a_scheduler_with_no_worker_is_refused_naming_it() -> None:
    with LocalCluster(
        n_workers=0, processes=False, dashboard_address=":0", silence_logs=logging.ERROR
    ) as empty:
        address = str(empty.scheduler_address)
        with pytest.raises(labecon.OptionError, match=re.escape(f"at '{address}' has no worker")):
            DaskBackend(scheduler=address, timeout_s=0.5)


def test_an_unreachable_scheduler_is_refused_naming_it() -> None:
    with pytest.raises(
        labecon.OptionError, match=re.escape("cannot reach a Dask scheduler at 'tcp://127.0.0.1:1'")
    ):
        DaskBackend(scheduler="tcp://127.0.0.1:1", timeout_s=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers: 0 is not accepted; accepted: an integer >= 1"),
        ({"workers": True}, "workers: True is not accepted"),
        ({"backend": "mpi"}, "backend: 'mpi' is not accepted; accepted: in-process, dask"),
        ({"backend": "in-process", "workers": 2}, "workers: runs on a Dask cluster"),
        ({"scheduler": "tcp://h:1", "workers": 2}, "workers: sets the size of the local"),
        ({"scheduler": " "}, "scheduler: ' ' is not accepted"),
        ({"threads": 0}, "threads: 0 is not accepted; accepted: an integer >= 1"),
        ({"threads": 1.5}, "threads: 1.5 is not accepted; accepted: an integer >= 1"),
        ({"workers": 2, "threads": 2}, "threads: sets the threads of a run in this process"),
        ({"backend": InProcess(), "threads": 2}, "threads: .* not accepted with an open backend"),
    ],
)
def test_bad_backend_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(labecon.OptionError, match=message):
        labecon.simulate("bench-m1", samples=2, **options)  # type: ignore[arg-type]


def test_no_option_is_the_in_process_backend_on_every_core() -> None:
    backend = open_backend()
    assert isinstance(backend, InProcess)
    assert backend.threads == len(os.sched_getaffinity(0))
    assert open_backend(threads=3).threads == 3


def test_a_run_inside_a_pool_thread_stays_on_that_thread() -> None:
    # A sensitivity batch run on a pool thread must not start a pool of its own.
    inner = list(InProcess(threads=2).map_ordered(lambda _, i: InProcess().threads, None, [1, 2]))
    assert inner == [1, 1]


@pytest.mark.parametrize(
    ("samples", "size", "threads", "expected"),
    [
        (10_000, 1_485, 2, 1_250),  # 7 chunks -> 8 of 1,250
        (10_000, 1_250, 2, 1_250),  # 8 chunks already
        (10_000, 1_485, 1, 1_485),
        (100, 40, 3, 40),  # 3 chunks already
        (100, 30, 3, 17),  # 4 chunks -> 6 of 17 (the last 15)
        (5, 5, 2, 3),  # 1 chunk -> 2 of 3 and 2
    ],
)
def test_balanced_chunks_are_a_multiple_of_the_threads(
    samples: int, size: int, threads: int, expected: int
) -> None:
    assert balanced_size(samples, size, threads) == expected
    chunks = -(-samples // expected)
    assert threads == 1 or chunks % threads == 0


def test_chunks_on_threads_come_back_in_order_and_errors_reach_the_caller() -> None:
    def slow_first(_: None, i: int) -> int:
        if i == 0:
            time.sleep(0.2)  # finishes after later items: the order must still hold
        if i == 5:
            raise ValueError("chunk 5 failed")
        return i

    outputs = InProcess(threads=3).map_ordered(slow_first, None, list(range(8)))
    assert [next(outputs) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="chunk 5 failed"):
        next(outputs)


# -- CLI -------------------------------------------------------------------------------------


def test_cli_workers_and_scheduler_write_the_same_annual_csv(tmp_path: Path, address: str) -> None:
    runner = CliRunner()
    common = ["run", "baseline", "--samples", "120", "--seed", "3", "--no-report"]
    for name, extra in (
        ("local", ["--threads", "1"]),
        ("threads", ["--threads", "3"]),
        ("workers", ["--workers", "2"]),
        ("scheduler", ["--scheduler", address]),
    ):
        outcome = runner.invoke(app, [*common, "--out", str(tmp_path / name), *extra])
        assert outcome.exit_code == 0, outcome.output
    local = (tmp_path / "local" / "annual.csv").read_text()
    assert (tmp_path / "threads" / "annual.csv").read_text() == local
    assert (tmp_path / "workers" / "annual.csv").read_text() == local
    assert (tmp_path / "scheduler" / "annual.csv").read_text() == local


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "0"], "--workers: 0 is not accepted; accepted: an integer >= 1"),
        (["--threads", "0"], "--threads: 0 is not accepted; accepted: an integer >= 1"),
        (["--threads", "2", "--workers", "2"], "--threads: sets the threads of a run"),
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach a Dask scheduler at"),
    ],
)
def test_cli_bad_backend_options_exit_2_without_traceback(extra: list[str], message: str) -> None:
    outcome = CliRunner().invoke(app, ["run", "bench-m1", "--samples", "2", *extra])
    assert outcome.exit_code == 2
    assert message in " ".join(outcome.output.split())
    assert "Traceback" not in outcome.output
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit)


# -- sensitivity -----------------------------------------------------------------------------


def test_sobol_batches_as_tasks_give_the_in_process_indices(
    dask: DaskBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {
        "n": 8,
        "seed": 5,
        "inputs": ["generations.cost_multiplier", "revenue.api.lab_share"],
    }
    local = labecon.sensitivity("baseline", "capital_need_usd", "sobol", **options)
    # 32 runs in batches of 9: four batches, four tasks.
    monkeypatch.setattr(sys.modules["labecon.sensitivity"], "ROWS_PER_RUN", 9)
    remote = labecon.sensitivity("baseline", "capital_need_usd", "sobol", backend=dask, **options)
    assert remote.attrs["evaluations"] == 32
    # Batches draw events from per-batch seeds, but baseline has no event: same numbers.
    pd_testing.assert_frame_equal(local, remote)


def test_tornado_with_event_streams_runs_each_point_as_a_task(dask: DaskBackend) -> None:
    scenario = {
        "extends": "baseline",
        "name": "coin-raises",
        "capital": {"funding": {"raise_success_probability": 0.5}},
        "analysis": {"discount_rate_per_year": {"uniform": {"low": 0.05, "high": 0.2}}},
    }
    options = {"inputs": [DISCOUNT, "capital.starting_cash"], "seed": 3, "samples": 4}
    local = labecon.sensitivity(scenario, "insolvent", "tornado", **options)
    remote = labecon.sensitivity(
        scenario, "insolvent", "tornado", scheduler=dask.scheduler, **options
    )
    pd_testing.assert_frame_equal(local, remote)


def test_cli_sensitivity_on_workers_prints_the_same_json(address: str) -> None:
    command = ["sensitivity", "bench-m1", "--metric", "capital_need_usd", "--json"]
    local = CliRunner().invoke(app, command)
    remote = CliRunner().invoke(app, [*command, "--scheduler", address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert local.stdout == remote.stdout


# -- calibration -----------------------------------------------------------------------------


def test_calibration_posterior_on_the_cluster_is_the_in_process_one(dask: DaskBackend) -> None:
    from test_calibrate import DEMAND, observed_targets, toy

    targets = {"targets": observed_targets(100)}
    options: dict[str, Any] = {"method": "posterior", "samples": 400, "seed": 3, "max_rounds": 2}
    local = labecon.calibrate(toy(), targets, [DEMAND], **options)
    remote = labecon.calibrate(toy(), targets, [DEMAND], backend=dask, **options)
    assert local.posterior is not None and remote.posterior is not None
    np.testing.assert_array_equal(remote.posterior.weights, local.posterior.weights)
    assert remote.posterior.outputs.keys() == local.posterior.outputs.keys()
    for name, values in local.posterior.outputs.items():
        np.testing.assert_array_equal(remote.posterior.outputs[name], values)
