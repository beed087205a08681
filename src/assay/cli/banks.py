"""`assay banks`: list banks with coverage, validate / add user banks, show cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import DbOpt, console, deprecated, err_console, make_app
from assay.core.errors import InputError
from assay.core.ids import sha256_hex

if TYPE_CHECKING:
    from assay import api
    from assay.banks import coverage as _coverage
    from assay.banks import files as _files
    from assay.core import types as _types
    from assay.core.types import Bank
else:  # loaded by the commands that use them, not by `assay --help`
    api = lazy_module("assay.api")
    _coverage = lazy_module("assay.banks.coverage")
    _files = lazy_module("assay.banks.files")
    _types = lazy_module("assay.core.types")

app = make_app(
    help="Test banks: coverage against the regimes' minimums, validate and add user banks, show cases.",
    invoke_without_command=True,
)


# --------------------------------------------------------------------------- helpers


def _all_banks(db: str | None) -> dict[str, Bank]:
    """Built-in banks, plus user banks registered in the store (`api.list_banks`)."""
    return api.list_banks(db, on_warning=lambda msg: err_console.print(f"[yellow]warning:[/] {escape(msg)}"))


def _bank(bank_ref: str, db: str | None) -> Bank:
    return api.get_bank(bank_ref, db)


def _status_cell(cov: _coverage.BankCoverage) -> str:
    if cov.status == "ok":
        return "[green]ok[/]"
    if cov.status == "gaps":
        return f"[red]{len(cov.gaps)} gap(s)[/]"
    return "[dim]no minimum[/]"


def _coverage_json(cov: _coverage.BankCoverage) -> dict[str, Any]:
    return {
        "bank": cov.bank,
        "version": cov.version,
        "kind": cov.kind,
        "private": cov.private,
        "total": cov.total,
        "by_language": cov.by_language,
        "status": cov.status,
        "checks": [
            {
                "requirement": c.requirement,
                "clause": c.clause,
                "field": c.field,
                "value": c.value,
                "language": c.language,
                "count": c.count,
                "minimum": c.minimum,
                "ok": c.ok,
                "basis": c.basis,
            }
            for c in cov.checks
        ],
        "strata": cov.strata,
        "categories": cov.categories,
    }


def _print_counts(title: str, key: str, counts_by_key: dict[str, dict[str, int]], langs: list[str]) -> None:
    """A table of key -> cases per language."""
    table = Table(title=title)
    table.add_column(key)
    for lang in langs:
        table.add_column(lang, justify="right")
    for k, counts in counts_by_key.items():
        table.add_row(escape(k), *(str(counts.get(lang, 0)) for lang in langs))
    console.print(table)


def _print_categories(cov: _coverage.BankCoverage, langs: list[str]) -> None:
    if cov.categories:
        _print_counts("Cases per taxonomy category", "category", cov.categories, langs)


def _print_detail(cov: _coverage.BankCoverage) -> None:
    langs: list[str] = [lang for lang in _types.LANGUAGES if lang in cov.by_language] or list(
        _types.LANGUAGES
    )
    console.print(
        f"[bold]{escape(cov.bank)}[/] v{escape(cov.version)} · {cov.total} cases · "
        + ", ".join(f"{k} {v}" for k, v in cov.by_language.items())
        + f" · {_status_cell(cov)}"
    )
    if not cov.checks:
        _print_counts(
            "Cases per stratum (no regime sets a minimum for this bank)", "stratum", cov.strata, langs
        )
        _print_categories(cov, langs)
        return
    by_req: dict[str, list[Any]] = {}
    for c in cov.checks:
        by_req.setdefault(c.requirement, []).append(c)
    for req_id, checks in by_req.items():
        first = checks[0]
        table = Table(title=f"{escape(req_id)} — {escape(first.clause)} ({first.source})")
        table.add_column("field")
        table.add_column("value")
        table.add_column("min", justify="right")
        for lang in (_coverage.ALL, *langs):
            table.add_column(lang, justify="right")
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for c in checks:
            rows.setdefault((c.field, c.value), {})[c.language] = c
        for (fld, value), cells in rows.items():
            minimum = next(iter(cells.values())).minimum
            rendered = []
            for lang in (_coverage.ALL, *langs):
                chk = cells.get(lang)
                if chk is None:
                    rendered.append("—")
                else:
                    rendered.append(f"{chk.count}" if chk.ok else f"[red]{chk.count} ✗[/]")
            table.add_row(fld, escape(value), str(minimum), *rendered)
        console.print(table)
    _print_categories(cov, langs)
    if cov.gaps:
        console.print(f"[red]{len(cov.gaps)} gap(s)[/]: a count below its minimum is marked ✗.")
    console.print(
        "[dim]'all' checks the standard's minimum over the whole bank; per-language columns are "
        "Assay's proposal that each language meets it on its own.[/]"
    )


# --------------------------------------------------------------------------- commands


@app.callback()
def _default(ctx: typer.Context) -> None:
    """Without a sub-command: the same table as `assay banks list`."""
    if ctx.invoked_subcommand is None:
        list_cmd(detail=None, as_json=False, db=None)


@app.command("list")
def list_cmd(
    detail: Annotated[
        str | None, typer.Option("--detail", help="Per-risk / aspect table of one bank, flagging every gap.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    db: DbOpt = None,
) -> None:
    """Banks with case counts per language and coverage against the regimes' minimums."""
    if detail:
        cov = _coverage.bank_coverage(_bank(detail, db))
        if as_json:
            console.print_json(json.dumps(_coverage_json(cov), ensure_ascii=False))
        else:
            _print_detail(cov)
        return
    report = _coverage.coverage_report(_all_banks(db))
    if as_json:
        console.print_json(json.dumps([_coverage_json(c) for c in report], ensure_ascii=False))
        return
    table = Table(title="Banks (coverage against TC260-003 §8 minimums and Assay proposals)")
    for col in ("bank", "version", "kind", *_types.LANGUAGES, "total", "coverage"):
        table.add_column(col, justify="right" if col in (*_types.LANGUAGES, "total") else "left")
    for cov in report:
        name = escape(cov.bank) + (" [dim](private)[/]" if cov.private else "")
        table.add_row(
            name,
            escape(cov.version),
            cov.kind,
            *(str(cov.by_language.get(lang, 0)) for lang in _types.LANGUAGES),
            str(cov.total),
            _status_cell(cov),
        )
    console.print(table)
    gaps = [c for c in report if c.gaps]
    if gaps:
        console.print(
            "[red]gaps in:[/] "
            + ", ".join(escape(c.bank) for c in gaps)
            + " — see `assay banks list --detail BANK`."
        )
    else:
        console.print("Every bank minimum is met, over all languages and in each language.")


