"""Risk-level commands: taxonomy, regimes, profile init, classify, plan.

Thin: parse options, call `assay.taxonomy` / `assay.regimes` / `assay.levels`, print.
`register(root)` mounts the commands at the top level (`assay taxonomy`, `assay regimes`,
`assay profile init`, `assay classify`, `assay plan`); `app` holds the same commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import deprecated, make_app, make_console, split_list
from assay.core.errors import InputError
from assay.core.files import check_output_file, write_atomic

if TYPE_CHECKING:
    from assay import levels as _levels
    from assay import regimes as _regimes
    from assay import taxonomy as _taxonomy
    from assay.levels import template as _template
else:  # loaded by the commands that use them, not by `assay --help`
    _levels = lazy_module("assay.levels")
    _template = lazy_module("assay.levels.template")
    _regimes = lazy_module("assay.regimes")
    _taxonomy = lazy_module("assay.taxonomy")


def _make_console() -> Console:
    """Wide tables when the output is a file or pipe (no terminal width to follow)."""
    c = make_console(highlight=False)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c = make_console(highlight=False, width=160)
    return c


console = _make_console()
err_console = make_console(stderr=True, highlight=False)

# --------------------------------------------------------------------------- language

_L: dict[str, tuple[str, str]] = {
    "id": ("id", "编号"),
    "domain": ("domain", "领域"),
    "name": ("name", "名称"),
    "tests": ("test methods", "测试方法"),
    "regimes": ("regime items", "法规条目"),
    "categories": ("categories", "类别"),
    "requirement": ("requirement", "要求"),
    "clause": ("clause", "条款"),
    "method": ("method", "方法"),
    "bank": ("bank", "题库"),
    "sample": ("min n", "最少样本"),
    "threshold": ("threshold", "阈值"),
    "source": ("source", "来源"),
    "levels": ("levels", "等级"),
    "evidence": ("evidence", "文件证据"),
    "report": ("report only", "仅报告"),
    "level": ("Level", "风险等级"),
    "decision": ("Decision", "结论"),
    "tiers": ("Regime tiers", "各法规层级"),
    "derivation": ("Derivation (rules that fired)", "判定过程（触发的规则）"),
    "rule": ("rule", "规则"),
    "tier": ("tier", "层级"),
    "scheme": ("scheme", "法规体系"),
    "default_regimes": ("default regimes", "默认适用法规"),
    "because": ("because", "依据"),
    "notes": ("Notes", "说明"),
    "not_applicable": ("not in scope (jurisdiction)", "不适用（法域）"),
    "none": ("none", "无"),
    "plan": ("Plan", "测试计划"),
    "items": ("items", "测试项"),
    "graders": ("graders", "评判器"),
    "transforms": ("transforms", "变换"),
    "serves": ("serves", "服务要求数"),
    "estimate": ("Estimate", "成本估算"),
    "calls": ("target calls", "目标调用次数"),
    "tokens": ("tokens (prompt / completion)", "令牌（提示 / 回答）"),
    "written": ("written", "已写入"),
    "warnings": ("Warnings", "警告"),
    "bank_minimums": ("Bank minimums", "题库最低要求"),
    "grading": ("Grading", "分级"),
    "do_not_deploy": ("DO NOT DEPLOY", "不得部署"),
    "standard": ("standard", "标准"),
    "proposal": ("proposal", "建议值"),
    "edition": ("edition applying on", "适用版本"),
    "other_edition": ("other edition", "其他版本"),
    "terms": ("wording in this edition", "本版本用语"),
    "from": ("from", "起"),
    "parameter": ("parameter", "参数"),
    "on": ("on", "于"),
    "in_force": ("in force", "适用中"),
    "coming": ("coming", "即将适用"),
    "proposed": ("proposed", "草案"),
    "lapsed": ("lapsed", "已失效"),
    "not_enacted": ("not yet enacted", "尚未制定"),
    "not_decided": ("not decided until it applies", "生效前不作判定"),
    "date_source": ("date", "日期依据"),
    "obligations_on": ("Obligations on", "义务状态，日期"),
    "conflicts": ("Regimes pulling in opposite directions (side by side)", "方向相反的治理要求（并列展示）"),
    "as_of": ("as of", "截至"),
    "coming_rules": (
        "Coming (the profile meets them; they apply later)",
        "即将适用（本画像符合条件，日后适用）",
    ),
    "editions": ("Editions measured against", "所依据的版本"),
}
SCHEME_NAMES: dict[str, tuple[str, str]] = {
    "eu-ai-act": ("EU AI Act", "欧盟《人工智能法》"),
    "tc260-003": ("China (Interim Measures / TC260-003)", "中国（《暂行办法》/ TC260-003）"),
    "cn-labelling": ("China labelling (Labelling Measures / GB 45438)", "中国标识（《标识办法》/ GB 45438）"),
    "cn-anthropomorphic": ("China anthropomorphic services (draft)", "中国拟人化互动服务（征求意见稿）"),
    "tc260-004": ("China government-sector LLM applications (TC260-004)", "中国政务大模型应用（TC260-004）"),
    "us-omb-m-26-04": ("US federal procurement (OMB M-26-04)", "美国联邦采购（OMB M-26-04）"),
    "capability": ("Capability (frontier)", "能力（前沿）"),
    "unified": ("Assay unified", "Assay 统一规则"),
}


def _t(key: str, lang: str) -> str:
    en, zh = _L[key]
    return zh if lang == "zh" else en


def _check_lang(lang: str | None) -> str:
    """The output language: `lang`, else the configured one (`assay.core.config`), else en."""
    from assay.core.config import default_lang

    lang = default_lang(lang)
    if lang not in ("zh", "en"):
        raise InputError(f"unknown language {lang!r}; use zh or en", where="--lang")
    return lang


@contextmanager
def _guard() -> Iterator[None]:
    """Print to where stdout points now (terminal, file, test runner); errors take the
    CLI's one error path (`assay.cli._common.AssayGroup`)."""
    global console
    console = _make_console()
    yield


LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Output language: en or zh (default: lang in the config file, else en)."),
]
#: the old spelling of --out on taxonomy export, profile init and plan: hidden, still accepted
LegacyOutputOpt = Annotated[
    Path | None, typer.Option("--output", hidden=True, callback=deprecated("--output", "--out / -o"))
]

# --------------------------------------------------------------------------- taxonomy

taxonomy_app = make_app(
    help="Unified risk categories and their crosswalk to every regime.", invoke_without_command=True
)


@taxonomy_app.callback()
def taxonomy(
    ctx: typer.Context,
    lang: LangOpt = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="technical_safety or application_security.")
    ] = None,
) -> None:
    """Show the unified risk categories (zh or en)."""
    if ctx.invoked_subcommand is not None:
        return
    with _guard():
        lang = _check_lang(lang)
        tax = _taxonomy.load_taxonomy()
        if domain is not None and domain not in {d.id for d in tax.domains}:
            raise InputError(
                f"unknown domain {domain!r}; use technical_safety or application_security", where="--domain"
            )
        title = f"{tax.title.get(lang)} v{tax.version} ({len(tax.categories_in(domain))})"
        table = Table(title=title, show_lines=False)
        table.add_column(_t("id", lang), no_wrap=True)
        table.add_column(_t("domain", lang))
        table.add_column(_t("name", lang))
        table.add_column(_t("regimes", lang))
        table.add_column(_t("tests", lang))
        dom_names = {d.id: d.name.get(lang) for d in tax.domains}
        for c in tax.categories_in(domain):
            refs = []
            for scheme in ("tc260_003_appendix_a", "eu_ai_act", "nist_600_1", "ailuminate", "gpai_cop"):
                vals = c.refs(scheme)
                if vals:
                    refs.append(f"{scheme.split('_')[0]}: {', '.join(vals)}")
            table.add_row(
                c.id,
                dom_names[c.domain],
                escape(c.name.get(lang)),
                escape("; ".join(refs)),
                ", ".join(c.tests),
            )
        console.print(table)
        console.print(f"taxonomy sha256 {_taxonomy.taxonomy_hash()[:16]}…")


