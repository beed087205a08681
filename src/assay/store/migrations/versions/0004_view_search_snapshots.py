"""Search indexes for the dashboard's case table, and its scoring snapshots (`assay view`).

`view_snapshots` (in `schema.metadata`): one row per finished run with the scoring output
the dashboard shows, so a run page is not recomputed from every judgment on each server
start; keyed by a hash of what it was computed from (see `assay.view.data`).

The cases page searches prompts and answers as substrings (case-insensitive) and
filters on a case's categories, risks and transforms. Without indexes both scan every
case of the run and parse its JSON: about 3 s per page at 100k cases. Dialect-specific,
so none of this is in `schema.metadata`; every query still works (slower) where an index
could not be made.

PostgreSQL:
* `pg_trgm` trigram GIN indexes on the answer text and on the prompt (the last turn of
  the case, the expression `assay.view.data` searches), used by ILIKE. Creating the
  extension needs a privilege the store's role may lack: then these two are skipped
  (a note in the log) and search scans as before.
* jsonb GIN indexes on the case's `categories`, `risks` and `transforms` lists, used by
  containment (`@>`).

SQLite: two FTS5 tables with the trigram tokenizer (SQLite >= 3.34), `search_prompts`
and `search_answers`, whose rowid is the rowid of the `run_cases` / `responses` row they
index, kept in step by triggers (filled here for existing rows). A phrase query on a
trigram table is a substring match. Where FTS5 or the trigram tokenizer is missing the
tables are not made and search scans with LIKE as before. (Assay never VACUUMs the store;
a VACUUM renumbers rowids: rebuild with `DROP TABLE search_*` and re-running 0004.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("assay.store")

#: the prompt of a case (its last turn) as PostgreSQL text; `assay.view.data` uses the same text
PG_PROMPT = "(data -> 'messages' -> -1 ->> 'content')"
#: the same on SQLite
SQLITE_PROMPT = "json_extract({row}.data, '$.messages[#-1].content')"
JSON_LISTS = ("categories", "risks", "transforms")


def upgrade() -> None:
    op.create_table(
        "view_snapshots",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_up()
    elif bind.dialect.name == "sqlite":
        _sqlite_up()


def _postgres_up() -> None:
    conn = op.get_bind()
    for key in JSON_LISTS:
        op.execute(f"CREATE INDEX ix_run_cases_{key}_gin ON run_cases USING gin (((data -> '{key}')::jsonb))")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        log.warning("pg_trgm not available (%s); case search will scan without an index", exc.orig)
    has_trgm = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first()
    if has_trgm is None:
        return
    op.execute("CREATE INDEX ix_responses_text_trgm ON responses USING gin (text gin_trgm_ops)")
    op.execute(f"CREATE INDEX ix_run_cases_prompt_trgm ON run_cases USING gin ({PG_PROMPT} gin_trgm_ops)")


def _sqlite_up() -> None:
    conn = op.get_bind()
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE VIRTUAL TABLE search_prompts USING fts5(body, tokenize='trigram')")
            conn.exec_driver_sql("CREATE VIRTUAL TABLE search_answers USING fts5(body, tokenize='trigram')")
    except DBAPIError as exc:
        log.warning("SQLite FTS5 trigram tokenizer not available (%s); case search will scan", exc.orig)
        return
    prompt = SQLITE_PROMPT.format(row="new")
    for sql in (
        "CREATE TRIGGER search_prompts_ai AFTER INSERT ON run_cases BEGIN "
        f"INSERT INTO search_prompts(rowid, body) VALUES (new.rowid, {prompt}); END",
        "CREATE TRIGGER search_prompts_ad AFTER DELETE ON run_cases BEGIN "
        "DELETE FROM search_prompts WHERE rowid = old.rowid; END",
        "CREATE TRIGGER search_answers_ai AFTER INSERT ON responses BEGIN "
        "INSERT INTO search_answers(rowid, body) VALUES (new.rowid, new.text); END",
        "CREATE TRIGGER search_answers_ad AFTER DELETE ON responses BEGIN "
        "DELETE FROM search_answers WHERE rowid = old.rowid; END",
        "CREATE TRIGGER search_answers_au AFTER UPDATE OF text ON responses BEGIN "
        "UPDATE search_answers SET body = new.text WHERE rowid = new.rowid; END",
        "INSERT INTO search_prompts(rowid, body) SELECT rowid, "
        + SQLITE_PROMPT.format(row="run_cases")
        + " FROM run_cases",
        "INSERT INTO search_answers(rowid, body) SELECT rowid, text FROM responses",
    ):
        conn.exec_driver_sql(sql)


def downgrade() -> None:
    op.drop_table("view_snapshots")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_run_cases_prompt_trgm")
        op.execute("DROP INDEX IF EXISTS ix_responses_text_trgm")
        for key in JSON_LISTS:
            op.execute(f"DROP INDEX IF EXISTS ix_run_cases_{key}_gin")
    elif bind.dialect.name == "sqlite":
        for trig in (
            "search_prompts_ai",
            "search_prompts_ad",
            "search_answers_ai",
            "search_answers_ad",
            "search_answers_au",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS search_prompts")
        op.execute("DROP TABLE IF EXISTS search_answers")
