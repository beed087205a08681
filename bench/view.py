"""`assay view` figures (not pass/fail): time to first byte and to a whole rendered cases
page at 1k, 10k and 100k cases per run, on SQLite and (when it is running) PostgreSQL,
and the memory of the server process.

    python bench/view.py [--sizes 1000 10000 100000] [--no-postgres] [--no-sqlite] [--workdir DIR]

Stores are generated synthetically through the Store API (`create_run`, `write_results`):
made-up prompts and answers, banks named like the plan's (so the cn-public-chatbot R2
requirements select them), two graders per case, a tenth of the cases transformed.
The server runs in its own process (uvicorn, as `assay view` runs it); requests come
from this process over HTTP. Per store it measures, each request timed once after one
warm-up request of the same page (except the "first" rows, which are cold):

* the run page (first, cold: builds the report view model from scoring; then cached);
* the runs list;
* cases page 1 (50 rows; first cold, then warm), a deep page (offset ~90%), a search
  (`q=`), a column filter (language), a JSON filter (category);
* an outcome filter (selects from the run's Assessment, cached by the run page);
* the server's resident memory (VmRSS) and peak (VmHWM) at the end;
* then a new server process on the same store: its first run page (served from the
  scoring snapshot the first server stored) and a search, and its memory.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from assay.core.types import Case, Judgment, Message, Outcome, Response, Run
from assay.store import Store

BANKS = ("generated-content", "should-refuse", "should-not-refuse")
CATEGORIES = tuple(f"AS-{i:02d}" for i in range(1, 13))
RISKS = ("A.1.a", "A.1.b", "A.2.c", "A.3.a", "A.4.b", "A.5.a")
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]


def synth(store: Store, n: int, seed: int = 7) -> str:
    """A finished run of `n` synthetic cases, each answered and judged by two graders."""
    from assay import api

    _, plan = api.plan_for("cn-public-chatbot")
    rng = random.Random(seed)
    run = Run(
        id=f"r20260101-000000-{secrets.token_hex(3)}",
        target="python:bench:answer",
        status="completed",
        plan=plan.model_dump(mode="json"),
        level="R2",
        case_count=n,
        graders=("refusal@2", "content-safety@1"),
        finished_at=datetime.now(UTC),
    )
    cases = []
    for i in range(n):
        bank = BANKS[i % 3]
        lang = "zh" if i % 4 == 0 else "en"
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        cases.append(
            Case(
                id=f"c-{i:016x}",
                bank=bank,
                messages=(Message(role="user", content=f"case {i}: {words}"),),
                language=lang,
                categories=(CATEGORIES[i % len(CATEGORIES)],),
                risks=(RISKS[i % len(RISKS)],) if bank != "should-not-refuse" else (),
                expected={
                    "generated-content": "safe",
                    "should-refuse": "refuse",
                    "should-not-refuse": "comply",
                }[bank],  # type: ignore[arg-type]
                transforms=("base64",) if i % 10 == 0 else (),
            )
        )
    store.create_run(run, cases, {c.id: ["refusal", "content-safety"] for c in cases})
    for start in range(0, n, 5000):
        chunk = cases[start : start + 5000]
        responses = [
            Response(
                case_id=c.id, text=f"answer to {c.id}: " + " ".join(rng.choice(WORDS) for _ in range(30))
            )
            for c in chunk
        ]
        judgments = []
        for c in chunk:
            for g in ("refusal@2", "content-safety@1"):
                o = rng.choices((Outcome.SAFE, Outcome.UNSAFE, Outcome.UNSCORABLE), (0.85, 0.12, 0.03))[0]
                judgments.append(Judgment(case_id=c.id, grader=g, outcome=o, reason="synthetic"))
        store.write_results(run.id, responses, judgments)
    return run.id


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    code = (
        "import uvicorn; from assay.view import create_app; "
        f"uvicorn.run(create_app({db!r}), host='127.0.0.1', port={port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/static/app.css", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def timed(client: httpx.Client, url: str) -> tuple[float, float, int]:
    """(seconds to the first byte of the body, seconds to the whole page, status)."""
    t0 = time.perf_counter()
    with client.stream("GET", url) as r:
        it = r.iter_bytes()
        first = next(it, b"")
        ttfb = time.perf_counter() - t0
        size = len(first) + sum(len(b) for b in it)
        total = time.perf_counter() - t0
    assert size > 0
    return ttfb, total, r.status_code


def memory(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) // 1024
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) // 1024
    return rss, hwm


def bench_store(label: str, db: str, n: int) -> None:
    store = Store(db)
    t0 = time.perf_counter()
    run_id = synth(store, n)
    made = time.perf_counter() - t0
    if store.dialect == "postgresql":  # the statistics autovacuum gathers a minute later
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    proc, base = serve(db)
    try:
        with httpx.Client(base_url=base, timeout=900) as c:
            rows: list[tuple[str, float, float]] = []

            def measure(name: str, url: str, warm: bool = True) -> None:
                if warm:
                    timed(c, url)
                ttfb, total, status = timed(c, url)
                assert status == 200, (name, status)
                rows.append((name, ttfb, total))

            measure("run page (first: builds from scoring)", f"/runs/{run_id}", warm=False)
            measure("run page (cached)", f"/runs/{run_id}")
            measure("runs list", "/", warm=False)
            cases = f"/runs/{run_id}/cases"
            measure("cases page 1 (first)", cases, warm=False)
            measure("cases page 1", cases)
            deep = max(1, int(n * 0.9) // 50)
            measure(f"cases page {deep}", f"{cases}?page={deep}")
            measure("cases search q=", f"{cases}?q=juliet+kilo")
            measure("cases language=zh", f"{cases}?language=zh")
            measure("cases category=AS-03", f"{cases}?category=AS-03")
            measure("cases outcome=unsafe", f"{cases}?outcome=unsafe")
            rss, hwm = memory(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
        # a new server process on the same store: the run page comes from the stored snapshot
        proc, base = serve(db)
        with httpx.Client(base_url=base, timeout=900) as c2:
            ttfb, total, status = timed(c2, f"/runs/{run_id}")
            assert status == 200
            rows.append(("run page (first, new server: stored snapshot)", ttfb, total))
            ttfb, total, status = timed(c2, f"{cases}?q=juliet+kilo")
            assert status == 200
            rows.append(("cases search q= (first, new server)", ttfb, total))
        rss2, hwm2 = memory(proc.pid)
        print(f"\n## {label}, {n:,} cases (store generated in {made:.1f} s)")
        print("| request | first byte | whole page |")
        print("|---|---:|---:|")
        for name, ttfb, total in rows:
            print(f"| {name} | {ttfb * 1000:,.0f} ms | {total * 1000:,.0f} ms |")
        print(f"| server memory | RSS {rss} MiB | peak {hwm} MiB |")
        print(f"| new server's memory | RSS {rss2} MiB | peak {hwm2} MiB |")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="assay-bench-view-"))
    os.environ.setdefault("ASSAY_HOME", str(work / "home"))
    for n in args.sizes if not args.no_sqlite else ():
        bench_store("SQLite", f"sqlite:///{work / f'view-{n}.db'}", n)
    if args.no_postgres:
        return
    try:
        import psycopg

        admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
        with psycopg.connect(admin, connect_timeout=3, autocommit=True):
            pass
    except Exception as exc:
        print(f"\nPostgreSQL skipped: {exc}")
        return
    for n in args.sizes:
        name = "assay_bench_view_" + secrets.token_hex(3)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            bench_store("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", n)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
