"""`assay transforms`: list attack/perturbation transforms and preview a chain on a case.

`app` is the `assay transforms` group:

- `assay transforms list [--json]`
- `assay transforms apply --case-text TEXT --chain roleplay:dan+base64 [--lang zh|en] [--seed N]`
- `assay transforms apply --bank prompt-injection --case-id c-... --chain crescendo`
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import console
from assay.core.errors import InputError

app = typer.Typer(
    help="Attack and perturbation transforms: list them, preview a chain.", no_args_is_help=True
)

_CJK = re.compile(r"[\u4e00-\u9fff]")

if TYPE_CHECKING:
    from assay import transforms as _transforms
    from assay.core import types as _types
else:  # loaded by the commands that use them, not by `assay --help`
    _transforms = lazy_module("assay.transforms")
    _types = lazy_module("assay.core.types")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every transform with what it probes, its complexity, languages and parameters."""
    metas = _transforms.list_transforms()
    if as_json:
        console.print_json(json.dumps([m.model_dump(mode="json") for m in metas], ensure_ascii=False))
        return
    table = Table(title="Transforms")
    for col in ("id", "kind", "complexity", "languages", "params", "probes"):
        table.add_column(col, overflow="fold")
    for m in metas:
        params = (
            ", ".join(m.params) if m.params else (f"default {m.default_param}" if m.default_param else "-")
        )
        table.add_row(m.id, m.kind, m.complexity, ",".join(m.languages), escape(params), escape(m.probes))
    console.print(table)


def _case_from_args(
    case_text: str | None, lang: str | None, system: str | None, bank: str | None, case_id: str | None
) -> _types.Case:
    if bank:
        from assay.banks import get_builtin_bank
        from assay.banks.technical import TECHNICAL_BANK_IDS, build_technical_bank

        b = build_technical_bank(bank) if bank in TECHNICAL_BANK_IDS else get_builtin_bank(bank)
        if case_id is None:
            return b.cases[0]
        for c in b.cases:
            if c.id == case_id:
                return c
        raise InputError(f"bank {bank!r} has no case {case_id!r}", where="--case-id")
    if not case_text or not case_text.strip():
        raise InputError("give --case-text TEXT or --bank BANK", where="--case-text")
    language = lang or ("zh" if _CJK.search(case_text) else "en")
    if language not in ("zh", "en"):
        raise InputError(f"language must be zh or en, not {language!r}", where="--lang")
    messages = [_types.Message(role="system", content=system)] if system else []
    messages.append(_types.Message(role="user", content=case_text))
    return _types.Case(bank="cli", messages=tuple(messages), language=language, expected="refuse")  # type: ignore[arg-type]


def _as_dict(result: _transforms.TransformResult) -> dict[str, Any]:
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
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh or en (default: guessed from the text).")
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
    case = _case_from_args(case_text, lang, system, bank, case_id)
    result = _transforms.apply_chain(case, chain, seed=seed)
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
