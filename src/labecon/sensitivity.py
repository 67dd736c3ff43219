"""Sensitivity of one metric to a scenario's uncertain inputs: tornado, Morris and Sobol.

Each method chooses points in the space of the scenario's uncertain inputs, runs the model at
them through :func:`labecon.simulate` (``inputs=``: the same engine as every run) and reads
the metric by its name in :mod:`labecon.metrics`. Each returns a tidy DataFrame with one row
per input, most important first.

- **tornado**: each input alone from its 5th to its 95th percentile, every other uncertain
  input at its median [1]_.
- **morris**: elementary effects on a grid of quantile levels, mean absolute effect mu* as
  the screening measure [2]_ [3]_.
- **sobol**: first-order and total variance shares with bootstrap 95% intervals, Saltelli's
  sampling scheme on scrambled Sobol' points and the Saltelli 2010 / Jansen estimators [4]_
  [5]_, computed by SALib [6]_.

Conventions shared by the three:

- Inputs are mapped from the unit interval through each input's quantile function
  (``Distribution.ppf``), so a point is a set of quantile levels. Morris and Sobol treat the
  inputs as **independent**: the scenario's ``correlations`` are not applied (the frame's
  ``attrs["ignored_correlations"]`` lists them). Inputs left out of an analysis (``inputs=``)
  are held at their medians.
- Per-month random events (``capital.funding.raise_success_probability`` below 1) stay
  random, drawn from ``seed``: results are reproducible for a seed, and the events' noise is
  variance that no input explains.
- Month metrics (``breakeven_month``, ...) are NaN in samples where the month is not reached
  within the horizon. Here such a sample counts as month ``horizon_months``, the first month
  after the horizon: the metric is censored there, so a breakeven "later than the horizon"
  weighs as "just after it". ``attrs["censored_share"]`` is the share of evaluations
  censored; use ``insolvent`` or a money metric where that share is large.

References
----------
.. [1] Howard, R. A., 1988, "Decision analysis: practice and promise", Management Science
   34(6), 679-695 (tornado diagrams); Eschenbach, T. G., 1992, "Spiderplots versus tornado
   diagrams for sensitivity analysis", Interfaces 22(6), 40-46.
.. [2] Morris, M. D., 1991, "Factorial sampling plans for preliminary computational
   experiments", Technometrics 33(2), 161-174.
.. [3] Campolongo, F., Cariboni, J. and Saltelli, A., 2007, "An effective screening design
   for sensitivity analysis of large models", Environmental Modelling & Software 22(10),
   1509-1518 (mu*).
.. [4] Sobol', I. M., 2001, "Global sensitivity indices for nonlinear mathematical models and
   their Monte Carlo estimates", Mathematics and Computers in Simulation 55, 271-280.
.. [5] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. and Tarantola, S.,
   2010, "Variance based sensitivity analysis of model output. Design and estimator for the
   total sensitivity index", Computer Physics Communications 181(2), 259-270.
.. [6] Herman, J. and Usher, W., 2017, "SALib: An open-source Python library for Sensitivity
   Analysis", Journal of Open Source Software 2(9), 97.

"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from labecon.api import MAX_SAMPLES, simulate
from labecon.backends import Backend, using
from labecon.errors import OptionError
from labecon.metrics import metric_kind, metric_values
from labecon.sampler import check_input_names, monthly_streams, normalise_seed
from labecon.scenario.loading import load_scenario
from labecon.scenario.quantities import Distribution
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]
ScenarioLike = Scenario | str | Path | Mapping[str, Any]
Method = Literal["tornado", "morris", "sobol"]
Progress = Callable[[int, int], None]
METHODS: tuple[Method, ...] = ("tornado", "morris", "sobol")

#: Quantile levels of a tornado's low and high ends.
TORNADO_LOW, TORNADO_HIGH = 0.05, 0.95
#: Samples per tornado point when the scenario has per-month random events: their mean is the
#: point's value (a probability for ``insolvent``; its standard error is at most
#: 0.5 / sqrt(64) = 6 points).
EVENT_SAMPLES = 64
#: Unit-interval points are kept this far inside (0, 1) so unbounded quantile functions stay
#: finite.
U_CLIP = 1e-12
#: Rows per simulate() call in Morris and Sobol runs: a Result keeps every sample's monthly
#: statements (~0.1 MB a sample for ``baseline``), so large designs run in batches.
ROWS_PER_RUN = 2048
#: Confidence level of SALib's bootstrap intervals and its resamples.
CONF_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 1000

#: The options that belong to one method only (each method's design size).
METHOD_OPTIONS: dict[str, Method] = {
    "samples": "tornado",
    "trajectories": "morris",
    "levels": "morris",
    "n": "sobol",
}
#: The option that sets each method's number of model runs.
SIZE_OPTION: dict[str, str] = {"tornado": "samples", "morris": "trajectories", "sobol": "n"}

TORNADO_COLUMNS = (
    "input",
    "low_value",
    "high_value",
    "metric_at_low",
    "metric_at_high",
    "swing",
    "base",
)
SOBOL_COLUMNS = ("input", "S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("input", "mu_star", "mu_star_conf", "sigma", "mu")


# -- the three methods -----------------------------------------------------------------------
def tornado(
    scenario: ScenarioLike,
    metric: str,
    *,
    samples: int | None = None,
    seed: int = 0,
    inputs: str | Sequence[str] | None = None,
    progress: Progress | None = None,
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Swing each uncertain input from its p5 to its p95, the others at their medians.

    Parameters
    ----------
    scenario : Scenario, built-in name, file path or mapping
        The scenario whose uncertain inputs are varied.
    metric : str
        A metric of :mod:`labecon.metrics` (``capital_need_usd``, ``insolvent``,
        ``operating_income_2027``, ...).
    samples : int, optional
        Samples per point, whose mean is the point's value. Default: 1 when the scenario has
        no per-month random events (every sample at a point is then the same), else 64. Every
        point sees the same event streams (common random numbers), so an input that does not
        act on the metric swings it by exactly 0.
    seed : int
        Seed of the per-month random events [-]; ``0`` is a seed.
    inputs : name or names, optional
        Swing only these uncertain inputs (dotted names); default: all of them.
    progress : callable, optional
        Called as ``progress(done, total)`` with the model runs done so far.
    backend, scheduler, workers : optional
        Where the model runs, as in :func:`labecon.simulate`: in this process by default,
        or on a Dask cluster (batches of design points as tasks). Same numbers either way.

    Returns
    -------
    DataFrame
        One row per input, largest swing first: ``input``; ``low_value``, ``high_value``: its
        p5 and p95 [the input's unit]; ``metric_at_low``, ``metric_at_high``: the metric with
        the input there [metric unit; a probability for ``insolvent``; a month index for
        month metrics]; ``swing`` = |metric_at_high - metric_at_low|; ``base``: the metric
        with every uncertain input at its median.

    References
    ----------
    Howard 1988; Eschenbach 1992 (module references [1]).

    """
    loaded, names, seed = _prepare(scenario, metric, inputs, seed, "tornado")
    per_point = _tornado_samples(loaded, samples)
    uncertain = dict(loaded.uncertain_inputs())
    medians = {name: dist.median for name, dist in uncertain.items()}
    lows = {name: uncertain[name].quantile(TORNADO_LOW) for name in names}
    highs = {name: uncertain[name].quantile(TORNADO_HIGH) for name in names}
    # Point 0 is the base, then each input at its p5, then each at its p95.
    points = [dict(medians)]
    points += [medians | {name: lows[name]} for name in names]
    points += [medians | {name: highs[name]} for name in names]
    with using(backend, scheduler, workers) as opened:
        values, censored = _point_means(loaded, metric, points, per_point, seed, progress, opened)
    base = float(values[0])
    count = len(names)
    frame = pd.DataFrame(
        {
            "input": names,
            "low_value": [lows[n] for n in names],
            "high_value": [highs[n] for n in names],
            "metric_at_low": values[1 : 1 + count],
            "metric_at_high": values[1 + count :],
        }
    )
    frame["swing"] = (frame["metric_at_high"] - frame["metric_at_low"]).abs()
    frame["base"] = base
    frame = _ranked(frame[list(TORNADO_COLUMNS)], "swing")
    return _described(
        frame,
        loaded,
        metric,
        "tornado",
        seed,
        evaluations=_runs("tornado", count, per_point, 0, 0),
        censored=censored,
        samples_per_point=per_point,
    )


