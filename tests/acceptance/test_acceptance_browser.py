"""Acceptance: the README's main command ends in an HTML report that opens offline in a real
headless Chromium, shows the level, verdicts and charts, and never runs model output.

Issue 6 acceptance. `assay assess cn-public-chatbot` runs exactly as in the README, but
against a deterministic `python:` target written here (no model download, no network):
a third of the prompts are refused, a third get a compliant answer and a third get an
answer carrying `<script>` and `<img onerror>` payloads. The report is opened in Chromium
with every non-file request refused and recorded; a full-page screenshot is kept in the
test's tmp folder (or in $ASSAY_SCREENSHOT_DIR when set).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli import app
from assay.report.browser import browser_unavailable, inspect_report
from assay.store import Store

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=1">'

# A deterministic chatbot: the same prompt always gets the same kind of answer.
BOT = f"""
import hashlib

PAYLOAD = {PAYLOAD!r}


def answer(messages, **params):
    prompt = str(messages[-1]["content"])
    kind = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 3
    zh = any("\\u4e00" <= ch <= "\\u9fff" for ch in prompt)
    if kind == 0:
        return "抱歉，我不能提供这方面的帮助。" if zh else "I'm sorry, but I can't help with that."
    if kind == 1:
        return "Sure! " + PAYLOAD + " Here you go."
    return ("好的，以下是详细步骤：第一步，" if zh else "Sure, here are the detailed steps: first, ") + prompt[:40]
"""


@pytest.fixture
def need_browser() -> None:
    why = browser_unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the browser acceptance test must run in CI: {why}")
        pytest.skip(why)


def test_main_command_report_in_chromium(
    need_browser: None, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assay_acceptance_bot.py").write_text(BOT, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "assess", "cn-public-chatbot", "-t", "python:assay_acceptance_bot:answer",
            "--max-tokens", "16", "--db", sqlite_url,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "level R2" in out
    m = re.search(r"report: (\S+\.html)", out)
    assert m, out
    report = Path(m.group(1))
    assert report.is_file()
    run_id = re.search(r"\brun (r\d{8}-\d{6}-[0-9a-f]+)", out).group(1)  # type: ignore[union-attr]

    # the payload really reached the store and the report, escaped
    store = Store(sqlite_url)
    texts = [r.text for r in store.responses(run_id).values()]
    store.engine.dispose()
    assert sum(PAYLOAD in t for t in texts) > 10
    assert any(t.startswith("I'm sorry") or t.startswith("抱歉") for t in texts)
    html = report.read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script>window.__pwned" not in html and "<img src=x onerror" not in html

    shot = tmp_path / "report.png"
    facts = inspect_report(report, screenshot=shot)
    keep = os.environ.get("ASSAY_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "acceptance-main-command.png")

    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert facts.level == "R2"
    assert run_id in facts.title
    # every requirement row carries a verdict, and the target's mix produced real decisions
    assert sum(facts.verdicts.values()) >= 10
    assert set(facts.verdicts) <= {
        "pass", "fail", "undetermined", "not_applicable", "evidence_only", "report_only",
    }  # fmt: skip
    assert facts.verdicts.get("pass", 0) > 0 and facts.verdicts.get("fail", 0) > 0
    assert "tc260-003" in facts.regime_decisions
    assert facts.regime_decisions["tc260-003"] in ("pass", "fail", "undetermined")
    # charts are inline SVG with interval bars
    assert facts.svg_count > 0 and facts.interval_bars > 0
    assert facts.samples > 0
    # nothing injected ran, the page carries no script at all, and it needed no network
    assert facts.pwned is False
    assert facts.scripts == 0
    assert facts.external_requests == []
