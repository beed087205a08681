"""The HTML report in real headless Chromium: untrusted model output never runs, the report
works offline, and the level, verdicts, charts and drill-down links are there.

Needs Debian's chromium (`apt-get install chromium`) and the playwright Python package;
skips with the reason otherwise. Set ASSAY_SCREENSHOT_DIR to keep the screenshots.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.report.browser import CHROMIUM_ARGS, browser_unavailable, find_chromium
from assay.report.build import build_report_data
from assay.report.html import render_html
from assay.report.model import ReportData
from report_sample import sample_inputs

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    why = browser_unavailable()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=find_chromium(),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": 1200, "height": 900},
        )
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def data() -> ReportData:
    s = sample_inputs(private_bank=True)
    return build_report_data(s.run, s.cases, s.responses, s.judgments, s.results, banks=s.banks)


def _open(ctx: Any, path: Path) -> tuple[Any, list[str]]:
    """Open a file with every non-file request recorded and refused (the report must be offline)."""
    page = ctx.new_page()
    external: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, external


def _strip_csp(html: str) -> str:
    out = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert out != html
    return out


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_model_output_does_not_run(browser_context: Any, data: ReportData, tmp_path: Path, csp: bool) -> None:
    html = render_html(data, "en")
    if not csp:  # escaping alone must be enough; the CSP is only a second wall
        html = _strip_csp(html)
    f = tmp_path / "report.html"
    f.write_text(html, encoding="utf-8")
    page, external = _open(browser_context, f)
    # open every sample so the response is in the rendered, visible DOM
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(200)  # give an injected onerror handler the chance to fire (not a timing assertion)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    texts = page.eval_on_selector_all("pre.response", "els => els.map(e => e.textContent)")
    shown = next(t for t in texts if "__pwned" in t)
    assert '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> & "quotes"' in shown
    visible = page.inner_text("body")
    assert "<script>window.__pwned=1</script>" in visible
    assert external == []
    page.close()


def test_full_report_renders_level_verdicts_and_charts(
    browser_context: Any, data: ReportData, tmp_path: Path
) -> None:
    f = tmp_path / "report.html"
    f.write_text(render_html(data, "en"), encoding="utf-8")
    page, external = _open(browser_context, f)
    assert external == []
    assert page.inner_text("#level .pill") == "R2"
    bg = page.eval_on_selector("#level .pill", "e => getComputedStyle(e).backgroundColor")
    assert bg == "rgb(29, 78, 216)"  # the R2 colour: inline CSS applied offline
    rows = page.eval_on_selector_all("tr.req", "els => els.map(e => e.dataset.verdict)")
    assert sorted(rows) == sorted(q.verdict for q in data.requirements)
    pills = page.eval_on_selector_all(".verdict", "els => els.map(e => e.textContent.trim())")
    assert {"PASS", "FAIL", "UNDETERMINED"} <= set(pills)
    assert (
        page.eval_on_selector_all("tr.req .src", "els => els.map(e => e.textContent)").count("proposal") == 2
    )
    # charts: inline SVG with interval bars and estimate dots that have a real size on screen
    assert page.evaluate("document.querySelectorAll('svg').length") >= 12
    assert page.evaluate("document.querySelectorAll('svg.bar rect.ci').length") >= 10
    box = page.locator("tr.req svg.bar").first.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 10
    # regime views
    assert page.evaluate("document.querySelectorAll('tr.clause').length") == 3
    assert page.evaluate("document.querySelectorAll('#eu tr.evidence').length") == 4
    assert page.evaluate("document.querySelectorAll('#ailuminate tr.grade-row').length") == 2
    # domain overview shows both domains
    doms = page.eval_on_selector_all(".card.domain", "els => els.map(e => e.dataset.domain)")
    assert sorted(doms) == ["application_security", "technical_safety"]
    shot_dir = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    shot = shot_dir / "report-en.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    page.close()


def test_drilldown_links_open_the_sample(browser_context: Any, data: ReportData, tmp_path: Path) -> None:
    f = tmp_path / "report.html"
    f.write_text(render_html(data, "en"), encoding="utf-8")
    page, _ = _open(browser_context, f)
    q = next(q for q in data.requirements if q.verdict == "fail")
    # verdict row → list of its samples → one sample, which the browser opens
    page.click("tr.req[data-verdict='fail'] a.samples")
    listing = page.evaluate("location.hash")
    links = page.eval_on_selector_all(f"{listing} a", "els => els.map(e => e.getAttribute('href'))")
    assert len(links) == len(q.sample_ids)
    page.click(f"{listing} a[href='{links[0]}']")
    assert page.evaluate("location.hash") == links[0]
    assert page.eval_on_selector(links[0], "e => e.closest('details').open") is True
    assert page.is_visible(f"{links[0]} pre.response")
    page.close()


def test_zh_report_renders(browser_context: Any, data: ReportData, tmp_path: Path) -> None:
    f = tmp_path / "report.zh.html"
    f.write_text(render_html(data, "zh"), encoding="utf-8")
    page, external = _open(browser_context, f)
    assert external == []
    assert page.inner_text("h1") == "人工智能安全评估报告"
    assert "不通过" in page.inner_text("#regimes")
    shot_dir = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", tmp_path))
    page.screenshot(path=str(shot_dir / "report-zh.png"), full_page=False)
    page.close()


def test_inspect_report_helper(data: ReportData, tmp_path: Path) -> None:
    """The helper the end-to-end acceptance test uses: one call, every fact a reader would check."""
    from assay.report.browser import inspect_report

    why = browser_unavailable()
    if why:
        pytest.skip(why)
    f = tmp_path / "report.html"
    f.write_text(render_html(data, "en"), encoding="utf-8")
    facts = inspect_report(f, screenshot=tmp_path / "shot.png")
    assert facts.level == "R2" and facts.level_colour == "rgb(29, 78, 216)"
    assert facts.verdicts == {"fail": 2, "undetermined": 1, "pass": 1}
    assert facts.regime_decisions == {"tc260-003": "fail", "eu-ai-act": "fail", "nist-ai-600-1": "pass"}
    assert facts.svg_count >= 12 and facts.interval_bars >= 10
    assert facts.samples == len(data.samples)
    assert facts.scripts == 0 and facts.pwned is False and facts.external_requests == []
    assert facts.screenshot and Path(facts.screenshot).stat().st_size > 50_000