@taxonomy_app.command("export")
def taxonomy_export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or json.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).")
    ] = None,
    legacy_output: LegacyOutputOpt = None,
    lang: LangOpt = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Only one domain.")] = None,
) -> None:
    """Write the crosswalk (one row per category × regime item) as CSV or JSON."""
    output = output or legacy_output
    with _guard():
        lang = _check_lang(lang)
        if fmt not in ("csv", "json"):
            raise InputError(f"unknown format {fmt!r}; use csv or json", where="--format")
        if output is not None:
            check_output_file(output, "--out")
        text = _taxonomy.export_crosswalk(_taxonomy.load_taxonomy(), fmt, lang=lang, domain=domain)  # type: ignore[arg-type]
        if output is None:
            sys.stdout.write(text)
            return
        try:
            write_atomic(output, text)
        except OSError as exc:
            raise InputError(f"cannot write: {exc}", where=f"--out {output}") from exc
        err_console.print(f"{_t('written', lang)} {escape(str(output))}")


# --------------------------------------------------------------------------- regimes


def _threshold_text(r: Any, lang: str) -> str:
    if r.evidence_only:
        return _t("evidence", lang)
    if r.threshold is None:
        return f"{_t('grading', lang)} ≥ {r.min_grade}" if r.min_grade else _t("report", lang)
    return f"{r.metric} {r.direction} {r.threshold:g}"


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date (YYYY-MM-DD) the obligations are read on; default today. "
        "Obligations not in force then are listed as coming and are not decided.",
    ),
]


def _status_style(status: str) -> str:
    return {"in_force": "green", "coming": "yellow", "proposed": "magenta"}.get(status, "dim")


def print_regime(reg: Any, reqs: Any, day: Any, lang: str, show_banks: bool) -> None:
    """One regime on `day`: edition applying, state-of-play notes, each obligation with its date and source."""
    from assay.regimes.dates import clause_on, counts_by_status, edition_on, status_on, status_text

    zh = lang == "zh"
    title = reg.title_zh if zh else reg.title_en
    ed = edition_on(reg, day)
    console.print(f"[bold]{escape(title)}[/] · {reg.id} v{reg.version}")
    edition = ed.id if ed is not None else reg.edition
    ed_status = f" · {ed.status}" if ed is not None and ed.status != "in_force" else ""
    conf = f" [{ed.confidence}]" if ed is not None and ed.confidence else ""
    console.print(f"  {_t('edition', lang)} {day}: {escape(edition)}{escape(ed_status)}{escape(conf)}")
    if ed is not None and ed.terms:
        terms = ", ".join(f"{k} → {v}" for k, v in ed.terms.items())
        console.print(f"  [dim]{_t('terms', lang)}: {escape(terms)}[/]")
    if ed is not None and ed.notes:
        console.print(f"  [dim]{escape(ed.notes)}[/]")
    for other in reg.editions:
        if ed is not None and other.id == ed.id:
            continue
        when = other.applies_from or "?"
        console.print(
            f"  [dim]{_t('other_edition', lang)}: {escape(other.id)} ({other.status}, {_t('from', lang)} {when})[/]"
        )
    for p in reg.parameters:
        name = p.title_zh if zh and p.title_zh else p.title_en
        console.print(
            f"  {_t('parameter', lang)} {p.id} = {p.value:g} {escape(p.unit)} · {escape(p.clause)} "
            f"({_t(p.source, lang)}{' [' + p.confidence + ']' if p.confidence else ''}) · [dim]{escape(name)}[/]"
        )
    for n in reg.notes_zh if zh and reg.notes_zh else reg.notes_en:
        console.print(f"  [dim]- {escape(n)}[/]")
    counts = counts_by_status(reqs, day, reg)
    console.print(
        f"  {_t('on', lang)} {day}: {counts['in_force']} {_t('in_force', lang)} · {counts['coming']} {_t('coming', lang)}"
        f" · {counts['proposed']} {_t('proposed', lang)}"
        + (f" · {counts['lapsed']} {_t('lapsed', lang)}" if counts["lapsed"] else "")
        + (f" · {counts['not_enacted']} {_t('not_enacted', lang)}" if counts["not_enacted"] else "")
    )
    for r in reqs:
        st = status_on(r, day, reg)
        name = r.title_zh if zh else r.title_en
        style = _status_style(st)
        console.print(f"  [bold]{escape(r.id)}[/]  [{style}]{escape(status_text(r, day, reg, lang))}[/]")
        console.print(f"    [dim]{escape(name)}[/]")
        banks = ",".join(r.selector.banks) + (f" ×{len(r.transforms)}" if r.transforms else "")
        thr = _threshold_text(r, lang)
        if st in ("coming", "proposed") and not r.evidence_only and (r.threshold is not None or r.min_grade):
            thr = f"{thr} ({_t('not_decided', lang)})"
        parts = [
            f"{_t('clause', lang)}: {clause_on(r, reg, day)}",
            f"{_t('method', lang)} {r.method}",
            *([f"{_t('bank', lang)} {banks}"] if banks else []),
            *([f"{_t('sample', lang)} {r.min_sample}"] if r.min_sample else []),
            f"{_t('threshold', lang)} {thr}",
            f"{_t('source', lang)} {_t(r.source, lang)}" + (f" [{r.confidence}]" if r.confidence else ""),
            f"{_t('levels', lang)} {','.join(r.levels) or '*'}",
        ]
        console.print("    " + escape(" · ".join(parts)))
        ed_now = edition_on(reg, day)
        for ctx, when in r.applies_from_when.items():
            c_name, _, c_ed = ctx.partition("@")
            if not c_ed or (ed_now is not None and c_ed == ed_now.id):
                console.print(f"    [dim]{escape(c_name)}: {_t('from', lang)} {when}[/]")
        if r.date_source:
            console.print(f"    [dim]{_t('date_source', lang)}: {escape(r.date_source)}[/]")
    if show_banks and reg.bank_requirements:
        console.print(f"  [bold]{_t('bank_minimums', lang)} · {reg.id}[/]")
        for b in reg.bank_requirements:
            strata = "; ".join(f"{len(s.values)} {s.field} ≥ {s.min_each}" for s in b.strata)
            name = b.title_zh if zh else b.title_en
            total = f"≥ {b.min_total}" if b.min_total else f"cover {len(b.must_cover)}"
            console.print(
                f"  {escape(b.id)} · {b.bank} · {escape(total)}; {escape(strata)} · {_t(b.source, lang)}"
            )
            console.print(f"    [dim]{escape(name)}[/]")
    for g in reg.grading:
        bands = ", ".join(f"{b.name_zh if zh else b.name_en}: {b.rule}" for b in g.bands)
        console.print(f"  {_t('grading', lang)} {g.id}: {escape(bands)}")
    console.print()


