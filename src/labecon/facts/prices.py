"""Dated API list prices per model, and how fast they fall.

What
    :func:`price_table` is a tidy table of the list prices [USD per million tokens] that
    model providers charge for input and output tokens, one row per (provider, model, price
    period), with the model's launch date and a tier. :func:`launch_prices` summarises the
    launch price by tier and year; :func:`price_decline` fits how fast the launch price of
    a tier falls from one model to the next, and :func:`cut_after_launch` how fast a given
    model's own price falls after its launch. :func:`derived_facts` states both as facts
    for the fact base (:mod:`labecon.facts`).

Source and licence
    The prices ship inside the ``genai-prices`` package by Pydantic (MIT licence,
    https://github.com/pydantic/genai-prices) as Python data (``genai_prices.data``). This
    module reads that bundled snapshot only: it never calls ``UpdatePrices`` (the package's
    opt-in background refresh, the only code that fetches anything) nor
    ``genai_prices.calc_price`` (which would use a refreshed snapshot if the host program
    had started one), so loading is offline and the same package version always gives the
    same table.

Method
    * Launch date: the earliest date in the model's id or literal match clauses (full
      ``YYYY-MM-DD``/``YYYYMMDD``, or a month suffix ``-YYMM``/``-MM-YYYY`` as the 1st,
      see :func:`dates_in`); else the earliest such date in another entry's id or clause
      (any provider's, e.g. OpenRouter's ``claude-3.5-sonnet-20240620``) that this model's
      own match clause accepts (a dated snapshot alias); else the start of its first price,
      if dated; else unknown (NaT). ``launch_date_source`` says which. genai-prices records
      no release dates, so most listings (mostly resellers') have none: about a fifth of
      all rows and a third of first-party text models have one in version 0.2.3.
    * Price periods: a model's prices are one price or a list of conditional prices. The
      undated condition is period 0, starting at the launch date; each
      ``StartDateConstraint`` starts a later period. Period 0 is the earliest price the
      data records: genai-prices' dated history starts in June 2025, so for a model
      launched before that it can be a price after cuts (e.g. Mistral Large 2 at $2/$6,
      not its July 2024 $3/$9). Some dated periods are bookkeeping (same price, a dropped
      long-context surcharge), some are announced future changes (Google's 2027-01-01
      Flash prices); fits stop at :func:`data_date`. Time-of-day prices (off-peak) and
      request variants (batch, priority) are left out: the table holds standard prices.
    * Tiered prices (a higher rate for prompts past a context-length threshold, 32k-512k
      tokens) are reduced to their base rate, which every request below the threshold
      pays; ``context_tiered`` flags them. A period without both an input and an output
      token price, or with a price that is not positive (free listings), is left out.
    * Blend: :data:`BLEND_INPUT_SHARE` of tokens are input (3:1 input:output).
    * Tier: by words in the model's id and name (:func:`tier_of`), not by price, so that a
      tier's price trend is not forced by how the tier was drawn. A tier is a product line,
      not a fixed capability: each generation of a tier does more (and Google's Flash line
      has moved up in price), so the decline at fixed tier understates the decline of the
      price of a fixed capability.
    * Fits use first-party rows (the developer's own list price, :data:`FIRST_PARTY`) of
      text models (:data:`NON_TEXT_WORDS` excluded) with a known launch date; resellers
      would count a model many times, and image, speech and embedding prices are per
      token of a different thing. :func:`fit_decline` compares launches within a
      provider's tier (its product line), :func:`fit_cut_after_launch` follows each
      model's own price from launch to the data date.

Cited
    .. [1] Pydantic, genai-prices, https://github.com/pydantic/genai-prices (MIT).
    .. [2] Artificial Analysis, "Methodology: blended price (3:1 input:output)",
       https://artificialanalysis.ai/methodology
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.metadata
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from genai_prices import types as gp_types

#: Share of tokens that are input in the blended price [fraction]. 3:1 input:output is the
#: convention of Artificial Analysis' price index [2]: chat, retrieval and agent prompts are
#: several times longer than the answers, so input dominates a typical bill's tokens.
BLEND_INPUT_SHARE = 0.75

#: Tiers in order of price, as :func:`tier_of` assigns them.
TIERS = ("frontier", "mid", "small")

#: Words (tokens of the id or name) that put a model in the small tier; these win over
#: frontier words (a "pro mini" is small).
SMALL_WORDS = frozenset(
    {"mini", "nano", "haiku", "flash", "flashx", "lite", "small", "tiny", "light", "air"}
    | {"airx", "micro", "ministral"}
)
#: Parameter counts up to this many billions (a "24b" token) also mean small.
SMALL_MAX_BILLION_PARAMETERS = 32.0
#: Words that put a model in the frontier tier. "fable" and "mythos" are Anthropic's line
#: priced above Opus in the 0.2 data.
FRONTIER_WORDS = frozenset({"opus", "pro", "ultra", "large", "max", "fable", "mythos"})

#: Words that mark a listing as something other than a general text model (image, speech,
#: audio, embedding, a fine-tune's inference price "ft"); such rows stay in the table with
#: ``text`` False and are not fitted.
NON_TEXT_WORDS = frozenset(
    {"image", "tts", "audio", "realtime", "transcribe", "embed", "embedding", "live"}
    | {"moderation", "whisper", "ocr", "robotics", "omni", "banana", "voice", "speech", "ft"}
    | {"voxtral"}
)

#: Providers that set their own models' list prices, with the id pattern of those models
#: (a provider that also resells others' models, like Google's Vertex listing of Claude,
#: is first-party only for its own). Everything else in the data is a reseller or host.
FIRST_PARTY: dict[str, re.Pattern[str]] = {
    "anthropic": re.compile(r"^claude"),
    "openai": re.compile(r"^(gpt|o\d|chatgpt|text-davinci|davinci|babbage|codex|computer-use)"),
    "google": re.compile(r"^(gemini|gemma)"),
    "x-ai": re.compile(r"^grok"),
    "deepseek": re.compile(r"^deepseek"),
    "mistral": re.compile(
        r"^(mistral|ministral|mixtral|magistral|codestral|devstral|pixtral|voxtral|open-mi)"
    ),
    "cohere": re.compile(r"^(command|c4ai|aya)"),
    "moonshotai": re.compile(r"^kimi"),
    "minimax": re.compile(r"^(minimax|m\d)", re.IGNORECASE),
    "zai": re.compile(r"^glm", re.IGNORECASE),
    "zhipuai": re.compile(r"^glm", re.IGNORECASE),
    "meta": re.compile(r"^(muse|llama)"),
}

#: Seed of the bootstrap over models in :func:`fit_cut_after_launch`.
BOOTSTRAP_SEED = 0
#: Bootstrap resamples [count].
BOOTSTRAP_SAMPLES = 2000
#: Central probability of the reported intervals [fraction].
INTERVAL = 0.90

_DAYS_PER_YEAR = 365.25
_MONTH = pd.Timedelta(days=_DAYS_PER_YEAR / 12)
_EPOCH = pd.Timestamp("2020-01-01")
_DATE_IN_TEXT = re.compile(r"(?<!\d)(20[2-3]\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
# Version suffixes that give only a month: Mistral's "-YYMM" ("mistral-large-2407") and
# Cohere's or Google's "-MM-YYYY" ("command-r-08-2024"). Only years 2020-2029 are taken,
# so OpenAI's "-MMDD" ("gpt-4-0613") and Moonshot's ("kimi-k2-0711") are not misread.
_YYMM_IN_TEXT = re.compile(r"-(2\d)(0[1-9]|1[0-2])(?=$|[-:@_])")
_MM_YYYY_IN_TEXT = re.compile(r"-(0[1-9]|1[0-2])-(202\d)(?=$|[-:@_])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_PARAMETERS = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])")

COLUMNS = (
    "provider",
    "model",
    "name",
    "first_party",
    "text",
    "tier",
    "deprecated",
    "launch_date",
    "launch_date_source",
    "period",
    "start_date",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "blended_usd_per_mtok",
    "context_tiered",
)

INSTALL_HINT = "labecon's price data comes from genai-prices: pip install genai-prices"

FACT_SOURCE_URL = "https://github.com/pydantic/genai-prices"


@dataclasses.dataclass(frozen=True)
class PriceDecline:
    """A fitted rate at which API prices fall, with its interval and provenance."""

    rate_per_year: float
    """Fraction by which the price falls in a year [fraction/yr]; 0.6 is -60% a year,
    a negative rate is a rise. Equal to ``1 - exp(slope_per_year)``."""
    low: float
    """Lower end of the 90% interval of ``rate_per_year`` [fraction/yr]."""
    high: float
    """Upper end of the 90% interval of ``rate_per_year`` [fraction/yr]."""
    slope_per_year: float
    """Fitted slope of log price on time [1/yr]."""
    n_models: int
    """Models that entered the fit [count]."""
    n_points: int
    """Observations in the regression [count]."""
    method: str
    """One sentence: what was regressed on what, over which rows, and how the interval
    was computed."""
    data_date: dt.date
    """Date of the price data: the newest launch it records."""
    package_version: str
    """Version of the package the prices came from."""


# --- Loading -------------------------------------------------------------------------------


def _genai_prices() -> tuple[list[gp_types.Provider], Any]:
    """The bundled providers and the ``genai_prices.types`` module; a clear error if absent."""
    try:
        from genai_prices import types as gp_types_module
        from genai_prices.data import providers
    except ImportError as error:
        raise ModuleNotFoundError(f"{INSTALL_HINT} ({error})") from error
    return providers, gp_types_module


def package_version() -> str:
    """Installed version of genai-prices, e.g. ``"0.2.3"``."""
    try:
        return importlib.metadata.version("genai-prices")
    except importlib.metadata.PackageNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error


def _literals(clause: Any, types: Any) -> Iterator[str]:
    """The literal strings of a match clause (regexes are skipped)."""
    if isinstance(clause, types.ClauseOr):
        for part in clause.or_:
            yield from _literals(part, types)
    elif isinstance(clause, types.ClauseAnd):
        for part in clause.and_:
            yield from _literals(part, types)
    else:
        for attribute in ("equals", "starts_with", "ends_with", "contains"):
            value = getattr(clause, attribute, None)
            if isinstance(value, str):
                yield value


def _needles(clause: Any, types: Any) -> frozenset[str] | None:
    """Lower-case substrings, one of which is in every text the clause accepts.

    None if the clause (a regex) gives no such guarantee. Used to skip hopeless
    ``is_match`` calls.
    """
    if isinstance(clause, types.ClauseOr):
        parts = [_needles(part, types) for part in clause.or_]
        found = [p for p in parts if p is not None]
        return frozenset().union(*found) if len(found) == len(parts) else None
    if isinstance(clause, types.ClauseAnd):
        return next((p for c in clause.and_ if (p := _needles(c, types)) is not None), None)
    literals = frozenset(text.lower() for text in _literals(clause, types))
    return literals or None


def dates_in(text: str) -> list[dt.date]:
    """Dates written in a model id or match clause.

    Full dates ``YYYY-MM-DD`` or ``YYYYMMDD`` (years 2020-2039), and the month suffixes
    ``-YYMM`` and ``-MM-YYYY`` (years 2020-2029) as the month's first day:
    ``dates_in("gpt-4o-2024-05-13")`` is ``[date(2024, 5, 13)]``,
    ``dates_in("mistral-large-2405")`` is ``[date(2024, 5, 1)]``.
    """
    found = []
    for match in _DATE_IN_TEXT.finditer(text):
        try:
            found.append(dt.date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:  # 2024-02-30 and the like
            continue
    found += [dt.date(2000 + int(m[1]), int(m[2]), 1) for m in _YYMM_IN_TEXT.finditer(text)]
    found += [dt.date(int(m[2]), int(m[1]), 1) for m in _MM_YYYY_IN_TEXT.finditer(text)]
    return found


def _words(*texts: str | None) -> set[str]:
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(_WORD_SPLIT.split(text.lower()))
    return words


def tier_of(model_id: str, name: str | None = None) -> str:
    """Tier of a model from the words of its id and name: ``frontier``, ``mid`` or ``small``.

    Small if a word is in :data:`SMALL_WORDS` or is a parameter count up to
    :data:`SMALL_MAX_BILLION_PARAMETERS` billion (``"24b"``); else frontier if a word is
    in :data:`FRONTIER_WORDS`; else mid. ``tier_of("claude-3-5-haiku")`` is ``"small"``,
    ``tier_of("gemini-2.5-pro")`` is ``"frontier"``, ``tier_of("gpt-4o")`` is ``"mid"``.
    """
    words = _words(model_id, name)
    if words & SMALL_WORDS:
        return "small"
    texts = (model_id.lower(), (name or "").lower())
    sizes = [float(size) for text in texts for size in _PARAMETERS.findall(text)]
    if any(size <= SMALL_MAX_BILLION_PARAMETERS for size in sizes):
        return "small"
    if words & FRONTIER_WORDS:
        return "frontier"
    return "mid"


def is_text_model(model_id: str, name: str | None = None) -> bool:
    """Whether a listing is a text model (no word of :data:`NON_TEXT_WORDS` in id or name)."""
    return not (_words(model_id, name) & NON_TEXT_WORDS)


def is_first_party(provider_id: str, model_id: str) -> bool:
    """Whether ``provider_id`` develops ``model_id`` (see :data:`FIRST_PARTY`)."""
    pattern = FIRST_PARTY.get(provider_id)
    return bool(pattern and pattern.match(model_id))


def _token_price(value: Any, types: Any) -> tuple[float | None, bool]:
    """A per-Mtok price as a float [USD/Mtok] (a tiered price reduced to its base rate)."""
    if value is None:
        return None, False
    if isinstance(value, types.TieredPrices):
        return float(value.base), True
    return float(value), False


class _DatedReferences:
    """Every dated model reference in the data (ids and literal clauses) with its date.

    References are lower-cased and lose any ``vendor/`` prefix; the date is the earliest
    one the reference carries.
    """

    def __init__(self, providers: Iterable[Any], types: Any) -> None:
        dates: dict[str, dt.date] = {}
        for provider in providers:
            for model in provider.models:
                for text in (model.id, *_literals(model.match, types)):
                    found = dates_in(text)
                    if found:
                        key = text.lower().rsplit("/", 1)[-1]
                        dates[key] = min([*found, dates.get(key, dt.date.max)])
        self._types = types
        self._items = list(dates.items())
        # One string to search for needles at C speed: 2,000 models x 350 references
        # tested one by one in Python took seconds.
        self._joined = "\n".join(ref for ref, _ in self._items)
        self._offsets = np.cumsum([0] + [len(ref) + 1 for ref, _ in self._items[:-1]])

    def candidates(self, clause: Any) -> list[tuple[str, dt.date]]:
        """References that ``clause`` might accept (a superset of those it does)."""
        needles = _needles(clause, self._types)
        if needles is None:
            return self._items
        hits: set[int] = set()
        for needle in needles:
            position = self._joined.find(needle)
            while position >= 0:
                hits.add(int(np.searchsorted(self._offsets, position, side="right")) - 1)
                position = self._joined.find(needle, position + 1)
        return [self._items[i] for i in sorted(hits)]


def _launch_date(
    model: Any, types: Any, references: _DatedReferences, periods: list[tuple[Any, Any]]
) -> tuple[dt.date | None, str]:
    """Launch date of a model and where it came from (see the module docstring)."""
    own_id = dates_in(model.id)
    if own_id:
        return min(own_id), "model id"
    own_clauses = [d for text in _literals(model.match, types) for d in dates_in(text)]
    if own_clauses:
        return min(own_clauses), "match clause"
    aliases = [date for ref, date in references.candidates(model.match) if model.is_match(ref)]
    if aliases:
        return min(aliases), "dated alias"
    first_start = periods[0][0] if periods else None
    if first_start is not None:
        return first_start, "first price start"
    return None, "unknown"


def _periods(model: Any, types: Any) -> list[tuple[dt.date | None, Any]]:
    """(start date or None for the launch price, ModelPrice) in time order."""
    if isinstance(model.prices, types.ModelPrice):
        return [(None, model.prices)]
    undated = [c.prices for c in model.prices if c.constraint is None]
    dated = sorted(
        (c.constraint.start_date, c.prices)
        for c in model.prices
        if isinstance(c.constraint, types.StartDateConstraint)
    )
    # Time-of-day conditions (off-peak prices) are neither a launch price nor a period.
    return [(None, p) for p in undated[:1]] + dated


@functools.lru_cache(maxsize=1)
def _price_table() -> pd.DataFrame:
    providers, types = _genai_prices()
    references = _DatedReferences(providers, types)
    rows: list[dict[str, Any]] = []
    for provider in providers:
        for model in provider.models:
            periods = _periods(model, types)
            launch, launch_source = _launch_date(model, types, references, periods)
            common = {
                "provider": provider.id,
                "model": model.id,
                "name": model.name or model.id,
                "first_party": is_first_party(provider.id, model.id),
                "text": is_text_model(model.id, model.name),
                "tier": tier_of(model.id, model.name),
                "deprecated": bool(model.deprecated),
                "launch_date": launch,
                "launch_date_source": launch_source,
            }
            for period, (start, price) in enumerate(periods):
                input_price, input_tiered = _token_price(getattr(price, "input_mtok", None), types)
                output_price, output_tiered = _token_price(
                    getattr(price, "output_mtok", None), types
                )
                if input_price is None or output_price is None:
                    continue
                if input_price <= 0 or output_price <= 0:
                    continue
                blended = BLEND_INPUT_SHARE * input_price + (1 - BLEND_INPUT_SHARE) * output_price
                rows.append(
                    common
                    | {
                        "period": period,
                        "start_date": start if start is not None else launch,
                        "input_usd_per_mtok": input_price,
                        "output_usd_per_mtok": output_price,
                        "blended_usd_per_mtok": blended,
                        "context_tiered": input_tiered or output_tiered,
                    }
                )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("launch_date", "start_date"):
        table[column] = pd.to_datetime(table[column])
    table["tier"] = pd.Categorical(table["tier"], categories=list(TIERS))
    return table


def price_table() -> pd.DataFrame:
    """Dated list prices per (provider, model, price period), from genai-prices' bundled data.

    Columns: ``provider``, ``model`` (genai-prices ids), ``name``, ``first_party`` (the
    provider develops the model), ``text`` (a general text model: not image, speech,
    embedding or a fine-tune), ``tier`` (frontier/mid/small), ``deprecated``,
    ``launch_date`` (datetime64, NaT if unknown), ``launch_date_source`` (``model id``,
    ``match clause``, ``dated alias``, ``first price start`` or ``unknown``), ``period``
    (0 is the earliest recorded price), ``start_date`` (when the price took effect; the
    launch date for period 0), ``input_usd_per_mtok`` and
    ``output_usd_per_mtok`` [USD per million tokens], ``blended_usd_per_mtok`` [USD per
    million tokens, :data:`BLEND_INPUT_SHARE` input], ``context_tiered`` (a long-context
    surcharge was dropped). Loaded once per process, offline; each call returns a copy.
    """
    return _price_table().copy()


def data_date(table: pd.DataFrame | None = None) -> dt.date:
    """Date of the price data: the newest launch it records.

    The snapshot also holds announced price changes dated after it (for example Google's
    for 2027-01-01 in genai-prices 0.2.3); the fits stop at this date.
    """
    frame = price_table() if table is None else table
    newest = frame["launch_date"].max()
    if pd.isna(newest):
        raise ValueError("no row of the price table has a launch date")
    return pd.Timestamp(newest).date()


def fit_rows(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows the fits use: first-party text models with a known launch date, all periods.

    Listings that repeat another of the same provider (same launch date and launch
    prices, e.g. a model and its ``-latest`` alias) are kept once.
    """
    frame = price_table() if table is None else table
    rows = frame[frame["first_party"] & frame["text"] & frame["launch_date"].notna()]
    launch = rows[rows["period"] == 0]
    keys = ["provider", "launch_date", "input_usd_per_mtok", "output_usd_per_mtok"]
    kept = launch.drop_duplicates(subset=keys)[["provider", "model"]]
    return rows.merge(kept, on=["provider", "model"]).reset_index(drop=True)


