#!/usr/bin/env python
"""Refusal detector figures: held-out F1 per language, JailbreakBench F1, rule-path speed.

    python bench/refusal.py [--jbb ../shared/datasets/jailbreakbench_artifacts] [--json OUT]

Prints figures; asserts nothing. The held-out test split (refusal_{en,zh}_test.jsonl)
shares no prompt and no response template with the train split the head was fitted on.
JailbreakBench labels are automatic (JBB's Llama-3-70B judge), English only, and say
"harmful or not" rather than "refused or not"; `jailbroken` True → compliance, False →
refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assay.graders.refusal import RefusalGrader, classify_rules  # noqa: E402
from assay.graders.validation import (  # noqa: E402
    LabelledRow,
    ValidationReport,
    jbb_label_rows,
    load_labels,
    validate_grader,
)

LABELS_DIR = ROOT / "src" / "assay" / "graders" / "data" / "labels"
DEFAULT_JBB = ROOT.parent / "shared" / "datasets" / "jailbreakbench_artifacts"


def fmt(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def show(title: str, rep: ValidationReport) -> dict[str, object]:
    print(
        f"\n== {title}  ({rep.grader}, {rep.n_rows} rows, unscorable {rep.unscorable}, layers {rep.details.get('layers')})"
    )
    print(f"{'slice':<12}{'n':>6}{'acc':>8}{'P':>8}{'R':>8}{'F1':>8}{'kappa':>8}{'spec':>8}   tp/fp/fn/tn")
    out: dict[str, object] = {}
    for name, m in [("overall", rep.overall), *rep.per_language.items()]:
        print(
            f"{name:<12}{m.n:>6}{fmt(m.accuracy):>8}{fmt(m.precision):>8}{fmt(m.recall):>8}{fmt(m.f1):>8}"
            f"{fmt(m.kappa):>8}{fmt(m.specificity):>8}   {m.tp}/{m.fp}/{m.fn}/{m.tn}"
        )
        out[name] = m.model_dump()
    print("confusion (rows gold, cols predicted):")
    cols = [*rep.classes, "unscorable"]
    print(" " * 12 + "".join(f"{c:>12}" for c in cols))
    for g, row in rep.confusion.items():
        print(f"{g:<12}" + "".join(f"{row[c]:>12}" for c in cols))
    out["confusion"] = rep.confusion
    out["multiclass_accuracy"] = rep.multiclass_accuracy
    out["layers"] = rep.details.get("layers")
    return out


def rule_speed(rows: list[LabelledRow], repeat: int = 20) -> float:
    """Microseconds per response for the rules, bypassing their memo cache (which would time a dict lookup)."""
    texts = [r.response for r in rows]
    rules = getattr(classify_rules, "__wrapped__", classify_rules)
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            rules(t)
    return (time.perf_counter() - t0) / (repeat * len(texts)) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jbb", type=Path, default=DEFAULT_JBB)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-head", action="store_true", help="rules only")
    ap.add_argument(
        "--speed-repeat", type=int, default=20, help="passes over the texts when timing the rules"
    )
    args = ap.parse_args()
    grader = RefusalGrader(use_head=not args.no_head)
    results: dict[str, object] = {}

    test = load_labels(LABELS_DIR / "refusal_en_test.jsonl") + load_labels(
        LABELS_DIR / "refusal_zh_test.jsonl"
    )
    results["heldout"] = show(
        "held-out test split (hand-written, never trained or tuned on)", validate_grader(grader, test)
    )
    train = load_labels(LABELS_DIR / "refusal_en_train.jsonl") + load_labels(
        LABELS_DIR / "refusal_zh_train.jsonl"
    )
    results["train"] = show(
        "train split (for reference: rules were tuned and the head fitted here)",
        validate_grader(grader, train),
    )

    if args.jbb.exists():
        jbb_all = jbb_label_rows(args.jbb)
        jbb_test = [r for r in jbb_all if int((r.id or "0").rsplit(":", 1)[1]) % 2 == 1]
        results["jbb_all"] = show(
            "JailbreakBench artifacts, all rows (automatic labels)", validate_grader(grader, jbb_all)
        )
        results["jbb_test"] = show(
            "JailbreakBench artifacts, test part (odd behaviour index)", validate_grader(grader, jbb_test)
        )
        speed_rows = jbb_all
    else:
        print(f"\n(JailbreakBench artifacts not found at {args.jbb}; skipped)")
        speed_rows = test
    us = rule_speed(speed_rows, args.speed_repeat)
    us_short = rule_speed(test, args.speed_repeat)
    print(
        f"\nrule path: {us:.1f} us/response on {'JBB' if args.jbb.exists() else 'held-out'} responses, {us_short:.1f} us on the held-out set"
    )
    results["rule_us_per_response"] = {"jbb_or_heldout": round(us, 1), "heldout": round(us_short, 1)}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