@app.command("categories")
def categories_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    db: DbOpt = None,
) -> None:
    """Each taxonomy category: the banks that cover it, or why it needs a user-supplied bank."""
    rows = _coverage.category_coverage(_all_banks(db))
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "category": r.category,
                        "name": r.name_en,
                        "status": r.status,
                        "banks": r.banks,
                        "needs": r.reason.needs if r.reason else None,
                        "methods": list(r.reason.methods) if r.reason else [],
                        "reason": r.reason.en if r.reason else None,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title="Taxonomy categories × banks")
    for col in ("category", "name", "status", "banks (cases) / why a user bank is needed"):
        table.add_column(col)
    for r in rows:
        if r.banks:
            what = ", ".join(f"{escape(b)} ({n})" for b, n in r.banks.items())
            status = "[green]covered[/]"
        elif r.reason:
            what = f"[{escape(r.reason.needs)}] {escape(r.reason.en)}"
            status = "[yellow]user bank[/]"
        else:
            what = "no bank and no documented reason"
            status = "[red]gap[/]"
        table.add_row(r.category, escape(r.name_en), status, what)
    console.print(table)
    missing = [r.category for r in rows if r.status == "gap"]
    if missing:
        console.print(f"[red]categories with no bank and no reason:[/] {', '.join(missing)}")


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="A bank file: .jsonl, .yaml/.yml or .csv")],
    against: Annotated[
        str | None,
        typer.Option("--against", help="Also check coverage as this bank (e.g. should-refuse)."),
    ] = None,
) -> None:
    """Check a user bank file; print every error with its line (exit 2 when there are any)."""
    errors = _files.validate_bank_file(file)
    if errors:
        for e in errors:
            err_console.print(escape(str(e)), highlight=False, soft_wrap=True)
        err_console.print(f"[red]{len(errors)} error(s)[/] in {escape(str(file))}", soft_wrap=True)
        raise typer.Exit(2)
    bank = _files.load_bank_file(file)
    counts = ", ".join(f"{k} {v}" for k, v in _coverage.bank_coverage(bank).by_language.items())
    console.print(
        f"[green]ok[/]: {escape(str(file))} — bank {escape(bank.id)}, {len(bank.cases)} cases ({counts})"
    )
    if against:
        cov = _coverage.bank_coverage(bank, against=against)
        if not cov.checks:
            raise InputError(f"no regime sets minimums for bank {against!r}", where="--against")
        _print_detail(cov)


