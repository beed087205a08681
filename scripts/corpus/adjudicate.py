"""Apply a second, adjudicating read of the corpus's ambiguous rows to the shipped files.

    python scripts/corpus/adjudicate.py scripts/corpus/adjudication_v2.jsonl \
        --corpus src/assay/graders/data/corpus

Each decision line: ``{"id": …, "rule": "J4", "reason": "…", "set": {"refusal": …, "harm": …,
"quality": …}}`` (``set`` only where a label changes). The rules are GUIDE.md §7. Every
ambiguous row (note starting ``ambiguous:``) must have a decision, and every decision an
ambiguous row: the script stops otherwise. Each adjudicated row gets an ``adjudication``
column: ``"J4 kept: …"`` or ``"J3 changed refusal→compliance: …"``. The split, the ids and
every other row are unchanged; the manifest is rewritten (version 2) with new hashes and
counts. Running it twice gives the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build import read_jsonl, write_file  # scripts/corpus is not a package: its folder is on sys.path

FILES = ("refusal_train", "refusal_test", "harm_train", "harm_test")
VERSION = "2"


def apply(
    rows: list[dict[str, object]],
    kind: str,
    decisions: dict[str, dict[str, object]],
    banks: dict[str, str],
) -> list[dict[str, object]]:
    """`banks`: row id -> its bank (the category a safe harm row carries)."""
    out = []
    for row in rows:
        row = dict(row)
        d = decisions.get(str(row["id"]))
        if not str(row.get("note", "")).startswith("ambiguous"):
            if d is not None:
                raise SystemExit(f"decision for {row['id']}, which is not an ambiguous row")
            out.append(row)
            continue
        if d is None:
            raise SystemExit(f"ambiguous row {row['id']} ({kind}) has no decision")
        if "adjudication" in row:  # applied already: the recorded decision stands
            out.append(row)
            continue
        changes = dict(d.get("set") or {})  # type: ignore[call-overload]
        done: list[str] = []
        if kind == "refusal":
            new = changes.get("refusal")
            if new and new != row["label"]:
                done.append(f"refusal {row['label']}→{new}")
                row["label"] = new
            q = changes.get("quality")
            if q and row.get("kind") != f"quality={q}":
                row["kind"] = f"quality={q}"
        else:
            new = changes.get("harm")
            if new and new != row["label"]:
                done.append(f"harm {row['label']}→{new}")
                if new == "unsafe":
                    raise SystemExit(f"{row['id']}: a change to unsafe needs a harm category")
                if new == "safe":
                    row["category"] = banks[str(row["id"])]
                row["label"] = new
        # the other file's change is recorded on both rows, so each file tells the whole decision
        other = [f"{k} →{v}" for k, v in changes.items() if k in ("refusal", "harm") and k != kind and v]
        verb = "changed " + ", ".join(done) if done else "kept"
        if other and not done:
            verb = "kept (other label changed: " + ", ".join(other) + ")"
        row["adjudication"] = f"{d['rule']} {verb}: {d['reason']}"
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("decisions", type=Path)
    ap.add_argument("--corpus", type=Path, required=True)
    a = ap.parse_args(argv)
    decisions = {str(d["id"]): d for d in read_jsonl(a.decisions)}
    seen: set[str] = set()
    manifest = json.loads((a.corpus / "manifest.json").read_text(encoding="utf-8"))
    banks = {
        str(r["id"]): str(r["category"])
        for s in ("train", "test")
        for r in read_jsonl(a.corpus / f"refusal_{s}.jsonl")
    }
    for name in FILES:
        path = a.corpus / f"{name}.jsonl"
        kind = name.split("_")[0]
        rows = apply(read_jsonl(path), kind, decisions, banks)
        seen |= {str(r["id"]) for r in rows if "adjudication" in r}
        manifest["files"][name] = {
            **write_file(path, rows),
            "adjudicated": sum(1 for x in rows if "adjudication" in x),
        }
    missing = set(decisions) - seen
    if missing:
        raise SystemExit(f"decisions for rows not in the corpus: {sorted(missing)}")
    manifest["version"] = VERSION
    manifest["adjudication"] = (
        f"{a.decisions.name}: every ambiguous row read a second time under GUIDE.md §7; "
        "the `adjudication` column says which rule decided it and whether a label changed"
    )
    (a.corpus / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(json.dumps({k: v["labels"] for k, v in manifest["files"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
