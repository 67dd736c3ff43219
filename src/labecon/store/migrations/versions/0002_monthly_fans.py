"""Runs keep their monthly fans, the machine that runs them and their progress.

The fans are quantiles by month of cash, revenue and operating income; the machine lets
recovery judge only its own processes; progress (samples done) is written by the worker
process that runs the run, for any server to read.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add runs.result_monthly (JSON text), owner_host and done; empty for older runs."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("result_monthly", sa.Text, nullable=True))
        batch.add_column(sa.Column("owner_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("done", sa.Integer, nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("done")
        batch.drop_column("owner_host")
        batch.drop_column("result_monthly")
