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
