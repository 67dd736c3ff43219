"""Alembic environment of the run store: runs on the connection :class:`Store` hands it."""

from __future__ import annotations

from alembic import context

from labecon.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
