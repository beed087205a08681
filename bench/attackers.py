"""Attack success rate of the adaptive attackers against static transforms, on the same cases.

    python bench/attackers.py                                  # python victims, offline template attacker
    python bench/attackers.py --victim local:smollm2 -n 4      # a local model as the victim
    python bench/attackers.py --attacker local:smollm2 -n 2    # a local model as the attacker
    python bench/attackers.py --victim local:qwen2.5-coder-0.5b --attacker local:smollm2 \\
        --attack-judge local:qwen2.5-coder-0.5b --budget turns=2,calls=6 --max-tokens 64 -n 3

For each victim it sends the same should-refuse cases (starter bank, first n) as
written, through static transforms and through `pair`, `tap` and `crescendo_bt` (once
per attacker), in one run per victim, and prints per chain: successes / cases, the
attack success rate with its 95% Wilson interval (from the run's assessment: the figures
every report shows; a success is a reply the `harmful-compliance` grader judges unsafe),
calls per case (target, attacker and attack-judge calls apart), calls and tokens per
successful attack, and wall time. Everything runs offline; nothing is called that is not
named on the command line.

With `--db URL` the runs are kept; `--resume` then finishes each victim's unfinished run
in that store (cases left pending, e.g. past `--deadline` on a loaded machine, or a bench
killed midway) instead of starting a new one: the attack journal replays every finished
call, so nothing is sent twice, and the figures are those of the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import assay.api as api
from assay.banks import get_builtin_bank
from assay.store.db import Store
from assay.transforms import expand_cases

STATIC = ("none", "roleplay", "hypothetical", "refusal_suppression", "crescendo")
ADAPTIVE = ("pair", "tap", "crescendo_bt")
PY_VICTIMS = ("roleplay_weak", "crescendo_weak", "robust")


def _cases(n: int) -> list[Any]:
    pool = [c for c in get_builtin_bank("starter").cases if c.expected == "refuse"]
    return pool[:n] if n < len(pool) else pool


def measure(
    victim: str,
    chains: list[str],
    n: int,
    seed: int,
    db: str,
    *,
    attack_judge: str | None = None,
    threshold: int = 10,
    max_tokens: int = 256,
    concurrency: int = 4,
    deadline: float = 600.0,
    resume: bool = False,
) -> list[dict[str, Any]]:
    t0 = time.perf_counter()
    unfinished = [
        r for r in api.list_runs(db=db, target=victim) if r.status in ("incomplete", "interrupted", "running")
    ]
    if resume and unfinished:
        res = api.resume(unfinished[0].id, db=db, concurrency=concurrency, case_deadline_s=deadline)
    else:
        cases, _ = expand_cases(_cases(n), chains, seed)
        res = api.run(
            victim,
            cases=cases,
            db=db,
            concurrency=concurrency,
            graders=("harmful-compliance",),
            seed=seed,
            max_tokens=max_tokens,
            case_deadline_s=deadline,
            attack_judge=attack_judge,
            attack_judge_threshold=threshold,
        )
    wall = time.perf_counter() - t0
    if res.run.status != "completed":
        print(f"# {victim}: run {res.run.id} is {res.run.status}: {res.resume_hint()}", file=sys.stderr)
    a = api.assessment(res.run.id, db=db)
    store = Store(db)
    responses = store.responses(res.run.id)
    by_chain: dict[str, dict[str, Any]] = {}
    for c in store.run_cases(res.run.id):  # the cases as run (an attack judge renames them)
        chain = "+".join(c.transforms) or "none"
        r = responses.get(c.id)
        if r is None:
            continue
        row = by_chain.setdefault(chain, {"calls": 0, "tokens": 0, "target": 0, "attacker": 0, "judge": 0})
        summary = next((x for x in r.actions if x.get("kind") == "attack_summary"), None)
        if summary is not None:
            row["calls"] += int(summary["calls"])
            row["tokens"] += int(summary["tokens"])
            row["target"] += int(summary["target_calls"])
            row["attacker"] += int(summary["attacker_calls"])
            row["judge"] += int(summary.get("judge_calls", 0))
        else:
            turns = max(1, sum(1 for m in r.transcript if m.role == "assistant"))
            row["calls"] += turns
            row["target"] += turns
            used = r.usage.prompt_tokens + r.usage.completion_tokens
            if not used:  # python victims report no usage: characters / 4, as the attack loop counts
                text = " ".join(m.content for m in (*c.messages, *r.transcript)) + r.text
                used = len(text) // 4
            row["tokens"] += used
    out = []
    for b in a.breakdowns.get("transform", ()):
        e = b.estimate
        extra = by_chain.get(b.key, {"calls": 0, "tokens": 0, "target": 0, "attacker": 0, "judge": 0})
        k = e.k
        n_ = max(1, e.n)
        out.append(
            {
                "victim": victim,
                "chain": b.key,
                "k": k,
                "n": e.n,
                "unscorable": e.unscorable,
                "asr": round(e.rate, 3),
                "ci95": [round(e.lower, 3), round(e.upper, 3)],
                "calls_per_case": round(extra["calls"] / n_, 2),
                "target_calls_per_case": round(extra["target"] / n_, 2),
                "attacker_calls_per_case": round(extra["attacker"] / n_, 2),
                "judge_calls_per_case": round(extra["judge"] / n_, 2),
                "calls_per_success": round(extra["calls"] / k, 2) if k else None,
                "tokens_per_success": round(extra["tokens"] / k) if k else None,
                "run_wall_s": round(wall, 2),
            }
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--victim", action="append", help="target spec(s); default: the three python victims")
    ap.add_argument(
        "--attacker",
        action="append",
        help="attacker target spec(s), each run with every adaptive strategy "
        "(default: the built-in offline template attacker)",
    )
    ap.add_argument("--budget", default="", help="budget for the adaptive chains, e.g. turns=2,calls=4")
    ap.add_argument("--attack-judge", default=None, help="attack judge spec (default: the run's grader)")
    ap.add_argument("--attack-judge-threshold", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=256, help="longest victim reply (and static answers)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds a case (a whole attack) may take")
    ap.add_argument("--db", help="keep the runs in this store (default: a temporary one)")
    ap.add_argument("--resume", action="store_true", help="finish each victim's unfinished run in --db")
    ap.add_argument("-n", type=int, default=8, help="should-refuse cases per chain")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chains", help="comma-separated subset of the chains (default: all)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    victims = args.victim or [f"python:assay.testing.victims:{v}" for v in PY_VICTIMS]
    attackers = args.attacker or [""]
    adaptive: list[str] = []
    for attacker in attackers:
        suffix = attacker + (f"@{args.budget}" if args.budget else "")
        adaptive += [f"{a}:{suffix}" if suffix else a for a in ADAPTIVE]
    chains = list(STATIC) + adaptive
    if args.chains:
        wanted = {c.strip() for c in args.chains.split(",")}
        chains = [c for c in chains if c in wanted or c.split(":")[0] in wanted]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs, load {load:.1f} · "
        f"n={args.n} should-refuse starter cases per chain · victim max_tokens={args.max_tokens} · "
        f"attack judge: {args.attack_judge or 'the harmful-compliance grader'} · budget: "
        f"{args.budget or 'defaults'}"
    )
    if args.resume and not args.db:
        ap.error("--resume needs --db (the store the unfinished runs are in)")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        for v in victims:
            rows += measure(
                v,
                chains,
                args.n,
                args.seed,
                db,
                attack_judge=args.attack_judge,
                threshold=args.attack_judge_threshold,
                max_tokens=args.max_tokens,
                concurrency=args.concurrency,
                deadline=args.deadline,
                resume=args.resume,
            )
    head = (
        f"{'victim':30} {'chain':40} {'k/n':>7} {'ASR':>5} {'95% CI':>11} "
        f"{'calls/case (t+a+j)':>20} {'calls/succ':>10} {'tok/succ':>8} {'wall s':>7}"
    )
    print(head)
    for r in rows:
        ci = f"{r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}"
        cps = "-" if r["calls_per_success"] is None else f"{r['calls_per_success']:.1f}"
        tps = "-" if r["tokens_per_success"] is None else str(r["tokens_per_success"])
        split = (
            f"{r['calls_per_case']:.1f} ({r['target_calls_per_case']:.1f}+"
            f"{r['attacker_calls_per_case']:.1f}+{r['judge_calls_per_case']:.1f})"
        )
        print(
            f"{r['victim'][-30:]:30} {r['chain'][:40]:40} {r['k']:>3}/{r['n']:<3} {r['asr']:>5.2f} {ci:>11} "
            f"{split:>20} {cps:>10} {tps:>8} {r['run_wall_s']:>7.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
