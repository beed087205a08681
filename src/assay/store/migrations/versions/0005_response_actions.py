"""Recorded actions of a response.

- responses.actions: the tool calls a tool-using target made (tool, arguments, the
  simulated result), or the steps of an adaptive attack; NULL for plain answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("actions", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("actions")
