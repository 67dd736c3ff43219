"""REST API over the run store (issue 8, first part): scenarios, validation, examples, facts.

Errors are JSON in FastAPI's shape, ``{"detail": [{"loc": [...], "msg": ..., "input": ...}]}``
for anything about the request's fields (422), ``{"detail": "..."}`` otherwise (401, 404,
409). User input is parsed as YAML data (``yaml.safe_load``) and validated; it is never
evaluated as code.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from labecon import __version__
from labecon.backends import ProcessPool
from labecon.cli import annual_table, json_text
from labecon.compare import compare
from labecon.errors import MISSING, OptionError, ScenarioError
from labecon.facts import load_facts, search_facts
from labecon.facts.prices import price_table
from labecon.scenario.loading import builtin_descriptions, builtin_text
from labecon.scenario.schema import Scenario
from labecon.sensitivity import METHOD_OPTIONS, SIZE_OPTION, model_runs, sensitivity
from labecon.store import (
    ConflictError,
    NotFoundError,
    RunInfo,
    ScenarioVersion,
    Store,
    StoreError,
    scenario_from_text,
    validate_text,
)
from labecon.web.pages import (
    PLOTLY_JS,
    STATIC,
    compare_page,
    data_page,
    index_page,
    missing_page,
    run_page,
    scenario_page,
)
from labecon.web.preview import levers, monthly_fans, preview
from labecon.web.runs import RunPool


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; over a limit the request is refused (422) naming it."""

    max_request_bytes: int = 1_000_000  # a scenario's text is a few kB
    max_samples: int = 200_000  # a run's samples
    max_months: int = 240  # a run's scenario horizon
    max_preview_samples: int = 10_000  # a dashboard preview runs in the request
    max_compare_samples: int = 5_000  # per scenario of a comparison, run in the request
    max_sensitivity_runs: int = 20_000  # model runs of a sensitivity analysis, in the request


class ScenarioIn(BaseModel):
    """A new scenario: its name and its YAML text."""

    name: str = Field(min_length=1, max_length=200, description="Unique name in the store.")
    text: str = Field(description="The scenario as YAML (see docs/scenario.md).")


class ScenarioUpdate(BaseModel):
    """A new version of a scenario, made from ``version`` (refused if that is not the latest)."""

    text: str
    version: int = Field(ge=1, description="The version this text was edited from.")


class TextIn(BaseModel):
    """A scenario's YAML text."""

    text: str


class RunIn(BaseModel):
    """A run of a stored scenario (its latest version, or ``version``)."""

    scenario: str = Field(min_length=1)
    version: int | None = Field(default=None, ge=1)
    samples: int = Field(default=2000, ge=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)


