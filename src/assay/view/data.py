"""What the dashboard reads from the store: runs, progress, the report's view model and
pages of cases.

Every figure shown comes from the scoring stage: a run's `Assessment` (via
`assay.report.runs.report_data`, the same call the reports and the CLI make) and the
`ReportData` built from it. This module only selects, counts rows and paginates; it
never estimates a rate. The per-case outcome of a row is scoring's `case_outcome`.

The ReportData of a run is cached (without its per-case samples) and rebuilt when the
run changes (status, answered or judged count); while a run is going, at most every
`LIVE_REFRESH_S` seconds (or five times its build time, for big runs).
"""

from __future__ import annotations

import functools
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Text, and_, cast, distinct, exists, func, literal_column, or_, select, text, union
from sqlalchemy.sql.elements import ColumnElement

from assay.core.ids import content_id
from assay.core.secrets import redact, secret_values_from_env
from assay.core.types import Case, Judgment, Outcome, Response, Run
from assay.report.model import ReportData
from assay.scoring.decide import case_outcome
from assay.scoring.results import Assessment
from assay.scoring.trajectory import Trajectory, run_trajectories
from assay.store import Store
from assay.store import schema as t
from assay.store.db import judgment_from_row, response_from_row

LIVE_REFRESH_S = 5.0  # a live run's view model is rebuilt at most this often (or 5x its build time)
#: the runs list shows verdict counts inline for runs up to this size (bigger ones: on their page)
VERDICTS_INLINE_MAX = 20_000
PAGE_SIZES = (25, 50, 100, 200)
OUTCOMES = ("safe", "unsafe", "unscorable", "pending")


@dataclass
class RunView:
    """A run's report view model (samples dropped) and its assessment, as of `stamp`."""

    data: ReportData
    assessment: Assessment
    stamp: tuple[Any, ...]
    built_at: float
    private: list[str]
    build_s: float = 0.0  # how long the build took (a live run is rebuilt at most every 5x this)
    outcome_sets: dict[str, set[str]] = field(default_factory=dict)
    requirement_sets: dict[str, set[str]] = field(default_factory=dict)
    trajectories: list[Trajectory] = field(default_factory=list)


SNAPSHOT_FORMAT = 1  # bump when what a snapshot holds changes


class _Snapshot(BaseModel):
    """What `view_snapshots` stores of a finished run: scoring's output, nothing recomputed."""

    model_config = ConfigDict(arbitrary_types_allowed=False)

    data: ReportData
    assessment: Assessment
    trajectories: list[Trajectory]
    private: list[str]


@dataclass(frozen=True)
class Progress:
    run_id: str
    status: str
    total: int
    answered: int
    judged: int
    errors: int
    elapsed_s: float
    #: answered cases per second of wall time since the run started
    rate: float | None
    eta_s: float | None


