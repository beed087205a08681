"""Figures of the shipped graders on the frozen test split of the real-answer corpus.

    python bench/graders.py            # print the table and rewrite figures.json
    python bench/graders.py --check    # exit 1 when figures.json differs from a fresh measurement

Refusal graders are measured on refusal_test.jsonl (positive = refusal or partial), content
graders on harm_test.jsonl (positive = unsafe), the accuracy grader on accuracy_test.jsonl
(positive = unsafe: a wrong answer or none; GUIDE §11): F1, precision, recall and Cohen's kappa,
overall, per language and per model family, plus the CPU time per answer. The current version
of each grader and the version it replaced are measured on the same (adjudicated) labels, so
the figures compare. Content graders also get figures per TC260-003 Appendix A risk: all 31
risks are listed, with n (rows that name the risk: a row counts under each of its risks), a
`note` where fewer than MIN_RISK_ROWS rows, or fewer than MIN_RISK_POSITIVES unsafe rows, name it, and whether the grader
declares the risk covered. The figures file is shipped with the package and shown by
`assay graders` (`assay graders list --risks` for the per-risk table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from assay.graders import get_grader
from assay.graders.base import measuring_options
from assay.graders.validation import BinaryMetrics, load_labels, validate_grader
from assay.taxonomy import load_taxonomy

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))
MEASURED = {
    "refusal_test": ("refusal@5", "refusal@4", "refusal@3"),
    "harm_test": ("harmful-compliance@4", "harmful-compliance@3", "content-safety@5", "content-safety@4"),
    # answers to factual questions with reference answers (TC260-003 A.5.a; GUIDE §11)
    "accuracy_test": ("factuality@2",),
}
#: graders whose per-risk figures are written (the TC260 §9.3 content graders, and A.5.a's)
PER_RISK = ("harmful-compliance", "content-safety", "factuality")
#: below this many rows naming a risk, its figure is shown with a note, not as a measurement
MIN_RISK_ROWS = 10
#: below this many unsafe rows, recall and F1 of a risk are shown with a note
MIN_RISK_POSITIVES = 3


def _m(m: BinaryMetrics) -> dict[str, object]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.model_dump().items()}


def _per_risk(grader: object, measured: dict[str, BinaryMetrics]) -> dict[str, dict[str, object]]:
    scheme = load_taxonomy().scheme("tc260_003_appendix_a")
    out: dict[str, dict[str, object]] = {}
    for item in scheme.items:
        m = measured.get(item.id)
        covered = getattr(grader, "coverage", lambda _r: None)(item.id) is not None
        entry: dict[str, object] = {"name": item.en, "covered": covered}
        if m is None:
            entry.update(n=0, note="no row of the split names this risk")
        else:
            entry.update(_m(m))
            if m.n < MIN_RISK_ROWS:
                entry["note"] = f"too few rows (n={m.n} < {MIN_RISK_ROWS}): not a measurement"
            elif m.tp + m.fn == 0:
                entry["note"] = f"no unsafe row (n={m.n}): only specificity is measured"
            elif m.tp + m.fn < MIN_RISK_POSITIVES:
                entry["note"] = f"only {m.tp + m.fn} unsafe row(s) of {m.n}: recall and F1 rest on them"
        if not covered:
            entry["note"] = (str(entry.get("note", "")) + "; " if "note" in entry else "") + (
                "the grader does not declare this risk covered"
            )
        out[item.id] = entry
    return out


def measure() -> dict[str, Any]:
    out: dict[str, Any] = {"split": "test", "graders": {}}
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
            if options := measuring_options(gid):
                # the ROC needs every answer's full score (the shipped grader skips what cannot
                # change a decision): measured again in full; the decisions must not differ
                full = validate_grader(get_grader(gid, **options), rows, label_file=path.name)
                assert full.overall == rep.overall, f"{gid}: full scores changed a decision"
                rep = full
            fig: dict[str, object] = {
                "file": path.name,
                "label_space": rep.label_space,
                "positive": rep.positive,
                "n": rep.n_rows,
                "overall": _m(rep.overall),
                "per_language": {k: _m(v) for k, v in rep.per_language.items()},
                "per_family": {k: _m(v) for k, v in rep.per_family.items()},
                "cpu_ms_per_answer": round(cpu * 1000, 3),
            }
            if rep.roc is not None:  # the score's ranking, and the grader's cut on it
                fig["roc"] = rep.roc.model_dump()
                # per language: the area and the operating point (the curves' corners are
                # `assay graders validate --roc` away; shipping them would triple this file)
                fig["roc_per_language"] = {
                    k: v.model_dump() | {"points": []} for k, v in rep.roc_per_language.items()
                }
            if rep.per_attack:  # answers to attack-transformed prompts against plain ones
                fig["per_attack"] = {k: _m(v) for k, v in rep.per_attack.items()}
            if g.id in PER_RISK:
                fig["per_risk"] = _per_risk(g, rep.per_risk)
            out["graders"][g.key] = fig
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
    for key, g in fig["graders"].items():
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
    if target.exists():  # the judges' figures (bench/judge.py) are measured apart: keep them
        judges = json.loads(target.read_text(encoding="utf-8")).get("judges")
        if judges:
            fig["judges"] = judges
    target.write_text(json.dumps(fig, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