def launch_prices(by: str = "tier", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median blended launch price by ``by`` (a column, e.g. tier or provider) and year.

    Over :func:`fit_rows` at launch (period 0). Columns: ``by``, ``launch_year``,
    ``median_usd_per_mtok`` [USD per million tokens, blended], ``n_models`` [count].
    """
    launch = fit_rows(table)
    launch = launch[launch["period"] == 0].assign(launch_year=launch["launch_date"].dt.year)
    grouped = launch.groupby([by, "launch_year"], observed=True)["blended_usd_per_mtok"]
    summary = grouped.agg(median_usd_per_mtok="median", n_models="count").reset_index()
    return summary.sort_values([by, "launch_year"]).reset_index(drop=True)


# --- Fits -----------------------------------------------------------------------------------


def _years_since_epoch(dates: pd.Series) -> np.ndarray:
    return np.asarray((dates - _EPOCH).dt.total_seconds() / (86400 * _DAYS_PER_YEAR), float)


def _rate(slope: float) -> float:
    """Fraction by which a price with this log slope [1/yr] falls in a year."""
    return float(-np.expm1(slope))


def fit_decline(
    frame: pd.DataFrame,
    *,
    groups: tuple[str, ...] = ("provider", "tier"),
    data_date: dt.date | None = None,
    version: str | None = None,
) -> PriceDecline:
    """Price decline per year at fixed tier, across launches.

    OLS of log ``blended_usd_per_mtok`` on ``launch_date`` [years] with a fixed effect
    (own intercept) per combination of the ``groups`` columns, one row per model launch
    (rows with ``period`` other than 0 are dropped if the column is present). With the
    default, a provider's tier is one product line (Anthropic's Opus, OpenAI's minis), so
    the slope compares each launch with earlier ones of its own line, not a cheap lab's
    launch with a dear one's. A group with one launch says nothing about the slope and is
    left out. The rate is ``1 - exp(slope)``: prices halving each year give 0.5. The 90%
    interval maps the slope's OLS interval (t distribution, n - groups - 1 degrees of
    freedom) through the same formula.

    ``data_date`` defaults to the newest launch in ``frame``, ``version`` to the installed
    genai-prices version.
    """
    launches = frame if "period" not in frame else frame[frame["period"] == 0]
    launches = launches.dropna(subset=["launch_date", "blended_usd_per_mtok"])
    group = launches[list(groups)].astype(str).agg("|".join, axis=1)
    launches = launches[group.map(group.value_counts()) > 1]
    group = group[launches.index]
    n_points, n_groups = len(launches), group.nunique()
    dof = n_points - n_groups - 1
    if dof < 1:
        raise ValueError(
            f"fit_decline needs more launches than parameters; got {n_points} launches in "
            f"{n_groups} groups with more than one launch"
        )
    years = pd.Series(_years_since_epoch(launches["launch_date"]), index=launches.index)
    log_price = pd.Series(
        np.log(launches["blended_usd_per_mtok"].to_numpy(float)), index=launches.index
    )
    # Fixed effects by demeaning within each group (the same slope as one dummy per group).
    x = (years - years.groupby(group).transform("mean")).to_numpy()
    y = (log_price - log_price.groupby(group).transform("mean")).to_numpy()
    sxx = float(x @ x)
    if sxx == 0:
        raise ValueError("fit_decline: launch dates do not vary within any group")
    slope = float(x @ y) / sxx
    residuals = y - slope * x
    slope_se = float(np.sqrt(float(residuals @ residuals) / dof / sxx))
    half_width = float(stats.t.ppf(0.5 + INTERVAL / 2, dof)) * slope_se
    keys = [column for column in ("provider", "model") if column in launches]
    n_models = len(launches.drop_duplicates(subset=keys)) if "model" in keys else n_points
    when = data_date or pd.Timestamp(launches["launch_date"].max()).date()
    return PriceDecline(
        rate_per_year=_rate(slope),
        low=_rate(slope + half_width),
        high=_rate(slope - half_width),
        slope_per_year=slope,
        n_models=n_models,
        n_points=n_points,
        method=(
            "OLS of log launch price (blended 3:1 input:output, USD per million tokens) on "
            f"launch date in years with a fixed effect per {' and '.join(groups)} "
            f"({n_groups} groups; tiers frontier/mid/small by model name), over first-party "
            "text models with a known launch date; rate = 1 - exp(slope); 90% interval from "
            "the slope's OLS standard error."
        ),
        data_date=when,
        package_version=version or package_version(),
    )


def _monthly_log_prices(
    frame: pd.DataFrame, until: pd.Timestamp
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per model, (years since launch, log price in effect) at each whole month to ``until``.

    Models with fewer than two such months are left out.
    """
    paths = []
    for _, periods in frame.groupby(["provider", "model"], sort=True):
        periods = periods.sort_values("start_date")
        launch = periods["launch_date"].iloc[0]
        months = int((until - launch) / _MONTH)
        if months < 1:
            continue
        offsets = (np.arange(months + 1) * _MONTH.value).astype("timedelta64[ns]")
        when = np.datetime64(launch, "ns") + offsets
        starts = periods["start_date"].to_numpy("datetime64[ns]")
        index = np.searchsorted(starts, when, side="right") - 1
        log_price = np.log(periods["blended_usd_per_mtok"].to_numpy(float))[index]
        paths.append((np.arange(months + 1) / 12.0, log_price))
    return paths


