"""Tables of the run store: scenarios, their versions, and runs (SQLAlchemy 2 ORM).

A scenario is a name with versions; each version holds the scenario's text as written
(YAML). A run records what it ran (the version's text is copied into it, so deleting the
scenario keeps the run readable), its seed and sample count, the labecon version, its status
and, once complete, its result. Deleting a scenario marks it deleted; its versions and runs
stay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: A run's life: queued -> running -> complete | failed | cancelled.
RUN_STATUSES = ("queued", "running", "complete", "failed", "cancelled")


def utc_now() -> datetime:
    """Timestamps are UTC, stored without a zone (portable across SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base of the store's tables."""


class ScenarioRecord(Base):
    """A named scenario; its content lives in its versions."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    versions: Mapped[list[VersionRecord]] = relationship(
        back_populates="scenario", order_by="VersionRecord.number"
    )


class VersionRecord(Base):
    """One version of a scenario: its text as written, numbered from 1."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    scenario: Mapped[ScenarioRecord] = relationship(back_populates="versions")


class RunRecord(Base):
    """A simulation run: what it ran, how, its status and, when complete, its result."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scenario_name: Mapped[str] = mapped_column(String(200), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_versions.id"))
    scenario_text: Mapped[str] = mapped_column(Text)  # what ran, kept whatever happens later
    samples: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    labecon_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    owner_pid: Mapped[int | None] = mapped_column(Integer, default=None)
    # the machine of owner_pid (schema 0002; empty for older runs: taken as this machine)
    owner_host: Mapped[str | None] = mapped_column(String(255), default=None)
    done: Mapped[int | None] = mapped_column(Integer, default=None)  # samples done (0002)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    result_json: Mapped[str | None] = mapped_column(Text, default=None)
    result_parquet: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # the run page's monthly fans, JSON (schema 0002; empty for runs stored before)
    result_monthly: Mapped[str | None] = mapped_column(Text, default=None)
