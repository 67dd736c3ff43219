"""simulate(keep="annual"): every table it gives is the keep="monthly" run's, number for number."""

from __future__ import annotations

import json

import numpy as np
import pytest

import labecon
from labecon.errors import OptionError
from labecon.result import STATS, Result, ResultBuilder
from labecon.views import VIEWS


def _both(name: str, samples: int, chunk_size: int | None) -> tuple[Result, Result]:
    scenario = labecon.load_scenario(name)
    full = labecon.simulate(scenario, samples=samples, seed=3, chunk_size=chunk_size)
    annual = labecon.simulate(
        scenario, samples=samples, seed=3, chunk_size=chunk_size, keep="annual"
    )
    return full, annual


@pytest.mark.parametrize(
    ("name", "samples", "chunk_size"),
    [("baseline", 120, 7), ("baseline", 120, None), ("baseline-financed", 50, 16),
     ("compute-bound", 40, 3), ("amodei", 5, 2), ("amodei", 1, None), ("bench-m1", 64, 10)],
)  # fmt: skip
def test_annual_keep_gives_the_same_numbers(name: str, samples: int, chunk_size: int) -> None:
    full, annual = _both(name, samples, chunk_size)
    assert annual.keep == "annual" and annual.statements == {}
    # to_dict holds every view's yearly statistics, the generations and the metrics.
    assert json.dumps(annual.to_dict()) == json.dumps(full.to_dict())
    for view, items in VIEWS.items():
        for item in items:
            np.testing.assert_array_equal(
                annual.annual_samples(view, item), full.annual_samples(view, item), strict=True
            )
        # Monthly means are streamed chunk by chunk: bit for bit the full run's.
        assert annual.monthly(view).equals(full.monthly(view))
        for stat in STATS:
            assert annual.annual(view, stat).equals(full.annual(view, stat))
    assert annual.generations("p50").equals(full.generations("p50"))
    assert json.dumps(annual.metrics()) == json.dumps(full.metrics())  # NaN != NaN in a dict


def test_annual_keep_refuses_what_needs_monthly_samples() -> None:
    result = labecon.simulate("baseline", samples=20, keep="annual")
    with pytest.raises(OptionError, match="keep='monthly'"):
        result.samples("expensed", "revenue")
    with pytest.raises(OptionError, match="keep='monthly'"):
        result.monthly("expensed", "p50")
    with pytest.raises(OptionError, match="keep='monthly'"):
        result.rounds()
    with pytest.raises(OptionError, match="keep='monthly'"):
        labecon.report.report_files(result)
    with pytest.raises(OptionError, match="not a view"):
        result.annual_samples("nope", "revenue")
    with pytest.raises(OptionError, match="keep: 'weekly'"):
        labecon.simulate("baseline", samples=2, keep="weekly")


def test_annual_keep_takes_about_a_twelfth_of_the_memory() -> None:
    scenario = labecon.load_scenario("baseline")
    views = labecon.api.simulate_samples(
        labecon.api.Run(scenario, 0), labecon.api.Chunk(0, 100, {})
    )
    monthly = ResultBuilder(scenario, 0, 100).stored_bytes_per_sample(views)
    annual = ResultBuilder(scenario, 0, 100, keep="annual").stored_bytes_per_sample(views)
    assert annual < monthly / 6


def test_a_row_shared_by_every_sample_is_stored_once() -> None:
    # bench-m1 never dilutes (ownership 1) and schedules every sample alike (month indices).
    result = labecon.simulate("bench-m1", samples=30, chunk_size=7)
    ownership = result.statements["cash"]["ownership"]
    starts = result.generation_values["training_start_month"]
    assert ownership.strides[0] == 0 and np.all(ownership == 1.0)
    assert starts.strides[0] == 0 and list(starts[0]) == [12.0 * g for g in range(10)]
    # A row that differs in a later chunk is stored in full, earlier rows included.
    revenue = labecon.simulate("baseline", samples=30, chunk_size=7)
    assert revenue.statements["expensed"]["revenue"].strides[0] != 0


def test_blocked_mean_adds_the_sums_of_64_sample_blocks_in_order() -> None:
    from labecon.result import BlockSums, MeanStream, blocked_mean

    values = np.arange(130, dtype=np.float64)[:, None] * np.array([[1.0, 0.5]])
    values[3, 1] = np.nan  # left out of the second column's mean, and of its count
    first = sum(range(64)), sum(range(64, 128)), 128 + 129
    expected = [
        (first[0] + first[1] + first[2]) / 130,
        0.5 * (first[0] - 3 + first[1] + first[2]) / 129,
    ]
    np.testing.assert_allclose(blocked_mean(values), expected, rtol=1e-15)
    for size in (1, 7, 63, 64, 100, 130):
        stream = MeanStream()
        for start in range(0, 130, size):
            stream.add(BlockSums.of(values[start : start + size], start))
        assert np.array_equal(stream.mean(), blocked_mean(values))  # bit for bit


def test_items_shared_in_one_chunk_but_not_the_next_are_stored_alike() -> None:
    # A chunk whose insolvent samples ran again holds its own copy of items that other
    # chunks share (debt drawn and repaid are one array of zeros without loans).
    from dataclasses import replace

    scenario = labecon.load_scenario("baseline")
    run = labecon.api.Run(scenario, 0)
    first = labecon.api.simulate_samples(run, labecon.api.Chunk(0, 100, {}))
    second = labecon.api.simulate_samples(run, labecon.api.Chunk(100, 100, {}))
    cash = dict(second.statements["cash"])
    assert first.statements["cash"]["debt_drawn"] is first.statements["cash"]["debt_repaid"]
    cash["debt_drawn"] = cash["debt_drawn"].copy()  # no longer shared in this chunk
    unshared = replace(second, statements={**second.statements, "cash": cash})
    results = []
    for chunk in (second, unshared):
        builder = ResultBuilder(scenario, 0, 200, keep="annual")
        builder.add(first)
        builder.add(chunk)
        results.append(builder.build())
    for view in VIEWS:
        assert results[0].monthly(view).equals(results[1].monthly(view))