def regimes(
    regime: Annotated[
        list[str] | None,
        typer.Option("--regime", "-r", help="Only these regimes (repeatable or comma-separated)."),
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="Only requirements that apply at this level (R0–R4).")
    ] = None,
    as_of: AsOfOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the obligations with their dates as JSON.")
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Each regime's obligations on a date: in force / coming (with the date) / proposed, clause, test, threshold and source."""
    from assay.regimes.dates import parse_as_of

    regime = split_list(regime)
    with _guard():
        lang = _check_lang(lang)
        day = parse_as_of(as_of)
        if level is not None and level not in _regimes.LEVELS:
            raise InputError(
                f"unknown level {level!r}; levels are {', '.join(_regimes.LEVELS)}", where="--level"
            )
        for rid in regime or []:
            if rid not in _regimes.REGIME_IDS:
                raise InputError(
                    f"unknown regime {rid!r}; known regimes: {', '.join(_regimes.REGIME_IDS)}",
                    where="--regime",
                )
        chosen = _regimes.load_regimes(regime or None)
        if as_json:
            from assay.api import regimes_on

            doc = regimes_on(day, regime or None, level)
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        console.print(f"[bold]{_t('obligations_on', lang)} {day}[/]")
        for reg in chosen.values():
            reqs = _regimes.requirements_for(reg, level) if level is not None else reg.requirements
            print_regime(reg, reqs, day, lang, level not in ("R0", "R1"))
        print_conflicts(list(chosen), day, lang)


