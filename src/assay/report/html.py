"""Self-contained HTML reports: Jinja2 templates shipped in the package, inline CSS, inline SVG.

No JavaScript, no CDN, no web fonts: the file opens offline in any browser and prints.
Autoescaping is on for every template and for string templates too; nothing rendered
from data is ever marked safe, so model output (untrusted) shows as literal text.
Untrusted text (prompts, answers, errors, reasons, notes, the target) goes through the
`u` filter: escaped, isolated in `<bdi>` (so a right-to-left override cannot reorder the
page around it) and with every control or bidi character shown visibly (`\u202e`), so
"safe\u202eexe.txt" reads as written, not as "…txt.exe".
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup, escape

from assay.core.text import terminal_safe
from assay.report.i18n import LABELS, check_lang, interval_label, t
from assay.report.model import ComparisonData, Rate, ReportData

LEVEL_COLOURS: dict[str, str] = {
    "R0": "#111827",
    "R1": "#15803d",
    "R2": "#1d4ed8",
    "R3": "#c2410c",
    "R4": "#b91c1c",
}


def _bytecode_cache() -> BytecodeCache | None:
    """Compiled templates kept between processes, as Python keeps compiled modules: Jinja's
    own per-user cache folder (checked to be private), keyed by the template's path and
    checked against its source. Compiling the report template costs a short run more than
    rendering it. None (compile every time) where that folder cannot be used."""
    try:
        return FileSystemBytecodeCache(pattern="assay-%s.cache")
    except (OSError, RuntimeError):
        return None


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("assay.report", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2", "xml", "svg"), default=True, default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["anchor"] = anchor
    env.filters["num"] = num
    env.filters["pval"] = pval
    env.filters["u"] = untrusted
    env.filters["visible"] = visible
    env.globals["bar"] = bar_geometry
    env.globals["ci_label"] = lambda r, lang: (
        "" if r is None else interval_label(r.confidence, r.method, lang)
    )
    env.globals["level_colour"] = lambda lvl: LEVEL_COLOURS.get(str(lvl or ""), "#6b7280")
    return env


_ENV: Environment | None = None


def env() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = _env()
    return _ENV


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: object) -> str:
    """Control and bidi characters as visible escapes (for attributes and <title>)."""
    return terminal_safe("" if text is None else str(text))


def untrusted(text: object) -> Markup:
    """Escaped, bidi-isolated text with its control characters shown as escapes."""
    body = str(escape("" if text is None else str(text)))
    body = _CONTROL.sub(lambda m: f'<span class="ctl">{terminal_safe(m.group(0))}</span>', body)
    return Markup(f'<bdi dir="auto">{body}</bdi>')


def pct(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "—"
    return f"{x * 100:.{digits}f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def pval(x: float | None) -> str:
    if x is None:
        return "—"
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def anchor(key: str, prefix: str = "") -> str:
    """A stable, CSS-safe fragment id for any key (ids can hold '/', '.', spaces)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-").lower()[:40]
    return f"{prefix}{slug}-{hashlib.sha1(key.encode()).hexdigest()[:6]}"


def bar_geometry(rate: Rate | None, threshold: float | None = None, width: int = 220) -> dict[str, Any]:
    """Numbers for one interval bar: track, interval span, point and threshold x positions."""
    pad = 6  # room for the dot and the threshold line at 0% and 100%
    g: dict[str, Any] = {"w": width + 2 * pad, "h": 18, "pad": pad, "tw": width, "has": False, "thr": None}
    if threshold is not None:
        g["thr"] = round(pad + min(1.0, max(0.0, threshold)) * width, 1)
    if rate is None or rate.rate is None:
        return g
    lo = rate.lower if rate.lower is not None else rate.rate
    hi = rate.upper if rate.upper is not None else rate.rate
    g.update(
        has=True,
        x0=round(pad + lo * width, 1),
        x1=round(pad + max(hi * width, lo * width + 1.5), 1),
        x=round(pad + rate.rate * width, 1),
    )
    return g


def _labels(lang: str) -> dict[str, str]:
    return {k: t(lang, k) for k in LABELS["en"]}


def render_html(data: ReportData, lang: str = "en") -> str:
    """The full report as one self-contained HTML document."""
    lang = check_lang(lang)
    tpl = env().get_template("report.html.j2")
    samples_by_id = {s.case_id: s for s in data.samples}
    return tpl.render(d=data, lang=lang, L=_labels(lang), samples_by_id=samples_by_id, notes=data.all_notes())


def render_compare_html(comparison: ComparisonData, lang: str = "en") -> str:
    lang = check_lang(lang)
    tpl = env().get_template("compare.html.j2")
    return tpl.render(c=comparison, lang=lang, L=_labels(lang))
