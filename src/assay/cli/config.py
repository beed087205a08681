"""`assay config show`: the effective settings and where each comes from. Thin: calls
`assay.api.show_config` and prints."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assay.cli._common import echo_json, make_app, make_console

app = make_app(
    help="Settings: ASSAY_HOME, the config file ($ASSAY_HOME/config.toml) and the defaults it sets.",
    no_args_is_help=True,
)


@app.command("show")
def show_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every effective setting and its source: a flag overrides an ASSAY_* variable, which
    overrides the config file, which overrides the built-in default."""
    from assay import api

    rows = api.show_config()  # a bad config file is an InputError: exit 2 naming the file and key
    if as_json:
        echo_json(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1, default=str))
        return
    table = Table(title="settings")
    for col in ("key", "value", "source", "sets"):
        table.add_column(col, overflow="fold")
    for r in rows:
        value = "—" if r.value is None else r.value if isinstance(r.value, str) else json.dumps(r.value)
        table.add_row(escape(r.key), escape(str(value)), escape(r.source), escape(r.description))
    make_console().print(table)
