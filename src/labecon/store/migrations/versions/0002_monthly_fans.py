"""Runs keep their monthly fans and the machine that runs them.

The fans are quantiles by month of cash, revenue and operating income; the machine lets
recovery judge only its own processes.

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
    """Add runs.result_monthly (JSON text) and runs.owner_host; empty for older runs."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("result_monthly", sa.Text, nullable=True))
        batch.add_column(sa.Column("owner_host", sa.String(255), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("owner_host")
        batch.drop_column("result_monthly")
