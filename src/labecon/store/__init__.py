"""The run store: scenarios with versions, and runs with their results, in a database.

``Store()`` opens the embedded default, an SQLite file in the user's data directory
(``$XDG_DATA_HOME/labecon/labecon.db``, else ``~/.local/share/labecon/labecon.db``);
``Store("postgresql+psycopg://user@host/db")`` a server database for a team. Opening a store
brings its schema up to date (Alembic migrations shipped with labecon) and marks as failed
the runs whose process stopped without finishing them (killed, crashed): a run is complete,
with its whole result, or it is failed, never half-written.

The store is an adapter: it calls labecon's core (to validate a scenario) and the core never
imports it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from labecon.errors import LabeconError, ScenarioError
from labecon.scenario.loading import load_scenario, parse_text
from labecon.scenario.schema import Scenario
from labecon.store.models import RUN_STATUSES, RunRecord, ScenarioRecord, VersionRecord, utc_now

__all__ = [
    "ConflictError",
    "NotFoundError",
    "RunInfo",
    "ScenarioVersion",
    "Store",
    "StoreError",
    "default_url",
    "scenario_from_text",
    "validate_text",
]

MIGRATIONS = Path(__file__).parent / "migrations"
#: Longest scenario name [characters].
NAME_LENGTH = 200


class StoreError(LabeconError):
    """A store operation that cannot be done; the message says why and what is accepted."""


class NotFoundError(StoreError):
    """No such scenario, version or run."""


class ConflictError(StoreError):
    """The store changed under the request: a stale version, a name in use, a finished run."""


@dataclass(frozen=True)
class ScenarioVersion:
    """One version of a stored scenario."""

    name: str
    version: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class RunInfo:
    """A run as stored, without its result."""

    id: str
    scenario_name: str
    version: int | None
    samples: int
    seed: int
    labecon_version: str
    status: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    done: int = 0  # samples done: all of them once complete


def default_url() -> str:
    """The embedded default: an SQLite file in the user's data directory."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'labecon' / 'labecon.db'}"


