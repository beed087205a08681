"""Memory benchmark: peak RSS of the whole `assay run` process (report included) by run size.

    python bench/memory.py                        # 2,000 and 20,000 cases
    python bench/memory.py --sizes 2000,20000,100000
    python bench/memory.py --grader refusal       # without the embedding grader (see below)

For each size: a bank file of that many cases (bench/engine.py's prompts), the local mock
at 0 ms latency, `assay run` with the HTML report as a fresh process (peak RSS, wall time,
HTML report size), then `assay report --format json` of the same run as a fresh process
(peak RSS, JSON report size). Figures, not pass/fail; the goal is a flat line.

`--grader` grades every case with the named graders instead of the defaults: the default
graders of should-refuse cases embed each request and answer (harmful-compliance@3, about
30 ms of CPU per case on one thread, and about 55 MB for the model, whatever the run's
size), which makes a 100,000-case run take hours on a small machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from process import _env, timed, write_bank

from engine import start_mock


def one_size(
    n: int, port: int, work: Path, concurrency: int, src: Path | None = None, graders: tuple[str, ...] = ()
) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(dir=work))
    bank = write_bank(home / f"bank-{n}.jsonl", n)
    db = f"sqlite:///{home}/assay.db"
    html = home / "report.html"
    env = _env(port, home, src)
    base = [sys.executable, "-m", "assay"]
    run = timed(
        [*base, "run", "-t", "openai:mock", "-b", str(bank), "--db", db, "--no-cache", "-c", str(concurrency),
         "-o", str(html), *(a for g in graders for a in ("--grader", g))],
        env,
    )  # fmt: skip
    import sqlite3

    with sqlite3.connect(f"{home}/assay.db") as conn:
        run_id = conn.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()[0]
    js = home / "report.json"
    rep = timed([*base, "report", run_id, "--format", "json", "-o", str(js), "--db", db], env)
    return {
        "src": str(src or "this tree"),
        "cases": n,
        "graders": list(graders) or "defaults",
        "run_wall_s": round(run["wall_s"], 2),
        "run_peak_rss_mb": round(run["peak_rss_mb"], 1),
        "html_report_mb": round(html.stat().st_size / 1e6, 3),
        "json_report_wall_s": round(rep["wall_s"], 2),
        "json_report_peak_rss_mb": round(rep["peak_rss_mb"], 1),
        "json_report_mb": round(js.stat().st_size / 1e6, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000,20000", help="comma-separated case counts")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--grader",
        action="append",
        default=[],
        help="grade every case with this grader instead of the defaults (repeatable)",
    )
    parser.add_argument(
        "--baseline-src", type=Path, help="another Assay source tree (its src/), measured too"
    )
    args = parser.parse_args()
    trees = [None] + ([args.baseline_src.resolve()] if args.baseline_src else [])
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    proc, port = start_mock(0.0)
    try:
        with tempfile.TemporaryDirectory(prefix="assay-mem-") as tmp:
            for n in sizes:
                for src in trees:
                    result = one_size(n, port, Path(tmp), args.concurrency, src, tuple(args.grader))
                    print(json.dumps(result), flush=True)
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
