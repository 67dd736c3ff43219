"""What the dashboard draws: a scenario's levers and a quick run's fans.

A lever is one of the scenario's uncertain inputs, set to a number for every sample (the
others keep varying): its slider spans the input's 5th to 95th percentile and starts at its
median. The key levers are those that move the capital the lab must raise most: the inputs
ranked by their tornado swing of ``capital_need_usd`` (labecon.sensitivity), the rest in
declaration order. A preview is a run of up to 10,000 samples with the levers set that
computes only what the scenario page draws (the same numbers as the run's Result).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labecon import views
from labecon.api import Chunk, Progress, Run, map_chunks, simulate_ledger
from labecon.backends import Backend, available_cores, balanced_size
from labecon.errors import OptionError
from labecon.result import (
    Result,
    calendar,
    chunk_yearly_values,
    month_label,
    statistic,
    statistics,
)
from labecon.sampler import normalise_seed
from labecon.scenario.citations import field_meta
from labecon.scenario.loading import load_scenario
from labecon.scenario.schema import Scenario
from labecon.sensitivity import tornado
from labecon.views import VIEWS

Array = NDArray[np.float64]

#: Levers a scenario page shows at most.
MAX_LEVERS = 8
#: The metric whose tornado ranks the levers: the capital the lab must raise [USD] (the
#: essays' question: how much money does it take).
LEVER_METRIC = "capital_need_usd"


def levers(scenario: Scenario) -> list[dict[str, Any]]:
    """The key levers: name, kind, slider range (p5..p95), start (median) and swing [USD].

    ``swing`` is the input's tornado swing of the capital need (None when not ranked).
    """
    uncertain = dict(scenario.uncertain_inputs())
    swings: dict[str, float] = {}
    if uncertain:
        try:
            frame = tornado(scenario, LEVER_METRIC)
        except OptionError:  # a metric the scenario cannot give: declaration order
            frame = None
        if frame is not None:
            swings = {
                str(name): float(swing)
                for name, swing in zip(frame["input"], frame["swing"], strict=True)
                if np.isfinite(swing) and swing > 0
            }
    ranked = sorted(swings, key=lambda name: -swings[name])
    order = ranked + [name for name in uncertain if name not in swings]
    out = []
    for name in order[:MAX_LEVERS]:
        dist = uncertain[name]
        meta = field_meta(name.split("."))
        low, high = dist.quantile(0.05), dist.quantile(0.95)
        out.append(
            {
                "name": name,
                "kind": meta.kind.value if meta is not None else "number",
                "low": low,
                "high": high,
                "value": dist.median,
                "step": (high - low) / 100 if high > low else 1.0,
                "swing": swings.get(name),
            }
        )
    return out


#: What a run page's monthly fans show: (view, item) [USD; cash at month end, flows a month].
FAN_ITEMS = (("cash", "cash"), ("expensed", "revenue"), ("expensed", "operating_income"))
#: The fans' bands: p5-p95 and p25-p75 around the median.
FAN_STATS = ("p5", "p25", "p50", "p75", "p95")


def monthly_fans(
    result: Result, items: Sequence[tuple[str, str]] = FAN_ITEMS, stats: Sequence[str] = FAN_STATS
) -> dict[str, Any]:
    """Quantiles over samples by month of each item: ``{months, item: {stat: [USD, ...]}}``.

    The statistics are :func:`labecon.result.statistics` over each item's monthly samples,
    the numbers of ``Result.monthly(view, stat)``.
    """
    fans: dict[str, Any] = {"months": [str(m) for m in result.months]}
    for view, item in items:
        values = statistics(result.samples(view, item), stats)
        fans[item] = {stat: [_number(v) for v in values[stat]] for stat in stats}
    return fans


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


#: What a preview shows of each generation (medians over samples) [USD; a month label].
GENERATION_COLUMNS = (
    "generation",
    "release_month",
    "training_cost_usd",
    "lifetime_revenue_usd",
    "lifetime_profit_usd",
)

#: Samples per chunk of a preview, at most: a superseded preview stops within one chunk
#: (about 0.05 s). Fewer where that spreads a preview evenly over the workers.
PREVIEW_CHUNK = 1000


#: The yearly expensed items a preview shows (means over samples) [USD/year].
PREVIEW_YEARLY = ("revenue", "operating_income")


def _drawn(run: Run, chunk: Chunk) -> dict[str, Array]:
    """What a preview keeps of one chunk, per sample: the numbers a run's Result holds.

    Month-end cash (samples, months), the yearly expensed items (samples, years), the
    generations' lifetime columns (samples, G) and the insolvency month (samples,): not the
    other views, the discounted generation columns or the metrics a run computes.
    """
    ledger, _ = simulate_ledger(run, chunk)
    _, year_of_month, years = calendar(run.scenario)
    expensed = views.expensed(ledger)
    kept = {
        item: chunk_yearly_values(
            expensed[item], VIEWS["expensed"][item], year_of_month, years, run.samples
        )
        for item in PREVIEW_YEARLY
    }
    lifetime = views.lifetime(ledger)
    kept.update({column: lifetime[column] for column in GENERATION_COLUMNS[1:]})
    kept["cash"] = ledger.cash.cash
    kept["insolvency_month"] = ledger.cash.insolvency_month
    return kept


def preview(
    scenario: Scenario,
    inputs: Mapping[str, float],
    samples: int,
    seed: int,
    progress: Progress | None = None,
    backend: Backend | None = None,
) -> dict[str, Any]:
    """Monthly cash (p5, p50, p95), each generation's medians and yearly means [USD].

    The numbers of ``simulate(scenario, samples, seed, inputs=inputs)``'s Result
    (``monthly("cash", stat)``, ``generations("p50")``, ``annual("expensed")``), computed
    from only what they need, on ``backend`` (default: this process's threads).
    ``progress`` is called after each chunk; an exception it raises stops the preview.
    """
    chunks = map_chunks(
        _drawn,
        scenario,
        samples,
        normalise_seed(seed),
        dict(inputs),
        chunk_size=balanced_size(
            samples, PREVIEW_CHUNK, available_cores() if backend is None else backend.threads
        ),
        progress=progress,
        backend=backend,
    )
    kept = {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}
    months, _, years = calendar(scenario)
    cash = statistics(kept["cash"], ("p5", "p50", "p95"))
    generations: dict[str, list[Any]] = {
        "generation": list(range(scenario.generation_count)),
        "release_month": [
            month_label(scenario, float(m)) for m in statistic(kept["release_month"], "p50")
        ],
    }
    for column in GENERATION_COLUMNS[2:]:
        generations[column] = [_number(v) for v in statistic(kept[column], "p50")]
    return {
        "months": [str(m) for m in months],
        "samples": samples,
        "cash": {stat: [_number(v) for v in values] for stat, values in cash.items()},
        "generations": generations,
        "years": years,
        **{item: statistic(kept[item], "mean").tolist() for item in PREVIEW_YEARLY},
        "insolvent": float(np.mean(~np.isnan(kept["insolvency_month"]))),
    }


def warm(backend: Backend) -> None:
    """Make ``backend``'s workers ready for previews: a small preview of ``baseline`` each.

    Their imports and the engine's compiled code are loaded before the first page asks.
    """
    scenario = load_scenario("baseline")
    preview(scenario, {}, PREVIEW_CHUNK * backend.threads, 0, backend=backend)
