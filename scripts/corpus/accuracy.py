"""The accuracy set: real answers to Assay's factual questions with reference answers (TC260-003 A.5.a).

    python scripts/corpus/accuracy.py answer --db sqlite:///tmp/acc.db --per-language 30 --seed 3 \
        --target local:smollm2 --target local:qwen2.5-coder-0.5b -o rows.jsonl
    python scripts/corpus/accuracy.py build --rows rows.jsonl --labels labels.jsonl \
        --corpus src/assay/graders/data/corpus

`answer` draws `--per-language` questions of the `factual` bank (written for Assay: the
questions and their reference answers may be shipped) per language, seeded, has each target
answer them greedily (at most `--max-tokens` new tokens) and writes unlabelled rows with the
reference answers (`gold`). `build` joins the labels (GUIDE §11: `accuracy` is correct,
incorrect, abstain or non_answer; `note`) and writes `accuracy_test.jsonl`, a label file
`assay graders validate factuality --labels` reads (safe = correct or abstain, unsafe =
incorrect or non_answer), and its manifest entry. Every row is a test row: no grader learns
from reference answers, so nothing is tuned on this set.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from build import read_jsonl, row_fields, write_file  # scripts/corpus is on sys.path when this file is run

from assay import api
from assay.banks import builtin_banks
from assay.core.ids import sha256_hex
from assay.store import Store

ACCURACY = ("correct", "incorrect", "abstain", "non_answer")
#: the binary outcome of each accuracy label (GUIDE §11)
OUTCOME = {"correct": "safe", "abstain": "safe", "incorrect": "unsafe", "non_answer": "unsafe"}


def answer(a: argparse.Namespace) -> int:
    bank = builtin_banks()["factual"]
    rng = random.Random(a.seed)
    chosen = []
    for lang in ("zh", "en"):
        pool = sorted((c for c in bank.cases if c.language == lang), key=lambda c: c.id)
        chosen += rng.sample(pool, min(a.per_language, len(pool)))
    rows = []
    for target in a.target:
        result = api.run(
            target, cases=chosen, graders=["factuality"], db=a.db, max_tokens=a.max_tokens, use_cache=False
        )
        family = target.split(":", 1)[1].split("-0.5b")[0]
        family = "qwen2.5-coder" if family.startswith("qwen") else family
        responses = Store(a.db).responses(result.run.id)
        for case in chosen:
            resp = responses.get(case.id)
            if resp is None or resp.error is not None:
                continue
            rows.append(
                {
                    "id": sha256_hex(f"{family}\0{case.prompt}\0{resp.text}")[:16],
                    "family": family,
                    "language": case.language,
                    "bank": case.bank,
                    "expected": case.expected,
                    "categories": list(case.categories),
                    "risks": list(case.risks),
                    "gold": list(case.metadata.get("gold") or []),
                    "prompt": case.prompt,
                    "response": resp.text,
                }
            )
    with a.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {a.out}", file=sys.stderr)
    return 0


def build(a: argparse.Namespace) -> int:
    rows = [r for p in a.rows for r in read_jsonl(p)]
    labels = {str(x["id"]): x for p in a.labels for x in read_jsonl(p)}
    out = []
    for r in rows:
        lab = labels.get(str(r["id"]))
        if lab is None or lab.get("accuracy") not in ACCURACY:
            raise SystemExit(f"{r['id']}: no accuracy label of {ACCURACY}")
        out.append(
            {
                **row_fields(r),
                "gold": r["gold"],
                "label": OUTCOME[str(lab["accuracy"])],
                "kind": lab["accuracy"],
                "note": lab.get("note") or "",
                "category": "factual",
            }
        )
    entry = write_file(a.corpus / "accuracy_test.jsonl", out)
    manifest_path = a.corpus / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.setdefault("accuracy", {})["accuracy_test"] = {
        **entry,
        "kinds": {k: sum(1 for x in out if x["kind"] == k) for k in ACCURACY},
        "split": "every row is a test row (no grader learns from reference answers)",
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(manifest["accuracy"], indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    an = sub.add_parser("answer")
    an.add_argument("--db", required=True)
    an.add_argument("--per-language", type=int, default=30)
    an.add_argument("--seed", type=int, default=3)
    an.add_argument("--max-tokens", type=int, default=64)
    an.add_argument("--target", action="append", required=True)
    an.add_argument("-o", "--out", type=Path, required=True)
    bu = sub.add_parser("build")
    bu.add_argument("--rows", type=Path, action="append", required=True)
    bu.add_argument("--labels", type=Path, action="append", required=True)
    bu.add_argument("--corpus", type=Path, required=True)
    a = ap.parse_args(argv)
    return answer(a) if a.cmd == "answer" else build(a)


if __name__ == "__main__":
    raise SystemExit(main())
