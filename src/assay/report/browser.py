"""Open a rendered HTML report in headless Chromium and report what a reader would see.

For tests (the report tests and the end-to-end acceptance test) and for `make`-style
checks; needs the `playwright` package (dev extra) and a Chromium binary (Debian's
`chromium` package; no browser download). Every request that is not a file:// URL is
refused and recorded, so `external_requests` proves the report works offline.

    facts = inspect_report("assay-reports/run.html", screenshot="shot.png")
    assert facts.level == "R2" and facts.svg_count > 0 and not facts.pwned
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """The Chromium binary, or None (then browser checks should skip)."""
    env = os.environ.get("ASSAY_CHROMIUM")
    if env and os.path.exists(env):
        return env
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def browser_unavailable() -> str | None:
    """Why a browser check cannot run here, or None when it can."""
    if find_chromium() is None:
        return "headless Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


@dataclass
class ReportFacts:
    title: str = ""
    level: str = ""
    level_colour: str = ""
    verdicts: dict[str, int] = field(default_factory=dict)  # requirement verdict -> rows
    regime_decisions: dict[str, str] = field(default_factory=dict)
    svg_count: int = 0
    interval_bars: int = 0
    samples: int = 0
    scripts: int = 0
    pwned: bool = False
    responses: list[str] = field(default_factory=list)  # what a reader sees of each answer
    external_requests: list[str] = field(default_factory=list)
    screenshot: str | None = None


def inspect_report(
    path: str | Path,
    *,
    screenshot: str | Path | None = None,
    open_samples: bool = True,
    width: int = 1200,
) -> ReportFacts:
    """Load the report offline, open every sample, and collect what is on the page.

    Runs in its own thread, so it works beside another Playwright session or event loop.
    """
    why = browser_unavailable()
    if why:
        raise RuntimeError(why)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_inspect, path, screenshot, open_samples, width).result()


def _inspect(path: str | Path, screenshot: str | Path | None, open_samples: bool, width: int) -> ReportFacts:
    from playwright.sync_api import Route, sync_playwright

    facts = ReportFacts()
    with tempfile.TemporaryDirectory(prefix="assay-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=find_chromium(),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": width, "height": 900},
        )
        try:
            page = ctx.new_page()

            def route(r: Route) -> None:
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    facts.external_requests.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(Path(path).resolve().as_uri())
            page.wait_for_load_state("load")
            if screenshot is not None:  # as a reader first sees it: samples closed
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True, timeout=120_000)
                facts.screenshot = str(screenshot)
            if open_samples:  # render every response, then look for anything that ran
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                page.wait_for_timeout(100)  # let an injected handler fire if one existed
            facts.title = page.title()
            facts.level = page.evaluate(
                "(document.querySelector('#level .pill') || {}).textContent || ''"
            ).strip()
            facts.level_colour = page.evaluate(
                "(e => e ? getComputedStyle(e).backgroundColor : '')(document.querySelector('#level .pill'))"
            )
            rows = page.eval_on_selector_all("tr.req", "els => els.map(e => e.dataset.verdict)")
            for v in rows:
                facts.verdicts[v] = facts.verdicts.get(v, 0) + 1
            facts.regime_decisions = dict(
                page.eval_on_selector_all(
                    ".card.regime[data-regime]", "els => els.map(e => [e.dataset.regime, e.dataset.decision])"
                )
            )
            facts.svg_count = page.evaluate("document.querySelectorAll('svg').length")
            facts.interval_bars = page.evaluate("document.querySelectorAll('svg.bar rect.ci').length")
            facts.samples = page.evaluate("document.querySelectorAll('details.sample').length")
            facts.scripts = page.evaluate("document.scripts.length")
            facts.pwned = page.evaluate("typeof window.__pwned !== 'undefined'")
            facts.responses = page.eval_on_selector_all(
                "pre.text.response", "els => els.map(e => e.innerText)"
            )
        finally:
            ctx.close()
    return facts
