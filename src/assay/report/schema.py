"""Write the published JSON Schema of the JSON report.

    python -m assay.report.schema [PATH]     (default: schemas/report.schema.json)

A test compares the file in the repository with the schema generated from the model,
so the published schema cannot drift from what `render_json` writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assay.report.text import report_json_schema


def schema_text() -> str:
    return json.dumps(report_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0].startswith("-"):
        print("usage: python -m assay.report.schema [OUT.json]  (default: schemas/report.schema.json)")
        return 0 if args[0] in ("-h", "--help") else 2
    path = Path(args[0]) if args else Path("schemas/report.schema.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(), encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