def sobol(
    scenario: ScenarioLike,
    metric: str,
    *,
    n: int = 512,
    seed: int = 0,
    inputs: str | Sequence[str] | None = None,
    progress: Progress | None = None,
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of a metric, with bootstrap 95% intervals.

    For a metric Y of independent inputs X_1..X_D, S1_i = Var(E[Y | X_i]) / Var(Y) is the
    share of Y's variance that X_i explains alone, and ST_i = E[Var(Y | X_~i)] / Var(Y) the
    share it has a hand in, interactions included (Sobol' 2001). They are estimated from
    Saltelli's design: two N x D matrices A and B of scrambled Sobol' points and, for each
    input, A with column i taken from B (A_B^i); S1 by Saltelli et al. 2010's estimator
    mean(f(B) (f(A_B^i) - f(A))) / V and ST by Jansen's mean((f(A) - f(A_B^i))^2) / (2 V)
    (SALib's ``sobol.analyze``, second order off). The model runs n (D + 2) times.

    Parameters
    ----------
    scenario : Scenario, built-in name, file path or mapping
        The scenario whose uncertain inputs are varied.
    metric : str
        A metric of :mod:`labecon.metrics`.
    n : int
        Base sample size N, a power of 2 (Sobol' points are balanced in blocks of 2^k).
    seed : int
        Seed of the scrambling, of the bootstrap and of the per-month random events.
    inputs : name or names, optional
        Analyse only these uncertain inputs; the others are held at their medians.
    progress : callable, optional
        Called as ``progress(done, total)`` with the model runs done so far.
    backend, scheduler, workers : optional
        Where the model runs, as in :func:`labecon.simulate`: in this process by default,
        or on a Dask cluster (batches of design points as tasks). Same numbers either way.

    Returns
    -------
    DataFrame
        One row per input, largest ST first: ``input``, ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf`` [fraction of the metric's variance]; each index +/- its ``_conf`` is its
        95% bootstrap interval. Inputs are treated as independent: ``correlations`` are not
        applied. ``attrs`` holds the metric's mean and standard deviation over the design.

    References
    ----------
    Sobol' 2001; Saltelli et al. 2010; Herman and Usher 2017 (module references [4]-[6]).

    """
    loaded, names, seed = _prepare(scenario, metric, inputs, seed, "sobol")
    if isinstance(n, bool) or not isinstance(n, int) or n < 8 or n & (n - 1):
        raise OptionError(
            f"n: {n!r} is not accepted; accepted: a power of 2 of at least 8, e.g. 256, 512 "
            "or 1024 (Saltelli's design on Sobol' points is balanced only for powers of 2)"
        )
    evaluations = _runs("sobol", len(names), 0, 0, n)
    _check_evaluations("n", n, evaluations, len(names))
    sample_rng, analyse_rng, run_seed = _streams(seed)
    problem = _problem(names)
    unit = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=sample_rng)
    with using(backend, scheduler, workers) as opened:
        outcome, censored = _run_design(loaded, metric, names, unit, run_seed, progress, opened)
    spread = float(np.std(outcome))
    if not spread > 0:
        raise OptionError(
            f"metric: {metric!r} takes the same value ({outcome[0]:g}) at all {evaluations} "
            f"points of scenario {loaded.name!r}, so it has no variance to apportion; "
            "accepted: a metric that varies with the inputs (see the tornado or morris method)"
        )
    indices = sobol_analyze.analyze(
        problem,
        outcome,
        calc_second_order=False,
        num_resamples=BOOTSTRAP_RESAMPLES,
        conf_level=CONF_LEVEL,
        seed=analyse_rng,
    )
    frame = pd.DataFrame({"input": names} | {c: indices[c] for c in SOBOL_COLUMNS[1:]})
    frame = _ranked(frame, "ST")
    return _described(
        frame,
        loaded,
        metric,
        "sobol",
        seed,
        evaluations=evaluations,
        censored=censored,
        n=n,
        metric_mean=float(np.mean(outcome)),
        metric_sd=spread,
    )


def morris(
    scenario: ScenarioLike,
    metric: str,
    *,
    trajectories: int = 50,
    levels: int = 4,
    seed: int = 0,
    inputs: str | Sequence[str] | None = None,
    progress: Progress | None = None,
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Morris screening: elementary effects of each input on a metric, ranked by mu*.

    Each of r trajectories starts at a random point of a p-level grid on [0, 1]^D and moves one
    input at a time by Delta = p / (2 (p - 1)); the elementary effect of input i is
    EE_i = (f(x + Delta e_i) - f(x)) / Delta (Morris 1991). mu* = mean |EE_i| ranks the inputs
    (Campolongo et al. 2007), sigma = sd(EE_i) flags non-linearity or interactions, and
    mu = mean EE_i gives the direction. Grid level k of p maps to the input's quantile
    (k + 1/2) / p, the middle of p equally likely bins (for p = 4: 12.5%, 37.5%, 62.5%,
    87.5%), so unbounded inputs stay in their plausible range. The model runs r (D + 1) times.

    Parameters
    ----------
    scenario : Scenario, built-in name, file path or mapping
        The scenario whose uncertain inputs are varied.
    metric : str
        A metric of :mod:`labecon.metrics`.
    trajectories : int
        r, the number of trajectories (at least 2).
    levels : int
        p, the grid levels per input: an even number of at least 2 (even p makes every level
        equally likely to be visited).
    seed : int
        Seed of the trajectories, of the bootstrap and of the per-month random events.
    inputs : name or names, optional
        Screen only these uncertain inputs; the others are held at their medians.
    progress : callable, optional
        Called as ``progress(done, total)`` with the model runs done so far.
    backend, scheduler, workers : optional
        Where the model runs, as in :func:`labecon.simulate`: in this process by default,
        or on a Dask cluster (batches of design points as tasks). Same numbers either way.

    Returns
    -------
    DataFrame
        One row per input, largest mu* first: ``input``, ``mu_star`` and its 95% bootstrap
        half-width ``mu_star_conf``, ``sigma``, ``mu`` [metric unit per unit of the [0, 1]
        grid coordinate: one step moves the input's quantile level by Delta (p - 1) / p,
        1/2 for p = 4, and changes the metric by about Delta x EE]. Inputs are treated as
        independent: ``correlations`` are not applied.

    References
    ----------
    Morris 1991; Campolongo et al. 2007; Herman and Usher 2017 (module references [2], [3],
    [6]).

    """
    loaded, names, seed = _prepare(scenario, metric, inputs, seed, "morris")
    if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 2:
        raise OptionError(
            f"trajectories: {trajectories!r} is not accepted; accepted: an integer >= 2 "
            "(10 to 50 is usual)"
        )
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise OptionError(
            f"levels: {levels!r} is not accepted; accepted: an even integer >= 2 (4 is usual)"
        )
    evaluations = _runs("morris", len(names), 0, trajectories, 0)
    _check_evaluations("trajectories", trajectories, evaluations, len(names))
    sample_rng, analyse_rng, run_seed = _streams(seed)
    problem = _problem(names)
    grid = morris_sample.sample(problem, trajectories, num_levels=levels, seed=sample_rng)
    # Grid level k/(p-1) -> quantile level (k + 1/2)/p: an affine map, the same for every
    # input, so it rescales all effects alike and leaves the ranking unchanged.
    quantiles = (0.5 + grid * (levels - 1)) / levels
    with using(backend, scheduler, workers) as opened:
        outcome, censored = _run_design(
            loaded, metric, names, quantiles, run_seed, progress, opened
        )
    effects = morris_analyze.analyze(
        problem,
        grid,
        outcome,
        num_resamples=BOOTSTRAP_RESAMPLES,
        conf_level=CONF_LEVEL,
        num_levels=levels,
        seed=analyse_rng,
    )
    frame = pd.DataFrame(
        {"input": names}
        | {c: np.asarray(np.ma.filled(effects[c], np.nan), dtype=float) for c in MORRIS_COLUMNS[1:]}
    )
    frame = _ranked(frame, "mu_star")
    return _described(
        frame,
        loaded,
        metric,
        "morris",
        seed,
        evaluations=evaluations,
        censored=censored,
        trajectories=trajectories,
        levels=levels,
    )


_METHODS: dict[str, Callable[..., pd.DataFrame]] = {
    "tornado": tornado,
    "morris": morris,
    "sobol": sobol,
}


def sensitivity(
    scenario: ScenarioLike, metric: str, method: str = "tornado", **options: Any
) -> pd.DataFrame:
    """Sensitivity of ``metric`` to a scenario's uncertain inputs by ``method``.

    ``method`` is ``"tornado"`` (:func:`tornado`), ``"morris"`` (:func:`morris`) or
    ``"sobol"`` (:func:`sobol`); ``options`` are that function's keyword arguments
    (``samples``; ``trajectories``, ``levels``; ``n``; and ``seed``, ``inputs`` for all).
    Returns the method's tidy frame, one row per input, most important first.
    """
    if method not in _METHODS:
        raise OptionError(f"method: {method!r} is not accepted; accepted: {', '.join(METHODS)}")
    function = _METHODS[method]
    accepted = [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    for name in options:
        if name not in accepted:
            raise OptionError(
                f"options: {name!r} is not an option of method {method!r}; accepted: "
                + ", ".join(accepted)
            )
    return function(scenario, metric, **options)


def model_runs(
    scenario: ScenarioLike,
    method: str,
    *,
    inputs: str | Sequence[str] | None = None,
    samples: int | None = None,
    trajectories: int = 50,
    n: int = 512,
    **_others: Any,
) -> int:
    """How many times ``method`` runs the model on ``scenario`` with these options.

    For k inputs: tornado (2k + 1) s (the base, then each input at its p5 and its p95, s
    samples a point), morris r (k + 1), sobol n (k + 2). Other options do not change it.
    """
    loaded = load_scenario(scenario)
    if inputs is None:
        count = len(list(loaded.uncertain_inputs()))
    else:
        count = 1 if isinstance(inputs, str) else len(inputs)
    return _runs(method, count, _tornado_samples(loaded, samples), trajectories, n)


def _runs(method: str, inputs: int, per_point: int, trajectories: int, n: int) -> int:
    """Model runs of a method's design over ``inputs`` inputs (see :func:`model_runs`)."""
    if method == "tornado":
        return (2 * inputs + 1) * per_point
    if method == "morris":
        return trajectories * (inputs + 1)
    if method == "sobol":
        return n * (inputs + 2)
    raise OptionError(f"method: {method!r} is not accepted; accepted: {', '.join(METHODS)}")


# -- shared steps ----------------------------------------------------------------------------
def _prepare(
    scenario: ScenarioLike,
    metric: str,
    inputs: str | Sequence[str] | None,
    seed: int,
    method: str,
) -> tuple[Scenario, list[str], int]:
    """The loaded scenario, the inputs to analyse and the seed; bad arguments refused."""
    loaded = load_scenario(scenario)
    fixed_seed = normalise_seed(seed)
    uncertain = dict(loaded.uncertain_inputs())
    if not uncertain:
        raise OptionError(
            f"scenario: {loaded.name!r} has no uncertain input, so {method} has nothing to "
            "vary; tornado, morris and sobol all need at least one input given as a "
            'distribution, e.g. cost_multiplier: "2 to 5"'
        )
    _check_metric(loaded, metric, uncertain)
    if inputs is None:
        return loaded, list(uncertain), fixed_seed
    names = [inputs] if isinstance(inputs, str) else list(inputs)
    if not names:
        raise OptionError(
            f"inputs: an empty list is not accepted; accepted: one or more of "
            f"{', '.join(uncertain)}, or None for all of them"
        )
    check_input_names(loaded, names)  # unknown or fixed names
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise OptionError(f"inputs: {', '.join(map(repr, repeated))} given more than once")
    return loaded, names, fixed_seed


def _check_metric(scenario: Scenario, metric: str, uncertain: Mapping[str, Distribution]) -> None:
    """Refuse an unknown metric before any design is run, with the accepted names."""
    probe = simulate(
        scenario,
        samples=1,
        seed=0,
        inputs={name: dist.median for name, dist in uncertain.items()},
    )
    metric_values(probe, metric)


def _tornado_samples(scenario: Scenario, samples: int | None) -> int:
    if samples is None:
        return EVENT_SAMPLES if monthly_streams(scenario) else 1
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 100_000:
        raise OptionError(
            f"samples: {samples!r} is not accepted; accepted: an integer from 1 to 100,000 "
            "(samples per tornado point)"
        )
    return samples


def _check_evaluations(option: str, value: int, evaluations: int, count: int) -> None:
    if evaluations > MAX_SAMPLES:
        raise OptionError(
            f"{option}: {value:,} would run the model {evaluations:,} times over {count} "
            f"inputs; accepted: at most {MAX_SAMPLES:,} runs (a smaller {option}, or fewer "
            "inputs=)"
        )


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, int]:
    """Independent streams from one seed: design sampling, bootstrap, per-month events.

    Generators are passed to SALib rather than integers: ``sobol.analyze`` ignores a seed of
    0 and would draw its bootstrap from numpy's global state.
    """
    sample_seq, analyse_seq, run_seq = np.random.SeedSequence(seed).spawn(3)
    run_seed = int(run_seq.generate_state(1, np.uint64)[0] >> np.uint64(1))
    return np.random.default_rng(sample_seq), np.random.default_rng(analyse_seq), run_seed


def _problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem: every input on [0, 1], mapped to its quantiles by us."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


@dataclass(frozen=True)
class _Design:
    """What every batch of an analysis shares: sent once to each worker of a cluster."""

    scenario: Scenario
    metric: str


@dataclass(frozen=True)
class _Batch:
    """``samples`` model runs with these inputs (one value or one per run) and event seed."""

    samples: int
    seed: int
    inputs: dict[str, Any]


def _metric_of_batch(design: _Design, batch: _Batch) -> tuple[Array, int]:
    """The metric in each run of a batch (censored), and how many were censored.

    A task of its own on a cluster: it returns the metric only, not the batch's Result.
    """
    # One thread: batches are the unit of parallel work, on a pool or on a cluster's worker.
    result = simulate(
        design.scenario, samples=batch.samples, seed=batch.seed, inputs=batch.inputs, threads=1
    )
    return _censored(design.scenario, design.metric, metric_values(result, design.metric))


def _run_design(
    scenario: Scenario,
    metric: str,
    names: Sequence[str],
    unit: Array,
    seed: int,
    progress: Progress | None,
    backend: Backend,
) -> tuple[Array, float]:
    """The metric at each row of ``unit`` (quantile levels of ``names``), and the censored share.

    Rows run in batches of :data:`ROWS_PER_RUN`, each a task of ``backend``; batch b draws its
    per-month events from its own seed, derived from ``seed`` and b, so no two rows share an
    event stream.
    """
    uncertain = dict(scenario.uncertain_inputs())
    levels = np.clip(np.asarray(unit, dtype=np.float64), U_CLIP, 1 - U_CLIP)
    values = {name: uncertain[name].ppf(levels[:, i]) for i, name in enumerate(names)}
    held = {name: dist.median for name, dist in uncertain.items() if name not in values}
    bounds = [
        (start, min(start + ROWS_PER_RUN, len(levels)))
        for start in range(0, len(levels), ROWS_PER_RUN)
    ]
    batches = [
        _Batch(
            samples=stop - start,
            seed=int(
                np.random.SeedSequence([seed, batch]).generate_state(1, np.uint64)[0]
                >> np.uint64(1)
            ),
            inputs={**held, **{name: column[start:stop] for name, column in values.items()}},
        )
        for batch, (start, stop) in enumerate(bounds)
    ]
    outcome = np.empty(len(levels))
    censored = 0
    results = backend.map_ordered(_metric_of_batch, _Design(scenario, metric), batches)
    for (start, stop), (batch_values, count) in zip(bounds, results, strict=True):
        outcome[start:stop] = batch_values
        censored += count
        if progress is not None:
            progress(stop, len(levels))
    return outcome, censored / len(levels)


def _point_means(
    scenario: Scenario,
    metric: str,
    points: Sequence[Mapping[str, float]],
    samples: int,
    seed: int,
    progress: Progress | None,
    backend: Backend,
) -> tuple[Array, float]:
    """The metric's mean over ``samples`` samples at each point, and the censored share.

    With per-month random events each point runs on its own with the same ``seed`` (a task
    of ``backend``), so every point sees the same event streams; without them a sample
    depends on its inputs only and all points run at once.
    """
    names = list(points[0])
    total = len(points) * samples
    if monthly_streams(scenario):
        means = np.empty(len(points))
        censored = 0
        batches = [_Batch(samples, seed, dict(point)) for point in points]
        results = backend.map_ordered(_metric_of_batch, _Design(scenario, metric), batches)
        for i, (values, count) in enumerate(results):
            means[i] = values.mean()
            censored += count
            if progress is not None:
                progress((i + 1) * samples, total)
        return means, censored / total
    columns = {name: np.repeat([p[name] for p in points], samples) for name in names}
    result = simulate(scenario, samples=total, seed=seed, inputs=columns, backend=backend)
    values, count = _censored(scenario, metric, metric_values(result, metric))
    if progress is not None:
        progress(total, total)
    return values.reshape(len(points), samples).mean(axis=1), count / values.size


def _censored(scenario: Scenario, metric: str, values: Array) -> tuple[Array, int]:
    """Month metrics with "never within the horizon" (NaN) counted as month horizon_months.

    Any other missing value is refused: the analyses need a number in every sample.
    """
    missing = np.isnan(values)
    if not missing.any():
        return values, 0
    if metric_kind(metric) == "month":
        return np.where(missing, float(scenario.horizon_months), values), int(missing.sum())
    raise OptionError(
        f"metric: {metric!r} has no value in {int(missing.sum())} of {values.size} samples of "
        f"scenario {scenario.name!r}; accepted: a metric defined in every sample, such as "
        "insolvent or capital_need_usd"
    )


def _ranked(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Most important first; ties keep the scenario's input order."""
    return frame.sort_values(by, ascending=False, kind="mergesort").reset_index(drop=True)


def _described(
    frame: pd.DataFrame,
    scenario: Scenario,
    metric: str,
    method: str,
    seed: int,
    *,
    evaluations: int,
    censored: float,
    **extra: Any,
) -> pd.DataFrame:
    """Attach what the frame is about to ``frame.attrs``."""
    attrs: dict[Hashable, Any] = {
        "scenario": scenario.name,
        "metric": metric,
        "method": method,
        "seed": seed,
        "evaluations": evaluations,
        "censored_share": censored,
        "horizon_months": scenario.horizon_months,
        "ignored_correlations": [[*corr.between, corr.rank] for corr in scenario.correlations],
    }
    attrs.update(extra)
    frame.attrs = attrs
    return frame