def print_conflicts(regime_ids: list[str], day: Any, lang: str) -> None:
    """Declared conflicts among the shown regimes: both sides' requirements in two columns."""
    from assay.regimes.conflicts import conflicts_on

    found = conflicts_on(day, regime_ids)
    if not found:
        return
    console.print(f"\n[bold]{_t('conflicts', lang)}[/]")
    for cf in found:
        left, right = cf["sides"]
        console.print(escape(cf["note_zh"] if lang == "zh" else cf["note_en"]))
        table = Table(show_lines=True)
        for side in (left, right):
            table.add_column(f"{side['regime']} ({side['edition']})", overflow="fold")

        def cell(r: dict[str, Any]) -> str:
            bound = (
                f" {r['direction']} {r['threshold']:g} ({r['source']})" if r["threshold"] is not None else ""
            )
            return escape(f"{r['id']} [{r['status']}]{bound}\n{r['clause']}")

        rows_l, rows_r = left["requirements"], right["requirements"]
        for i in range(max(len(rows_l), len(rows_r))):
            table.add_row(
                cell(rows_l[i]) if i < len(rows_l) else "", cell(rows_r[i]) if i < len(rows_r) else ""
            )
        console.print(table)


# --------------------------------------------------------------------------- profile init

profile_app = make_app(help="Write a profile of the AI system (commented template or questionnaire).")


class _TyperAsker:
    def text(self, question: str, default: str) -> str:
        return str(typer.prompt(question, default=default, show_default=bool(default)))

    def confirm(self, question: str, default: bool) -> bool:
        return bool(typer.confirm(question, default=default))

    def choose(self, question: str, options: tuple[str, ...], default: list[str]) -> list[str]:
        prompt = f"{question} [{' | '.join(options)}]"
        while True:
            raw = typer.prompt(prompt, default=", ".join(default) if default else "-")
            try:
                return _template.parse_choices(str(raw), options)
            except ValueError as exc:
                err_console.print(f"[red]{escape(str(exc))}[/]")


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


@profile_app.command("init")
def profile_init(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the profile.")] = Path(
        "profile.yaml"
    ),
    legacy_output: LegacyOutputOpt = None,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--no-interactive", help="Ask the questions (default: when stdin is a terminal)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented profile template, or ask the questions when run in a terminal."""
    output = legacy_output or out
    with _guard():
        check_output_file(output, "--out")
        if output.exists() and not force:
            raise InputError("file exists; pass --force to overwrite", where=str(output))
        ask = _stdin_is_tty() if interactive is None else interactive
        answers = _levels.questionnaire(_TyperAsker()) if ask else None
        text = _levels.render_profile(answers)
        from assay.levels.profile import parse_profile

        parse_profile(text, str(output))  # what we write must load
        try:
            write_atomic(output, text)
        except OSError as exc:
            raise InputError(f"cannot write: {exc}", where=f"--out {output}") from exc
        err_console.print(f"wrote {escape(str(output))}; next: assay classify {escape(str(output))}")


# --------------------------------------------------------------------------- _levels.classify


def print_classification(c: _levels.Classification, lang: str = "en", all_rules: bool = False) -> None:
    name = c.level_name_zh if lang == "zh" else c.level_name_en
    decision = c.decision_zh if lang == "zh" else c.decision_en
    style = "bold red" if c.level == "R0" else "bold"
    console.print(f"[{style}]{_t('level', lang)}: {c.level} · {escape(name)}[/]  ({escape(c.profile)})")
    if c.as_of is not None:
        console.print(f"{_t('as_of', lang)} {c.as_of}")
    if c.level == "R0":
        console.print(f"[bold red]{_t('do_not_deploy', lang)}[/]")
    console.print(f"{_t('decision', lang)}: {escape(decision)}")
    tiers = Table(title=_t("tiers", lang))
    tiers.add_column(_t("scheme", lang))
    tiers.add_column(_t("tier", lang))
    tiers.add_column(_t("level", lang))
    for sid, st in c.schemes.items():
        sname = SCHEME_NAMES[sid][1 if lang == "zh" else 0]
        if not st.applies:
            tiers.add_row(sname, _t("not_applicable", lang), "")
            continue
        label = _tier_label(sid, st.primary, lang) if st.primary else _t("none", lang)
        others = [t for t in st.tiers if t != st.primary]
        if others:
            label += " (+" + ", ".join(_tier_label(sid, t, lang) for t in others) + ")"
        tiers.add_row(sname, escape(label), st.level or "")
    console.print(tiers)
    table = Table(title=_t("derivation", lang))
    for key in ("rule", "tier", "level", "because", "clause"):
        table.add_column(_t(key, lang), overflow="fold")
    for r in c.derivation if all_rules else c.fired:
        text = r.text_zh if lang == "zh" else r.text_en
        mark = "" if r.fired else "[dim]·[/] "
        if r.fired and r.tier == "minimal" and c.schemes["eu-ai-act"].primary not in (None, "minimal"):
            mark = "[dim](superseded)[/] "
        because = "\n".join(r.because) if r.fired else ", ".join(r.looks_at)
        table.add_row(
            f"{mark}{r.rule}",
            f"{escape(r.tier)}\n[dim]{escape(text)}[/]",
            r.level if r.fired else "",
            escape(because),
            f"{escape(r.cite)} ({_t(r.source, lang)})",
        )
    console.print(table)
    if c.coming:
        console.print(f"[yellow]{_t('coming_rules', lang)}:[/]")
        for r in c.coming:
            text = r.text_zh if lang == "zh" else r.text_en
            console.print(
                f"  - {r.rule} → {r.level} ({_t('from', lang)} {r.applies_from}): {escape(text)} [dim]{escape(r.cite)}[/]"
            )
    notes = c.notes_zh if lang == "zh" else c.notes
    if notes:
        console.print(f"{_t('notes', lang)}:")
        for n in notes:
            console.print(f"  - {escape(n)}")
    console.print(f"{_t('default_regimes', lang)}: {', '.join(c.default_regimes)}")
    if c.editions:
        eds = "; ".join(f"{rid}: {c.editions[rid]}" for rid in c.default_regimes if rid in c.editions)
        console.print(f"[dim]{_t('editions', lang)}: {escape(eds)}[/]")


def _tier_label(scheme: str, tier: str | None, lang: str) -> str:
    if tier is None:
        return ""
    if scheme in _regimes.REGIME_IDS:
        for t in _regimes.load_regime(scheme).tiers:
            if t.id == tier:
                return t.name_zh if lang == "zh" else t.name_en
    return tier


def classify_cmd(
    profile: Annotated[Path, typer.Argument(help="Profile YAML (see `assay profile init`).")],
    lang: LangOpt = None,
    all_rules: Annotated[
        bool, typer.Option("--all-rules", help="Also list the rules that did not fire.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the classification as JSON.")] = False,
    as_of: AsOfOpt = None,
) -> None:
    """Classify a profile on a date: level R0–R4, each regime's tier, the derivation rule by rule, and rules coming later."""
    from assay.regimes.dates import parse_as_of

    with _guard():
        lang = _check_lang(lang)
        day = parse_as_of(as_of)
        c = _levels.classify(_levels.load_profile(_levels.resolve_profile(profile)), day)
        if as_json:
            sys.stdout.write(c.model_dump_json(indent=2) + "\n")
            return
        print_classification(c, lang, all_rules)


