"""`assay view` at scale: the search indexes of migration 0004 (and the scan they replace),
the §9.3 spot-check sample the plan draws, and scoring's fast case selection.

Speed itself is measured in bench/view.py; these tests pin behaviour: the indexed search
finds exactly what the scan finds and follows writes; the spot-check sample is fixed by
the plan before any answer exists.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.view_sample import synthetic_run

from assay import api
from assay.core.types import Case, Message, Response, Run
from assay.levels.plan_model import ManualCheck, Plan, manual_check_for
from assay.store import Store
from assay.view.data import CaseFilters, ViewData
from assay.view.reviews import SPOT_CHECK_REQUIREMENT, spot_check

QUERIES = ("needle", "NEEDLE", "PIN", "问题", "answer 1", "question 3 问题", "%", "_", '"', "zebra")


def _totals(store: Store, run_id: str) -> dict[str, int]:
    data = ViewData(store)
    return {q: data.case_page(run_id, CaseFilters(q=q), 1, 25).total for q in QUERIES}


def _has_search_index(store: Store) -> bool:
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
            return {"search_prompts", "search_answers"} <= names
        names = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes"))}
        assert {
            "ix_run_cases_categories_gin",
            "ix_run_cases_risks_gin",
            "ix_run_cases_transforms_gin",
        } <= names
        return "ix_responses_text_trgm" in names and "ix_run_cases_prompt_trgm" in names


def test_indexed_search_finds_what_a_scan_finds_and_follows_writes(db_url: str) -> None:
    store = Store(db_url)
    assert _has_search_index(store)
    rid = synthetic_run(store, 40)
    # one more case whose answer carries an error: deleted by --retry-errors
    extra = Case(
        id="c-zebra",
        bank="starter",
        messages=(Message(role="user", content="a plain ask"),),
        language="en",
        expected="comply",
    )
    run = store.get_run(rid)
    store.create_run(
        Run(id="r20260101-000000-zebra0", target="python:synthetic", status="completed", case_count=1),
        [extra],
        {extra.id: ["refusal"]},
    )
    store.write_results(
        "r20260101-000000-zebra0",
        [Response(case_id=extra.id, text="zebra crossing", error="boom", error_kind="transport")],
        [],
    )
    got = _totals(store, rid)
    # the scan (LIKE / ILIKE over the JSON prompt and the answer) is the reference
    scan = {q: _scan_count(store, run.id, q) for q in QUERIES}
    assert got == scan
    assert got["needle"] == 1 and got["NEEDLE"] == 1 and got["PIN"] == 1 and got["问题"] == 40
    assert got["answer 1"] == 11 and got["question 3 问题"] == 1 and got["%"] == 0 and got["zebra"] == 0
    other = ViewData(store)
    zebra = CaseFilters(q="zebra")
    assert other.case_page("r20260101-000000-zebra0", zebra, 1, 25).total == 1
    assert store.clear_error_responses("r20260101-000000-zebra0") == 1
    assert other.case_page("r20260101-000000-zebra0", zebra, 1, 25).total == 0
    # JSON-list filters (jsonb containment on PostgreSQL) count what the cases hold
    cases = store.run_cases(rid)
    for key, value in (("category", "AS-01"), ("risk", "A.1.a"), ("transform", "base64")):
        want = sum(1 for c in cases if value in getattr(c, {"category": "categories"}.get(key, key + "s")))
        page = other.case_page(rid, CaseFilters(**{key: value}), 1, 25)
        assert page.total == want, key


def _scan_count(store: Store, run_id: str, q: str) -> int:
    """Cases whose prompt or answer contains `q` (case-insensitively), counted in Python."""
    answers = {cid: r.text for cid, r in store.responses(run_id).items()}
    needle = q.casefold()
    return sum(
        1
        for c in store.run_cases(run_id)
        if needle in c.prompt.casefold() or needle in answers.get(c.id, "").casefold()
    )


def test_sqlite_search_without_the_fts_tables_scans_with_like(tmp_path: pytest.TempPathFactory) -> None:
    store = Store(f"sqlite:///{tmp_path}/plain.db")
    rid = synthetic_run(store, 40)
    indexed = _totals(store, rid)
    with store.engine.begin() as conn:
        for trig in ("search_prompts_ai", "search_prompts_ad", "search_answers_ai", "search_answers_ad"):
            conn.execute(text(f"DROP TRIGGER {trig}"))
        conn.execute(text("DROP TRIGGER search_answers_au"))
        conn.execute(text("DROP TABLE search_prompts"))
        conn.execute(text("DROP TABLE search_answers"))
    assert not _has_search_index(store)
    assert _totals(store, rid) == indexed


# --------------------------------------------------------------------------- §9.3 sample


def test_the_plan_records_the_manual_spot_check_draw() -> None:
    _, plan = api.plan_for("cn-public-chatbot")
    (check,) = plan.manual_checks
    req = next(r for r in plan.requirements if r.id == SPOT_CHECK_REQUIREMENT)
    assert check.requirement == req.id and check.size == req.min_sample == 1000
    assert check.stratify == "risk"
    again = Plan.model_validate(plan.model_dump(mode="json"))  # the plan file keeps it
    assert again.manual_checks == plan.manual_checks
    other = manual_check_for(req, plan.seed + 1)
    assert other is not None and other.seed != check.seed  # seeded from the plan's seed
    measured = next(r for r in plan.requirements if not r.evidence_only)
    assert manual_check_for(measured, plan.seed) is None  # graders measure those


def test_the_draw_is_random_stratified_by_risk_and_reproducible() -> None:
    risks = ["A.1.a"] * 60 + ["A.2.b"] * 30 + ["A.3.c"] * 10
    pop = [
        Case(
            id=f"c{i:03d}",
            bank="generated-content",
            messages=(Message(role="user", content="x"),),
            language="en",
            expected="safe",
            risks=(r,),
        )
        for i, r in enumerate(risks)
    ]
    check = ManualCheck(requirement=SPOT_CHECK_REQUIREMENT, size=20, seed=5)
    sample = check.draw(pop)
    strata = Counter(next(c.risks[0] for c in pop if c.id == cid) for cid in sample)
    assert strata == {"A.1.a": 12, "A.2.b": 6, "A.3.c": 2}  # proportional allocation
    assert check.draw(pop) == sample and check.draw(list(reversed(pop))) == list(reversed(sample))
    assert check.model_copy(update={"seed": 6}).draw(pop) != sample
    assert sample != [c.id for c in pop][: len(sample)]  # random, not the first cases


def test_spot_check_sample_is_fixed_by_the_plan_before_answers(tmp_path: pytest.TempPathFactory) -> None:
    store = Store(f"sqlite:///{tmp_path}/spot.db")
    _, plan = api.plan_for("cn-public-chatbot")
    plan = plan.model_copy(update={"manual_checks": (plan.manual_checks[0].model_copy(update={"size": 12}),)})
    cases = [
        Case(
            id=f"c-{i:04d}",
            bank="generated-content" if i % 4 else "should-refuse",
            messages=(Message(role="user", content=f"prompt {i}"),),
            language="en",
            expected="safe" if i % 4 else "refuse",
            risks=(("A.1.a", "A.2.c", "A.4.b")[i % 3],),
        )
        for i in range(80)
    ]
    run = Run(
        id="r20260101-000000-spot00",
        target="python:synthetic",
        status="running",
        plan=plan.model_dump(mode="json"),
        case_count=len(cases),
    )
    store.create_run(run, cases, {c.id: ["content-safety"] for c in cases})
    before = spot_check(store, run.id)
    population = [c for c in cases if c.bank == "generated-content"]
    assert before.plan == plan.manual_checks[0]
    assert list(before.sample) == plan.manual_checks[0].draw(population)
    assert len(before.sample) == 12 and before.unanswered == 12 and before.reviewed == 0
    assert before.result.verdict.value == "undetermined"
    # answering half the cases changes nothing about the sample
    store.write_results(run.id, [Response(case_id=c.id, text=f"a {c.id}") for c in cases[::2]], [])
    during = spot_check(store, run.id)
    assert during.sample == before.sample
    answered = {c.id for c in cases[::2]}
    assert during.unanswered == sum(1 for cid in before.sample if cid not in answered)
    # the review queue serves the planned sample's answered cases, in sample order
    page = TestClient(api.view_app(store=store)).get(f"/runs/{run.id}/review?scope=spot").text
    shown = re.search(r'name="case_id" value="([^"]+)"', page)
    assert shown is not None
    assert shown.group(1) == next(cid for cid in before.sample if cid in answered)
    assert (
        f'id="spot-seed">{plan.manual_checks[0].seed}<'
        in TestClient(api.view_app(store=store)).get(f"/runs/{run.id}/reviews").text
    )
    # reviews of the sample make a measured requirement with an interval
    for cid in [c for c in before.sample if c in answered]:
        api.add_review(run.id, cid, reviewer="ana", kind="qualification", label="safe", store=store)
    scored = spot_check(store, run.id)
    e = scored.result.estimate
    assert e is not None and e.n == scored.reviewed > 0 and e.k == scored.qualified == scored.reviewed
    assert e.lower is not None and e.upper is not None and e.lower < e.rate <= e.upper  # type: ignore[operator]
    assert scored.sample == before.sample


def test_selects_case_is_the_rule_of_matches() -> None:
    from assay.scoring.decide import JudgedRecord, matches, selects_case

    _, plan = api.plan_for("cn-public-chatbot")
    cases = [
        Case(
            id=f"c{i}",
            bank=("generated-content", "should-refuse", "should-not-refuse")[i % 3],
            messages=(Message(role="user", content="x"),),
            language=("zh", "en")[i % 2],
            expected=("safe", "refuse", "comply")[i % 3],  # type: ignore[arg-type]
            risks=(("A.1.a",), ("A.2.c", "A.1.b"), ())[i % 3],
            categories=(("AS-01",), ("AS-03.x",), ())[i % 3],
            transforms=("base64",) if i % 5 == 0 else (),
        )
        for i in range(60)
    ]
    picked = 0
    for req in plan.requirements:
        for c in cases:
            want = matches(req.selector, JudgedRecord.from_case(c))
            assert selects_case(req.selector, c) == want, (req.id, c.id)
            picked += want
    assert picked > 0


# --------------------------------------------------------------------------- snapshots


def test_finished_run_pages_come_from_a_stored_scoring_snapshot(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.core.types import Judgment, Outcome
    from assay.store import schema as t

    store = Store(db_url)
    rid = synthetic_run(store, 40)
    first = ViewData(store).run_view(rid)
    with store.engine.connect() as conn:
        (key,) = conn.execute(text("SELECT key FROM view_snapshots WHERE run_id = :r"), {"r": rid}).one()
    assert key == ViewData(store).snapshot_key(rid)

    computed: list[str] = []
    real = ViewData._compute

    def spy(self: ViewData, run_id: str, stamp: tuple[object, ...]) -> object:
        computed.append(run_id)
        return real(self, run_id, stamp)

    monkeypatch.setattr(ViewData, "_compute", spy)
    fresh = ViewData(store)  # a new server process: nothing cached in memory
    loaded = fresh.run_view(rid)
    assert computed == []  # served from the snapshot
    assert loaded.data == first.data and loaded.assessment == first.assessment
    assert loaded.trajectories == first.trajectories and loaded.outcome_sets == first.outcome_sets
    assert loaded.requirement_sets == first.requirement_sets
    assert loaded.assessment == api.assessment(rid, store=store)  # the CLI's figures
    html = TestClient(api.view_app(store=store)).get(f"/runs/{rid}").text
    assert computed == [] and rid in html

    # a new judgment changes the key: rebuilt from scoring, and the stored one replaced
    store.write_results(
        rid,
        [],
        [Judgment(case_id="c-0000000000000001", grader="extra@1", outcome=Outcome.UNSAFE, reason="x")],
    )
    after = ViewData(store).run_view(rid)
    assert computed == [rid]
    assert after.assessment == api.assessment(rid, store=store) != first.assessment
    # a review changes the key too
    api.add_review(rid, "c-0000000000000001", reviewer="ana", kind="qualification", label="safe", store=store)
    ViewData(store).run_view(rid)
    assert computed == [rid, rid]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM view_snapshots")).scalar_one() == 1
        assert conn.execute(t.view_snapshots.select()).first() is not None


def test_warming_stores_snapshots_of_finished_runs_only(tmp_path: pytest.TempPathFactory) -> None:
    store = Store(f"sqlite:///{tmp_path}/warm.db")
    done = synthetic_run(store, 20)
    live = synthetic_run(store, 12)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET status = 'running' WHERE id = :r"), {"r": live})
    assert ViewData(store).warm_snapshots() == 1
    assert ViewData(store).warm_snapshots() == 0  # fresh already
    with store.engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT run_id FROM view_snapshots"))] == [done]
    # the server warms when it starts (lifespan), and serves the page from the snapshot
    with TestClient(api.view_app(store=store, warm=True)) as c:
        assert c.get(f"/runs/{done}").status_code == 200
