"""Pending errors and run leases.

- run_cases.last_error / last_error_kind: the transport failure that left a case pending
  (timeouts, 429, 5xx, connection errors that ran out of attempts). A pending case has no
  response and no judgment; `--resume` sends it again.
- runs.lease_owner / lease_heartbeat: the one process writing a run. A second writer is
  refused while the heartbeat is fresh; a stale lease is taken over by compare-and-set.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_cases") as batch:
        batch.add_column(sa.Column("last_error", sa.Text))
        batch.add_column(sa.Column("last_error_kind", sa.String(32)))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(128)))
        batch.add_column(sa.Column("lease_heartbeat", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lease_heartbeat")
        batch.drop_column("lease_owner")
    with op.batch_alter_table("run_cases") as batch:
        batch.drop_column("last_error_kind")
        batch.drop_column("last_error")
