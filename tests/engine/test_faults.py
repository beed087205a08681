"""Faults are retried, not judged; resume pins the target; one writer per run; true progress.

Against the mock OpenAI server: an outage leaves cases pending (recorded, never judged)
and a resume answers them; a run in which every call failed says so and exits non-zero;
`--retry-errors` re-sends permanent errors; a resume against another endpoint is refused
unless forced; two resumes of one run send each case once; a stale lease is taken over
and a live one refused; several processes can open a fresh store at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from test_engine import ListSink, make_cases, openai_target
from typer.testing import CliRunner

import assay.api as api
from assay.cli import app
from assay.cli._common import answered_rate, eta_s
from assay.core.errors import InputError
from assay.core.types import Case, GenerationParams, Message, Outcome
from assay.engine import Engine, EngineConfig
from assay.graders import get_grader
from assay.store import Store
from assay.store import schema as t
from assay.testing.mock_openai import MockServer


def cases(n: int) -> list[Case]:
    return [
        Case(
            bank="t",
            messages=(Message(role="user", content=f"Tell me fact number {i} about tea."),),
            language="en",
            expected="comply",
        )
        for i in range(n)
    ]


def write_bank(path: Path, n: int) -> Path:
    import json

    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = {"prompt": f"Tell me fact number {i} about tea.", "language": "en", "expected": "comply"}
            fh.write(json.dumps(row) + "\n")
    return path


def all_pending_run(mock_env: Callable[..., MockServer], db: str, n: int = 12, **mock: object) -> str:
    """A run whose first calls (the target check, then one per case) all fail: every case is pending."""
    server = mock_env(outage_requests=(1, n + 1), **mock)
    result = api.run("openai:mock", cases=cases(n), db=db, max_attempts=1, concurrency=2)
    assert result.incomplete and result.stats.pending == n and result.stats.done == 0
    server.state.reset_counts()
    return result.run.id


# -- 3. faults are retried, not judged ---------------------------------------------------


def test_outage_leaves_cases_pending_and_resume_answers_every_one(mock_env, sqlite_url: str) -> None:
    server = mock_env(outage_requests=(5, 30), latency_ms=1)
    result = api.run("openai:mock", cases=cases(20), db=sqlite_url, max_attempts=2, concurrency=4)
    assert result.run.status == "incomplete" and result.incomplete
    assert result.stats.pending >= 1 and server.state.outage_hits >= 1
    assert "pending after transport failures" in result.resume_hint()
    store = Store(sqlite_url)
    pending = store.pending_errors(result.run.id)
    assert len(pending) == result.stats.pending
    assert {kind for _e, kind in pending.values()} <= {"overload", "server"}
    # what is stored is a real answer; nothing was judged for an outage
    stored = store.responses(result.run.id)
    assert all(r.ok for r in stored.values())
    assert {j.case_id for j in store.judgments(result.run.id)} == set(stored)
    assert api.run_details(result.run.id, db=sqlite_url).pending_errors == pending

    resumed = api.resume(result.run.id, db=sqlite_url)
    assert resumed.run.status == "completed" and resumed.stats.pending == 0
    stored = store.responses(result.run.id)
    assert len(stored) == 20 and all(r.ok and r.text for r in stored.values())
    judgments = store.judgments(result.run.id)
    assert len(judgments) == 20 and Outcome.UNSCORABLE not in {j.outcome for j in judgments}
    assert store.pending_errors(result.run.id) == {}


def test_a_run_in_which_every_call_failed_says_so_and_exits_non_zero(mock_env, tmp_path: Path) -> None:
    mock_env(outage_requests=(1, 10_000))
    bank = write_bank(tmp_path / "bank.jsonl", 4)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    out = CliRunner().invoke(
        app,
        [
            "run",
            "-t",
            "openai:mock",
            "-b",
            str(bank),
            "--db",
            db,
            "--max-attempts",
            "2",
            "-o",
            str(tmp_path / "r.html"),
        ],
    )
    assert out.exit_code == 3, out.output
    text = " ".join(out.output.split())  # any terminal width
    assert "every call failed" in text and "--resume" in text
    assert "Traceback" not in out.output
    assert not (tmp_path / "r.html").exists()  # nothing answered: nothing to report
    (run,) = api.list_runs(db=db)
    assert run.status == "incomplete"
    shown = CliRunner().invoke(app, ["runs", "show", run.id, "--db", db])
    assert shown.exit_code == 0 and "4 pending after transport failures" in " ".join(shown.output.split())


def test_retry_errors_resends_permanent_errors(mock_env, sqlite_url: str) -> None:
    # the target check (request 1) passes; then the endpoint rejects five requests
    mock_env(outage_requests=(2, 5), outage_status=400)
    result = api.run("openai:mock", cases=cases(5), db=sqlite_url)
    assert result.run.status == "completed" and result.stats.errors == 5  # stored, unscorable
    with pytest.raises(InputError, match="already complete"):
        api.resume(result.run.id, db=sqlite_url)
    again = api.resume(result.run.id, db=sqlite_url, retry_errors=True)
    assert again.run.status == "completed" and again.stats.answered == 5
    stored = Store(sqlite_url).responses(result.run.id)
    assert all(r.ok for r in stored.values()) and len(stored) == 5
    assert any("--retry-errors: 5" in n for n in again.run.notes)


def test_hung_requests_give_their_slot_back_and_do_not_shrink_the_limiter(mock_server) -> None:
    server = mock_server(fault_rate=0.3, faults=("hang",), hang_s=5, seed=2)
    sink = ListSink()
    target = openai_target(server.base_url, timeout_s=60)
    engine = Engine(
        target,
        sink,
        GenerationParams(max_tokens=16),
        {"refusal": get_grader("refusal")},
        # no fixed request timeout: the one learnt from the latencies seen (floor 0.3 s here)
        # also cuts the requests that hung before there was anything to learn from
        EngineConfig(concurrency=4, max_attempts=20, backoff_base_s=0.001, min_request_timeout_s=0.3),
    )
    work = make_cases(40)

    async def go() -> None:
        try:
            await engine.run(work, {c.id: ("refusal",) for c in work})
        finally:
            await target.aclose()

    asyncio.run(go())
    assert len(sink.responses) == 40 and all(r.ok for r in sink.responses)
    assert server.state.faults_sent["hang"] >= 1 and engine.stats.retries >= 1
    assert engine.limiter.cuts == 0  # a hang is not a rate-limit signal


def test_attempt_timeout_is_learnt_from_latencies_for_cancellable_targets(mock_server) -> None:
    target = openai_target("http://127.0.0.1:9/v1")
    engine = Engine(target, ListSink(), GenerationParams(), {}, EngineConfig(request_timeout_s=None))
    assert engine.attempt_timeout() is None  # too few answers to learn from
    for latency in [0.05] * 30:
        engine._learn(latency)
    assert engine.attempt_timeout() == 5.0  # twenty times the median, at least the floor
    for latency in [1.0] * 100:
        engine._learn(latency)
    assert engine.attempt_timeout() == 20.0
    for latency in [30.0] * 20:
        engine._learn(latency)  # answers that came only after a hang do not teach patience
    assert engine.attempt_timeout() == 20.0
    engine.config.request_timeout_s = 3.0
    assert engine.attempt_timeout() == 3.0


# -- 4. resume pins the target -----------------------------------------------------------


def test_resume_against_another_endpoint_is_refused_unless_forced(mock_env, sqlite_url: str) -> None:
    run_id = all_pending_run(mock_env, sqlite_url, n=4)
    first = Store(sqlite_url).get_run(run_id)
    assert first.target_identity and "127.0.0.1" in first.target_identity
    other = mock_env()  # another server: ASSAY_OPENAI_BASE_URL now points there
    with pytest.raises(InputError) as exc:
        api.resume(run_id, db=sqlite_url)
    assert exc.value.exit_code == 2 and "--force-target" in str(exc.value)
    assert first.target_identity in str(exc.value) and other.base_url in str(exc.value)
    assert other.state.requests == 0 and Store(sqlite_url).count_responses(run_id) == 0
    out = CliRunner().invoke(app, ["run", "--resume", run_id, "--db", sqlite_url])
    assert out.exit_code == 2 and "Traceback" not in out.output

    forced = api.resume(run_id, db=sqlite_url, force_target=True)
    assert forced.run.status == "completed" and other.state.requests == 4
    stored = Store(sqlite_url).get_run(run_id)
    assert any("target changed on resume" in n and other.base_url in n for n in stored.notes)
    assert stored.target_identity is not None and other.base_url in stored.target_identity


# -- 5. one writer per run ----------------------------------------------------------------


def test_two_resumes_started_together_send_each_case_once(mock_env, db_url: str) -> None:
    run_id = all_pending_run(mock_env, db_url, n=16, latency_ms=15)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def resume() -> None:
        barrier.wait()
        try:
            outcomes.append(api.resume(run_id, db=db_url, concurrency=2))
        except InputError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    done = [o for o in outcomes if isinstance(o, api.RunResult)]
    refused = [o for o in outcomes if isinstance(o, InputError)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert "another process" in str(refused[0]) or "already complete" in str(refused[0])
    store = Store(db_url)
    assert store.get_run(run_id).status == "completed" and store.count_responses(run_id) == 16
    assert done[0].stats.sent == 16  # each case sent once, by the one writer


def test_each_resumed_case_is_counted_once_at_the_mock(mock_env, sqlite_url: str) -> None:
    server = mock_env(outage_requests=(1, 7), latency_ms=10)
    first = api.run("openai:mock", cases=cases(6), db=sqlite_url, max_attempts=1, concurrency=2)
    server.state.reset_counts()
    barrier = threading.Barrier(2)

    def resume() -> None:
        barrier.wait()
        with contextlib.suppress(InputError):
            api.resume(first.run.id, db=sqlite_url, concurrency=1)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert len(server.state.counts) == 6 and max(server.state.counts.values()) == 1


def test_live_lease_refused_stale_or_dead_lease_taken_over(mock_env, sqlite_url: str) -> None:
    run_id = all_pending_run(mock_env, sqlite_url, n=3)
    store = Store(sqlite_url)

    def set_lease(owner: str, age_s: float) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(lease_owner=owner, lease_heartbeat=datetime.now(UTC) - timedelta(seconds=age_s))
            )

    set_lease("elsewhere:4242:abcd", 1)
    with pytest.raises(InputError, match="being run by another process") as exc:
        api.resume(run_id, db=sqlite_url)
    assert exc.value.exit_code == 2 and "elsewhere:4242:abcd" in str(exc.value)
    out = CliRunner().invoke(app, ["run", "--resume", run_id, "--db", sqlite_url])
    assert out.exit_code == 2 and "Traceback" not in out.output

    # a holder of this host whose process is gone (kill -9) is taken over at once
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    set_lease(f"{socket.gethostname()}:{gone.pid}:dead", 1)
    assert store.take_lease(run_id, "me:1:x", 60.0)[0]

    # a silent holder elsewhere is taken over once its heartbeat is stale
    set_lease("elsewhere:4242:abcd", 3600)
    result = api.resume(run_id, db=sqlite_url)
    assert result.run.status == "completed"
    assert any("stale writer (process 4242)" in n for n in store.get_run(run_id).notes)
    with store.engine.connect() as conn:
        owner = conn.execute(t.runs.select().where(t.runs.c.id == run_id)).mappings().one()["lease_owner"]
    assert owner is None  # released at the end


def test_opening_a_fresh_store_from_many_threads_at_once(db_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        barrier.wait()
        try:
            Store(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []


def test_three_runs_started_together_on_a_fresh_sqlite_store_all_succeed(mock_server, tmp_path: Path) -> None:
    server = mock_server()
    bank = write_bank(tmp_path / "bank.jsonl", 3)
    db = f"sqlite:///{tmp_path / 'fresh' / 'assay.db'}"
    env = {
        **os.environ,
        "ASSAY_OPENAI_BASE_URL": server.base_url,
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    cmd = [
        sys.executable,
        "-m",
        "assay",
        "run",
        "-t",
        "openai:mock",
        "-b",
        str(bank),
        "--db",
        db,
        "--no-report",
    ]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    runs = api.list_runs(db=db)
    assert len(runs) == 3 and {r.status for r in runs} == {"completed"}


# -- 6. progress that is true -------------------------------------------------------------


def test_progress_rate_counts_answered_cases_not_cache_hits(mock_env, sqlite_url: str) -> None:
    mock_env()
    events: list[str] = []

    def progress(event: str, n: int, total: int) -> None:
        events.append(event)

    api.run("openai:mock", cases=cases(5), db=sqlite_url, progress=progress)
    assert events.count("answered") == 5 and events[0] == "start" and events[-1] == "stop"
    events.clear()
    api.run("openai:mock", cases=cases(5), db=sqlite_url, progress=progress)  # all from the cache
    assert events.count("cached") == 5 and events.count("answered") == 0
    assert answered_rate(0, 10.0) is None  # cache hits alone give no rate, hence no ETA
    assert eta_s(100, answered_rate(0, 10.0)) is None
    assert answered_rate(3, 10.0) == pytest.approx(0.3)
    assert eta_s(6, answered_rate(3, 10.0)) == pytest.approx(20.0)


def test_progress_columns_show_the_answered_rate_and_its_eta() -> None:
    import time

    from rich.progress import Progress

    from assay.cli._common import EtaColumn, RateColumn

    bar = Progress()
    # 1,400 of 2,000 done in 1,000 s, 900 of them cache hits: the rate is the 500 answered
    tid = bar.add_task("x", total=2000, completed=1400, answered=0, t0=time.monotonic() - 1000, note="")
    task = bar.tasks[0]
    assert RateColumn().render(task).plain == "… cases/s" and EtaColumn().render(task).plain == "-:--:--"
    bar.update(tid, answered=500)
    assert RateColumn().render(task).plain == "0.50 cases/s"
    assert EtaColumn().render(task).plain == "0:20:00"  # 600 left at 0.5 cases/s
