"""`assay plugins`: every registered plug-in (graders, targets, transforms, bank providers,
regimes), built-in or added by an installed package's entry points. Thin: calls
`assay.api.plugins` and prints."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assay.cli._common import echo_json, make_console


def plugins_cmd(
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: grader, target, transform, bank, regime."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the plug-ins of every kind and where each comes from (assay or a package)."""
    from assay import api

    rows = api.plugins(kind)  # a bad --kind is an InputError: the shared handler prints it, exit 2
    if as_json:
        echo_json(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
        return
    table = Table(title="plug-ins")
    for col in ("kind", "id", "from", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.kind, escape(r.id), escape(r.source), escape(r.description))
    make_console().print(table)


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins_cmd)
