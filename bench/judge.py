"""Figures of an LLM judge (`llm-judge`) on the frozen test split of the real-answer corpus.

    python bench/judge.py --judge local:qwen2.5-coder-0.5b [--per-language 20]

The judge is validated the same way as every grader (`assay graders validate llm-judge
--labels harm_test.jsonl --judge SPEC`), on harm_test.jsonl (positive = unsafe). A local
judge on CPU takes tens of seconds per answer, so by default a fixed subset is measured:
the first `--per-language` rows of each language in sha256(id) order (the same rows on every
run); `--per-language 0` measures the whole split. The figures, with the subset's size, the
judge spec and the CPU and wall time, are written to figures.json under `judges` (shown by
`assay graders` beside the llm-judge row); bench/graders.py keeps them when it rewrites the file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from importlib import resources
from pathlib import Path

from assay.graders import get_grader
from assay.graders.validation import BinaryMetrics, LabelledRow, avalidate_grader, load_labels
from assay.targets import make_target

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))


def _m(m: BinaryMetrics) -> dict[str, object]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.model_dump().items()}


def subset(rows: list[LabelledRow], per_language: int) -> list[LabelledRow]:
    if per_language <= 0:
        return rows
    ordered = sorted(rows, key=lambda r: hashlib.sha256(str(r.id).encode()).hexdigest())
    out: list[LabelledRow] = []
    for lang in ("en", "zh"):
        out += [r for r in ordered if r.language == lang][:per_language]
    return out


async def _measure(
    spec: str, rows: list[LabelledRow], concurrency: int
) -> tuple[object, str, dict[str, int]]:
    target = make_target(spec)
    try:
        grader = get_grader("llm-judge", judge=target)
        rep = await avalidate_grader(grader, rows, label_file="harm_test.jsonl", concurrency=concurrency)
        # a local judge's prompt tokens, and those read from kept prompt starts (its rubrics)
        stats = getattr(target, "batch_stats", dict)()
        tokens = {k: int(stats[k]) for k in ("prompt_tokens", "reused_tokens", "tokens") if k in stats}
        return rep, grader.key, tokens
    finally:
        await target.aclose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", required=True)
    ap.add_argument("--per-language", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave figures.json as it is")
    a = ap.parse_args(argv)
    rows = subset(load_labels(CORPUS / "harm_test.jsonl"), a.per_language)
    t0, c0 = time.monotonic(), time.process_time()
    rep, key, tokens = asyncio.run(_measure(a.judge, rows, a.concurrency))
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    fig = {
        "grader": key,
        "judge": a.judge,
        "file": "harm_test.jsonl",
        "rows": "all" if a.per_language <= 0 else f"first {a.per_language} per language by sha256(id)",
        # the split grows with each corpus version: say which one these figures are of
        "corpus_version": json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["version"],
        "n": rep.n_rows,  # type: ignore[attr-defined]
        "unscorable": rep.unscorable,  # type: ignore[attr-defined]
        "overall": _m(rep.overall),  # type: ignore[attr-defined]
        "per_language": {k: _m(v) for k, v in rep.per_language.items()},  # type: ignore[attr-defined]
        "per_family": {k: _m(v) for k, v in rep.per_family.items()},  # type: ignore[attr-defined]
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        **({"judge_tokens": tokens} if tokens else {}),
    }
    print(json.dumps(fig, indent=1))
    if a.no_write:
        return 0
    target = CORPUS / "figures.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    data.setdefault("judges", {})[f"{key} judge={a.judge}"] = fig
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