# --------------------------------------------------------------------------- plan


def _print_coverage(plan: Any) -> None:
    """One line per must-cover list and per requirement with risks no grader can judge."""
    checks: dict[str, list[Any]] = {}
    for c in getattr(plan, "coverage", ()):
        checks.setdefault(c.check, []).append(c)
    for check, rows in checks.items():
        if all(c.bank_cases is not None for c in rows):  # a requirement's unjudged risks
            risks = ", ".join(f"{c.risk} ({c.bank_cases} bank cases)" for c in rows)
            console.print(f"coverage {escape(check)}: [bold]not assessed[/]: {escape(risks)}")
            continue
        missing = [c.risk for c in rows if not c.assessed]
        judged = len(rows) - len(missing)
        methods = sorted({m for c in rows for m in c.graders.values()})
        line = f"coverage {escape(check)}: {judged}/{len(rows)} risk(s) judged"
        if methods:
            line += f" ({', '.join(methods)})"
        if missing:
            line += f"; [bold]not assessed[/]: {escape(', '.join(missing))}"
        console.print(line)


def print_plan_summary(plan: Any, lang: str = "en") -> None:
    console.print(
        f"[bold]{_t('plan', lang)}: {escape(plan.name)}[/] · {_t('level', lang)} {plan.level} · {', '.join(plan.regimes)}"
        + (f" · {_t('as_of', lang)} {plan.as_of}" if plan.as_of else "")
    )
    if plan.editions:
        eds = "; ".join(f"{rid}: {ed}" for rid, ed in plan.editions.items())
        console.print(f"[dim]{_t('editions', lang)}: {escape(eds)}[/]")
    if not plan.items:
        for n in plan.notes:
            console.print(escape(n))
        return
    table = Table(title=f"{_t('items', lang)} ({len(plan.items)})")
    for key in ("id", "sample", "graders", "serves"):
        table.add_column(_t(key, lang), overflow="fold")
    for item in plan.items:
        table.add_row(escape(item.id), str(item.sample), ", ".join(item.graders), str(len(item.requirements)))
    console.print(table)
    e = plan.estimate
    console.print(
        f"{_t('estimate', lang)}: {e.cases} cases · {_t('calls', lang)} {e.target_calls} · "
        f"{_t('tokens', lang)} {e.prompt_tokens} / {e.completion_tokens}"
    )
    for n in e.notes[1:]:  # the first is the general upper-bound caveat
        console.print(f"[dim]  {escape(n)}[/]")
    console.print(
        f"{_t('requirement', lang)}: {len(plan.measured_requirements)} measured + {len(plan.evidence_requirements)} {_t('evidence', lang)}"
    )
    warns = _levels.plan_warnings(plan)
    _print_coverage(plan)
    for n in plan.notes:
        console.print(f"[dim]- {escape(n)}[/]")
    if warns:
        console.print(f"[yellow]{_t('warnings', lang)}:[/]")
        for w in warns:
            console.print(f"  - {escape(w)}")


