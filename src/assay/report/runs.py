"""Reports of stored runs: read through a `RunSource`, decide, build and render."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from assay.core.errors import InputError
from assay.core.files import check_output_file, write_atomic
from assay.core.types import Case, CaseFacts, Judgment, JudgmentFacts, Response, ResponseFacts, Run
from assay.report.bounded import SAMPLE_CAP, bound_report
from assay.report.build import build_report_data, default_lookups
from assay.report.formats import FORMATS
from assay.report.model import ReportData
from assay.scoring.results import Assessment
from assay.scoring.runs import assessment_of, category_domains, stored_references


@runtime_checkable
class RunSource(Protocol):
    """What reports need from a store (assay.store.Store satisfies it)."""

    def get_run(self, run_id: str) -> Run: ...
    def run_cases(self, run_id: str) -> list[Case]: ...
    def responses(self, run_id: str) -> dict[str, Response]: ...
    def judgments(self, run_id: str) -> list[Judgment]: ...
    def latest_validations(self) -> dict[str, dict[str, Any]]: ...


@runtime_checkable
class FactSource(RunSource, Protocol):
    """A source that also reads a run's facts and some cases in full (assay.store.Store):
    bounded reports of runs of any size are built from it without holding every text."""

    def case_facts(self, run_id: str) -> list[CaseFacts]: ...
    def response_facts(self, run_id: str) -> dict[str, ResponseFacts]: ...
    def judgment_facts(self, run_id: str) -> list[JudgmentFacts]: ...
    def run_cases(self, run_id: str, case_ids: Iterable[str] | None = None) -> list[Case]: ...
    def responses(self, run_id: str, case_ids: Iterable[str] | None = None) -> dict[str, Response]: ...
    def judgments(
        self, run_id: str, grader: str | None = None, case_ids: Iterable[str] | None = None
    ) -> list[Judgment]: ...


def private_banks(source: Any) -> list[str]:
    fn = getattr(source, "user_banks", None)
    return [] if fn is None else [b["id"] for b in fn() if b.get("private")]


def report_data(
    source: RunSource, run_id: str, *, with_samples: bool = True, sample_cap: int | None = None
) -> tuple[ReportData, Assessment, dict[str, Any]]:
    """The ReportData of a stored run, the Assessment it was built from, and the raw pieces
    (`with_samples=False`: without the per-case drill-down, for the dashboard;
    `sample_cap=N`: a bounded report, see `assay.report.bounded`)."""
    if with_samples and sample_cap is not None and isinstance(source, FactSource):
        return _bounded_from_facts(source, run_id, sample_cap)
    run = source.get_run(run_id)
    cases = source.run_cases(run.id)
    responses = source.responses(run.id)
    judgments = source.judgments(run.id)
    results = assessment_of(run, cases, judgments, stored_references(source))
    private = private_banks(source)
    bounded = with_samples and sample_cap is not None
    data = build_report_data(
        run,
        cases,
        responses,
        judgments,
        results,
        private_banks=private,
        with_samples=with_samples and not bounded,
    )
    if bounded:
        outcome = {c.id: results.case_outcomes.get(c.id, "none") for c in cases}
        data = bound_report(
            data, cases, responses, judgments, outcome, private_banks=private, cap=sample_cap or 1
        )
    raw = {"run": run, "cases": cases, "responses": responses, "judgments": judgments, "private": private}
    return data, results, raw


def _bounded_from_facts(
    source: FactSource, run_id: str, sample_cap: int
) -> tuple[ReportData, Assessment, dict[str, Any]]:
    """`report_data` of a bounded report, reading the run's facts and only the shown cases
    in full (the same figures and the same drill-down as from every object)."""
    run = source.get_run(run_id)
    cases = source.case_facts(run.id)
    answered = source.response_facts(run.id)
    judgments = source.judgment_facts(run.id)
    results = assessment_of(run, cases, judgments, stored_references(source))
    private = private_banks(source)
    data = build_report_data(
        run, cases, answered, judgments, results, private_banks=private, with_samples=False
    )
    outcome = {c.id: results.case_outcomes.get(c.id, "none") for c in cases}

    def details(ids: list[str]) -> tuple[list[Case], dict[str, Response], list[Judgment]]:
        return (
            source.run_cases(run.id, ids),
            source.responses(run.id, ids),
            source.judgments(run.id, case_ids=ids),
        )

    data = bound_report(
        data, cases, {}, (), outcome, private_banks=private, cap=sample_cap or 1, details=details
    )
    raw = {"run": run, "cases": cases, "responses": answered, "judgments": judgments, "private": private}
    return data, results, raw


def warm(fmt: str = "html") -> None:
    """Load what writing a report needs besides the run itself: the renderer's modules and
    template, the taxonomy and the regimes' names (each cached per process). The CLI calls it
    from a background thread while a run sends, so the report after the last answer costs
    only its own work; nothing here reads or changes a run."""
    category_domains()
    default_lookups()
    if fmt == "html":
        from assay.report.html import env

        env().get_template("report.html.j2")
    else:
        import assay.report.text  # noqa: F401


def render(data: ReportData, fmt: str, lang: str) -> str:
    from assay.report.html import render_html
    from assay.report.i18n import check_lang
    from assay.report.text import render_json, render_junit, render_markdown

    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
    check_lang(lang)
    if fmt == "html":
        return render_html(data, lang)
    if fmt == "md":
        return render_markdown(data, lang)
    if fmt == "json":
        return render_json(data)
    return render_junit(data)


def default_path(run_id: str, fmt: str, lang: str) -> Path:
    return Path("assay-reports") / f"{run_id}{'' if lang == 'en' else '.' + lang}.{FORMATS[fmt]}"


def write_report(
    source: RunSource,
    run_id: str,
    fmt: str = "html",
    lang: str = "en",
    out: str | Path | None = None,
    sample_cap: int | None = SAMPLE_CAP,
) -> Path:
    """Render a stored run's report and write it (default: ./assay-reports/<run-id>[.zh].<ext>).

    The report is bounded: every figure, and a drill-down of at most `sample_cap` cases per
    requirement and breakdown row (stratified by outcome); `sample_cap=None` shows every case."""
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
    if out:
        check_output_file(out, "--out")  # before any work
    if sample_cap is not None and sample_cap < 1:
        raise InputError(f"must be at least 1 (got {sample_cap})", where="--sample-cap")
    data, _, _ = report_data(source, run_id, sample_cap=sample_cap)
    text = render(data, fmt, lang)
    path = Path(out) if out else check_output_file(default_path(data.run.id, fmt, lang), "--out")
    try:
        return write_atomic(path, text)
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror or exc}", where=f"--out {path}") from exc
