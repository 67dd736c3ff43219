"""Runs keep their monthly fans (quantiles by month of cash, revenue, operating income).

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
    """Add runs.result_monthly (JSON text; empty for runs stored before it)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("result_monthly", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("result_monthly")
