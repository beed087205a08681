"""The store on SQLite and on the real PostgreSQL server: runs, idempotent writes, resume bookkeeping."""

from __future__ import annotations

import json
import threading
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import text

from assay.core.errors import InputError
from assay.core.types import Case, Judgment, Message, Outcome, Response, Run
from assay.store import ResultWriter, Store
from assay.store.db import HEAD_REVISION, SQLITE_HEAD_FILE, sqlite_head_statements


def _cases(n: int) -> list[Case]:
    return [
        Case(
            bank="b",
            messages=(Message(role="user", content=f"question {i} 问题"),),
            language="zh" if i % 2 else "en",
            expected="refuse",
        )
        for i in range(n)
    ]


def _run(n: int) -> Run:
    return Run(id=f"r-test-{n}", target="openai:mock", case_count=n)


def test_run_roundtrip_and_listing(db_url: str) -> None:
    store = Store(db_url)
    cases = _cases(5)
    run = _run(5)
    store.create_run(run, cases, {c.id: ["refusal"] for c in cases}, {c.id: "item-1" for c in cases})
    got = store.get_run(run.id)
    assert got.id == run.id and got.target == "openai:mock" and got.status == "running"
    assert [c.id for c in store.run_cases(run.id)] == [c.id for c in cases]
    assert store.case_plan(run.id)[cases[0].id] == (["refusal"], "item-1")
    assert [r.id for r in store.list_runs()] == [run.id]
    assert store.get_run(run.id[:8]).id == run.id  # unique prefix
    run.status = "completed"
    store.save_run(run)
    assert store.list_runs(status="completed")[0].status == "completed"


def test_writes_are_idempotent(db_url: str) -> None:
    store = Store(db_url)
    cases = _cases(3)
    run = _run(3)
    store.create_run(run, cases, {})
    first = Response(case_id=cases[0].id, text="答案 <b>one</b>", latency_s=0.5)
    again = Response(case_id=cases[0].id, text="a different answer")
    j = Judgment(
        case_id=cases[0].id,
        grader="refusal@1",
        outcome=Outcome.UNSAFE,
        label="compliance",
        reason="r",
        details={"k": [1, 2]},
    )
    store.write_results(run.id, [first], [j])
    store.write_results(run.id, [again], [j])  # a retried or resumed case
    responses = store.responses(run.id)
    assert list(responses) == [cases[0].id]
    assert responses[cases[0].id].text == "答案 <b>one</b>"  # the first answer stands
    assert store.judgments(run.id) == [j]
    assert store.responded_case_ids(run.id) == {cases[0].id}
    assert store.count_responses(run.id) == 1


def test_writer_commits_as_results_arrive(db_url: str) -> None:
    store = Store(db_url)
    cases = _cases(50)
    run = _run(50)
    store.create_run(run, cases, {})
    writer = ResultWriter(store, run.id).start()
    for c in cases[:20]:
        writer.put(
            Response(case_id=c.id, text="x"), [Judgment(case_id=c.id, grader="g@1", outcome=Outcome.SAFE)]
        )
    writer.flush()
    # visible to another connection before the writer is closed
    assert Store(db_url).count_responses(run.id) == 20
    for c in cases[20:]:
        writer.put(Response(case_id=c.id, text="y"))
    writer.close()
    assert store.count_responses(run.id) == 50
    assert writer.commits >= 2
    # dispatch (case) order is kept: sequential analysis replays it
    assert list(store.responses(run.id)) == [c.id for c in cases]
    assert [j.case_id for j in store.judgments(run.id)] == [c.id for c in cases[:20]]


def test_writer_from_many_threads(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    cases = _cases(400)
    run = _run(400)
    store.create_run(run, cases, {})
    writer = ResultWriter(store, run.id).start()

    def feed(part: list[Case]) -> None:
        for c in part:
            writer.put(Response(case_id=c.id, text="z"))

    threads = [threading.Thread(target=feed, args=(cases[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    writer.close()
    assert store.count_responses(run.id) == 400


def test_cache_roundtrip(db_url: str) -> None:
    store = Store(db_url)
    store.create_run(_run(0), [], {})
    resp = Response(case_id="c1", text="cached 文本", latency_s=1.0)
    store.write_results("r-test-0", [], [], [("k1", "openai:mock", resp)])
    store.write_results("r-test-0", [], [], [("k1", "openai:mock", resp)])
    got = store.cache_get_many(["k1", "missing"])
    assert list(got) == ["k1"] and got["k1"].text == "cached 文本"


def test_validations_references_and_user_banks(db_url: str) -> None:
    store = Store(db_url)
    store.add_validation("refusal@1", {"f1": 0.9})
    store.add_validation("refusal@1", {"f1": 0.95})
    assert store.latest_validations()["refusal@1"] == {"f1": 0.95}
    store.add_reference("ailuminate", {"vcr": 0.1})
    assert store.latest_reference("ailuminate") == {"vcr": 0.1}
    store.add_user_bank("mine", "1", "/tmp/mine.jsonl", True, "abc", 3)
    store.add_user_bank("mine", "2", "/tmp/mine.jsonl", True, "def", 4)
    (row,) = store.user_banks()
    assert row["version"] == "2" and row["private"] is True


def test_unknown_run_is_input_error(db_url: str) -> None:
    with pytest.raises(InputError) as exc:
        Store(db_url).get_run("r-nope")
    assert "no run 'r-nope'" in str(exc.value)


def test_migrations_reach_head_once(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
    Store(db_url)  # reopening is a no-op


def _schema(store: Store) -> tuple[list[tuple[str, str, str, str | None]], str]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master").all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return sorted((r[0], r[1], r[2], r[3]) for r in rows), version


def test_fresh_sqlite_store_has_the_schema_the_migrations_make(tmp_path: Path) -> None:
    """A new SQLite store is created from sqlite_head.json, not by replaying the migrations:
    both give the same tables, indexes, search tables, triggers and revision (after adding a
    migration, regenerate the file with `assay.store.db.write_sqlite_head()`)."""
    fast = Store(f"sqlite:///{tmp_path}/fast.db")
    migrated = Store(f"sqlite:///{tmp_path}/migrated.db", migrate=False)
    migrated.migrate(head_script=False)
    assert _schema(fast) == _schema(migrated)
    # the file is current: a new migration without a regenerated file fails here
    script = json.loads((resources.files("assay.store") / SQLITE_HEAD_FILE).read_text(encoding="utf-8"))
    with migrated.engine.connect() as conn:
        assert script == {"revision": HEAD_REVISION, "statements": sqlite_head_statements(conn)}
    assert _schema(fast)[1] == HEAD_REVISION
    # the search triggers work on the script's schema too
    cases = _cases(2)
    fast.create_run(_run(2), cases, {c.id: ["refusal"] for c in cases})
    with fast.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM search_prompts").scalar_one() == 2


def test_sqlite_uses_wal(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@h/db", "unsupported database"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot connect"),
        ("sqlite:////proc/forbidden/assay.db", "--db"),
    ],
)
def test_bad_db_url_is_one_clear_error(url: str, fragment: str) -> None:
    with pytest.raises(InputError) as exc:
        Store(url)
    assert fragment in str(exc.value)
    assert exc.value.exit_code == 2