def plan_cmd(
    profile: Annotated[str, typer.Argument(help="Profile YAML, or a bare level R1–R4.")],
    regime: Annotated[
        list[str] | None,
        typer.Option(
            "--regime",
            "-r",
            help="Regimes to plan for (repeatable or comma-separated; default: those applicable to the profile).",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Write the plan YAML here.")] = None,
    legacy_output: LegacyOutputOpt = None,
    case_lang: Annotated[
        list[str] | None,
        typer.Option(
            "--case-lang",
            help="Test languages, repeatable or comma-separated, e.g. zh,en (default: the profile's).",
        ),
    ] = None,
    legacy_languages: Annotated[
        list[str] | None,
        typer.Option("--languages", hidden=True, callback=deprecated("--languages", "--case-lang")),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed recorded in the plan.")] = 0,
    bank_stats: Annotated[
        bool,
        typer.Option(
            "--bank-stats/--no-bank-stats",
            help="Size draws and the estimate with the built-in banks' statistics.",
        ),
    ] = True,
    lang: LangOpt = None,
    as_of: AsOfOpt = None,
    attack_judge: Annotated[
        str | None,
        typer.Option(
            "--attack-judge",
            help="Count the rating calls of this attack judge (the spec the run will get as "
            "--attack-judge) inside the adaptive attacks' budgets in the estimate.",
        ),
    ] = None,
) -> None:
    """Build the deduplicated test plan (banks × transforms × graders × samples × thresholds) with its estimate.

    Obligations not in force on --as-of (default today) are planned report-only and listed."""

    output = output or legacy_output
    regime = split_list(regime)
    with _guard():
        lang = _check_lang(lang)
        if output is not None:
            check_output_file(output, "--out")
        from assay import api

        langs = split_list(case_lang) + split_list(legacy_languages) or None
        plan = api.plan(
            profile,
            regime or None,
            languages=langs,
            seed=seed,
            bank_stats=bank_stats,
            as_of=as_of,
            attack_judge=attack_judge,
        )
        if output is not None:
            try:
                write_atomic(output, _levels.dump_plan(plan))
            except OSError as exc:
                raise InputError(f"cannot write: {exc}", where=f"--out {output}") from exc
        elif not console.is_terminal:
            sys.stdout.write(_levels.dump_plan(plan))
            return
        print_plan_summary(plan, lang)
        if output is not None:
            console.print(f"{_t('written', lang)} {escape(str(output))} (plan id {plan.id})")


# --------------------------------------------------------------------------- mounting


def register(root: typer.Typer) -> None:
    """Mount the commands at the top level of `root`."""
    root.add_typer(taxonomy_app, name="taxonomy")
    root.command("regimes")(regimes)
    root.add_typer(profile_app, name="profile")
    root.command("classify")(classify_cmd)
    root.command("plan")(plan_cmd)


app = make_app(help="Risk levels: taxonomy, regimes, profiles, classification, plans.", no_args_is_help=True)
register(app)
