"""The store on SQLite and on the real PostgreSQL server: runs, idempotent writes, resume bookkeeping."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from assay.core.errors import InputError
from assay.core.types import Case, Judgment, Message, Outcome, Response, Run
from assay.store import ResultWriter, Store
from assay.store.db import HEAD_REVISION


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
