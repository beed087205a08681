"""Report stage: ReportData (schema assay.report/2) and its renderers.

data = build_report_data(run, cases, responses, judgments, assessment)
render_html(data, "zh"); render_markdown(data, "en"); render_json(data); render_junit(data)
comparison = build_comparison(data_a, data_b); render_compare_html(comparison, "en")
"""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.report.build import Lookups, build_report_data, default_lookups
    from assay.report.compare import build_comparison
    from assay.report.html import render_compare_html, render_html
    from assay.report.model import COMPARE_SCHEMA_VERSION, SCHEMA_VERSION, ComparisonData, ReportData
    from assay.report.text import render_compare_markdown, render_json, render_junit, render_markdown

__getattr__ = lazy_exports(__name__, ("build", "compare", "html", "model", "text"))


__all__ = [
    "COMPARE_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "ComparisonData",
    "Lookups",
    "ReportData",
    "build_comparison",
    "build_report_data",
    "default_lookups",
    "render_compare_html",
    "render_compare_markdown",
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
]
