"""`assay labels check FILE...`: implicit (metadata) and explicit AI labels in files you supply.

Exit 0 when every file is labelled, 1 when any is unlabelled or its format is not
supported, 2 on bad input (a missing file). See `assay.labels` for what is read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from assay.cli._common import console, make_app
from assay.labels import check_files

app = make_app(
    help="AI-generated content labels (CN Labelling Measures / GB 45438-2025): check files.",
    no_args_is_help=True,
)


@app.command("check")
def check_cmd(
    files: Annotated[
        list[Path], typer.Argument(help="Generated files: PNG, JPEG, MP3, WAV, text; others by byte scan.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check each file for an implicit label in its metadata (or an explicit label in text files)."""
    results = check_files(files)
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        for r in results:
            style = {"labelled": "green", "unlabelled": "red"}.get(r.verdict, "yellow")
            console.print(f"[{style}]{r.verdict.upper()}[/] {escape(r.path)} ({r.format})")
            for s in r.signals:
                console.print(f"  - {escape(s)}")
            if r.aigc:
                fields = ", ".join(f"{k}={v}" for k, v in list(r.aigc.items())[:8])
                console.print(f"  AIGC: {escape(fields)}")
            if r.verdict == "labelled" and r.aigc and r.missing:
                console.print(
                    f"  [yellow]missing fields (GB 45438 as Assay reads it [?]): {', '.join(r.missing)}[/]"
                )
            if r.note:
                console.print(f"  [dim]{escape(r.note)}[/]")
        console.print(
            "[dim]not covered: C2PA signature verification, pixel/audio watermarks, MP4/MOV box parsing,"
            " PDF/Office metadata[/]"
        )
    if any(r.verdict != "labelled" for r in results):
        raise typer.Exit(1)