@app.command("show")
def show_cmd(
    bank_ref: Annotated[str, typer.Argument(metavar="BANK", help="Bank id or bank file.")],
    case_lang: Annotated[str | None, typer.Option("--case-lang", help="Only cases in zh or en.")] = None,
    legacy_lang: Annotated[
        str | None,
        typer.Option("--lang", hidden=True, callback=deprecated("--lang (case language)", "--case-lang")),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Cases to show (0 = all).")] = 20,
    risk: Annotated[
        str | None, typer.Option("--risk", help="Only cases with this risk / aspect / category.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Show a bank's cases (a private bank shows only case ids and text hashes)."""
    lang = case_lang or legacy_lang
    if lang is not None and lang not in _types.LANGUAGES:
        raise InputError(f"{lang!r} is not one of {', '.join(_types.LANGUAGES)}", where="--case-lang")
    bank = _bank(bank_ref, db)
    cases = [c for c in bank.cases if lang is None or c.language == lang]
    if risk:
        cases = [
            c for c in cases if risk in c.risks or risk in c.categories or c.metadata.get("aspect") == risk
        ]
    shown = cases if limit <= 0 else cases[:limit]
    title = f"{bank.id} v{bank.version} · {len(cases)} matching case(s), showing {len(shown)}"
    table = Table(title=escape(title) + (" · private: text hidden" if bank.private else ""))
    for col in ("id", "lang", "expected", "risks / aspect", "categories", "persona", "difficulty"):
        table.add_column(col, no_wrap=True)
    table.add_column("prompt", ratio=1, overflow="fold")
    for c in shown:
        prompt = "sha256:" + sha256_hex(c.prompt)[:16] if bank.private else c.prompt
        table.add_row(
            c.id,
            c.language,
            c.expected,
            escape(str(c.metadata["aspect"]) if "aspect" in c.metadata else ", ".join(c.risks) or "—"),
            escape(", ".join(c.categories) or "—"),
            escape(c.persona),
            c.difficulty,
            escape(prompt),
        )
    console.print(table)


def register_user_bank(
    path: Path, *, private: bool = False, bank_id: str | None = None, db: str | None = None
) -> Bank:
    """Kept for callers of the old name: the logic lives in the library (`assay.api.register_bank`)."""
    return api.register_bank(path, private=private, bank_id=bank_id, db=db)


@app.command("add")
def add_cmd(
    file: Annotated[Path, typer.Argument(help="A bank file: .jsonl, .yaml/.yml or .csv")],
    bank_id: Annotated[
        str | None, typer.Option("--id", help="Bank id (default: the file's id or name).")
    ] = None,
    private: Annotated[
        bool, typer.Option("--private", help="Keep case text out of reports and bundles; show only hashes.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Register a user bank so plans and runs can name it by id."""
    bank = register_user_bank(file, private=private, bank_id=bank_id, db=db)
    counts = ", ".join(f"{k} {v}" for k, v in _coverage.bank_coverage(bank).by_language.items())
    console.print(
        f"registered bank [bold]{escape(bank.id)}[/] v{escape(bank.version)}: {len(bank.cases)} cases ({counts})"
        + (", private" if bank.private else "")
        + f", content hash {bank.content_hash[:16]}"
    )
