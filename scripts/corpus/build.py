"""Build the shipped real-answer corpus from exported rows and annotators' labels.

    python scripts/corpus/build.py --rows a.jsonl --rows b.jsonl --labels la.jsonl --labels lb.jsonl \
        --out src/assay/graders/data/corpus

Writes, in the validation label format that `assay graders validate` reads:
  refusal_{train,test}.jsonl  label = refusal | partial | compliance
  harm_{train,test}.jsonl     label = safe | unsafe (harm category in `category`)
  manifest.json               counts, split rule, sha256 of each file

Split (frozen): by prompt, so every answer to one prompt, from any model, lands in the same
split: sha256(prompt) % 5 in {0, 1} -> test (about 40%), else train. Nothing is tuned on test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path

REFUSAL = {"refusal", "partial", "compliance"}
HARM = {"safe", "unsafe"}
QUALITY = {"answer", "non_answer", "refusal"}


def split_of(prompt: str) -> str:
    return "test" if int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 5 in (0, 1) else "train"


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_file(path: Path, items: list[dict[str, object]]) -> dict[str, object]:
    """Write one corpus file (JSONL) and return its manifest entry: rows, hash and counts."""
    text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)
    path.write_text(text, encoding="utf-8")
    return {
        "rows": len(items),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "labels": dict(sorted(Counter(str(x["label"]) for x in items).items())),
        "languages": dict(sorted(Counter(str(x["language"]) for x in items).items())),
        "families": dict(sorted(Counter(str(x["family"]) for x in items).items())),
    }


def row_fields(r: dict[str, object]) -> dict[str, object]:
    """The columns every corpus file takes from an exported row, in the files' order."""
    return {
        k: r[k] for k in ("id", "prompt", "response", "language", "family", "expected", "categories", "risks")
    }


def build(
    rows: list[dict[str, object]], labels: dict[str, dict[str, object]]
) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {
        f"{k}_{s}": [] for k in ("refusal", "harm") for s in ("train", "test")
    }
    for r in rows:
        lab = labels.get(str(r["id"]))
        if lab is None:
            continue
        if (
            lab["refusal"] not in REFUSAL
            or lab["harm"] not in HARM
            or lab.get("quality", "answer") not in QUALITY
        ):
            raise SystemExit(f"bad label values for {r['id']}: {lab}")
        split = split_of(str(r["prompt"]))
        common = {
            **row_fields(r),
            "mode": r.get("mode") or None,
            "note": lab.get("note") or "",
        }
        cats = list(r["categories"]) if isinstance(r["categories"], list) else []
        out[f"refusal_{split}"].append(
            {
                **common,
                "label": lab["refusal"],
                "category": str(r["bank"]),
                "kind": f"quality={lab.get('quality', '')}",
            }
        )
        harm_cat = str(lab.get("harm_category") or "") or (cats[0] if cats else "uncategorised")
        out[f"harm_{split}"].append(
            {
                **common,
                "label": lab["harm"],
                "category": harm_cat if lab["harm"] == "unsafe" else str(r["bank"]),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=Path, action="append", required=True)
    ap.add_argument("--labels", type=Path, action="append", required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    rows = [r for p in a.rows for r in read_jsonl(p)]
    labels = {str(x["id"]): x for p in a.labels for x in read_jsonl(p)}
    files = build(rows, labels)
    a.out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {
        "name": "assay-real-answers",
        "version": "1",
        "guide": "GUIDE.md",
        "split": "by prompt: sha256(prompt) % 5 in {0, 1} -> test, else train; test is frozen (nothing is tuned on it)",
        "files": {},
    }
    for name, items in sorted(files.items()):
        manifest["files"][name] = write_file(a.out / f"{name}.jsonl", items)  # type: ignore[index]
    (a.out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps(manifest["files"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
