"""Crash safety: `kill -9` a running `assay run`, then resume it.

The resumed run completes; no case has two stored responses; the mock server saw at
most 2 x `concurrency` repeated requests: each worker has at most one call in flight and
one answer waiting for its commit at the kill (the bound `assay.store.writer` states).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

from assay.store import Store

CONCURRENCY = 4


def _bank(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {"prompt": f"Tell me fact number {i} about tea.", "language": "en", "expected": "comply"}
                )
                + "\n"
            )
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=5) as resp:
        return dict(json.load(resp))


def test_kill_dash_nine_then_resume(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "assay.testing.mock_openai", "--port", str(port), "--latency-ms", "40"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = f"sqlite:///{tmp_path / 'assay.db'}"
    env = {**os.environ, "ASSAY_OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "ASSAY_DB": db}
    bank = _bank(tmp_path / "bank.jsonl", 300)
    try:
        for _ in range(50):
            try:
                _stats(port)
                break
            except OSError:
                time.sleep(0.1)
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assay",
                "run",
                "-t",
                "openai:mock",
                "-b",
                str(bank),
                "-c",
                str(CONCURRENCY),
                "--no-report",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        engine = create_engine(db)
        stored = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(0.05)
            try:
                with engine.connect() as conn:
                    stored = conn.execute(text("SELECT count(*) FROM responses")).scalar_one()
            except Exception:
                continue
            if stored >= 40:
                break
        assert stored >= 40, run.communicate(timeout=5)
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        engine.dispose()

        store = Store(db)
        (killed,) = store.list_runs()
        assert killed.status == "running"  # it never got to say otherwise
        answered_before = store.count_responses(killed.id)
        assert 40 <= answered_before < 300
        requests_before = _stats(port)["requests"]

        resumed = subprocess.run(
            [
                sys.executable,
                "-m",
                "assay",
                "run",
                "--resume",
                killed.id,
                "-c",
                str(CONCURRENCY),
                "--no-report",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert resumed.returncode == 0, resumed.stderr
        final = Store(db)
        assert final.get_run(killed.id).status == "completed"
        assert final.count_responses(killed.id) == 300
        with final.engine.connect() as conn:
            dupes = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT case_id FROM responses GROUP BY run_id, case_id HAVING count(*) > 1) d"
                )
            ).scalar_one()
        assert dupes == 0
        stats = _stats(port)
        # only unstored cases were sent again: the repeats are the calls in flight at the kill
        # and the answers that were waiting for their commit (one of each per worker)
        assert stats["distinct"] == 301  # the cases and the target check made when the run started
        assert stats["repeats"] <= 2 * CONCURRENCY
        assert stats["requests"] - requests_before <= 300 - answered_before + 2 * CONCURRENCY
    finally:
        server.kill()
        server.wait(10)


def test_resume_unknown_run_exits_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'assay.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "run", "--resume", "r-does-not-exist", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no run 'r-does-not-exist'" in proc.stderr
