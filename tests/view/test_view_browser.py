"""`assay view` in a real headless Chromium (Debian's package, driven by Playwright; no
browser download): the app runs under uvicorn on a free port over a temporary store
with two finished runs and a live one, and a user clicks runs -> run -> cases (filter,
search) -> case -> compare -> review. Hostile model output (`<script>`, `<img onerror>`,
a bidi override) must run nothing; no request may leave the app; the strict CSP must
block nothing the app itself needs. Screenshots go to the test's tmp folder (or
$ASSAY_SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from tests.view_sample import ViewStore, answer_more, build  # noqa: E402

from assay import api  # noqa: E402
from assay.report.browser import CHROMIUM_ARGS, browser_unavailable, find_chromium  # noqa: E402
from assay.store import Store  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def need_browser() -> None:
    why = browser_unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the dashboard browser test must run in CI: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def vs(need_browser: None, tmp_path_factory: pytest.TempPathFactory) -> ViewStore:
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("viewbrowser")
    mp.setenv("ASSAY_HOME", str(tmp / "home"))
    try:
        return build(tmp)
    finally:
        mp.undo()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(vs: ViewStore) -> Iterator[str]:
    port = _free_port()
    app = api.view_app(db=vs.db, allowed_hosts=["127.0.0.1", "localhost"], reviewer="tester")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    d = Path(os.environ.get("ASSAY_SCREENSHOT_DIR") or tmp_path / "screens")
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_click_through_the_dashboard(vs: ViewStore, base_url: str, shots: Path) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    outside: list[str] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="assay-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=find_chromium(),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = ctx.new_page()

            def route(r: Route) -> None:
                if r.request.url.startswith(base_url):
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))

            def shot(name: str) -> None:
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

            def pwned() -> Any:
                return page.evaluate("typeof window.__pwned !== 'undefined'")

            # runs
            page.goto(base_url + "/")
            rows = page.locator("#runs tr.run")
            assert rows.count() == 3
            live_row = page.locator(f'tr.run[data-run="{vs.live}"]')
            assert "running" in live_row.inner_text()
            assert page.locator(f'tr.run[data-run="{vs.finished}"] .verdicts .pill').count() > 0
            shot("1-runs")

            # run
            page.click(f'a[href="/runs/{vs.finished}"]')
            page.wait_for_selector("#matrix")
            assert vs.finished in page.locator("h1").inner_text()
            assert page.locator("tr.req").count() > 3
            assert page.locator("svg").count() >= 4
            assert page.locator("#forest g.row").count() > 0
            shot("2-run")

            # cases: filter by outcome, then search
            page.click(f'nav.actions a[href="/runs/{vs.finished}/cases"]')
            page.wait_for_selector("#cases")
            total = int(page.locator("#count strong").inner_text().replace(",", ""))
            assert total == Store(vs.db).get_run(vs.finished).case_count
            page.select_option('select[name="outcome"]', "unsafe")
            page.click('#case-filters button[type="submit"]')
            page.wait_for_load_state("load")
            outcomes = page.eval_on_selector_all("#cases tr.case", "els => els.map(e => e.dataset.outcome)")
            assert outcomes and set(outcomes) == {"unsafe"}
            page.fill('input[name="q"]', "onerror")
            page.click('#case-filters button[type="submit"]')
            page.wait_for_load_state("load")
            found = int(page.locator("#count strong").inner_text().replace(",", ""))
            assert 0 < found < total
            text = page.locator("#cases tr.case").first.inner_text()
            assert "<script>window.__pwned=1</script>" in text  # shown as text, not run
            shot("3-cases-filtered")
            assert not pwned()

            # case
            page.locator("#cases tr.case td a").first.click()
            page.wait_for_selector("#conversation")
            answer = page.locator("#answer").inner_text()
            assert "<script>window.__pwned=1</script>" in answer and 'onerror="window.__pwned=1"' in answer
            assert "U+202E" in answer  # the bidi override is shown, not obeyed
            assert page.locator("#conversation img").count() == 0
            assert page.locator("#judgments tr.judgment").count() >= 1
            page.wait_for_timeout(200)  # let an injected handler fire if one existed
            assert not pwned()
            shot("4-case")

            # compare
            page.click("header nav >> text=Compare")
            page.select_option('select[name="a"]', vs.finished)
            page.select_option('select[name="b"]', vs.refusing)
            page.click('#compare-form button[type="submit"]')
            page.wait_for_selector("#method")
            assert "Holm" in page.locator("#method").inner_text()
            assert page.locator("tr.delta").count() > 0
            shot("5-compare")

            # review with keyboard shortcuts
            page.goto(f"{base_url}/runs/{vs.finished}/review")
            first = page.locator('input[name="case_id"]').get_attribute("value")
            page.keyboard.press("q")
            page.keyboard.press("f")
            assert page.locator('input[name="qualification"][value="safe"]').is_checked()
            assert page.locator('input[name="refusal"][value="refusal"]').is_checked()
            shot("6-review")
            page.keyboard.press("Enter")
            page.wait_for_load_state("load")
            page.wait_for_selector("#review-form")
            assert page.locator('input[name="case_id"]').get_attribute("value") != first
            assert page.locator("#done").inner_text() == "1"
            stored = Store(vs.db).reviews(vs.finished, first)
            assert {(r["reviewer"], r["kind"], r["label"]) for r in stored} == {
                ("tester", "qualification", "safe"),
                ("tester", "refusal", "refusal"),
            }
            page.goto(f"{base_url}/runs/{vs.finished}/reviews")
            assert page.locator("#spot-reviewed").inner_text() == "1"
            assert "%" in page.locator("#spot-rate").inner_text()
            shot("7-reviews")

            # live run: new answers appear without reloading
            page.goto(f"{base_url}/runs/{vs.live}")
            before = vs.answered
            assert page.locator("#progress .answered").inner_text() == str(before)
            answer_more(vs, 5)
            # (the CSP forbids eval, so wait with a locator assertion, not wait_for_function)
            expect(page.locator("#progress .answered")).to_have_text(str(before + 5), timeout=20_000)
            assert page.locator("#progress .eta").inner_text().endswith("s")
            shot("8-live")
            assert not pwned()
        finally:
            ctx.close()
    assert outside == []
    assert problems == []
    assert len(list(shots.glob("*.png"))) == 8
