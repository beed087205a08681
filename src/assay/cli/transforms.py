"""`assay transforms`: list attack/perturbation transforms and preview a chain on a case.

`app` is the `assay transforms` group:

- `assay transforms list [--json]`
- `assay transforms apply --case-text TEXT --chain roleplay:dan+base64 [--lang zh|en] [--seed N]`
- `assay transforms apply --bank prompt-injection --case-id c-... --chain crescendo`
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import console, deprecated, make_app
from assay.core.registry import BUILTIN

app = make_app(help="Attack and perturbation transforms: list them, preview a chain.", no_args_is_help=True)

if TYPE_CHECKING:
    from assay import api
    from assay import transforms as _transforms
    from assay.core import types as _types
    from assay.transforms import TransformResult
else:  # loaded by the commands that use them, not by `assay --help`
    api = lazy_module("assay.api")
    _transforms = lazy_module("assay.transforms")
    _types = lazy_module("assay.core.types")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every transform with what it probes, its complexity, languages and parameters."""
    metas = api.list_transforms()
    if as_json:
        console.print_json(json.dumps([m.model_dump(mode="json") for m in metas], ensure_ascii=False))
        return
    table = Table(title="Transforms")
    for col in ("id", "kind", "complexity", "languages", "params", "probes"):
        table.add_column(col, overflow="fold")
    sources = {e.id: e.source for e in _transforms.TRANSFORMS.entries()}
    for m in metas:
        src = sources.get(m.id, BUILTIN)
        params = (
            ", ".join(m.params) if m.params else (f"default {m.default_param}" if m.default_param else "-")
        )
        table.add_row(
            m.id if src == BUILTIN else f"{m.id} ({escape(src)})",
            m.kind,
            m.complexity,
            ",".join(m.languages),
            escape(params),
            escape(m.probes),
        )
    console.print(table)


def _as_dict(result: TransformResult) -> dict[str, Any]:
    c = result.case
    return {
        "id": c.id,
        "parent": c.parent,
        "transforms": list(c.transforms),
        "language": c.language,
        "messages": [m.model_dump() for m in c.messages],
        "followups": list(c.followups),
        "notes": list(c.metadata.get("transform_notes", [])),
        "skipped": list(result.notes),
    }


@app.command("apply")
def apply_cmd(
    chain: Annotated[str, typer.Option("--chain", help="Steps joined by '+', e.g. roleplay:dan+base64.")],
    case_text: Annotated[str | None, typer.Option("--case-text", help="The request to transform.")] = None,
    case_lang: Annotated[
        str | None,
        typer.Option("--case-lang", help="The case's language: zh or en (default: guessed from the text)."),
    ] = None,
    legacy_lang: Annotated[
        str | None,
        typer.Option("--lang", hidden=True, callback=deprecated("--lang (case language)", "--case-lang")),
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", help="An optional system prompt for the case.")
    ] = None,
    bank: Annotated[
        str | None, typer.Option("--bank", help="Take the case from a built-in bank instead.")
    ] = None,
    case_id: Annotated[
        str | None, typer.Option("--case-id", help="Case id within --bank (default: first).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the transforms' random choices.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Preview what a transform chain sends (translation steps are skipped: no translator here)."""
    result = api.apply_transforms(
        chain,
        case_text=case_text,
        case_lang=case_lang or legacy_lang,
        system=system,
        bank=bank,
        case_id=case_id,
        seed=seed,
    )
    data = _as_dict(result)
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    console.print(
        f"[bold]chain[/] {escape(_transforms.chain_name(chain))}  [bold]case[/] {data['id']}  parent {data['parent']}"
    )
    for m in result.case.messages:
        console.print(f"[cyan]{m.role}[/]: {escape(m.content)}")
    for i, f in enumerate(result.case.followups, start=1):
        console.print(f"[magenta]follow-up {i}[/]: {escape(f)}")
    for note in data["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]")
    for skip in data["skipped"]:
        console.print(f"[yellow]skipped: {escape(skip)}[/]")
