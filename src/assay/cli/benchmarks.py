"""`assay benchmarks`: public benchmark loaders (list, load preview, fetch) and `keywords_app`.

`app` is the `assay benchmarks` group. `keywords_app` (coverage / match for keyword
libraries) is a separate group the CLI may mount as `assay keywords`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import console, deprecated, echo_json, make_app
from assay.core.errors import InputError

app = make_app(
    help="Public benchmarks: list loaders, preview a benchmark, fetch it into the cache.",
    no_args_is_help=True,
)
keywords_app = make_app(
    help="Keyword libraries (TC260-003 §8.1): coverage report and matching.", no_args_is_help=True
)

_PREVIEW_CHARS = 120
if TYPE_CHECKING:
    from assay import api
    from assay.banks import benchmarks as _benchmarks
    from assay.banks import keywords as _keywords
else:  # loaded by the commands that use them, not by `assay --help`
    api = lazy_module("assay.api")
    _benchmarks = lazy_module("assay.banks.benchmarks")
    _keywords = lazy_module("assay.banks.keywords")


def _short(text: str, n: int = _PREVIEW_CHARS) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def _options(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs or []:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise InputError(f"options look like KEY=VALUE, got {p!r}", where="--option")
        out[key.strip()] = value.strip()
    return out


@app.command("list")
def list_cmd(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="A folder holding one sub-folder per benchmark.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List benchmark loaders with licence, languages, expected behaviour and local availability."""
    rows = api.list_benchmarks(data_dir)
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="Public benchmark loaders")
    for col in ("name", "licence", "lang", "expected", "local copy"):
        table.add_column(col)
    for r in rows:
        expected = ", ".join(sorted(set(r["expected"].values())))
        table.add_row(
            escape(r["name"]),
            escape(r["license"]),
            "/".join(r["languages"]),
            escape(expected),
            escape(r["local"]) if r["local"] else "[dim]not found (pass a path, or `fetch`)[/]",
        )
    console.print(table)


@app.command("load")
def load_cmd(
    name: Annotated[str, typer.Argument(help="Benchmark name (see `assay benchmarks list`).")],
    path: Annotated[
        str | None, typer.Argument(help="File, folder or URL; omitted: local copy, else download.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Load at most this many cases.")] = None,
    option: Annotated[
        list[str] | None, typer.Option("--option", help="Loader option KEY=VALUE (repeatable).")
    ] = None,
    legacy_option: Annotated[
        list[str] | None,
        typer.Option("-o", hidden=True, callback=deprecated("-o (loader option)", "--option")),
    ] = None,
    show: Annotated[int, typer.Option("--show", help="Cases to print in the preview.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the loaded cases as JSON lines.")] = False,
    no_download: Annotated[bool, typer.Option("--no-download", help="Never use the network.")] = False,
) -> None:
    """Load a benchmark and preview what Assay makes of it."""
    options = _options([*(option or ()), *(legacy_option or ())])
    bank = api.load_benchmark(name, path, limit=limit, download=not no_download, options=options)
    if as_json:
        for c in bank.cases:
            echo_json(json.dumps(c.model_dump(mode="json"), ensure_ascii=False))
        return
    console.print(
        f"[bold]{escape(bank.id)}[/] {escape(bank.version)} · {len(bank.cases)} cases · "
        f"languages {'/'.join(bank.languages)} · source {escape(bank.source)}"
    )
    exp = Counter(c.expected for c in bank.cases)
    cats = Counter(x for c in bank.cases for x in c.categories)
    risks = Counter(x for c in bank.cases for x in c.risks)
    console.print("expected: " + escape(", ".join(f"{k} {v}" for k, v in exp.most_common())))
    console.print("categories: " + escape(", ".join(f"{k} {v}" for k, v in sorted(cats.items()))))
    console.print("TC260 risks: " + escape(", ".join(f"{k} {v}" for k, v in sorted(risks.items())) or "none"))
    if show > 0:
        table = Table(show_lines=False)
        for col in ("id", "expected", "categories", "prompt"):
            table.add_column(col, overflow="fold")
        for c in bank.cases[:show]:
            table.add_row(escape(c.id), c.expected, escape(",".join(c.categories)), escape(_short(c.prompt)))
        console.print(table)


@app.command("fetch")
def fetch_cmd(
    name: Annotated[str, typer.Argument(help="Benchmark name.")],
    mirror: Annotated[
        str | None,
        typer.Option("--mirror", help="Base URL serving <name>/<file> instead of the canonical URLs."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again even when cached.")] = False,
) -> None:
    """Download a benchmark's files into the cache ($ASSAY_CACHE/benchmarks)."""
    loader = _benchmarks.get_loader(name)
    folder = api.fetch_benchmark(loader.name, mirror=mirror, force=force)
    console.print(f"{escape(loader.name)}: {len(loader.info.downloads)} file(s) in {escape(str(folder))}")


def _library(path: Path | None) -> _keywords.KeywordLibrary:
    return api.keyword_library(path)


@keywords_app.command("coverage")
def keywords_coverage(
    path: Annotated[
        Path | None, typer.Argument(help="Keyword library (.jsonl/.yaml); default: starter.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any TC260-003 minimum is unmet.")
    ] = False,
) -> None:
    """Per-risk keyword counts against the TC260-003 §8.1 minimums, with every gap."""
    lib = _library(path)
    rep = lib.coverage_report()
    if as_json:
        console.print_json(json.dumps(rep.to_dict(), ensure_ascii=False))
    else:
        table = Table(
            title=f"{escape(lib.id)} {escape(lib.version)}: keyword coverage vs {escape(rep.source)}"
        )
        for col in ("risk", "name", "zh", "en", "total", "minimum", "status"):
            table.add_column(col)
        for r in rep.risks:
            status = "[green]ok[/]" if r.ok else f"[red]short by {r.gap}[/]"
            table.add_row(
                r.risk,
                escape(r.name_en),
                str(r.by_language.get("zh", 0)),
                str(r.by_language.get("en", 0)),
                str(r.count),
                str(r.minimum),
                status,
            )
        table.add_row(
            "all",
            "",
            "",
            "",
            str(rep.total),
            str(rep.total_minimum),
            "[green]ok[/]" if rep.total_ok else "[red]short[/]",
        )
        console.print(table)
        for g in rep.gaps:
            console.print(f"[yellow]gap:[/] {escape(g)}")
    if strict and not rep.ok:
        raise typer.Exit(1)


@keywords_app.command("match")
def keywords_match(
    text: Annotated[str, typer.Argument(help="Text to scan.")],
    library: Annotated[
        Path | None, typer.Option("--library", "-l", help="Keyword library; default: starter.")
    ] = None,
) -> None:
    """Show the keyword hits in TEXT."""
    lib = _library(library)
    hits = lib.match(text)
    for h in hits:
        console.print(
            f"{h.span[0]}-{h.span[1]}  {h.risk}  {h.language}  {escape(h.matched)!s}  (keyword {escape(h.keyword)})"
        )
    if not hits:
        console.print("no keyword hits")