def _alive(pid: int | None) -> bool:
    """Whether a process of this machine with that id is running."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


class Store:
    """Scenarios and runs in a database; see the module's docstring."""

    def __init__(self, url: str | None = None, *, recover: bool = True) -> None:
        self.url = url or default_url()
        if self.url.startswith("sqlite:///") and not self.in_memory:
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if self.in_memory:
            # One in-memory database shared by every thread (each connection would get its own)
            self.engine: Engine = create_engine(
                self.url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            self.engine = create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()
        # A worker process opening the store of its server does not judge others' runs.
        self.recovered = self.recover() if recover else 0

    @property
    def in_memory(self) -> bool:
        """Whether the database lives in this process's memory (SQLite ``sqlite://``)."""
        return self.url in ("sqlite://", "sqlite:///:memory:")

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest revision shipped with labecon."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return None if row is None else str(row[0])

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session whose work is committed as one transaction, or not at all."""
        with self._sessions() as session, session.begin():
            yield session

    # -- scenarios ------------------------------------------------------------------------
    def create_scenario(self, name: str, text: str) -> ScenarioVersion:
        """Store a new scenario as version 1; the text must be a valid scenario."""
        _check_name(name)
        validate_text(text, name)
        with self._session() as session:
            record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
            if record is not None and record.deleted_at is None:
                raise ConflictError(
                    f"name: a scenario {name!r} exists (version {len(record.versions)}); "
                    "accepted: a new name, or an update of that scenario"
                )
            if record is None:
                record = ScenarioRecord(name=name)
                session.add(record)
                session.flush()
            record.deleted_at = None  # a deleted name is used again: its versions continue
            number = len(record.versions) + 1
            version = VersionRecord(scenario_id=record.id, number=number, text=text)
            session.add(version)
            session.flush()
            return ScenarioVersion(name, number, text, version.created_at)

    def update_scenario(self, name: str, text: str, expected_version: int) -> ScenarioVersion:
        """Store ``text`` as the next version, if the latest is still ``expected_version``."""
        validate_text(text, name)
        with self._session() as session:
            record = self._live(session, name)
            latest = len(record.versions)
            if expected_version != latest:
                raise ConflictError(
                    f"version: {expected_version} is not the latest version of {name!r} "
                    f"({latest}); accepted: {latest} (read the scenario again, then update)"
                )
            version = VersionRecord(scenario_id=record.id, number=latest + 1, text=text)
            session.add(version)
            session.flush()
            return ScenarioVersion(name, latest + 1, text, version.created_at)

    def get_scenario(self, name: str, version: int | None = None) -> ScenarioVersion:
        """The latest version of a scenario, or the one asked for."""
        with self._session() as session:
            record = self._live(session, name)
            versions = record.versions
            if version is None:
                chosen = versions[-1]
            elif 1 <= version <= len(versions):
                chosen = versions[version - 1]
            else:
                raise NotFoundError(
                    f"version: {name!r} has no version {version}; accepted: 1 to {len(versions)}"
                )
            return ScenarioVersion(name, chosen.number, chosen.text, chosen.created_at)

    def list_scenarios(self) -> list[ScenarioVersion]:
        """The latest version of every scenario not deleted, by name."""
        with self._session() as session:
            records = session.scalars(
                select(ScenarioRecord)
                .where(ScenarioRecord.deleted_at.is_(None))
                .order_by(ScenarioRecord.name)
            ).all()
            return [
                ScenarioVersion(r.name, v.number, v.text, v.created_at)
                for r in records
                for v in r.versions[-1:]
            ]

    def delete_scenario(self, name: str) -> None:
        """Mark a scenario deleted; its versions and runs stay readable."""
        with self._session() as session:
            self._live(session, name).deleted_at = utc_now()

    def _live(self, session: Session, name: str) -> ScenarioRecord:
        record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
        if record is None or record.deleted_at is not None:
            names = session.scalars(
                select(ScenarioRecord.name).where(ScenarioRecord.deleted_at.is_(None))
            ).all()
            raise NotFoundError(
                f"scenario: no scenario {name!r} in the store; accepted: "
                + (", ".join(names) or "none stored yet")
            )
        return record

    # -- runs -----------------------------------------------------------------------------
    def create_run(self, name: str, samples: int, seed: int, version: int | None = None) -> RunInfo:
        """Record a queued run of a stored scenario's version (default: the latest)."""
        from labecon import __version__

        with self._session() as session:
            record = self._live(session, name)
            chosen = record.versions[-1] if version is None else None
            if version is not None:
                if not 1 <= version <= len(record.versions):
                    raise NotFoundError(
                        f"version: {name!r} has no version {version}; accepted: 1 to "
                        f"{len(record.versions)}"
                    )
                chosen = record.versions[version - 1]
            assert chosen is not None
            run = RunRecord(
                id=str(uuid.uuid4()),
                scenario_name=name,
                version_id=chosen.id,
                scenario_text=chosen.text,
                samples=samples,
                seed=seed,
                labecon_version=__version__,
                status="queued",
                owner_pid=os.getpid(),  # the process that queued it runs it
                owner_host=socket.gethostname(),
            )
            session.add(run)
            session.flush()
            return _info(run, chosen.number)

    def start_run(self, run_id: str, pid: int | None = None) -> RunInfo:
        """Mark a queued run running in process ``pid`` (default: this one)."""
        with self._session() as session:
            run = self._run(session, run_id)
            self._expect(run, "queued")
            run.status = "running"
            run.owner_pid = os.getpid() if pid is None else pid
            run.owner_host = socket.gethostname()
            run.started_at = utc_now()
            return self._info(session, run)

    def complete_run(
        self,
        run_id: str,
        result_json: str,
        result_parquet: bytes | None,
        monthly: str | None = None,
    ) -> RunInfo:
        """Store a running run's whole result and mark it complete, in one transaction.

        ``monthly`` is the JSON of its monthly fans (what the run page draws), if any.
        """
        with self._session() as session:
            run = self._run(session, run_id)
            self._expect(run, "running")
            run.result_json = result_json
            run.result_parquet = result_parquet
            run.result_monthly = monthly
            run.status = "complete"
            run.finished_at = utc_now()
            return self._info(session, run)

    def set_progress(self, run_id: str, done: int) -> bool:
        """Record a running run's samples done; False if it is no longer running (cancelled)."""
        with self._session() as session:
            updated = session.execute(
                update(RunRecord)
                .where(RunRecord.id == run_id, RunRecord.status == "running")
                .values(done=done)
            )
            return bool(getattr(updated, "rowcount", 0))

    def fail_run(self, run_id: str, error: str) -> RunInfo:
        """Mark a queued or running run failed, with why."""
        with self._session() as session:
            run = self._run(session, run_id)
            self._expect(run, "queued", "running")
            run.status, run.error, run.finished_at = "failed", error, utc_now()
            return self._info(session, run)

    def cancel_run(self, run_id: str) -> RunInfo:
        """Cancel a queued or running run (a running one stops at its next chunk)."""
        with self._session() as session:
            run = self._run(session, run_id)
            self._expect(run, "queued", "running")
            run.status, run.finished_at = "cancelled", utc_now()
            return self._info(session, run)

    def get_run(self, run_id: str) -> RunInfo:
        """A run's record, without its result."""
        with self._session() as session:
            return self._info(session, self._run(session, run_id))

    def run_result(self, run_id: str) -> tuple[str, bytes | None]:
        """A complete run's result: its JSON document and its per-sample Parquet file."""
        with self._session() as session:
            run = self._run(session, run_id)
            result_json = self._expect_result(run)
            return result_json, run.result_parquet

    def run_monthly(self, run_id: str) -> str:
        """A complete run's monthly fans (JSON); NotFoundError for a run stored without them."""
        with self._session() as session:
            run = self._run(session, run_id)
            self._expect_result(run)
            if run.result_monthly is None:
                raise NotFoundError(
                    f"run: {run_id} has no monthly fans (it was stored without them, before "
                    "schema 0002); its yearly result is at /result"
                )
            return run.result_monthly

    def run_scenario_text(self, run_id: str) -> str:
        """The scenario text a run ran (kept even when the scenario is deleted)."""
        with self._session() as session:
            return self._run(session, run_id).scenario_text

    def list_runs(
        self, name: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[RunInfo]:
        """Runs, newest first; of scenario ``name`` if given; ``limit`` after ``offset``.

        ``limit`` None is every run.
        """
        with self._session() as session:
            query = select(RunRecord).order_by(RunRecord.created_at.desc(), RunRecord.id)
            if name is not None:
                query = query.where(RunRecord.scenario_name == name)
            query = query.offset(offset).limit(limit)
            return [self._info(session, run) for run in session.scalars(query).all()]

    def recover(self) -> int:
        """Mark failed the queued or running runs whose process is gone; returns how many.

        A process is judged only on its own machine: runs that another machine runs (a team's
        store on a database server) are left to that machine's next start.
        """
        host = socket.gethostname()
        with self._session() as session:
            orphans = [
                run
                for run in session.scalars(
                    select(RunRecord).where(RunRecord.status.in_(("queued", "running")))
                ).all()
                if run.owner_host in (None, host) and not _alive(run.owner_pid)
            ]
            for run in orphans:
                run.status = "failed"
                run.error = (
                    f"interrupted: the process that ran it (pid {run.owner_pid}) stopped before "
                    "it finished; start the run again"
                )
                run.finished_at = utc_now()
            return len(orphans)

    def counts(self) -> dict[str, int]:
        """Runs by status (every status listed)."""
        with self._session() as session:
            rows = session.execute(
                select(RunRecord.status, func.count()).group_by(RunRecord.status)
            ).all()
            found = {str(status): int(count) for status, count in rows}
            return {status: found.get(status, 0) for status in RUN_STATUSES}

    def _run(self, session: Session, run_id: str) -> RunRecord:
        run = session.get(RunRecord, run_id)
        if run is None:
            raise NotFoundError(f"run: no run {run_id!r} in the store")
        return run

    @staticmethod
    def _expect_result(run: RunRecord) -> str:
        """A run's result document; ConflictError unless the run is complete."""
        if run.status != "complete" or run.result_json is None:
            raise ConflictError(
                f"run: {run.id} is {run.status}, it has no result; accepted: a complete run"
            )
        return run.result_json

    @staticmethod
    def _expect(run: RunRecord, *statuses: str) -> None:
        if run.status not in statuses:
            raise ConflictError(
                f"run: {run.id} is {run.status}; accepted: a run that is {' or '.join(statuses)}"
            )

    def _info(self, session: Session, run: RunRecord) -> RunInfo:
        number = None
        if run.version_id is not None:
            version = session.get(VersionRecord, run.version_id)
            number = None if version is None else version.number
        return _info(run, number)


def _info(run: RunRecord, number: int | None) -> RunInfo:
    return RunInfo(
        id=run.id,
        scenario_name=run.scenario_name,
        version=number,
        samples=run.samples,
        seed=run.seed,
        labecon_version=run.labecon_version,
        status=run.status,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        done=run.samples if run.status == "complete" else run.done or 0,
    )


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # worker processes write the same file [ms]
    cursor.close()


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LENGTH:
        raise StoreError(
            f"name: {name!r} is not accepted; accepted: 1 to {NAME_LENGTH} characters, not all "
            "blank"
        )


def scenario_from_text(text: str, name: str) -> Scenario:
    """The scenario a stored YAML text holds (named ``name`` unless it names itself).

    Text that is not a valid scenario raises ScenarioError with every problem and its path.
    """
    data = parse_text(text, toml=False, source=name)
    data.setdefault("name", name)
    try:
        return load_scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, source=name) from None


def validate_text(text: str, name: str) -> None:
    """Refuse text that is not a valid scenario, with every problem and its field path."""
    scenario_from_text(text, name)
