"""The process-pool backend (the dashboard's previews): the same numbers, and it survives a
worker's death."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

import labecon
from labecon.backends import ProcessPool, keep_freed_memory
from labecon.web.preview import preview


def _square(offset: int, item: int) -> int:
    return offset + item * item


def _die(_offset: int, item: int) -> int:
    if item == 3:
        os._exit(1)  # a worker killed mid-run (out of memory, a signal)
    return item


@pytest.fixture(scope="module")
def pool() -> ProcessPool:
    with ProcessPool(2) as opened:
        yield opened


def test_results_come_back_in_order_from_kept_workers(pool: ProcessPool) -> None:
    assert list(pool.map_ordered(_square, 10, range(9))) == [10 + i * i for i in range(9)]
    assert list(pool.map_ordered(_square, 0, [])) == []
    assert pool.describe() == "on 2 worker processes"


def test_a_preview_on_worker_processes_gives_the_threads_numbers(pool: ProcessPool) -> None:
    scenario = labecon.load_scenario("baseline")
    inputs = {"generations.cost_multiplier": 3.0, "revenue.api.lab_share": 0.3}
    # 1,100 samples: two chunks of 550, one on each worker.
    on_processes = preview(scenario, inputs, 1100, 3, backend=pool)
    on_threads = preview(scenario, inputs, 1100, 3)
    assert on_processes == on_threads
    run = labecon.simulate(scenario, samples=1100, seed=3, inputs=inputs)
    assert on_processes["cash"]["p50"] == run.monthly("cash", "p50")["cash"].tolist()


def test_a_dead_worker_fails_its_run_and_the_next_run_gets_a_new_pool() -> None:
    with ProcessPool(2) as pool:
        with pytest.raises(BrokenProcessPool):
            list(pool.map_ordered(_die, 0, range(8)))
        assert list(pool.map_ordered(_square, 1, range(4))) == [1, 2, 5, 10]


def test_glibc_keeps_freed_memory_in_labecons_own_processes() -> None:
    # The project's machines run glibc (Debian): mallopt accepts both settings.
    assert keep_freed_memory() is True
