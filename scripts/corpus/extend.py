"""Add newly labelled answers to the shipped real-answer corpus, leaving every shipped row as it is.

    python scripts/corpus/extend.py --rows new_rows.jsonl --labels new_labels.jsonl \
        --corpus src/assay/graders/data/corpus --version 3 --note "what this version adds"

`--rows` are unlabelled rows from `export.py` (their `transforms` are kept: an answer to an
attack-transformed prompt carries the chain it was sent through); `--labels` one line per
row id with `refusal`, `harm`, `quality`, `harm_category` and `note` (GUIDE.md §1–3), and an
`adjudication` for every row whose note starts `ambiguous:` (GUIDE.md §7: each such row is
read a second time and the rule that decided it is named).

Each new row goes to the split of its prompt (`build.split_of`, the frozen rule), so the
test split only grows: a row already shipped is never changed, moved or dropped, and a new
row whose id is already shipped stops the script. The manifest is rewritten with the new
version, hashes and counts, and keeps each earlier version's row count and hash (`earlier`):
that version's file is the first `rows` lines of the current one, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build import build, read_jsonl, write_file  # scripts/corpus is not a package: its folder is on sys.path

FILES = ("refusal_train", "refusal_test", "harm_train", "harm_test")


def extend(
    corpus: dict[str, list[dict[str, object]]],
    rows: list[dict[str, object]],
    labels: dict[str, dict[str, object]],
) -> dict[str, list[dict[str, object]]]:
    """The corpus files with the labelled `rows` appended (shipped rows first, unchanged)."""
    shipped = {str(r["id"]) for name in FILES for r in corpus[name]}
    unlabelled = [str(r["id"]) for r in rows if str(r["id"]) not in labels]
    if unlabelled:
        raise SystemExit(f"{len(unlabelled)} rows have no label, e.g. {unlabelled[:3]}")
    again = sorted(shipped & {str(r["id"]) for r in rows})
    if again:
        raise SystemExit(f"rows already shipped: {again[:5]}")
    for rid, lab in labels.items():
        ambiguous = str(lab.get("note") or "").startswith("ambiguous:")
        if ambiguous != bool(lab.get("adjudication")):
            raise SystemExit(
                f"{rid}: an ambiguous row needs an adjudication, and only an ambiguous row has one"
            )
    new = build(rows, labels)
    extra = {str(r["id"]): r for r in rows}
    out: dict[str, list[dict[str, object]]] = {}
    for name in FILES:
        added = []
        for item in new[name]:
            item = dict(item)
            item["transforms"] = list(extra[str(item["id"])].get("transforms") or [])  # type: ignore[call-overload]
            adjudication = labels[str(item["id"])].get("adjudication")
            if adjudication:
                item["adjudication"] = adjudication
            added.append(item)
        out[name] = [*corpus[name], *added]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=Path, action="append", required=True)
    ap.add_argument("--labels", type=Path, action="append", required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--note", required=True, help="what this version adds (kept in the manifest)")
    a = ap.parse_args(argv)
    corpus = {name: read_jsonl(a.corpus / f"{name}.jsonl") for name in FILES}
    rows = [r for p in a.rows for r in read_jsonl(p)]
    labels = {str(x["id"]): x for p in a.labels for x in read_jsonl(p)}
    files = extend(corpus, rows, labels)
    manifest = json.loads((a.corpus / "manifest.json").read_text(encoding="utf-8"))
    for name, items in files.items():
        before = manifest["files"][name]
        # each earlier version's file is the first `rows` lines of this one, byte for byte
        earlier = [
            *before.get("earlier", []),
            {"version": manifest["version"], "rows": before["rows"], "sha256": before["sha256"]},
        ]
        manifest["files"][name] = {
            **write_file(a.corpus / f"{name}.jsonl", items),
            "adjudicated": sum(1 for x in items if "adjudication" in x),
            "attacked": sum(1 for x in items if x.get("transforms")),
            "earlier": earlier,
        }
    manifest["version"] = a.version
    manifest.setdefault("versions", {})[a.version] = a.note
    (a.corpus / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps({k: (v["rows"], v["labels"]) for k, v in manifest["files"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
