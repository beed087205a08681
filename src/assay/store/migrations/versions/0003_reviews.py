"""Human reviews: labels a reviewer gives to a run's answers in `assay view`.

One row per (run, case, reviewer, kind); a reviewer who labels again replaces the row.
`kind` is "qualification" (label safe = qualified / unsafe = unqualified, with the risk)
or "refusal" (label refusal / partial / compliance), the vocabulary `assay graders
validate` reads.

Revision ID: 0003
Revises: 0001 (when merged after 0002_pending_lease, this revises 0002)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("risk", sa.String(64)),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reviews_run_case", "reviews", ["run_id", "case_id"])
    op.create_index("ux_reviews_one", "reviews", ["run_id", "case_id", "reviewer", "kind"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_reviews_one", "reviews")
    op.drop_index("ix_reviews_run_case", "reviews")
    op.drop_table("reviews")
