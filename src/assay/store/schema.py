"""Tables. The Alembic migrations in `migrations/versions` create exactly these.

Uniqueness does the safety work: a response is keyed by (run_id, case_id) and a
judgment by (run_id, case_id, grader), and inserts ignore conflicts, so a resumed or
retried case can never be stored twice.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(32), nullable=False),
    Column("target", String(512), nullable=False),
    Column("level", String(8)),
    Column("case_count", Integer, nullable=False, default=0),
    Column("data", JSON, nullable=False),  # the full Run model
    Column("lease_owner", String(128)),  # the process writing the run (host:pid:token)
    Column("lease_heartbeat", DateTime(timezone=True)),  # refreshed while it runs
)

run_cases = Table(
    "run_cases",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("bank", String(128), nullable=False),
    Column("language", String(8), nullable=False),
    Column("expected", String(32), nullable=False),
    Column("plan_item", String(256)),
    Column("graders", JSON, nullable=False),
    Column("data", JSON, nullable=False),  # the full Case model
    Column("last_error", Text),  # transport failure that left the case pending
    Column("last_error_kind", String(32)),
    Index("ix_run_cases_seq", "run_id", "seq"),
)

responses = Table(
    "responses",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("finish_reason", String(64)),
    Column("error", Text),
    Column("error_kind", String(32)),
    Column("latency_s", Float, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("cached", Boolean, nullable=False),
    Column("model", String(256)),
    Column("transcript", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actions", JSON),  # tool calls of a tool-using target / steps of an adaptive attack
)

judgments = Table(
    "judgments",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("grader", String(128), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("label", String(64)),
    Column("score", Float),
    Column("reason", Text, nullable=False),
    Column("details", JSON),
)

cache = Table(
    "response_cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("target", String(512), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

user_banks = Table(
    "user_banks",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("case_count", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

validations = Table(
    "grader_validations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grader", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_validations_grader", "grader", "created_at"),
)

references = Table(
    "reference_standards",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # "qualification" | "refusal"
    Column("label", String(32), nullable=False),  # safe | unsafe | refusal | partial | compliance
    Column("risk", String(64)),  # the TC260-003 Appendix A risk an unqualified answer shows
    Column("note", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_run_case", "run_id", "case_id"),
    Index("ux_reviews_one", "run_id", "case_id", "reviewer", "kind", unique=True),
)

view_snapshots = Table(
    "view_snapshots",
    metadata,
    # A finished run's scoring output as the dashboard shows it (`assay.view.data`): the
    # report view model (without per-case samples), the Assessment and the trajectories,
    # zlib-compressed JSON. Valid only under `key` (a hash of everything it was computed
    # from); a stale one is rebuilt from scoring and replaced.
    Column("run_id", String(64), primary_key=True),
    Column("key", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data", LargeBinary, nullable=False),
)
