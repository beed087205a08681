"""Export the answers of stored runs as unlabelled corpus rows (JSONL), one per answered case.

    python scripts/corpus/export.py --db sqlite:///path/assay.db --family smollm2 -o rows.jsonl [RUN_ID ...]

Each row: id (stable: sha256 of model family, prompt and response), family, model, run,
language, bank, expected, categories, risks, transforms, prompt (the whole user turn) and
response. Only answers of Assay's own banks are exported: the corpus ships its prompts,
and public datasets' text may not be copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assay.core.ids import sha256_hex
from assay.store import Store

OWN_BANKS = {
    "should-refuse",
    "should-not-refuse",
    "generated-content",
    "self-harm",
    "privacy-canary",
    "disinfo",
    "prompt-injection",
    "sysprompt-leak",
    "specialized-advice",
    "starter",
}


def export(store: Store, family: str, run_ids: list[str]) -> list[dict[str, object]]:
    runs = run_ids or [r.id for r in store.list_runs(limit=1000)]
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for rid in runs:
        run = store.get_run(rid)
        responses = store.responses(run.id)
        for case in store.run_cases(run.id):
            resp = responses.get(case.id)
            if resp is None or resp.error is not None or case.bank not in OWN_BANKS:
                continue
            rid_ = sha256_hex(f"{family}\0{case.prompt}\0{resp.text}")[:16]
            if rid_ in seen:
                continue
            seen.add(rid_)
            rows.append(
                {
                    "id": rid_,
                    "family": family,
                    "model": resp.model or run.target,
                    "run": run.id,
                    "language": case.language,
                    "bank": case.bank,
                    "expected": case.expected,
                    "categories": list(case.categories),
                    "risks": list(case.risks),
                    "transforms": list(case.transforms),
                    "mode": case.metadata.get("mode"),
                    "prompt": case.prompt,
                    "response": resp.text,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*")
    ap.add_argument("--db", required=True)
    ap.add_argument("--family", required=True)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args(argv)
    rows = export(Store(args.db), args.family, args.runs)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