class ViewData:
    """Read access for the dashboard, with a per-run cache of the report view model."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._runs: dict[str, RunView] = {}
        self._building: dict[str, threading.Lock] = {}
        self._facets: dict[str, tuple[tuple[Any, ...], dict[str, list[str]]]] = {}
        self._fts: bool | None = None

    def _has_fts(self) -> bool:
        """Whether the SQLite store has the FTS5 search tables of migration 0004."""
        if self._fts is None:
            self._fts = False
            if self.store.dialect == "sqlite":
                with self.store.engine.connect() as conn:
                    self._fts = (
                        conn.exec_driver_sql(
                            "SELECT count(*) FROM sqlite_master WHERE name IN ('search_prompts', 'search_answers')"
                        ).scalar_one()
                        == 2
                    )
        return self._fts

    # ------------------------------------------------------------------ runs
    def list_runs(
        self,
        *,
        target: str | None = None,
        status: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int = 50,
    ) -> list[Run]:
        q = select(t.runs.c.data).order_by(t.runs.c.created_at.desc()).limit(limit)
        if target:
            q = q.where(t.runs.c.target.contains(target, autoescape=True))
        if status:
            q = q.where(t.runs.c.status == status)
        if since:
            q = q.where(t.runs.c.created_at >= datetime.combine(since, datetime.min.time(), UTC))
        if until:
            q = q.where(
                t.runs.c.created_at < datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
            )
        with self.store.engine.connect() as conn:
            return [Run.model_validate(r[0]) for r in conn.execute(q)]

    def statuses(self) -> list[str]:
        with self.store.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(select(t.runs.c.status).distinct()))

    def progress(self, run_id: str) -> Progress:
        run = self.store.get_run(run_id)
        with self.store.engine.connect() as conn:
            answered, errors = conn.execute(
                select(func.count(), func.count(t.responses.c.error)).where(t.responses.c.run_id == run.id)
            ).one()
            judged = conn.execute(
                select(func.count(distinct(t.judgments.c.case_id))).where(t.judgments.c.run_id == run.id)
            ).scalar_one()
        end = run.finished_at or datetime.now(UTC)
        start = run.created_at if run.created_at.tzinfo else run.created_at.replace(tzinfo=UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        elapsed = max((end - start).total_seconds(), 0.0)
        rate = answered / elapsed if elapsed > 0 and answered else None
        left = max(run.case_count - int(answered), 0)
        eta = left / rate if rate and run.status == "running" else None
        return Progress(
            run.id, run.status, run.case_count, int(answered), int(judged), int(errors), elapsed, rate, eta
        )

    # ------------------------------------------------------------------ report view model
    def _stamp(self, run_id: str) -> tuple[Any, ...]:
        with self.store.engine.connect() as conn:
            status = conn.execute(select(t.runs.c.status).where(t.runs.c.id == run_id)).scalar_one()
            answered = conn.execute(
                select(func.count()).select_from(t.responses).where(t.responses.c.run_id == run_id)
            ).scalar_one()
            judged = conn.execute(
                select(func.count()).select_from(t.judgments).where(t.judgments.c.run_id == run_id)
            ).scalar_one()
        return (status, answered, judged)

    def run_view(self, run_id: str) -> RunView:
        """The run's ReportData and Assessment (from `assay.report.runs.report_data`), cached."""
        run_id = self.store.get_run(run_id).id
        stamp = self._stamp(run_id)
        with self._lock:
            cached = self._runs.get(run_id)
            gate = self._building.setdefault(run_id, threading.Lock())
        if cached is not None and (
            cached.stamp == stamp
            or (
                stamp[0] == "running"
                and time.monotonic() - cached.built_at < max(LIVE_REFRESH_S, 5 * cached.build_s)
            )
        ):
            return cached
        with gate:  # one build per run at a time; others wait for it
            with self._lock:
                cached = self._runs.get(run_id)
            if cached is not None and cached.stamp == stamp:
                return cached
            view = self._build(run_id, stamp)
            with self._lock:
                self._runs[run_id] = view
            return view

    def _build(self, run_id: str, stamp: tuple[Any, ...]) -> RunView:
        """A finished run: its stored snapshot when the key still matches, else built from
        scoring and stored. A running run: built from scoring (it changes as it goes)."""
        if stamp[0] == "running":
            return self._compute(run_id, stamp)
        key = self.snapshot_key(run_id, stamp)
        started = time.monotonic()
        view = self._load_snapshot(run_id, key, stamp, started)
        if view is None:
            view = self._compute(run_id, stamp)
            self._save_snapshot(run_id, key, view)
        return view

    # ------------------------------------------------------------------ snapshots
    def warm_snapshots(self, limit: int = 20) -> int:
        """Store a fresh snapshot for each of the `limit` newest finished runs that lacks
        one (what `assay view` does in the background when it starts), without keeping
        them in memory. Returns how many were built."""
        built = 0
        for run in self.list_runs(limit=limit):
            stamp = self._stamp(run.id)
            if stamp[0] == "running":
                continue
            key = self.snapshot_key(run.id, stamp)
            with self.store.engine.connect() as conn:
                have = conn.execute(
                    select(t.view_snapshots.c.key).where(t.view_snapshots.c.run_id == run.id)
                ).scalar_one_or_none()
            if have != key:
                with self._building_gate(run.id):
                    self._save_snapshot(run.id, key, self._compute(run.id, stamp))
                built += 1
        return built

    def _building_gate(self, run_id: str) -> threading.Lock:
        with self._lock:
            return self._building.setdefault(run_id, threading.Lock())

    def snapshot_key(self, run_id: str, stamp: tuple[Any, ...] | None = None) -> str:
        """Hash of everything a run's view model is computed from: the run row (plan,
        graders, status), its answered and judged counts and latest answer time, the latest
        grader validations and reference standards, the reviews, which banks are private,
        and this Assay's scoring code. Any change gives a new key: the snapshot is rebuilt."""
        from assay import __version__

        stamp = stamp or self._stamp(run_id)
        with self.store.engine.connect() as conn:
            run_data = conn.execute(select(t.runs.c.data).where(t.runs.c.id == run_id)).scalar_one()
            marks = [
                conn.execute(select(func.count(), func.max(tab.c.id))).one()
                for tab in (t.validations, t.references)
            ]
            reviews = conn.execute(
                select(func.count(), func.max(t.reviews.c.id)).where(t.reviews.c.run_id == run_id)
            ).one()
            # answers re-sent after --retry-errors can restore the same counts: their time differs
            last_answer = conn.execute(
                select(func.max(t.responses.c.created_at)).where(t.responses.c.run_id == run_id)
            ).scalar_one()
        return content_id(
            {
                "format": SNAPSHOT_FORMAT,
                "assay": __version__,
                "code": _code_hash(),
                "run": run_data,
                "stamp": list(stamp),
                "marks": [list(m) for m in marks],
                "reviews": list(reviews),
                "last_answer": str(last_answer),
                "private": sorted(self.private_banks()),
            },
            length=64,
        )

    def _load_snapshot(self, run_id: str, key: str, stamp: tuple[Any, ...], started: float) -> RunView | None:
        with self.store.engine.connect() as conn:
            blob = conn.execute(
                select(t.view_snapshots.c.data).where(
                    t.view_snapshots.c.run_id == run_id, t.view_snapshots.c.key == key
                )
            ).scalar_one_or_none()
            if blob is None:
                return None
            pending = {
                r[0]
                for r in conn.execute(
                    select(t.run_cases.c.case_id).where(
                        t.run_cases.c.run_id == run_id,
                        ~exists(
                            select(1).where(
                                t.responses.c.run_id == run_id, t.responses.c.case_id == t.run_cases.c.case_id
                            )
                        ),
                    )
                )
            }
        snap = _Snapshot.model_validate_json(zlib.decompress(blob))
        return self._view(snap, stamp, started, pending)

    def _save_snapshot(self, run_id: str, key: str, view: RunView) -> None:
        snap = _Snapshot(
            data=view.data, assessment=view.assessment, trajectories=view.trajectories, private=view.private
        )
        blob = zlib.compress(snap.model_dump_json(by_alias=True).encode("utf-8"), 1)
        with self.store.engine.begin() as conn:
            conn.execute(t.view_snapshots.delete().where(t.view_snapshots.c.run_id == run_id))
            conn.execute(
                t.view_snapshots.insert().values(
                    run_id=run_id, key=key, created_at=datetime.now(UTC), data=blob
                )
            )

    @staticmethod
    def _view(snap: _Snapshot, stamp: tuple[Any, ...], started: float, pending: set[str]) -> RunView:
        outcome_sets: dict[str, set[str]] = {o: set() for o in OUTCOMES}
        for cid, outcome in snap.assessment.case_outcomes.items():
            outcome_sets.setdefault(outcome, set()).add(cid)
        outcome_sets["pending"] = pending
        return RunView(
            data=snap.data,
            assessment=snap.assessment,
            stamp=stamp,
            built_at=time.monotonic(),
            private=list(snap.private),
            build_s=time.monotonic() - started,
            outcome_sets=outcome_sets,
            requirement_sets={r.requirement_id: set(r.case_ids) for r in snap.assessment.requirements},
            trajectories=list(snap.trajectories),
        )

    def _compute(self, run_id: str, stamp: tuple[Any, ...]) -> RunView:
        from assay.report.runs import report_data

        started = time.monotonic()
        light, assessment, raw = report_data(self.store, run_id, with_samples=False)
        outcome_sets: dict[str, set[str]] = {o: set() for o in OUTCOMES}
        for cid, outcome in assessment.case_outcomes.items():
            outcome_sets.setdefault(outcome, set()).add(cid)
        answered = set(raw["responses"])
        outcome_sets["pending"] = {c.id for c in raw["cases"] if c.id not in answered}
        req_sets = {r.requirement_id: set(r.case_ids) for r in assessment.requirements}
        return RunView(
            data=light,
            assessment=assessment,
            stamp=stamp,
            built_at=time.monotonic(),
            private=list(raw["private"]),
            build_s=time.monotonic() - started,
            outcome_sets=outcome_sets,
            requirement_sets=req_sets,
            trajectories=run_trajectories(raw["run"], raw["cases"], raw["judgments"])
            if assessment.sequential
            else [],
        )

    def cached_view(self, run_id: str) -> RunView | None:
        with self._lock:
            return self._runs.get(run_id)

    # ------------------------------------------------------------------ cases
    def facets(self, run_id: str) -> dict[str, list[str]]:
        """The values the case filters offer (languages, banks, graders, categories, risks,
        transforms), cached until the run changes."""
        stamp = (*self._stamp(run_id), self.cached_view(run_id) is not None)
        with self._lock:
            hit = self._facets.get(run_id)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        values = self._facet_values(run_id)
        with self._lock:
            self._facets[run_id] = (stamp, values)
        return values

    def _facet_values(self, run_id: str) -> dict[str, list[str]]:
        with self.store.engine.connect() as conn:
            langs = [r[0] for r in conn.execute(_distinct(t.run_cases.c.language, run_id))]
            banks = [r[0] for r in conn.execute(_distinct(t.run_cases.c.bank, run_id))]
            graders = sorted(
                {
                    str(r[0]).partition("@")[0]
                    for r in conn.execute(
                        select(t.judgments.c.grader).where(t.judgments.c.run_id == run_id).distinct()
                    )
                }
            )
        view = self.cached_view(run_id)
        cats: list[str] = []
        risks: list[str] = []
        transforms: list[str] = []
        if view is not None:
            cats = [g.key for g in view.assessment.breakdowns.get("category", ())]
            risks = [g.key for g in view.assessment.breakdowns.get("risk", ())]
            transforms = [g.key for g in view.assessment.breakdowns.get("transform", ()) if g.key != "none"]
        return {
            "language": sorted(langs),
            "bank": sorted(banks),
            "grader": graders,
            "category": sorted(cats),
            "risk": sorted(risks),
            "transform": sorted(transforms),
        }

    def case_page(self, run_id: str, filters: CaseFilters, page: int, size: int) -> CasePage:
        """One page of a run's cases (in dispatch order), filtered, with the total count.

        Column filters, the grader filter, disagreement and the text search run in SQL;
        pagination is SQL LIMIT/OFFSET. The outcome and requirement filters select the
        cases scoring counted (`Assessment.case_outcomes`, `RequirementResult.case_ids`);
        with one of them the matching ids are intersected before the page is cut.
        """
        run = self.store.get_run(run_id)
        dialect = self.store.dialect
        conds = _conditions(run.id, filters, dialect, self._has_fts())
        joined = t.run_cases.outerjoin(
            t.responses,
            and_(
                t.responses.c.run_id == t.run_cases.c.run_id, t.responses.c.case_id == t.run_cases.c.case_id
            ),
        )
        wanted: set[str] | None = None
        if filters.outcome or filters.requirement:
            view = self.run_view(run.id)
            if filters.outcome:
                wanted = set(view.outcome_sets.get(filters.outcome, set()))
            if filters.requirement:
                req = view.requirement_sets.get(filters.requirement, set())
                wanted = req if wanted is None else wanted & req
        offset = (page - 1) * size
        with self.store.engine.connect() as conn:
            if wanted is None:
                # one pass: the page and, on each row, the count of all matches (a search
                # or JSON filter is evaluated once, not once for the count and once for the page)
                got = conn.execute(
                    select(t.run_cases.c.case_id, func.count().over())
                    .select_from(joined)
                    .where(*conds)
                    .order_by(t.run_cases.c.seq)
                    .limit(size)
                    .offset(offset)
                ).all()
                ids = [r[0] for r in got]
                if got:
                    total = got[0][1]
                else:  # past the last page: count alone
                    total = conn.execute(select(func.count()).select_from(joined).where(*conds)).scalar_one()
            else:
                matching = [
                    r[0]
                    for r in conn.execute(
                        select(t.run_cases.c.case_id)
                        .select_from(joined)
                        .where(*conds)
                        .order_by(t.run_cases.c.seq)
                    )
                    if r[0] in wanted
                ]
                total = len(matching)
                ids = matching[offset : offset + size]
            rows = self._rows(conn, run.id, ids)
        return CasePage(rows=rows, total=int(total), page=page, size=size)

    def _rows(self, conn: Any, run_id: str, ids: Sequence[str]) -> list[CaseRowView]:
        if not ids:
            return []
        cases = {
            r[0]: Case.model_validate(r[1])
            for r in conn.execute(
                select(t.run_cases.c.case_id, t.run_cases.c.data).where(
                    t.run_cases.c.run_id == run_id, t.run_cases.c.case_id.in_(ids)
                )
            )
        }
        answers = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                select(t.responses.c.case_id, t.responses.c.text, t.responses.c.error).where(
                    t.responses.c.run_id == run_id, t.responses.c.case_id.in_(ids)
                )
            )
        }
        judged: dict[str, list[tuple[str, str]]] = {}
        for cid, grader, outcome in conn.execute(
            select(t.judgments.c.case_id, t.judgments.c.grader, t.judgments.c.outcome).where(
                t.judgments.c.run_id == run_id, t.judgments.c.case_id.in_(ids)
            )
        ):
            judged.setdefault(cid, []).append((grader, outcome))
        private = self.private_banks()
        secrets = secret_values_from_env()
        out = []
        for cid in ids:
            c = cases[cid]
            is_private = c.bank in private or bool(c.metadata.get("private"))
            text, error = answers.get(cid, (None, None))
            js = judged.get(cid, [])
            combined = case_outcome(Outcome(o) for _, o in js)
            outcome = "pending" if text is None else (combined.value if combined else "ungraded")
            out.append(
                CaseRowView(
                    case=c,
                    private=is_private,
                    prompt=None if is_private else redact(_clip(c.prompt), secrets),
                    answer=None if text is None else redact(_clip(text), secrets),
                    error=error,
                    outcome=outcome,
                    graders=[(g, o) for g, o in js],
                )
            )
        return out

    def private_banks(self) -> set[str]:
        return {b["id"] for b in self.store.user_banks() if b.get("private")}

    # ------------------------------------------------------------------ one case
    def case_detail(self, run_id: str, case_id: str) -> CaseDetail | None:
        """One case as the report shows it (its SampleView, privacy and redaction included)."""
        from assay.report.build import build_report_data

        run = self.store.get_run(run_id)
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(t.run_cases.c.data, t.run_cases.c.seq, t.run_cases.c.graders).where(
                    t.run_cases.c.run_id == run.id, t.run_cases.c.case_id == case_id
                )
            ).first()
            if row is None:
                return None
            resp_row = (
                conn.execute(
                    select(t.responses).where(
                        t.responses.c.run_id == run.id, t.responses.c.case_id == case_id
                    )
                )
                .mappings()
                .first()
            )
        case = Case.model_validate(row[0])

        responses: dict[str, Response] = {case_id: response_from_row(resp_row)} if resp_row else {}
        judgments: list[Judgment] = [j for j in self._case_judgments(run.id, case_id)]
        combined = case_outcome(j.outcome for j in judgments)
        one = build_report_data(
            run,
            [case],
            responses,
            judgments,
            Assessment(case_outcomes={case_id: combined.value} if combined else {}),
            requirements=[],
            private_banks=self.private_banks(),
        )
        view = self.cached_view(run.id)
        counted_in = (
            [r.requirement_id for r in view.assessment.requirements if case_id in set(r.case_ids)]
            if view
            else []
        )
        return CaseDetail(
            run=run,
            case=case,
            sample=one.samples[0],
            seq=int(row[1]),
            planned_graders=list(row[2] or ()),
            counted_in=counted_in,
            reviews=self.store.reviews(run.id, case_id),
        )

    def _case_judgments(self, run_id: str, case_id: str) -> list[Judgment]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(t.judgments).where(t.judgments.c.run_id == run_id, t.judgments.c.case_id == case_id)
            ).mappings()
            return [judgment_from_row(r) for r in rows]


