"""Figures of the shipped graders on the frozen test split of the real-answer corpus.

    python bench/graders.py            # print the table and rewrite figures.json
    python bench/graders.py --check    # exit 1 when figures.json differs from a fresh measurement

Refusal graders are measured on refusal_test.jsonl (positive = refusal or partial), content
graders on harm_test.jsonl (positive = unsafe): F1, precision, recall and Cohen's kappa,
overall, per language and per model family, plus the CPU time per answer. The figures file
is shipped with the package and shown by `assay graders`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import resources
from pathlib import Path

from assay.graders import get_grader
from assay.graders.validation import BinaryMetrics, load_labels, validate_grader

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))
MEASURED = {"refusal_test": ("refusal",), "harm_test": ("harmful-compliance", "content-safety")}


def _m(m: BinaryMetrics) -> dict[str, object]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.model_dump().items()}


def measure() -> dict[str, object]:
    out: dict[str, object] = {"split": "test", "graders": {}}
    for name, graders in MEASURED.items():
        path = CORPUS / f"{name}.jsonl"
        if not path.exists():
            continue
        rows = load_labels(path)
        for gid in graders:
            g = get_grader(gid)
            t0 = time.process_time()
            rep = validate_grader(g, rows, label_file=path.name)
            cpu = (time.process_time() - t0) / max(1, len(rows))
            out["graders"][g.key] = {  # type: ignore[index]
                "file": path.name,
                "label_space": rep.label_space,
                "positive": rep.positive,
                "n": rep.n_rows,
                "overall": _m(rep.overall),
                "per_language": {k: _m(v) for k, v in rep.per_language.items()},
                "per_family": {k: _m(v) for k, v in rep.per_family.items()},
                "cpu_ms_per_answer": round(cpu * 1000, 3),
            }
    return out


def _without_timing(figures: dict[str, object]) -> dict[str, object]:
    graders = figures.get("graders", {})
    assert isinstance(graders, dict)
    return {k: {kk: vv for kk, vv in v.items() if kk != "cpu_ms_per_answer"} for k, v in graders.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    fig = measure()
    target = CORPUS / "figures.json"
    for key, g in fig["graders"].items():  # type: ignore[union-attr]
        o = g["overall"]
        langs = " ".join(f"{k} {v['f1']}" for k, v in g["per_language"].items())
        fams = " ".join(f"{k} {v['f1']}" for k, v in g["per_family"].items())
        print(
            f"{key:28} {g['file']:18} n={g['n']:4} F1={o['f1']} P={o['precision']} R={o['recall']} "
            f"kappa={o['kappa']} | {langs} | {fams} | {g['cpu_ms_per_answer']} ms/answer"
        )
    if a.check:
        old = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
        return 0 if _without_timing(old) == _without_timing(fig) else 1
    target.write_text(json.dumps(fig, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
