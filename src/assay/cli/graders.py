"""`assay graders ...`: list graders and validate one against labelled responses.

Thin: parse, call `assay.graders`, print. Wire it into the main CLI with
`app.add_typer(graders.app, name="graders")`. Running `assay graders` with no
subcommand lists the graders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import DbOpt, echo_json, make_app, make_console
from assay.core.errors import InputError
from assay.core.registry import BUILTIN

if TYPE_CHECKING:
    from assay.graders import validation as _validation
else:  # loaded by the commands that use them, not by `assay --help`
    _validation = lazy_module("assay.graders.validation")

app = make_app(help="Graders: list them and validate them against labelled responses.", no_args_is_help=False)


def grader_rows() -> list[dict[str, Any]]:
    """Metadata of every registered grader (what `assay graders list` shows: `api.list_graders`)."""
    from assay import api

    return api.list_graders()


@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        list_graders(as_json=False, db=None)


@app.command("list")
def list_graders(
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    risks: bool = typer.Option(
        False, "--risks", help="also print the per-risk figures (TC260-003 Appendix A) on the frozen split"
    ),
    db: DbOpt = None,
) -> None:
    """List the graders with their languages, expected behaviours, labels, their figures on the
    frozen real-answer split and latest stored validation figures."""
    from assay import api

    validations = api.grader_validations(db)
    rows = grader_rows()
    for r in rows:
        v = validations.get(r.get("key", ""))
        if v:
            overall = v.get("overall", {})
            r["validation"] = {
                "f1": overall.get("f1"),
                "kappa": overall.get("kappa"),
                "n": overall.get("n"),
                "per_language_f1": {k: m.get("f1") for k, m in (v.get("per_language") or {}).items()},
                "label_file": v.get("label_file"),
                "at": v.get("created_at"),
            }
    if as_json:
        echo_json(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title="graders")
    for col in (
        "grader",
        "languages",
        "judges expected",
        "risks judged (how)",
        "labels",
        "real answers (frozen test split)",
        "latest validation",
        "description",
    ):
        table.add_column(col)
    for r in rows:
        if "error" in r:
            table.add_row(escape(r["id"]), "", "", "", "", "", "", f"[red]{escape(r['error'])}[/red]")
            continue
        table.add_row(
            escape(r["key"] if r["source"] == BUILTIN else f"{r['key']} ({r['source']})"),
            ",".join(r["languages"]),
            escape(", ".join(r["expected"]) or "any"),
            escape(_covers_cell(r.get("covers") or {})),
            escape(", ".join(r["labels"])),
            _real_cell(r.get("real_answers"), r.get("replaces")),
            _validation_cell(r.get("validation")),
            escape(r["description"]),
        )
    console = make_console()
    console.print(table)
    if risks:
        for r in rows:
            per_risk = (r.get("real_answers") or {}).get("per_risk")
            if per_risk:
                console.print(_risk_table(r["key"], r["real_answers"]["file"], per_risk))


def _risk_table(key: str, file: str, per_risk: dict[str, dict[str, Any]]) -> Table:
    t = Table(title=f"{key} per TC260-003 Appendix A risk ({file}, frozen test split)")
    for col in ("risk", "n", "unsafe", "F1", "recall", "specificity", "note"):
        t.add_column(col, justify="left" if col in ("risk", "note") else "right")
    for rid, m in per_risk.items():
        unsafe = (m.get("tp") or 0) + (m.get("fn") or 0) if m.get("n") else 0
        t.add_row(
            escape(f"{rid} {m.get('name', '')}"[:60]),
            str(m.get("n", 0)),
            str(unsafe),
            _fmt(m.get("f1")),
            _fmt(m.get("recall")),
            _fmt(m.get("specificity")),
            escape(str(m.get("note", ""))),
        )
    return t


def _covers_cell(covers: dict[str, str]) -> str:
    """ "A.1, A.2: keyword library; A.3: rules" ("*" = any risk; empty = none)."""
    by_method: dict[str, list[str]] = {}
    for key, method in covers.items():
        by_method.setdefault(method, []).append("any" if key == "*" else key)
    return "; ".join(f"{', '.join(keys)}: {m}" for m, keys in by_method.items()) or "none"


def _real_cell(v: dict[str, Any] | None, replaces: dict[str, Any] | None = None) -> str:
    if not v:
        return "[dim]not measured[/dim]"
    langs = " ".join(f"{k} {_fmt(f)}" for k, f in sorted(v["per_language_f1"].items()))
    fams = " ".join(f"{k} {_fmt(f)}" for k, f in sorted(v["per_family_f1"].items()))
    cell = f"F1 {_fmt(v['f1'])} (n={v['n']}; {langs}; {fams})"
    attack = v.get("per_attack_f1") or {}
    if "attacked" in attack:
        n = v.get("per_attack_n", {})
        cell += (
            f"\nplain {_fmt(attack.get('plain'))} (n={n.get('plain')}), "
            f"attacked {_fmt(attack['attacked'])} (n={n.get('attacked')})"
        )
    if v.get("judge"):
        cell += f"\n[dim]judge {escape(str(v['judge']))}; rows: {escape(str(v.get('rows')))}[/dim]"
    for key, old in sorted((replaces or {}).items()):
        old_langs = " ".join(f"{k} {_fmt(f)}" for k, f in sorted(old["per_language_f1"].items()))
        cell += f"\n[dim]was {escape(key)}: F1 {_fmt(old['f1'])} ({old_langs})[/dim]"
    if auc := v.get("auc"):
        langs = " ".join(f"{k} {_fmt(a)}" for k, a in sorted(v.get("per_language_auc", {}).items()))
        cell += f"\nAUC {_fmt(auc['auc'])} (95% {_fmt(auc['auc_low'])}–{_fmt(auc['auc_high'])}; {langs})"
    if v.get("per_risk"):
        cell += "\n[dim]per risk: --risks[/dim]"
    return cell


def _validation_cell(v: dict[str, Any] | None) -> str:
    if not v:
        return "[dim]not validated[/dim]"
    langs = " ".join(f"{k} {_fmt(f)}" for k, f in sorted(v["per_language_f1"].items()))
    return f"F1 {_fmt(v['f1'])} κ {_fmt(v['kappa'])} (n={v['n']}; {langs})"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _metrics_table(title: str, rows: dict[str, _validation.BinaryMetrics]) -> Table:
    t = Table(title=title)
    for col in (
        "slice",
        "n",
        "unscorable",
        "accuracy",
        "precision",
        "recall",
        "F1",
        "kappa",
        "specificity",
        "tp/fp/fn/tn",
    ):
        t.add_column(col, justify="right" if col != "slice" else "left")
    for name, m in rows.items():
        t.add_row(
            escape(name),
            str(m.n),
            str(m.unscorable),
            _fmt(m.accuracy),
            _fmt(m.precision),
            _fmt(m.recall),
            _fmt(m.f1),
            _fmt(m.kappa),
            _fmt(m.specificity),
            f"{m.tp}/{m.fp}/{m.fn}/{m.tn}",
        )
    return t


def _operating_line(roc: _validation.RocCurve) -> str:
    o = roc.operating
    where = (
        f"a cut on its score (score ≥ {o.cut:.4g}), on the curve"
        if roc.decision_is_cut and o.cut is not None
        else "not a cut on its score: off the curve"
    )
    return (
        f"the grader's own decision: recall {_fmt(o.tpr)} at false-positive rate {_fmt(o.fpr)} "
        f"(F1 {_fmt(o.f1)}; {where})"
    )


def _roc_lines(roc: _validation.RocCurve, per_language: dict[str, _validation.RocCurve]) -> list[str]:
    langs = "; ".join(
        f"{escape(k)} {_fmt(c.auc)} ({_fmt(c.auc_low)}–{_fmt(c.auc_high)})" for k, c in per_language.items()
    )
    return [
        f"ROC of the score: AUC {_fmt(roc.auc)} (95% {_fmt(roc.auc_low)}–{_fmt(roc.auc_high)}, DeLong; "
        f"{roc.n_positive} positive, {roc.n_negative} negative answers)"
        + (f"; per language: {langs}" if langs else ""),
        _operating_line(roc),
    ]


def _roc_table(title: str, roc: _validation.RocCurve) -> Table:
    t = Table(title=title)
    for col in ("score ≥", "recall (TPR)", "false-positive rate", "precision", "F1", "called positive", ""):
        t.add_column(col, justify="right" if col else "left")
    op = roc.operating

    def row(p: _validation.RocPoint, cut: str, mark: str) -> None:
        cells = [cut, _fmt(p.tpr), _fmt(p.fpr), _fmt(p.precision), _fmt(p.f1), str(p.flagged)]
        t.add_row(*(f"[bold]{c}[/bold]" for c in cells) if mark else cells, mark)

    for p in roc.points:
        own = roc.decision_is_cut and p.cut == op.cut
        row(p, "n/a" if p.cut is None else f"{p.cut:.4g}", "◀ the grader's cut" if own else "")
    if not roc.decision_is_cut:
        row(op, "—", "◀ the grader's decision (no cut)")
    return t


def print_report(
    rep: _validation.ValidationReport, console: Console | None = None, *, roc_table: bool = False
) -> None:
    console = console or make_console()
    console.print(
        f"[bold]{escape(rep.grader)}[/bold] on {escape(rep.label_file or '<rows>')} "
        f"(sha256 {rep.label_hash[:12]}…): {rep.n_rows} rows, {rep.unscorable} unscorable; positive = {escape(rep.positive)}"
    )
    console.print(_metrics_table("overall and per language", {"overall": rep.overall, **rep.per_language}))
    if rep.per_family:
        console.print(_metrics_table("per model family", rep.per_family))
    if rep.per_attack:
        console.print(_metrics_table("plain and attack-transformed prompts, and per chain", rep.per_attack))
    console.print(_metrics_table("per category", rep.per_category))
    cm = Table(title="confusion (rows: label, columns: grader)")
    cm.add_column("label")
    cols = [*rep.classes, "unscorable"]
    for c in cols:
        cm.add_column(c, justify="right")
    for gold, row in rep.confusion.items():
        cm.add_row(gold, *(str(row[c]) for c in cols))
    console.print(cm)
    console.print(
        f"sensitivity {_fmt(rep.sensitivity)}, specificity {_fmt(rep.specificity)} "
        "(use these for the Rogan–Gladen correction of a run's rates)"
    )
    if "escalated" in rep.details:
        console.print(
            f"judge: {escape(str(rep.details.get('judge', 'n/a')))}; {rep.details['escalated']} answer(s) escalated, "
            f"{rep.details.get('escalation_failed', 0)} kept the cheap verdict because the judge gave none"
        )
    if rep.roc is not None:
        for line in _roc_lines(rep.roc, rep.roc_per_language):
            console.print(line)
        if roc_table:
            console.print(_roc_table("ROC of the score", rep.roc))
    elif "roc" in rep.details:
        console.print(f"[dim]ROC {escape(str(rep.details['roc']))}[/dim]")
    ignored = rep.details.get("ignored_columns")
    if ignored:
        console.print(f"[dim]columns not used by validation: {escape(', '.join(ignored))}[/dim]")


@contextmanager
def _grader_argument() -> Iterator[None]:
    """An unknown grader is named as these commands spell it: the GRADER argument."""
    try:
        yield
    except InputError as e:
        if e.where != "--grader":
            raise
        raise InputError(str(e).removeprefix(f"{e.where}: "), where="GRADER") from None


@app.command("validate")
def validate(
    grader: str = typer.Argument(..., help="grader id, e.g. refusal or refusal@3"),
    labels: Path | None = typer.Option(
        None, "--labels", help="CSV or JSONL: prompt, response, label, language[, category]"
    ),
    from_reviews: str | None = typer.Option(
        None, "--from-reviews", help="Use the human reviews of this run (from `assay view`) as the labels."
    ),
    as_json: bool = typer.Option(False, "--json", help="print the ValidationReport as JSON"),
    judge: str | None = typer.Option(
        None, "--judge", help="Target spec of the LLM judge (llm-judge and ensemble:* graders)."
    ),
    save: bool = typer.Option(
        False,
        "--save",
        help="Store the figures (shown by `assay graders`, usable with `runs show --correct-with`).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Name to store the figures under (default: the label file's name)."
    ),
    roc: bool = typer.Option(False, "--roc", help="also print the ROC curve of the grader's score"),
    db: DbOpt = None,
) -> None:
    """Measure a grader against labelled responses (accuracy, precision, recall, F1, Cohen's kappa, the ROC of its score); nothing is stored unless --save."""
    from assay import api

    if name is not None and not save:
        raise InputError("--name names stored figures: add --save", where="--name")
    with _grader_argument():
        rep = api.validate_grader(
            grader, labels, from_reviews=from_reviews, judge=judge, save=save, name=name, db=db
        )
    if as_json:
        echo_json(rep.model_dump_json(indent=1))
    else:
        print_report(rep, roc_table=roc)


@app.command("roc")
def roc_command(
    grader: str = typer.Argument(..., help="grader id, e.g. harmful-compliance or refusal@5"),
    as_json: bool = typer.Option(False, "--json", help="print the curve as JSON"),
) -> None:
    """The ROC of a grader's score on the frozen real-answer test split (shipped figures): AUC
    with its 95% interval, the curve, and where the grader's own cut-off sits on it. For a
    label file of your own: `assay graders validate GRADER --labels FILE --roc`."""
    from assay import api

    with _grader_argument():
        shipped = api.grader_roc(grader)
    if shipped is None:
        raise InputError(
            f"no shipped ROC for {grader}: measure one with `assay graders validate {grader} --labels FILE --roc`",
            where="GRADER",
        )
    if as_json:
        echo_json(shipped.model_dump_json(indent=1))
        return
    console = make_console()
    console.print(f"[bold]{escape(shipped.grader)}[/bold] on the frozen test split ({escape(shipped.file)})")
    for line in _roc_lines(shipped.overall, shipped.per_language):
        console.print(line)
    console.print(_roc_table("ROC of the score", shipped.overall))
