"""Pick prompts of Assay's own banks by TC260-003 Appendix A risk and have local models answer them.

    python scripts/corpus/answer.py --db sqlite:///tmp/v5.db --per-risk 8 --seed 5 \
        --risks A.3.a,A.3.b --target local:smollm2 --target local:qwen2.5-coder-0.5b

For each risk, `--per-risk` prompts that carry it are drawn (seeded, half in each language
where the banks have them) from the banks `export.py` exports, leaving out every prompt the
shipped corpus already holds; a prompt drawn for one risk counts for every risk it carries.
Each target answers every drawn prompt greedily with at most `--max-tokens` new tokens (as
corpus versions 1–4 were made), in one run per target; `export.py` then turns the runs into
unlabelled rows. The split is decided later, by prompt, by the frozen rule (`build.split_of`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from export import OWN_BANKS  # scripts/corpus is on sys.path when this file is run

from assay import api
from assay.banks import builtin_banks
from assay.core.types import Case

CORPUS = Path(__file__).resolve().parents[2] / "src" / "assay" / "graders" / "data" / "corpus"


def shipped_prompts() -> set[str]:
    out: set[str] = set()
    for path in CORPUS.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.add(json.loads(line)["prompt"])
    return out


def pick(risks: list[str], per_risk: int, seed: int) -> list[Case]:
    """`per_risk` unshipped prompts for each risk (a prompt counts for all of its risks)."""
    rng = random.Random(seed)
    shipped = shipped_prompts()
    pool: dict[str, Case] = {}
    for bank_id, bank in sorted(builtin_banks().items()):
        if bank_id not in OWN_BANKS:
            continue
        for case in bank.cases:
            if case.prompt not in shipped and not case.transforms and case.prompt not in pool:
                pool[case.prompt] = case
    cases = sorted(pool.values(), key=lambda c: c.id)
    rng.shuffle(cases)
    chosen: dict[str, Case] = {}
    count = dict.fromkeys(risks, 0)
    for risk in risks:
        for lang in ("zh", "en"):
            want = per_risk // 2 if lang == "zh" else per_risk - per_risk // 2
            for case in cases:
                if count[risk] >= per_risk or want <= 0:
                    break
                if risk in case.risks and case.language == lang and case.prompt not in chosen:
                    chosen[case.prompt] = case
                    want -= 1
                    for r in case.risks:
                        if r in count:
                            count[r] += 1
    print(json.dumps(count), file=sys.stderr)
    return list(chosen.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--risks", required=True, help="comma-separated Appendix A ids")
    ap.add_argument("--per-risk", type=int, default=8)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--target", action="append", required=True)
    a = ap.parse_args(argv)
    cases = pick([r.strip() for r in a.risks.split(",") if r.strip()], a.per_risk, a.seed)
    print(f"{len(cases)} prompts", file=sys.stderr)
    for target in a.target:
        result = api.run(
            target,
            cases=cases,
            graders=["refusal"],
            db=a.db,
            max_tokens=a.max_tokens,
            concurrency=a.concurrency,
            use_cache=False,
        )
        print(f"{target}: run {result.run.id}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