def fit_cut_after_launch(
    frame: pd.DataFrame,
    *,
    data_date: dt.date,
    seed: int = BOOTSTRAP_SEED,
    samples: int = BOOTSTRAP_SAMPLES,
    version: str | None = None,
) -> PriceDecline:
    """Rate at which a model's own list price falls after its launch.

    Each model's price path (periods: ``launch_date``, ``start_date``,
    ``blended_usd_per_mtok``, keyed by ``provider`` and ``model``) is read at every whole
    month from launch to ``data_date``; log price is regressed on years since launch with
    a fixed effect per model (pooled within-model OLS), so a model whose price never
    changed pulls the rate towards zero. The 90% interval is the 5th-95th percentile over
    ``samples`` bootstrap resamples of whole models (seeded by ``seed``), because months of
    one model are not independent observations.
    """
    paths = _monthly_log_prices(frame, pd.Timestamp(data_date))
    if len(paths) < 2:
        raise ValueError(
            f"fit_cut_after_launch needs two models with a month of history; got {len(paths)}"
        )
    sxy = np.array([((t - t.mean()) * (y - y.mean())).sum() for t, y in paths])
    sxx = np.array([((t - t.mean()) ** 2).sum() for t, _ in paths])
    slope = float(sxy.sum() / sxx.sum())
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(paths), np.full(len(paths), 1 / len(paths)), size=samples)
    boot = (counts @ sxy) / (counts @ sxx)
    tail = (1 - INTERVAL) / 2
    slope_low, slope_high = np.quantile(boot, [tail, 1 - tail])
    changed = sum(int(np.ptp(y) > 0) for _, y in paths)
    return PriceDecline(
        rate_per_year=_rate(slope),
        # A percentile interval need not contain the estimate when few models move; the
        # fact format requires low <= value <= high, so the interval is widened to it.
        low=min(_rate(float(slope_high)), _rate(slope)),
        high=max(_rate(float(slope_low)), _rate(slope)),
        slope_per_year=slope,
        n_models=len(paths),
        n_points=int(sum(len(t) for t, _ in paths)),
        method=(
            "Pooled within-model OLS of log list price (blended 3:1 input:output) on years "
            "since launch, each model read monthly from launch to the data date, over "
            f"first-party text models with a known launch date ({changed} of {len(paths)} "
            "changed price); rate = 1 - exp(slope); 90% interval from a bootstrap over models "
            f"({samples} resamples, seed {seed})."
        ),
        data_date=data_date,
        package_version=version or package_version(),
    )