class PreviewIn(BaseModel):
    """A quick run of a scenario's text with some uncertain inputs set (the levers).

    A page names its ``session`` and numbers its previews (``ticket``): a preview still
    running when a newer one of its session arrives stops at its next chunk (409).
    """

    text: str
    inputs: dict[str, float] = Field(default_factory=dict)
    samples: int = Field(default=1000, ge=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    session: str | None = Field(default=None, max_length=64)
    ticket: int = Field(default=0, ge=0)


class _SupersededError(Exception):
    """A newer preview of the same session arrived."""


class CompareIn(BaseModel):
    """Stored scenarios compared on common random numbers (the first is the reference)."""

    scenarios: list[str] = Field(min_length=2, max_length=6)
    samples: int = Field(default=2000, ge=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    metrics: list[str] | None = None


class SensitivityIn(BaseModel):
    """Which uncertain inputs of a stored scenario drive a metric (``labecon sensitivity``)."""

    scenario: str = Field(min_length=1)
    version: int | None = Field(default=None, ge=1)
    metric: str = Field(min_length=1, description="e.g. capital_need_usd, insolvent.")
    method: Literal["tornado", "morris", "sobol"] = "tornado"
    inputs: list[str] | None = Field(
        default=None, description="Vary only these uncertain inputs (the rest at medians)."
    )
    samples: int | None = Field(default=None, ge=1, description="tornado: samples per point.")
    n: int | None = Field(default=None, ge=2, description="sobol: base size, a power of 2.")
    trajectories: int | None = Field(default=None, ge=2, description="morris: trajectories.")
    levels: int | None = Field(default=None, ge=2, description="morris: grid levels, even.")
    seed: int = Field(default=0, ge=0, le=2**63 - 1)


class RunOut(BaseModel):
    """A run's record and progress (samples done of total while it runs)."""

    id: str
    scenario: str
    version: int | None
    samples: int
    seed: int
    status: str
    error: str | None
    done: int
    labecon_version: str
    created_at: str
    finished_at: str | None


class ScenarioOut(BaseModel):
    """A stored scenario version."""

    name: str
    version: int
    text: str
    created_at: str


def _out(version: ScenarioVersion) -> ScenarioOut:
    return ScenarioOut(
        name=version.name,
        version=version.version,
        text=version.text,
        created_at=version.created_at.isoformat(timespec="seconds") + "Z",
    )


def _problems(exc: ScenarioError) -> list[dict[str, Any]]:
    """A scenario's problems as FastAPI-style errors located in the request's ``text``."""
    return [
        {
            "loc": ["body", "text", *problem.path.split(".")],
            "msg": problem.message,
            **({} if problem.value is MISSING else {"input": problem.value}),
        }
        for problem in exc.problems
    ]


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def create_app(
    store: Store,
    token: str | None = None,
    limits: Limits | None = None,
    workers: int = 2,
    preview_workers: int = 0,
) -> FastAPI:
    """The API on ``store``; with ``token``, writes need ``Authorization: Bearer TOKEN``.

    Runs execute on a pool of ``workers`` worker processes, not in the request. Previews
    run in the request, their chunks on ``preview_workers`` worker processes kept open
    (``labecon serve``: one per core), or with 0 on this process's threads.
    """
    limits = limits or Limits()
    pool = RunPool(store, workers)
    previewers = ProcessPool(preview_workers) if preview_workers else None
    previews: dict[str, int] = {}  # session -> its newest preview's ticket
    previews_lock = threading.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.shutdown()  # the server stops: its runs stop at their next chunk, failed
        if previewers is not None:
            previewers.close()

    app = FastAPI(
        lifespan=lifespan,
        title="labecon",
        version=__version__,
        description="Scenarios and runs of labecon, the economics of foundation-model labs.",
    )

    @app.middleware("http")
    async def limit_size(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_request_bytes:
            return JSONResponse(
                status_code=422,
                content={
                    "detail": [
                        {
                            "loc": ["body"],
                            "msg": f"the request has {int(length):,} bytes; accepted: at most "
                            f"{limits.max_request_bytes:,} (limit max_request_bytes)",
                        }
                    ]
                },
            )
        response: Response = await call_next(request)
        return response

    @app.exception_handler(ScenarioError)
    async def scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _problems(exc)})

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(status_code=404, content={"detail": str(exc)})
        return HTMLResponse(status_code=404, content=missing_page(str(exc)))  # a page's link

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(StoreError)
    async def bad_request(_: Request, exc: StoreError) -> JSONResponse:
        field, _sep, message = str(exc).partition(": ")
        return JSONResponse(
            status_code=422, content={"detail": [{"loc": ["body", field], "msg": message}]}
        )

    def writer(authorization: Annotated[str | None, Header()] = None) -> None:
        """Writes need the API token when the app has one."""
        if token is None:
            return
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(
                status_code=401,
                detail="authorization: a write needs the API token; accepted: the header "
                "'Authorization: Bearer TOKEN' with the token the server was started with",
            )

    write = [Depends(writer)]

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        """The server is up; the store's schema revision and labecon's version."""
        return {"status": "ok", "labecon": __version__, "schema": store.revision()}

    @app.get("/api/examples")
    def examples() -> list[dict[str, str]]:
        """The built-in scenarios: name, description and YAML text."""
        return [
            {"name": name, "description": description, "text": builtin_text(name)}
            for name, description in builtin_descriptions().items()
        ]

    @app.get("/api/facts")
    def facts(search: str | None = None) -> list[dict[str, Any]]:
        """The fact base (``labecon facts``), or the facts matching ``search``."""
        found = search_facts(search) if search else list(load_facts().values())
        return [fact.model_dump(mode="json") for fact in found]

    @app.get("/api/scenarios")
    def list_scenarios() -> list[ScenarioOut]:
        """The latest version of every stored scenario."""
        return [_out(v) for v in store.list_scenarios()]

    @app.post("/api/scenarios", status_code=201, dependencies=write)
    def create_scenario(body: ScenarioIn) -> ScenarioOut:
        """Store a new scenario (version 1); 409 if the name is taken, 422 if invalid."""
        return _out(store.create_scenario(body.name, body.text))

    @app.post("/api/scenarios/validate")
    def validate(body: TextIn) -> dict[str, Any]:
        """Check a scenario's text without storing it: every problem with its field path."""
        try:
            validate_text(body.text, "scenario")
        except ScenarioError as exc:
            return {"valid": False, "problems": _problems(exc)}
        return {"valid": True, "problems": []}

    @app.get("/api/scenarios/{name}")
    def get_scenario(name: str, version: int | None = None) -> ScenarioOut:
        """A stored scenario: its latest version, or ``version``."""
        return _out(store.get_scenario(name, version))

    @app.put("/api/scenarios/{name}", dependencies=write)
    def update_scenario(name: str, body: ScenarioUpdate) -> ScenarioOut:
        """Store a new version; 409 if ``version`` is not the latest (someone saved since)."""
        return _out(store.update_scenario(name, body.text, body.version))

    @app.delete("/api/scenarios/{name}", status_code=204, dependencies=write)
    def delete_scenario(name: str) -> Response:
        """Delete a scenario; its runs stay readable."""
        store.delete_scenario(name)
        return Response(status_code=204)

    def run_out(info: RunInfo) -> RunOut:
        """The store's record as the API shows it: the scenario's name, dates in UTC."""
        same = RunOut.model_fields.keys() - {"scenario", "created_at", "finished_at"}
        return RunOut(
            **{name: getattr(info, name) for name in same},
            scenario=info.scenario_name,
            created_at=_when(info.created_at) or "",
            finished_at=_when(info.finished_at),
        )

    def over(field: str, value: int, most: int, limit: str) -> None:
        if value > most:
            raise HTTPException(
                status_code=422,
                detail=[
                    {
                        "loc": ["body", field],
                        "msg": f"{value:,} is over the limit; accepted: at most {most:,} "
                        f"(limit {limit})",
                        "input": value,
                    }
                ],
            )

    @app.post("/api/runs", status_code=202, dependencies=write)
    def start_run(body: RunIn) -> RunOut:
        """Start a run; it returns at once with the run's id (poll GET /api/runs/{id})."""
        over("samples", body.samples, limits.max_samples, "max_samples")
        text = store.get_scenario(body.scenario, body.version).text
        months = scenario_from_text(text, body.scenario).horizon_months
        over("horizon_months", months, limits.max_months, "max_months")
        info = store.create_run(body.scenario, body.samples, body.seed, body.version)
        pool.submit(info.id)
        return run_out(info)

    @app.get("/api/runs")
    def list_runs(
        scenario: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    ) -> list[RunOut]:
        """Runs, newest first (of ``scenario`` if given): ``limit`` after the first ``offset``."""
        return [run_out(info) for info in store.list_runs(scenario, limit, offset)]

    @app.get("/api/runs/{run_id}")
    def get_run(run_id: str) -> RunOut:
        """A run's status and progress."""
        return run_out(store.get_run(run_id))

    @app.post("/api/runs/{run_id}/cancel", dependencies=write)
    def cancel_run(run_id: str) -> RunOut:
        """Cancel a queued or running run (409 if it already finished)."""
        pool.cancel(run_id)
        return run_out(store.get_run(run_id))

    @app.get("/api/runs/{run_id}/result")
    def run_result(run_id: str) -> Response:
        """A complete run's result as JSON (the document of ``labecon run --json``)."""
        document, _table = store.run_result(run_id)
        return Response(content=document, media_type="application/json")

    @app.get("/api/runs/{run_id}/monthly")
    def run_monthly(run_id: str) -> Response:
        """A complete run's monthly fans (p5..p95 of cash, revenue, operating income) [USD]."""
        return Response(content=store.run_monthly(run_id), media_type="application/json")

    @app.get("/api/runs/{run_id}/result.csv")
    def run_result_csv(run_id: str) -> Response:
        """The yearly statistics of every view and item, tidy CSV (as ``annual.csv``)."""
        document, _table = store.run_result(run_id)
        frame = annual_table(json.loads(document))
        return Response(content=frame.to_csv(index=False), media_type="text/csv")

    @app.get("/api/runs/{run_id}/result.parquet")
    def run_result_parquet(run_id: str) -> Response:
        """Every sample's yearly results (as ``samples.parquet``)."""
        _document, table = store.run_result(run_id)
        return Response(content=table or b"", media_type="application/vnd.apache.parquet")

    @functools.lru_cache(maxsize=32)
    def scenario_of(text: str) -> Scenario:
        # A page sends the same text with every lever move: parse it once (a Scenario is
        # immutable; an invalid text raises and is not kept).
        return scenario_from_text(text, "scenario")

    @app.post("/api/levers")
    def scenario_levers(body: TextIn) -> list[dict[str, Any]]:
        """The scenario's levers: its first uncertain inputs, each with a p5..p95 range."""
        return levers(scenario_of(body.text))

    @app.post("/api/preview")
    def scenario_preview(body: PreviewIn) -> dict[str, Any]:
        """A quick run in the request: cash fan by month, yearly revenue and income."""
        over("samples", body.samples, limits.max_preview_samples, "max_preview_samples")
        scenario = scenario_of(body.text)
        over("horizon_months", scenario.horizon_months, limits.max_months, "max_months")
        session = body.session
        if session is not None:
            with previews_lock:
                if len(previews) > 10_000:  # forget old sessions
                    previews.clear()
                previews[session] = max(previews.get(session, 0), body.ticket)

        def superseded(_done: int, _total: int) -> None:
            if session is not None and previews.get(session, 0) > body.ticket:
                raise _SupersededError

        try:
            return preview(scenario, body.inputs, body.samples, body.seed, superseded, previewers)
        except _SupersededError:
            raise HTTPException(
                status_code=409, detail=f"ticket: {body.ticket} of this session is superseded"
            ) from None
        except OptionError as exc:
            raise HTTPException(
                status_code=422, detail=[{"loc": ["body", "inputs"], "msg": str(exc)}]
            ) from None

    @app.post("/api/compare")
    def compare_scenarios(body: CompareIn) -> dict[str, Any]:
        """Stored scenarios' metrics, each paired with the first's (``labecon compare``).

        Runs in the request, so its samples are limited (``max_compare_samples``).
        """
        over("samples", body.samples, limits.max_compare_samples, "max_compare_samples")
        texts = [store.get_scenario(name).text for name in body.scenarios]
        scenarios = [scenario_of(text) for text in texts]
        for scenario in scenarios:
            over("horizon_months", scenario.horizon_months, limits.max_months, "max_months")
        try:
            comparison = compare(
                scenarios,
                samples=body.samples,
                seed=body.seed,
                metrics=body.metrics,
                labels=body.scenarios,
            )
        except OptionError as exc:
            field = "metrics" if str(exc).startswith("metric") else "scenarios"
            raise HTTPException(
                status_code=422, detail=[{"loc": ["body", field], "msg": str(exc)}]
            ) from None
        document: dict[str, Any] = json.loads(json_text(comparison.to_dict()))
        document["fans"] = {  # what the compare page draws: each scenario's monthly cash
            label: monthly_fans(result, (("cash", "cash"),), ("p5", "p50", "p95"))
            for label, result in zip(comparison.labels, comparison.results, strict=True)
        }
        return document

    @app.post("/api/sensitivity")
    def sensitivity_analysis(body: SensitivityIn) -> dict[str, Any]:
        """Which uncertain inputs drive a metric (``labecon sensitivity``): tornado, Morris, Sobol.

        Runs in the request, so its model runs are limited (``max_sensitivity_runs``). The
        rows are the method's table, most important input first.
        """
        options = {
            name: getattr(body, name) for name in METHOD_OPTIONS if getattr(body, name) is not None
        }
        for option in options:
            if METHOD_OPTIONS[option] != body.method:
                own = [name for name, method in METHOD_OPTIONS.items() if method == body.method]
                raise HTTPException(
                    status_code=422,
                    detail=[
                        {
                            "loc": ["body", option],
                            "msg": f"applies to method {METHOD_OPTIONS[option]} only, not "
                            f"{body.method}; accepted with {body.method}: " + ", ".join(own),
                        }
                    ],
                )
        scenario = scenario_of(store.get_scenario(body.scenario, body.version).text)
        over("horizon_months", scenario.horizon_months, limits.max_months, "max_months")
        try:
            runs = model_runs(scenario, body.method, inputs=body.inputs, **options)
        except OptionError as exc:  # samples per tornado point out of range
            raise HTTPException(
                status_code=422, detail=[{"loc": ["body", "samples"], "msg": str(exc)}]
            ) from None
        size = SIZE_OPTION[body.method]
        over(size, runs, limits.max_sensitivity_runs, "max_sensitivity_runs (model runs)")
        try:
            frame = sensitivity(
                scenario, body.metric, body.method, seed=body.seed, inputs=body.inputs, **options
            )
        except OptionError as exc:
            field, _sep, _rest = str(exc).partition(":")
            field = field if field in SensitivityIn.model_fields else "scenario"
            raise HTTPException(
                status_code=422, detail=[{"loc": ["body", field], "msg": str(exc)}]
            ) from None
        rows: list[dict[str, Any]] = json.loads(json_text(frame.to_dict("records")))
        attrs: dict[str, Any] = json.loads(json_text(dict(frame.attrs)))
        return {
            "scenario": body.scenario,
            "metric": body.metric,
            "method": body.method,
            "runs": runs,
            "rows": rows,
            "attrs": attrs,
        }

    @app.get("/api/prices")
    def prices() -> list[dict[str, Any]]:
        """Launch list prices of first-party text models (genai-prices), with dates."""
        table = price_table()
        rows = table[table["first_party"] & table["text"] & (table["period"] == 0)].dropna(
            subset=["launch_date", "blended_usd_per_mtok"]
        )
        records = rows.to_dict("records")
        return [
            {
                "provider": str(r["provider"]),
                "model": str(r["model"]),
                "name": str(r["name"]),
                "tier": str(r["tier"]),
                "launch_date": str(r["launch_date"])[:10],  # YYYY-MM-DD
                "blended_usd_per_mtok": float(r["blended_usd_per_mtok"]),
            }
            for r in records
        ]

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        """The dashboard's first page: stored scenarios, runs and built-in examples."""
        return index_page(store.list_scenarios(), store.list_runs(limit=20))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page_route(run_id: str) -> str:
        """A run's page: its status, then its yearly cash fan and metrics."""
        return run_page(store.get_run(run_id))

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page_route(scenarios: Annotated[list[str] | None, Query()] = None) -> str:
        """Compare stored scenarios: median cash and metrics, paired with the first."""
        return compare_page(store.list_scenarios(), scenarios or [])

    @app.get("/data", response_class=HTMLResponse)
    def data_page_route() -> str:
        """Explore the data: the fact base and API launch prices."""
        return data_page(list(load_facts().values()))

    @app.get("/scenarios/{name}", response_class=HTMLResponse)
    def scenario_page_route(name: str) -> str:
        """A scenario's page: levers, YAML editor, cash fan."""
        return scenario_page(store.get_scenario(name))

    @app.get("/static/app.js")
    def app_js() -> FileResponse:
        return FileResponse(STATIC / "app.js", media_type="text/javascript")

    @app.get("/static/plotly.min.js")
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.state.pool = pool
    app.state.previewers = previewers
    return app