@dataclass(frozen=True)
class CaseFilters:
    outcome: str | None = None
    requirement: str | None = None
    category: str | None = None
    risk: str | None = None
    language: str | None = None
    bank: str | None = None
    transform: str | None = None
    grader: str | None = None
    disagreement: bool = False
    q: str | None = None

    def params(self) -> dict[str, str]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, "", False)}
        return {k: ("1" if v is True else str(v)) for k, v in out.items()}


@dataclass(frozen=True)
class CaseRowView:
    case: Case
    private: bool
    prompt: str | None
    answer: str | None
    error: str | None
    outcome: str
    graders: list[tuple[str, str]]


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRowView]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class CaseDetail:
    run: Run
    case: Case
    sample: Any  # assay.report.model.SampleView
    seq: int
    planned_graders: list[str]
    counted_in: list[str]
    reviews: list[dict[str, Any]]


@functools.cache
def _code_hash() -> str:
    """Hash of the code and data a view model is computed with (scoring, the report's view
    model, the taxonomy), so a changed Assay never serves an old snapshot."""
    import hashlib
    from importlib import resources

    h = hashlib.sha256()
    root = resources.files("assay")
    for sub in ("scoring", "report", "taxonomy"):
        for path in sorted(Path(str(root / sub)).rglob("*"), key=str):
            if path.is_file() and path.suffix in (".py", ".yaml", ".json"):
                h.update(str(path.relative_to(Path(str(root)))).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _clip(text: str, n: int = 240) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _distinct(col: Any, run_id: str) -> Any:
    return select(col).where(t.run_cases.c.run_id == run_id).distinct()


def _json_has(dialect: str, key: str, value: str) -> ColumnElement[bool]:
    """The case's JSON list `key` (categories, risks, transforms) contains `value`.

    PostgreSQL: jsonb containment on the expression migration 0004 indexes (GIN)."""
    if key not in _JSON_LISTS:
        raise ValueError(key)
    if dialect == "postgresql":
        return literal_column(f"((run_cases.data -> '{key}')::jsonb)").op("@>")(func.jsonb_build_array(value))
    elems = func.json_each(t.run_cases.c.data, f"$.{key}").table_valued("value")
    return exists(select(1).select_from(elems).where(elems.c.value == value))


_JSON_LISTS = ("categories", "risks", "transforms")


def _prompt_expr(dialect: str) -> ColumnElement[Any]:
    """The last user turn of the case (what reports call the prompt), as SQL text."""
    if dialect == "postgresql":
        return t.run_cases.c.data["messages"][-1]["content"].as_string()
    return cast(func.json_extract(t.run_cases.c.data, "$.messages[#-1].content"), Text)


def _like_pattern(q: str) -> str:
    """`q` as a LIKE pattern matching it anywhere ('/' escapes the wildcards)."""
    return "%" + q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _search(run_id: str, q: str, dialect: str, fts: bool) -> ColumnElement[bool]:
    """Cases whose prompt (last turn) or answer contains `q`, case-insensitively.

    Each side is its own subquery over one table, so each can use its index (migration
    0004): PostgreSQL trigram GIN indexes via ILIKE; SQLite FTS5 trigram tables via a
    phrase query (a substring match; needs 3+ characters, else LIKE scans)."""
    if dialect == "postgresql":
        rc = t.run_cases.alias("search_rc")
        pattern = _like_pattern(q)
        prompts = select(rc.c.case_id).where(
            rc.c.run_id == run_id,
            literal_column("(search_rc.data -> 'messages' -> -1 ->> 'content')").ilike(pattern, escape="/"),
        )
        answers = select(t.responses.c.case_id).where(
            t.responses.c.run_id == run_id, t.responses.c.text.ilike(pattern, escape="/")
        )
        return t.run_cases.c.case_id.in_(union(prompts, answers).subquery().select())
    if fts and len(q) >= 3:
        # the matching case ids, driven from the FTS indexes (the run's rows are then found
        # by primary key: a selective search touches only its matches)
        phrase = '"' + q.replace('"', '""') + '"'
        prompts = select(t.run_cases.c.case_id).where(
            literal_column("run_cases.rowid").in_(
                select(literal_column("rowid"))
                .select_from(text("search_prompts"))
                .where(literal_column("search_prompts").op("MATCH")(phrase))
            )
        )
        answers = select(t.responses.c.case_id).where(
            literal_column("responses.rowid").in_(
                select(literal_column("rowid"))
                .select_from(text("search_answers"))
                .where(literal_column("search_answers").op("MATCH")(phrase))
            )
        )
        return t.run_cases.c.case_id.in_(union(prompts, answers).subquery().select())
    return or_(
        _prompt_expr(dialect).icontains(q, autoescape=True),
        t.responses.c.text.icontains(q, autoescape=True),
    )


def _conditions(run_id: str, f: CaseFilters, dialect: str, fts: bool = False) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [t.run_cases.c.run_id == run_id]
    if f.language:
        conds.append(t.run_cases.c.language == f.language)
    if f.bank:
        conds.append(t.run_cases.c.bank == f.bank)
    for key, value in (("categories", f.category), ("risks", f.risk), ("transforms", f.transform)):
        if value:
            conds.append(_json_has(dialect, key, value))
    same_case = and_(
        t.judgments.c.run_id == t.run_cases.c.run_id, t.judgments.c.case_id == t.run_cases.c.case_id
    )
    if f.grader:
        conds.append(
            exists(
                select(1).where(
                    same_case,
                    or_(
                        t.judgments.c.grader == f.grader,
                        t.judgments.c.grader.startswith(f.grader + "@", autoescape=True),
                    ),
                )
            )
        )
    if f.disagreement:
        conds.append(
            select(func.count(distinct(t.judgments.c.outcome))).where(same_case).scalar_subquery() > 1
        )
    if f.outcome == "pending":
        conds.append(t.responses.c.case_id.is_(None))
    if f.q:
        conds.append(_search(run_id, f.q, dialect, fts))
    return conds