@functools.lru_cache(maxsize=1)
def price_decline() -> PriceDecline:
    """Price decline per year across launches within a provider's tier, fitted to the data."""
    table = price_table()
    return fit_decline(fit_rows(table), data_date=data_date(table))


@functools.lru_cache(maxsize=1)
def cut_after_launch() -> PriceDecline:
    """Rate at which a model's own price falls after launch, fitted to genai-prices' data."""
    table = price_table()
    return fit_cut_after_launch(fit_rows(table), data_date=data_date(table))


# --- Facts ----------------------------------------------------------------------------------


def _fact(fact_id: str, fit: PriceDecline, what: str, caveat: str) -> dict[str, Any]:
    return {
        "id": fact_id,
        "value": fit.rate_per_year,
        "low": fit.low,
        "high": fit.high,
        "unit": "fraction/year",
        "as_of": fit.data_date.isoformat(),
        "source": {
            "title": f"genai-prices {fit.package_version} price snapshot",
            "publisher": "Pydantic (genai-prices, MIT licence)",
            "url": FACT_SOURCE_URL,
        },
        "note": (
            f"{what}: {fit.rate_per_year:.1%} a year (90% interval {fit.low:.1%} to "
            f"{fit.high:.1%}), fitted by labecon.facts.prices over {fit.n_models} models "
            f"({fit.n_points} points) with prices as of {fit.data_date.isoformat()}. {caveat}"
        ),
        "tags": ["prices", "trend", "derived"],
        "method": fit.method,
    }


def decline_fact() -> dict[str, Any]:
    """The fitted price decline per year at fixed tier, as a fact mapping."""
    return _fact(
        "prices.api_decline_per_year.fitted",
        price_decline(),
        "Fall of API launch prices per year within a provider's tier (frontier/mid/small by "
        "model name)",
        "A tier is not a fixed capability (each generation of a tier is more capable), so "
        "this understates the fall of the price of a given capability; list prices, "
        "before batch and caching discounts.",
    )


def cut_fact() -> dict[str, Any]:
    """The fitted rate of a model's own price cuts after launch, as a fact mapping."""
    return _fact(
        "prices.api_cut_after_launch_per_year.fitted",
        cut_after_launch(),
        "Fall of a model's own API list price per year after its launch",
        "List prices rarely change after launch (see the method for how many did): prices "
        "fall through new models, and through discounts that list prices do not show; the "
        "data's price history starts in June 2025, so older cuts are missing.",
    )


def derived_facts() -> list[dict[str, Any]]:
    """Both fitted facts, for the fact base."""
    return [decline_fact(), cut_fact()]
