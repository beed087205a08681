"""The store: SQLite by default (WAL mode), PostgreSQL by URL.

Default location: `$ASSAY_DB` if set (any SQLAlchemy URL), else the config file's `db`,
else `sqlite:///$ASSAY_HOME/assay.db` with `ASSAY_HOME` defaulting to `~/.assay`
(`assay.core.config`).
The schema is created and upgraded by Alembic migrations when the store opens.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, create_engine, event, func, inspect, select, type_coerce, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from assay.core.config import default_db_url
from assay.core.errors import InputError
from assay.core.secrets import known_secrets, redact_obj, register_secret, url_secrets
from assay.core.types import (
    Case,
    CaseFacts,
    Judgment,
    JudgmentFacts,
    Message,
    Outcome,
    Response,
    ResponseFacts,
    Run,
    StoredCase,
    Usage,
)
from assay.store import schema as t

HEAD_REVISION = "0005"
#: PostgreSQL advisory lock key held while migrating (any constant; "assay" in ASCII)
_PG_MIGRATE_LOCK = 0x6173736179


def default_url() -> str:
    return default_db_url()


def _now() -> datetime:
    return datetime.now(UTC)


def masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


class Store:
    """All reads and writes of runs, cases, responses and judgments."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_url()
        register_secret(*url_secrets(self.url))  # never stored, printed or reported
        self.engine = _make_engine(self.url)
        self.dialect = self.engine.dialect.name
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"Store({masked(self.url)})"

    # -- schema ----------------------------------------------------------------------
    def migrate(self, *, head_script: bool = True) -> None:
        """Create or upgrade the schema. Safe when several processes open a fresh store at
        once: the upgrade runs under a lock (SQLite: BEGIN IMMEDIATE, the database's write
        lock; PostgreSQL: an advisory lock) and re-checks the revision once it holds it.
        A database holding someone else's tables is refused, never altered; a revision this
        Assay does not know is one clear error.

        An empty SQLite database gets the head schema from `sqlite_head.json` (the
        statements the migrations leave in `sqlite_master`, checked against them by
        tests/store/test_store.py) instead of importing Alembic and replaying every migration;
        `head_script=False` always migrates."""
        try:
            with self.engine.connect() as conn:
                if _current_revision(conn) == HEAD_REVISION:
                    return
            with self.engine.begin() as conn:
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif self.dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
                revision = _current_revision(conn)
                if revision == HEAD_REVISION:
                    return  # another process migrated while we waited for the lock
                if revision is None:
                    _refuse_foreign_database(conn, self.url)
                    if head_script and self.dialect == "sqlite" and _create_sqlite_head(conn):
                        return
                from alembic import command
                from alembic.config import Config
                from alembic.util.exc import CommandError

                cfg = Config()
                cfg.set_main_option("script_location", str(resources.files("assay.store") / "migrations"))
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, "head")
                except CommandError as exc:
                    raise InputError(
                        f"the database {masked(self.url)} is at schema revision {revision!r}, which this "
                        f"Assay does not know (written by a newer version?); upgrade Assay or use another "
                        f"database ({exc})",
                        where="--db",
                    ) from None
        except OperationalError as exc:
            raise InputError(
                f"cannot open the database {masked(self.url)}: {_first_line(exc)}", where="--db"
            ) from exc

    # -- leases: one writer per run ----------------------------------------------------
    def take_lease(
        self, run_id: str, owner: str, stale_after_s: float
    ) -> tuple[bool, str | None, float | None]:
        """Make `owner` the one writer of a run, by compare-and-set.

        Succeeds when the run has no lease, already belongs to `owner`, or its lease is
        stale (no heartbeat for `stale_after_s` seconds, or held by a process of this host
        that no longer exists). Returns (taken, holder, seconds since the holder's heartbeat).
        """
        now = _now()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.runs.c.lease_owner, t.runs.c.lease_heartbeat).where(t.runs.c.id == run_id)
            ).first()
        if row is None:
            return False, None, None
        holder, beat = row[0], row[1]
        age = None if beat is None else (now - _aware(beat)).total_seconds()
        if holder and holder != owner and age is not None and age < stale_after_s and _holder_alive(holder):
            return False, holder, age
        cond = t.runs.c.id == run_id
        cond &= t.runs.c.lease_owner.is_(None) if holder is None else t.runs.c.lease_owner == holder
        cond &= t.runs.c.lease_heartbeat.is_(None) if beat is None else t.runs.c.lease_heartbeat == beat
        with self.engine.begin() as conn:
            taken = conn.execute(update(t.runs).where(cond).values(lease_owner=owner, lease_heartbeat=now))
        if taken.rowcount == 1:
            return True, holder, age
        # someone else won the race: report who holds it now
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.runs.c.lease_owner, t.runs.c.lease_heartbeat).where(t.runs.c.id == run_id)
            ).first()
        if row is None:
            return False, None, None
        return False, row[0], None if row[1] is None else (_now() - _aware(row[1])).total_seconds()

    def renew_lease(self, run_id: str, owner: str) -> bool:
        """Refresh the heartbeat; False when the lease is no longer ours."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(t.runs)
                .where((t.runs.c.id == run_id) & (t.runs.c.lease_owner == owner))
                .values(lease_heartbeat=_now())
            )
        return res.rowcount == 1

    def release_lease(self, run_id: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.runs)
                .where((t.runs.c.id == run_id) & (t.runs.c.lease_owner == owner))
                .values(lease_owner=None, lease_heartbeat=None)
            )

    # -- runs ------------------------------------------------------------------------
    def create_run(
        self,
        run: Run,
        cases: Iterable[Case | StoredCase],
        graders: Mapping[str, Sequence[str]],
        plan_items: dict[str, str] | None = None,
        *,
        ready: Callable[[], object] | None = None,
    ) -> None:
        """Store a new run and the cases it will send (in that order), in one transaction:
        one prepared insert per 500 cases, each chunk's rows made only when it is written.

        `ready()` is called last, before the commit (it may wait, e.g. for the target's
        check); if it raises, nothing of the run is stored."""
        plan_items = plan_items or {}
        dumps = json.dumps
        insert = self._run_cases_sql()
        graders_json: dict[tuple[str, ...], str] = {}  # most cases share their grader list

        def row(i: int, c: Case | StoredCase) -> tuple[Any, ...]:
            s = c if isinstance(c, StoredCase) else StoredCase.of(c)
            names = tuple(graders.get(s.id, ()))
            if names not in graders_json:
                graders_json[names] = dumps(list(names))
            return (
                run.id,
                s.id,
                i,
                s.bank,
                s.language,
                s.expected,
                plan_items.get(s.id),
                graders_json[names],
                s.data,
            )

        with self.engine.begin() as conn:
            conn.execute(t.runs.insert().values(**_run_row(run)))
            if insert is None:  # another dialect: SQLAlchemy statements
                for part in _chunks(list(enumerate(cases)), 500):
                    conn.execute(
                        t.run_cases.insert(), [_case_row(run.id, i, c, graders, plan_items) for i, c in part]
                    )
                if ready is not None:
                    ready()
                return
            driver: Any = conn.connection.driver_connection
            cur = driver.cursor()
            chunk: list[tuple[Any, ...]] = []
            for i, c in enumerate(cases):
                chunk.append(row(i, c))
                if len(chunk) == 500:
                    cur.executemany(insert, chunk)
                    chunk = []
            if chunk:
                cur.executemany(insert, chunk)
            cur.close()
            if ready is not None:
                ready()

    def _run_cases_sql(self) -> str | None:
        if self.dialect == "sqlite":
            mark, js = "?", "?"
        elif self.dialect == "postgresql":
            mark, js = "%s", "CAST(%s AS JSON)"
        else:
            return None
        cols = "run_id, case_id, seq, bank, language, expected, plan_item, graders, data"
        marks = ", ".join([mark] * 7 + [js, js])
        return f"INSERT INTO run_cases ({cols}) VALUES ({marks})"

    def run_case_pages(
        self, run_id: str, *, page: int = 500, skip: Callable[[str], bool] | None = None
    ) -> Iterator[list[Case]]:
        """The run's cases in dispatch order, a page at a time (each page its own read): what
        the engine draws from, so a run of any size holds only a page of cases. `skip(case
        id)`: leave those out (a resume leaves out the answered ones)."""
        after = -1
        while True:
            q = (
                select(t.run_cases.c.seq, t.run_cases.c.case_id, t.run_cases.c.data)
                .where((t.run_cases.c.run_id == run_id) & (t.run_cases.c.seq > after))
                .order_by(t.run_cases.c.seq)
                .limit(page)
            )
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
            if not rows:
                return
            after = rows[-1][0]
            cases = [Case.model_validate(data) for _seq, cid, data in rows if skip is None or not skip(cid)]
            if cases:
                yield cases

    def save_run(self, run: Run) -> None:
        with self.engine.begin() as conn:
            row = _run_row(run)
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run.id)
                .values(**{k: v for k, v in row.items() if k != "id"})
            )

    def get_run(self, run_id: str) -> Run:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.runs.c.data).where(t.runs.c.id == run_id)).first()
            if row is None:
                # allow unique prefixes, as git does
                rows = conn.execute(
                    select(t.runs.c.data).where(t.runs.c.id.startswith(run_id, autoescape=True)).limit(2)
                ).all()
                if len(rows) == 1 and len(run_id) >= 4:
                    row = rows[0]
        if row is None:
            raise InputError(
                f"no run {run_id!r} in {masked(self.url)}; `assay runs list` shows the stored runs",
                where="RUN_ID",
            )
        return Run.model_validate(row[0])

    def list_runs(self, limit: int = 50, status: str | None = None, target: str | None = None) -> list[Run]:
        q = select(t.runs.c.data).order_by(t.runs.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(t.runs.c.status == status)
        if target:
            q = q.where(t.runs.c.target == target)
        with self.engine.connect() as conn:
            return [Run.model_validate(r[0]) for r in conn.execute(q)]

    def run_cases(self, run_id: str, case_ids: Iterable[str] | None = None) -> list[Case]:
        """The run's cases in dispatch order (`case_ids`: only those)."""
        q = (
            select(t.run_cases.c.data, t.run_cases.c.seq)
            .where(t.run_cases.c.run_id == run_id)
            .order_by(t.run_cases.c.seq)
        )
        with self.engine.connect() as conn:
            rows = _rows_for(conn, q, t.run_cases.c.case_id, case_ids)
        if case_ids is not None:
            rows.sort(key=lambda r: r[1])
        return [Case.model_validate(r[0]) for r in rows]

    def case_facts(self, run_id: str) -> list[CaseFacts]:
        """The run's cases in dispatch order as the facts figures read, without their texts:
        what the summary, the assessment and a bounded report of a run of any size read."""
        q = (
            select(
                t.run_cases.c.case_id,
                t.run_cases.c.bank,
                t.run_cases.c.language,
                t.run_cases.c.expected,
                self._json_field(t.run_cases.c.data, "categories"),
                self._json_field(t.run_cases.c.data, "risks"),
                self._json_field(t.run_cases.c.data, "transforms"),
            )
            .where(t.run_cases.c.run_id == run_id)
            .order_by(t.run_cases.c.seq)
        )
        share = _Sharer()
        with self.engine.connect() as conn:
            return [
                CaseFacts(
                    cid,
                    share(bank),
                    share(lang),
                    share(expected),
                    share.seq(cats),
                    share.seq(risks),
                    share.seq(chain),
                )
                for cid, bank, lang, expected, cats, risks, chain in conn.execute(q)
            ]

    def _json_field(self, column: Any, key: str) -> Any:
        """`column`'s `key` as the driver returns it cheapest: JSON text on SQLite, a decoded
        value on PostgreSQL (`_Sharer.seq` takes both)."""
        if self.dialect == "sqlite":
            return func.json_extract(column, f"$.{key}", type_=String)
        return column[key]

    def response_facts(self, run_id: str) -> dict[str, ResponseFacts]:
        """case id -> what figures read of its response (whether it failed), in dispatch order."""
        q = (
            select(t.responses.c.case_id, t.responses.c.error)
            .join(
                t.run_cases,
                (t.run_cases.c.run_id == t.responses.c.run_id)
                & (t.run_cases.c.case_id == t.responses.c.case_id),
            )
            .where(t.responses.c.run_id == run_id)
            .order_by(t.run_cases.c.seq)
        )
        ok = ResponseFacts()
        with self.engine.connect() as conn:
            return {cid: ok if error is None else ResponseFacts(error) for cid, error in conn.execute(q)}

    def judgment_facts(self, run_id: str) -> list[JudgmentFacts]:
        """`judgments` (same order) as the facts figures read, without reasons or details."""
        q = (
            select(
                t.judgments.c.case_id,
                t.judgments.c.grader,
                t.judgments.c.outcome,
                t.run_cases.c.seq,
                type_coerce(t.run_cases.c.graders, String),  # JSON text: decoded once per distinct list
            )
            .outerjoin(
                t.run_cases,
                (t.run_cases.c.run_id == t.judgments.c.run_id)
                & (t.run_cases.c.case_id == t.judgments.c.case_id),
            )
            .where(t.judgments.c.run_id == run_id)
        )
        share = _Sharer()
        outcomes = {o.value: o for o in Outcome}
        place: dict[tuple[tuple[str, ...], str], tuple[int, str]] = {}  # (plan's graders, grader) -> rank
        rows: list[tuple[int, tuple[int, str], JudgmentFacts]] = []
        with self.engine.connect() as conn:
            for cid, grader, outcome, seq, planned in conn.execute(q):
                grader = share(grader)
                key = (share.seq(planned), grader)
                if key not in place:
                    place[key] = _judgment_rank(0, key[0], grader)[1:]
                rows.append(
                    (
                        seq if seq is not None else 1 << 30,
                        place[key],
                        JudgmentFacts(cid, grader, outcomes[outcome]),
                    )
                )
        rows.sort(key=lambda r: (r[0], r[1]))
        return [f for _, _, f in rows]

    def case_plan(self, run_id: str) -> dict[str, tuple[list[str], str | None]]:
        """case id → (grader ids, plan item id)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.run_cases.c.case_id, t.run_cases.c.graders, t.run_cases.c.plan_item).where(
                    t.run_cases.c.run_id == run_id
                )
            )
            return {r[0]: (list(r[1] or ()), r[2]) for r in rows}

    def responded_case_ids(self, run_id: str) -> set[str]:
        with self.engine.connect() as conn:
            return {
                r[0]
                for r in conn.execute(select(t.responses.c.case_id).where(t.responses.c.run_id == run_id))
            }

    def pending_errors(self, run_id: str) -> dict[str, tuple[str, str | None]]:
        """case id -> (error, kind) of unanswered cases whose last attempt failed in transport."""
        q = (
            select(t.run_cases.c.case_id, t.run_cases.c.last_error, t.run_cases.c.last_error_kind)
            .outerjoin(
                t.responses,
                (t.responses.c.run_id == t.run_cases.c.run_id)
                & (t.responses.c.case_id == t.run_cases.c.case_id),
            )
            .where((t.run_cases.c.run_id == run_id) & t.run_cases.c.last_error.is_not(None))
            .where(t.responses.c.case_id.is_(None))
        )
        with self.engine.connect() as conn:
            return {r[0]: (r[1], r[2]) for r in conn.execute(q)}

    def clear_error_responses(self, run_id: str) -> int:
        """Delete a run's responses that carry an error (and their judgments), so the cases
        are pending again (`--retry-errors`). The error is kept as the case's last error."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.responses.c.case_id, t.responses.c.error, t.responses.c.error_kind).where(
                    (t.responses.c.run_id == run_id) & t.responses.c.error.is_not(None)
                )
            ).all()
            for chunk in _chunks([r[0] for r in rows], 500):
                conn.execute(
                    t.judgments.delete().where(
                        (t.judgments.c.run_id == run_id) & t.judgments.c.case_id.in_(chunk)
                    )
                )
                conn.execute(
                    t.responses.delete().where(
                        (t.responses.c.run_id == run_id) & t.responses.c.case_id.in_(chunk)
                    )
                )
            for case_id, error, kind in rows:
                conn.execute(
                    update(t.run_cases)
                    .where((t.run_cases.c.run_id == run_id) & (t.run_cases.c.case_id == case_id))
                    .values(last_error=error, last_error_kind=kind)
                )
        return len(rows)

    def count_responses(self, run_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(t.responses).where(t.responses.c.run_id == run_id)
                ).scalar_one()
            )

    def responses(self, run_id: str, case_ids: Iterable[str] | None = None) -> dict[str, Response]:
        """case id -> response, in dispatch order (the run's case order); `case_ids`: only those."""
        q = (
            select(t.responses)
            .join(
                t.run_cases,
                (t.run_cases.c.run_id == t.responses.c.run_id)
                & (t.run_cases.c.case_id == t.responses.c.case_id),
            )
            .where(t.responses.c.run_id == run_id)
            .order_by(t.run_cases.c.seq)
            .add_columns(t.run_cases.c.seq.label("dispatch_seq"))
        )
        with self.engine.connect() as conn:
            rows = _rows_for(conn, q, t.responses.c.case_id, case_ids, mappings=True)
        if case_ids is not None:
            rows.sort(key=lambda r: r["dispatch_seq"])
        return {r["case_id"]: _response_from_row(r) for r in rows}

    def judgments(
        self, run_id: str, grader: str | None = None, case_ids: Iterable[str] | None = None
    ) -> list[Judgment]:
        """Judgments in dispatch order (the run's case order), and per case in the order the
        plan lists its graders: the order the engine produced them, which sequential
        analysis replays and whose first grader a requirement without one counts.
        `case_ids`: only those cases' judgments."""
        q = (
            select(t.judgments, t.run_cases.c.seq, t.run_cases.c.graders.label("planned_graders"))
            .outerjoin(
                t.run_cases,
                (t.run_cases.c.run_id == t.judgments.c.run_id)
                & (t.run_cases.c.case_id == t.judgments.c.case_id),
            )
            .where(t.judgments.c.run_id == run_id)
        )
        if grader:
            q = q.where(t.judgments.c.grader == grader)
        with self.engine.connect() as conn:
            rows = list(_rows_for(conn, q, t.judgments.c.case_id, case_ids, mappings=True))

        def order(r: Any) -> tuple[int, int, str]:
            return _judgment_rank(r["seq"], r["planned_graders"], r["grader"])

        return [judgment_from_row(r) for r in sorted(rows, key=order)]

    # -- writes (called by the writer thread) ------------------------------------------
    def write_results(
        self,
        run_id: str,
        responses: Sequence[Response],
        judgments: Sequence[Judgment],
        cache_rows: Sequence[tuple[str, str, Response]] = (),
        pending: Sequence[Response] = (),
    ) -> None:
        """Insert a batch in one transaction; rows that already exist are left as they are.

        `pending` are failed attempts of cases that stay unanswered: only their error is
        recorded (on the run's case row), nothing is judged.

        This is the hot path of every run, so it goes straight to the DB-API driver with
        prepared statements (`INSERT … ON CONFLICT DO NOTHING`, which SQLite and PostgreSQL
        share) instead of building SQLAlchemy statements per row: about ten times faster.
        """
        sql = self._fast_sql()
        if sql is None:
            self._write_results_core(run_id, responses, judgments, cache_rows, pending)
            return
        now = _now()
        stamp: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else now
        dumps = json.dumps
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            if responses:
                cur.executemany(
                    sql["responses"],
                    [
                        (
                            run_id,
                            r.case_id,
                            r.text,
                            r.finish_reason,
                            r.error,
                            r.error_kind,
                            r.latency_s,
                            r.usage.prompt_tokens,
                            r.usage.completion_tokens,
                            r.attempts,
                            r.cached,
                            r.model,
                            dumps([m.model_dump() for m in r.transcript], ensure_ascii=False)
                            if r.transcript
                            else None,
                            stamp,
                            dumps(list(r.actions), ensure_ascii=False) if r.actions else None,
                        )
                        for r in responses
                    ],
                )
            if judgments:
                cur.executemany(
                    sql["judgments"],
                    [
                        (
                            run_id,
                            j.case_id,
                            j.grader,
                            j.outcome.value,
                            j.label,
                            j.score,
                            j.reason,
                            dumps(j.details, ensure_ascii=False) if j.details else None,
                        )
                        for j in judgments
                    ],
                )
            if cache_rows:
                cur.executemany(
                    sql["cache"],
                    [(k, tgt, r.model_dump_json(), stamp) for k, tgt, r in cache_rows],
                )
            if pending:
                cur.executemany(sql["pending"], [(r.error, r.error_kind, run_id, r.case_id) for r in pending])
            cur.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def _fast_sql(self) -> dict[str, str] | None:
        if self.dialect == "sqlite":
            mark, js = "?", "?"
        elif self.dialect == "postgresql":
            mark, js = "%s", "CAST(%s AS JSON)"
        else:
            return None

        def insert(table: str, columns: str, json_cols: tuple[str, ...] = ()) -> str:
            cols = [c.strip() for c in columns.split(",")]
            marks = ", ".join(js if c in json_cols else mark for c in cols)
            return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT DO NOTHING"

        return {
            "responses": insert(
                "responses",
                "run_id, case_id, text, finish_reason, error, error_kind, latency_s, prompt_tokens, "
                "completion_tokens, attempts, cached, model, transcript, created_at, actions",
                ("transcript", "actions"),
            ),
            "judgments": insert(
                "judgments", "run_id, case_id, grader, outcome, label, score, reason, details", ("details",)
            ),
            "cache": insert("response_cache", "key, target, data, created_at", ("data",)),
            "pending": f"UPDATE run_cases SET last_error = {mark}, last_error_kind = {mark} "
            f"WHERE run_id = {mark} AND case_id = {mark}",
        }

    def _write_results_core(
        self,
        run_id: str,
        responses: Sequence[Response],
        judgments: Sequence[Judgment],
        cache_rows: Sequence[tuple[str, str, Response]],
        pending: Sequence[Response] = (),
    ) -> None:
        now = _now()
        with self.engine.begin() as conn:
            for r in pending:
                conn.execute(
                    update(t.run_cases)
                    .where((t.run_cases.c.run_id == run_id) & (t.run_cases.c.case_id == r.case_id))
                    .values(last_error=r.error, last_error_kind=r.error_kind)
                )
            if responses:
                conn.execute(t.responses.insert(), [_response_row(run_id, r, now) for r in responses])
            if judgments:
                conn.execute(t.judgments.insert(), [_judgment_row(run_id, j) for j in judgments])
            if cache_rows:
                conn.execute(
                    t.cache.insert(),
                    [
                        {"key": k, "target": tgt, "data": r.model_dump(mode="json"), "created_at": now}
                        for k, tgt, r in cache_rows
                    ],
                )

    def replace_judgments(self, run_id: str, judgments: Sequence[Judgment]) -> None:
        """Store judgments, overwriting earlier ones by the same grader (re-grading)."""
        if not judgments:
            return
        with self.engine.begin() as conn:
            for j in judgments:
                conn.execute(
                    t.judgments.delete().where(
                        (t.judgments.c.run_id == run_id)
                        & (t.judgments.c.case_id == j.case_id)
                        & (t.judgments.c.grader == j.grader)
                    )
                )
            conn.execute(t.judgments.insert(), [_judgment_row(run_id, j) for j in judgments])

    # -- cache -----------------------------------------------------------------------
    def cache_get_many(self, keys: Iterable[str]) -> dict[str, Response]:
        out: dict[str, Response] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(keys), 500):
                for key, data in conn.execute(
                    select(t.cache.c.key, t.cache.c.data).where(t.cache.c.key.in_(chunk))
                ):
                    out[key] = Response.model_validate(data)
        return out

    def cache_count(self, target: str) -> int:
        """How many response-cache rows are stored under `target` (e.g. an attack journal's owner)."""
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(t.cache).where(t.cache.c.target == target))
            return int(n.scalar_one())

    def cache_drop(self, target: str, keys: Iterable[str] | None = None) -> int:
        """Delete the response-cache rows stored under `target` (only those of `keys` when
        given); returns how many went."""
        gone = 0
        with self.engine.begin() as conn:
            if keys is None:
                gone = conn.execute(t.cache.delete().where(t.cache.c.target == target)).rowcount or 0
            else:
                for chunk in _chunks(list(keys), 500):
                    res = conn.execute(
                        t.cache.delete().where((t.cache.c.target == target) & t.cache.c.key.in_(chunk))
                    )
                    gone += res.rowcount or 0
        return int(gone)

    # -- grader validations and references ----------------------------------------------
    def add_validation(self, grader: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.validations.insert().values(grader=grader, created_at=_now(), data=data))

    def latest_validations(self) -> dict[str, dict[str, Any]]:
        """grader key → its most recent validation figures."""
        return dict(self._validations())  # oldest first: later rows overwrite earlier ones

    def validations_named(self, name: str) -> dict[str, dict[str, Any]]:
        """grader key → its most recent validation figures stored under `name`."""
        return {g: d for g, d in self._validations() if d.get("name") == name}

    def validation_names(self) -> list[str]:
        return sorted({str(d["name"]) for _, d in self._validations() if d.get("name")})

    def _validations(self) -> list[tuple[str, dict[str, Any]]]:
        with self.engine.connect() as conn:
            return [
                (g, d)
                for g, d in conn.execute(
                    select(t.validations.c.grader, t.validations.c.data).order_by(t.validations.c.id)
                )
            ]

    def add_reference(self, name: str, data: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.references.insert().values(name=name, created_at=_now(), data=data))

    def latest_reference(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.references.c.data)
                .where(t.references.c.name == name)
                .order_by(t.references.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else dict(row[0])

    # -- human reviews (assay view) ------------------------------------------------------
    def add_review(
        self,
        run_id: str,
        case_id: str,
        reviewer: str,
        kind: str,
        label: str,
        risk: str | None = None,
        note: str = "",
    ) -> None:
        """Store one reviewer's label of one answer; the same reviewer labelling the same
        answer again (same kind) replaces the earlier label."""
        with self.engine.begin() as conn:
            conn.execute(
                t.reviews.delete().where(
                    (t.reviews.c.run_id == run_id)
                    & (t.reviews.c.case_id == case_id)
                    & (t.reviews.c.reviewer == reviewer)
                    & (t.reviews.c.kind == kind)
                )
            )
            conn.execute(
                t.reviews.insert().values(
                    run_id=run_id,
                    case_id=case_id,
                    reviewer=reviewer,
                    kind=kind,
                    label=label,
                    risk=risk,
                    note=note,
                    created_at=_now(),
                )
            )

    def reviews(self, run_id: str, case_id: str | None = None) -> list[dict[str, Any]]:
        """The stored reviews of a run (of one case), oldest first."""
        q = select(t.reviews).where(t.reviews.c.run_id == run_id).order_by(t.reviews.c.id)
        if case_id is not None:
            q = q.where(t.reviews.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # -- user banks --------------------------------------------------------------------
    def add_user_bank(
        self, bank_id: str, version: str, path: str, private: bool, content_hash: str, case_count: int
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.user_banks.delete().where(t.user_banks.c.id == bank_id))
            conn.execute(
                t.user_banks.insert().values(
                    id=bank_id,
                    version=version,
                    path=path,
                    private=private,
                    content_hash=content_hash,
                    case_count=case_count,
                    registered_at=_now(),
                )
            )

    def user_banks(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r) for r in conn.execute(select(t.user_banks).order_by(t.user_banks.c.id)).mappings()
            ]


# -- helpers -------------------------------------------------------------------------------


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(
            f"{url!r} is not a database URL; use e.g. sqlite:///path/assay.db or postgresql+psycopg://user@host/db",
            where="--db",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InputError(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://", where="--db"
        )
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            try:
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create the folder for {db}: {exc.strerror}", where="--db") from exc
            _check_sqlite_file(Path(db).expanduser(), url)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError, ArgumentError) as exc:
        raise InputError(
            f"cannot use {masked(url)}: {exc}; for PostgreSQL install psycopg (pip install 'psycopg[binary]')",
            where="--db",
        ) from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise InputError(f"cannot connect to {masked(url)}: {_first_line(exc)}", where="--db") from exc
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # the busy timeout first: switching a fresh file to WAL needs the write lock, which
    # another process opening the same new store may hold for a moment
    cur.execute("PRAGMA busy_timeout=30000")
    # SQLite does not always wait on its busy handler here: two connections switching a new
    # file to WAL at once can get "database is locked" at once. The mode is persistent, so a
    # short retry finds it switched (or switches it) once the other is done.
    for attempt in range(100):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: the head schema of an empty SQLite store, as `sqlite_head_statements` lists it
SQLITE_HEAD_FILE = "sqlite_head.json"


def sqlite_head_statements(conn: Any) -> list[str]:
    """The statements that rebuild a migrated SQLite store's schema, in creation order:
    every `sqlite_master` entry with SQL of its own (not the automatic indexes, nor the
    shadow tables a virtual table makes itself), then the revision row."""
    rows = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").all()
    virtual = [n for kind, n, sql in rows if kind == "table" and str(sql or "").startswith("CREATE VIRTUAL")]
    out = []
    for kind, name, sql in rows:
        if sql is None or (kind == "table" and any(name.startswith(v + "_") for v in virtual)):
            continue
        out.append(str(sql))
    revision = _current_revision(conn)
    out.append(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')")
    return out


def write_sqlite_head(path: Path | None = None) -> Path:
    """Write `sqlite_head.json` from the migrations (run after adding a migration)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/head.db", migrate=False)
        store.migrate(head_script=False)
        with store.engine.connect() as conn:
            statements = sqlite_head_statements(conn)
        store.engine.dispose()
    out = path or Path(str(resources.files("assay.store") / SQLITE_HEAD_FILE))
    text = json.dumps({"revision": HEAD_REVISION, "statements": statements}, indent=1, ensure_ascii=False)
    out.write_text(text + "\n", encoding="utf-8")
    return out


def _create_sqlite_head(conn: Any) -> bool:
    """Create the head schema in an empty SQLite database (in the caller's transaction).
    False, with nothing changed, when the script is not for this revision or a statement
    fails (SQLite without FTS5 or its trigram tokenizer): the migrations run instead."""
    if inspect(conn).get_table_names():
        return False
    script = json.loads((resources.files("assay.store") / SQLITE_HEAD_FILE).read_text(encoding="utf-8"))
    if script.get("revision") != HEAD_REVISION:
        return False
    try:
        with conn.begin_nested():
            for statement in script["statements"]:
                conn.exec_driver_sql(statement)
    except SQLAlchemyError:
        return False
    return True


def _current_revision(conn: Any) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def _aware(ts: datetime) -> datetime:
    """SQLite hands back naive timestamps (stored as UTC)."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def lease_owner_id() -> str:
    """This process as a lease holder: host, pid and a random token (host:pid:token)."""
    import secrets
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _holder_alive(holder: str) -> bool:
    """False only when the holder is a process of this host that no longer exists."""
    import socket

    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _check_sqlite_file(path: Path, url: str) -> None:
    """An existing file that is not SQLite, or a SQLite database of someone else's, is
    refused before anything opens it for writing (opening would switch it to WAL mode)."""
    if not path.is_file() or path.stat().st_size == 0:
        return

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.OperationalError:
        return  # cannot look read-only (locked, no -shm): the normal open reports it
    except sqlite3.DatabaseError as exc:
        raise InputError(
            f"{path} is not a SQLite database ({exc}); it was left untouched", where="--db"
        ) from None
    if names and not names & ({"alembic_version"} | set(t.metadata.tables)):
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise InputError(
            f"{masked(url)} is not an Assay store (it holds other tables: {shown}); it was left "
            "untouched. Give a new file or an existing Assay database",
            where="--db",
        )


def _refuse_foreign_database(conn: Any, url: str) -> None:
    """A database that holds tables but none of Assay's is someone else's: never add to it."""
    names = set(inspect(conn).get_table_names())
    if names and not names & set(t.metadata.tables):
        shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise InputError(
            f"{masked(url)} is not an Assay store (it holds other tables: {shown}); it was left "
            "untouched. Give a new file or an existing Assay database",
            where="--db",
        )


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _judgment_rank(
    seq: int | None, planned_graders: Sequence[str] | None, grader: str
) -> tuple[int, int, str]:
    """Where a judgment goes in `Store.judgments` order: its case's dispatch position, then
    its grader's place in the plan item's grader list."""
    planned = [g.partition("@")[0] for g in (planned_graders or ())]
    gid = grader.partition("@")[0]
    return (
        seq if seq is not None else 1 << 30,
        planned.index(gid) if gid in planned else len(planned),
        grader,
    )


def _rows_for(
    conn: Any, q: Any, column: Any, case_ids: Iterable[str] | None, *, mappings: bool = False
) -> list[Any]:
    """The rows of `q`, or only those whose `column` is one of `case_ids` (read in chunks:
    the caller restores the order it needs)."""
    if case_ids is None:
        res = conn.execute(q)
        return list(res.mappings() if mappings else res)
    out: list[Any] = []
    for chunk in _chunks(sorted(set(case_ids)), 500):
        res = conn.execute(q.where(column.in_(chunk)))
        out.extend(res.mappings() if mappings else res)
    return out


class _Sharer:
    """One object per distinct value read (bank names, grader keys, category lists): a run of
    100k cases holds a handful of strings and tuples, not 100k copies of each."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: str) -> str:
        return self._seen.setdefault(value, value)  # type: ignore[no-any-return]

    def seq(self, value: Sequence[str] | str | None) -> tuple[str, ...]:
        """A list of strings (or its JSON text) as one shared tuple."""
        if not value or value == "[]":
            return ()
        if isinstance(value, str):
            hit = self._seen.get(("json", value))
            if hit is None:
                hit = self._seen[("json", value)] = self.seq(json.loads(value))
            return hit  # type: ignore[no-any-return]
        key = tuple(value)
        return self._seen.setdefault(key, key)  # type: ignore[no-any-return]


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _case_row(
    run_id: str,
    i: int,
    c: Case | StoredCase,
    graders: Mapping[str, Sequence[str]],
    plan_items: Mapping[str, str],
) -> dict[str, Any]:
    s = c if isinstance(c, StoredCase) else StoredCase.of(c)
    return {
        "run_id": run_id,
        "case_id": s.id,
        "seq": i,
        "bank": s.bank,
        "language": s.language,
        "expected": s.expected,
        "plan_item": plan_items.get(s.id),
        "graders": list(graders.get(s.id, ())),
        "data": json.loads(s.data),
    }


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "target": run.target,
        "level": run.level,
        "case_count": run.case_count,
        # notes, profile and plan pass the same redaction as every answer (cheap: once a save)
        "data": redact_obj(run.model_dump(mode="json"), known_secrets()),
    }


def _response_row(run_id: str, r: Response, now: datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "case_id": r.case_id,
        "text": r.text,
        "finish_reason": r.finish_reason,
        "error": r.error,
        "error_kind": r.error_kind,
        "latency_s": r.latency_s,
        "prompt_tokens": r.usage.prompt_tokens,
        "completion_tokens": r.usage.completion_tokens,
        "attempts": r.attempts,
        "cached": r.cached,
        "model": r.model,
        "transcript": [m.model_dump() for m in r.transcript] if r.transcript else None,
        "created_at": now,
        "actions": list(r.actions) if r.actions else None,
    }


def judgment_from_row(r: Any) -> Judgment:
    """A stored judgment row (a mapping) as a Judgment."""
    return Judgment(
        case_id=r["case_id"],
        grader=r["grader"],
        outcome=Outcome(r["outcome"]),
        label=r["label"],
        score=r["score"],
        reason=r["reason"],
        details=r["details"] or {},
    )


def response_from_row(r: Any) -> Response:
    """A stored response row (a mapping) as a Response."""
    return _response_from_row(r)


def _response_from_row(r: Any) -> Response:
    return Response(
        case_id=r["case_id"],
        text=r["text"],
        finish_reason=r["finish_reason"],
        usage=Usage(prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"]),
        latency_s=r["latency_s"],
        model=r["model"],
        error=r["error"],
        error_kind=r["error_kind"],
        attempts=r["attempts"],
        cached=bool(r["cached"]),
        transcript=tuple(Message.model_validate(m) for m in (r["transcript"] or ())),
        actions=tuple(_actions_of(r)),
    )


def _actions_of(r: Any) -> list[dict[str, Any]]:
    """A row's recorded actions (rows selected without the column, or before it existed: none)."""
    try:
        raw = r["actions"]
    except (KeyError, IndexError):
        return []
    return [a for a in (raw or ()) if isinstance(a, dict)]


def _judgment_row(run_id: str, j: Judgment) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "case_id": j.case_id,
        "grader": j.grader,
        "outcome": j.outcome.value,
        "label": j.label,
        "score": j.score,
        "reason": j.reason,
        "details": j.details or None,
    }
