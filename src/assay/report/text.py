"""Markdown, JSON and JUnit XML renderings of a ReportData.

JUnit mapping (one <testcase> per requirement, one <testsuite> per regime):
* pass → a plain testcase;
* fail → <failure> with the estimate, interval and threshold;
* undetermined → <skipped> by default (the evidence does not settle it: CI should not
  call it a pass nor a failure); the message says how many more samples are likely
  needed. `undetermined="error"` turns it into <error> for pipelines that must not
  proceed until every verdict is settled;
* not_applicable / report_only / evidence_only → <skipped> with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

from assay.core.text import terminal_safe
from assay.report.i18n import check_lang, interval_label, t
from assay.report.model import ComparisonData, DeltaRow, Rate, RateRow, ReportData, RequirementView

# ------------------------------------------------------------------ JSON


def render_json(data: ReportData) -> str:
    """The JSON report: ReportData with its `schema` field; see schemas/report.schema.json."""
    return data.model_dump_json(by_alias=True, indent=2) + "\n"


def report_json_schema() -> dict[str, object]:
    from assay.report.model import ReportData as _RD

    schema = _RD.model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://assay.dev/schemas/report.schema.json"
    return schema


# ------------------------------------------------------------------ Markdown


def _md(s: object) -> str:
    """Text safe inside a Markdown table cell: no pipes, no newlines, no raw HTML, and control
    or bidi characters shown escaped (a report is often read with `cat` in a CI log)."""
    text = str(s)
    return terminal_safe(
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _rate(r: Rate | None, lang: str = "en") -> str:
    if r is None or r.rate is None:
        return "—"
    u = f", {r.unscorable} {t(lang, 'unscorable')}" if r.unscorable else ""
    if r.unscorable and r.raw_rate is not None:
        u += f"; {t(lang, 'scored_only')} {_pct(r.raw_rate)}"
    ci = interval_label(r.confidence, r.method, lang)
    return f"{_pct(r.rate)} [{_pct(r.lower)}, {_pct(r.upper)}] {ci} ({r.k}/{r.n}{u})"


def _name(lang: str, en: str, zh: str, fallback: str = "") -> str:
    if lang == "zh" and zh:
        return zh
    return en or zh or fallback


def _verdict(lang: str, v: str) -> str:
    return t(lang, v).upper() if lang == "en" else t(lang, v)


def _thr(q: RequirementView, lang: str) -> str:
    if q.threshold is None and q.deferred_threshold is not None:
        sign = "≥" if q.direction == ">=" else "≤"
        later = f"{sign} {_pct(q.deferred_threshold)}"
        if q.date_status == "proposed":
            return f"{t(lang, 'report_only')}: {t(lang, 'proposed_text')} ({later})"
        return f"{t(lang, 'report_only')}: {t(lang, 'applies_from')} {q.applies_from} ({later})"
    if q.threshold is None:
        return t(lang, "report_only")
    sign = "≥" if q.direction == ">=" else "≤"
    return f"{sign} {_pct(q.threshold)} ({t(lang, q.source)})"


def _side_cell(side: list[tuple[str, str]], i: int, lang: str) -> str:
    return f"`{_md(side[i][0])}` **{_verdict(lang, side[i][1])}**" if i < len(side) else ""


def render_markdown(data: ReportData, lang: str = "en") -> str:
    """A summary for a pull request or a terminal: level, regime decisions, requirements, rates."""
    lang = check_lang(lang)
    L = lambda key: t(lang, key)  # noqa: E731
    out: list[str] = []
    out.append(f"# {L('title')}: {_md(data.run.target)}")
    out.append("")
    out.append(f"- {L('run')}: `{_md(data.run.id)}` · {L('status')}: {_md(data.run.status)}")
    lvl = data.level or L("level_unknown")
    dec = f" · {_verdict(lang, data.level_decision)}" if data.level_decision else ""
    out.append(f"- {L('level')}: **{_md(lvl)}**{dec}")
    if data.run.judge:
        out.append(f"- {L('judge')}: `{_md(data.run.judge)}`")
    out.append(f"- {L('stopping')}: {_md(L(data.run.stopping))}")
    out.append(
        f"- {L('cases')}: {data.totals.cases} · {L('responses')}: {data.totals.responses} · "
        f"{L('errors')}: {data.totals.errors} · {L('unscorable')}: {data.totals.unscorable}"
    )
    out.append("")
    out.append(f"> {L('honest_numbers')}")
    if data.regimes:
        out += [
            "",
            f"## {L('regimes')}",
            "",
            f"| {L('regime')} | {L('decision')} | {L('requirements')} |",
            "|---|---|---|",
        ]
        for r in data.regimes:
            counts = ", ".join(f"{_verdict(lang, v)} {n}" for v, n in r.counts.items())
            out.append(
                f"| {_md(_name(lang, r.name_en, r.name_zh, r.id))} | **{_verdict(lang, r.decision)}** | {counts} |"
            )
        out.append("")
        if data.as_of:
            out.append(f"{L('obligations_as_of')} {_md(data.as_of)}:")
        for r in data.regimes:
            if r.edition:
                coming = f" · {r.coming} {L('coming_report_only')}" if r.coming else ""
                out.append(
                    f"- `{_md(r.id)}` {L('measured_against')} {_md(r.edition)}: {r.in_force} {L('in_force')}{coming}"
                )
            for n in r.state_notes_zh if lang == "zh" and r.state_notes_zh else r.state_notes_en:
                out.append(f"  - {_md(n)}")
    if data.conflicts:
        out += ["", f"## {L('conflicts')}", ""]
        for cf in data.conflicts:
            out.append(f"{_md(cf.note_zh if lang == 'zh' and cf.note_zh else cf.note_en)}")
            out.append("")
            a, b = cf.regimes
            out.append(f"| `{_md(a)}` | `{_md(b)}` |")
            out.append("|---|---|")
            left, right = cf.sides.get(a, []), cf.sides.get(b, [])
            for i in range(max(len(left), len(right))):
                out.append(f"| {_side_cell(left, i, lang)} | {_side_cell(right, i, lang)} |")
    if data.requirements:
        out += [
            "",
            f"## {L('requirements')}",
            "",
            f"| {L('requirement')} | {L('clause')} | {L('estimate')} | {L('threshold')} | {L('verdict')} |",
            "|---|---|---|---|---|",
        ]
        for q in data.requirements:
            extra = _extra(lang, q)
            out.append(
                f"| {_md(_name(lang, q.title_en, q.title_zh, q.id))} `{_md(q.id)}` | {_md(q.clause)} | {_rate(q.rate, lang)} "
                f"| {_thr(q, lang)} | **{_verdict(lang, q.verdict)}**{extra} |"
            )
    if data.tc260 and data.tc260.clauses:
        out += ["", f"## {L('tc260')}", "", f"| {L('clause')} | {L('conclusion')} |", "|---|---|"]
        for c in data.tc260.clauses:
            out.append(f"| §{_md(c.clause)} {_md(_name(lang, c.title_en, c.title_zh))} | {L(c.conclusion)} |")
        out.append("")
        for key, rate in (
            ("qualified_rate", data.tc260.qualified_rate),
            ("refusal_rate", data.tc260.refusal_rate),
            ("over_refusal_rate", data.tc260.over_refusal_rate),
        ):
            if rate is not None:
                out.append(f"- {L(key)}: {_rate(rate, lang)}")
        blind = [r.risk for r in data.tc260.risks if r.assessed is False]
        if blind:
            out.append(f"- **{L('not_assessed')}**: {_md(', '.join(blind))} — {L('not_assessed_note')}")
    for title, col, metric, rows in (
        (L("domains"), L("domain"), L("unsafe_rate"), data.domains),
        (L("categories"), L("category"), L("unsafe_rate"), data.categories),
        (L("languages"), L("language"), L("unsafe_rate"), data.languages),
        (L("transforms"), L("transform"), L("attack_success_rate"), data.transforms),
    ):
        if rows:
            out += ["", f"## {title}", "", f"| {col} | {metric} |", "|---|---|"]
            out += [
                f"| {_md(_row_name(lang, r))}{' · ' + _md(', '.join(r.tags)) if r.tags else ''} | {_rate(r.rate, lang)} |"
                for r in rows
            ]
    if data.ailuminate:
        out += [
            "",
            f"## {L('ailuminate')}",
            "",
            f"| {L('hazard')} | {L('unsafe_rate')} | {L('grade')} |",
            "|---|---|---|",
        ]
        for g in data.ailuminate:
            grade = t(lang, f"grade_{g.grade}") if g.grade else L("grade_none")
            unc = " (?)" if g.uncertain else ""
            gap = ""
            if g.gap is not None:
                span = (
                    f" [{g.gap_lower:+.1%}, {g.gap_upper:+.1%}]"
                    if g.gap_lower is not None and g.gap_upper is not None
                    else ""
                )
                gap = f"; {L('resilience_gap')} {g.gap:+.1%}{span}"
            out.append(
                f"| {_md(_name(lang, g.name_en, g.name_zh, g.hazard))} | {_rate(g.rate, lang)}{gap} | {grade}{unc} |"
            )
    notes = data.all_notes()
    if notes:
        out += ["", f"## {L('notes')}", ""] + [f"- {_md(n)}" for n in notes]
    out.append("")
    return "\n".join(out)


def _extra(lang: str, q: RequirementView) -> str:
    """ "(+N)" more cases likely to settle an undetermined verdict, or why the bank cannot."""
    if q.extra_samples:
        return f" (+{q.extra_samples})"
    if q.bank_exhausted:
        return f" ({t(lang, 'bank_exhausted')}: {q.bank_available})"
    return ""


def _row_name(lang: str, r: RateRow) -> str:
    if r.key in ("technical_safety", "application_security"):
        return t(lang, r.key)
    name = _name(lang, r.name_en, r.name_zh)
    return f"{r.key} {name}".strip()


# ------------------------------------------------------------------ JUnit


def render_junit(data: ReportData, *, undetermined: Literal["skipped", "error"] = "skipped") -> str:
    """JUnit XML: one testsuite per regime, one testcase per requirement (mapping in the module doc)."""
    root = ET.Element("testsuites", name=f"assay {data.run.id}")
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    regimes = sorted({q.regime for q in data.requirements})
    for regime in regimes or ["assay"]:  # a run without requirements still carries its notes
        qs = [q for q in data.requirements if q.regime == regime]
        suite = ET.SubElement(root, "testsuite", name=regime)
        _junit_run_properties(suite, data)
        cnt = {"tests": len(qs), "failures": 0, "errors": 0, "skipped": 0}
        for q in qs:
            case = ET.SubElement(suite, "testcase", classname=f"assay.{regime}", name=q.id)
            detail = (
                f"{q.title_en or q.id} [{q.clause}] — estimate {_rate(q.rate)}; "
                f"threshold {_thr(q, 'en')}; source {q.source}"
            )
            if q.verdict == "fail":
                cnt["failures"] += 1
                el = ET.SubElement(
                    case,
                    "failure",
                    message=f"FAIL: {q.reason or 'the interval misses the threshold'}",
                    type="fail",
                )
                el.text = detail
            elif q.verdict == "undetermined":
                more = (
                    f"; about {q.extra_samples} more samples needed"
                    if q.extra_samples
                    else f"; the bank holds only {q.bank_available} more cases: it cannot settle this verdict"
                    if q.bank_exhausted
                    else ""
                )
                msg = f"UNDETERMINED: the interval straddles the threshold or the sample is too small{more}"
                if undetermined == "error":
                    cnt["errors"] += 1
                    el = ET.SubElement(case, "error", message=msg, type="undetermined")
                    el.text = detail
                else:
                    cnt["skipped"] += 1
                    ET.SubElement(case, "skipped", message=msg)
            elif q.verdict != "pass":
                cnt["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{q.verdict.upper()}: {q.reason}".rstrip(": "))
            out = ET.SubElement(case, "system-out")
            out.text = detail
        notes = data.all_notes()
        if notes:
            ET.SubElement(suite, "system-out").text = "\n".join(notes)
        for k, v in cnt.items():
            suite.set(k, str(v))
            tot[k] += v
    for k, v in tot.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_run_properties(suite: ET.Element, data: ReportData) -> None:
    """<properties>: the run id, its stopping mode and every note (one `note` property each)."""
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="run", value=data.run.id)
    ET.SubElement(props, "property", name="stopping", value=data.run.stopping)
    for note in data.all_notes():
        ET.SubElement(props, "property", name="note", value=note)


# ------------------------------------------------------------------ comparison (Markdown)


def _delta(d: DeltaRow) -> str:
    if d.delta is None:
        return "—"
    return f"{d.delta * 100:+.1f} pp"


def render_compare_markdown(c: ComparisonData, lang: str = "en") -> str:
    lang = check_lang(lang)
    L = lambda key: t(lang, key)  # noqa: E731
    out = [
        f"# {L('compare_title')}: `{_md(c.run_a.id)}` → `{_md(c.run_b.id)}`",
        "",
        f"- {L('run_a')}: `{_md(c.run_a.target)}` ({_md(c.run_a.id)})",
        f"- {L('run_b')}: `{_md(c.run_b.target)}` ({_md(c.run_b.id)})",
        f"- {L('compare_method')}: {_md(c.method)}",
        "",
    ]
    regs = c.regressions
    out.append(f"**{L('regressions')}: {len(regs)}**" if regs else f"**{L('no_regressions')}**")
    for title, rows in ((L("by_requirement"), c.requirements), (L("by_category"), c.categories)):
        if not rows:
            continue
        out += [
            "",
            f"## {title}",
            "",
            f"| {L('requirement') if rows is c.requirements else L('category')} | A | B | {L('delta')} | {L('p_adjusted')} | |",
            "|---|---|---|---|---|---|",
        ]
        out += [_delta_line(lang, d) for d in rows]
    out.append("")
    return "\n".join(out)


def _delta_line(lang: str, d: DeltaRow) -> str:
    flag = t(lang, "regression") if d.regression else t(lang, "improvement") if d.improvement else ""
    p = "—" if d.p_adjusted is None else f"{d.p_adjusted:.3g}"
    name = f"{_md(d.key)} {_md(_name(lang, d.name_en, d.name_zh))}".strip()
    return f"| {name} | {_rate(d.a, lang)} | {_rate(d.b, lang)} | {_delta(d)} | {p} | {('**' + flag + '**') if flag else ''} |"
