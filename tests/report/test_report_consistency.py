"""Every figure reads the same everywhere: each rate in the HTML and Markdown reports (and
the CLI's verdict table) equals the JSON report's figure for the same row, and every row
counts exactly the cases scoring says it counted. Issue 10 acceptance, on a real stored
run of the README's main command against a deterministic `python:` target."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from assay import api
from assay.cli import app
from assay.report.i18n import interval_label

# refuses a third, complies a third, answers a third with an empty string (unscorable for some graders)
BOT = """
import hashlib


def answer(messages, **params):
    prompt = str(messages[-1]["content"])
    kind = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 3
    zh = any("\\u4e00" <= ch <= "\\u9fff" for ch in prompt)
    if kind == 0:
        return "抱歉，我不能提供这方面的帮助。" if zh else "I'm sorry, but I can't help with that."
    if kind == 1:
        return ("好的，以下是详细步骤：第一步，" if zh else "Sure, here are the detailed steps: first, ") + prompt[:40]
    return ""
"""


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def expected_text(rate: dict, lang: str = "en") -> list[str]:
    """What any report must print for a rate: estimate, interval with its label, k/n."""
    return [
        pct(rate["rate"]),
        f"[{pct(rate['lower'])}, {pct(rate['upper'])}]",
        interval_label(rate["confidence"], rate["method"], lang),
        f"{rate['k']}/{rate['n']}",
    ]


class Figures(HTMLParser):
    """The text of every element carrying `data-figure`, by its value."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str, int]] = []  # (figure, tag, depth)
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "circle", "rect", "line"):
            return
        self._depth += 1
        fig = dict(attrs).get("data-figure")
        if fig:
            self._open.append((fig, tag, self._depth))
            self.text.setdefault(fig, "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "img", "input", "meta", "link", "circle", "rect", "line"):
            return
        if self._open and self._open[-1][2] == self._depth:
            self._open.pop()
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        for fig, _, _ in self._open:
            self.text[fig] += data


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("consistency")
    (tmp / "consistency_bot.py").write_text(BOT, encoding="utf-8")
    db = f"sqlite:///{tmp / 'assay.db'}"
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.syspath_prepend(str(tmp))
    try:
        runner = CliRunner()
        res = runner.invoke(
            app,
            [
                "assess",
                "cn-public-chatbot",
                "-t",
                "python:consistency_bot:answer",
                "--max-tokens",
                "16",
                "--db",
                db,
            ],
        )
        assert res.exit_code == 0, res.output
        run_id = re.search(r"\brun (r\d{8}-\d{6}-[0-9a-f]+)", " ".join(res.stdout.split())).group(1)  # type: ignore[union-attr]
        out: dict[str, object] = {"run_id": run_id, "db": db}
        for fmt, lang in (("json", "en"), ("html", "en"), ("md", "en"), ("md", "zh"), ("html", "zh")):
            path = tmp / f"report-{lang}.{fmt}"
            r = runner.invoke(
                app, ["report", run_id, "--format", fmt, "--lang", lang, "-o", str(path), "--db", db]
            )
            assert r.exit_code == 0, r.output
            out[f"{fmt}-{lang}"] = path.read_text(encoding="utf-8")
        # the same report with every case's drill-down (reports are bounded by default)
        path = tmp / "report-full.json"
        r = runner.invoke(
            app, ["report", run_id, "--format", "json", "--sample-cap", "0", "-o", str(path), "--db", db]
        )
        assert r.exit_code == 0, r.output
        out["json-full"] = path.read_text(encoding="utf-8")
        # wide enough that no interval cell wraps, whatever terminal (or none) runs the suite
        mp.setenv("COLUMNS", "1000")
        for name in ("assay.cli._common", "assay.cli.risk"):
            module = sys.modules.get(name)
            for attr in ("console", "err_console"):
                console = getattr(module, attr, None)
                if console is not None:
                    mp.setattr(console, "_width", 1000)
        shown = runner.invoke(app, ["runs", "show", run_id, "--db", db, "--by", "category"])
        assert shown.exit_code == 0, shown.output
        out["cli"] = shown.stdout
    finally:
        mp.undo()
    return out


def _rows(data: dict) -> dict[str, dict]:
    """figure id -> its JSON rate, for every row that carries one."""
    rows: dict[str, dict] = {}
    for q in data["requirements"]:
        if q.get("rate") and q["rate"].get("rate") is not None:
            rows[f"requirement:{q['id']}"] = q["rate"]
    for section, kind in (
        ("domains", "domain"),
        ("categories", "category"),
        ("languages", "language"),
        ("transforms", "transform"),
    ):
        for r in data[section]:
            rows[f"{kind}:{r['key']}"] = r["rate"]
    for r in (data.get("tc260") or {}).get("risks", []):
        if r.get("rate"):
            rows[f"risk:{r['risk']}"] = r["rate"]
    return rows


def test_html_shows_the_json_figure_of_every_row(reports: dict) -> None:
    data = json.loads(reports["json-en"])
    rows = _rows(data)
    assert len(rows) > 30, "the run should produce requirement, domain, category, language and risk rows"
    assert any(r["method"] == "confidence-sequence" or r["confidence"] != 0.95 for r in rows.values())
    for lang in ("en", "zh"):
        parser = Figures()
        parser.feed(reports[f"html-{lang}"])
        for fig, rate in rows.items():
            assert fig in parser.text, f"{fig} is in the JSON report but not in the {lang} HTML report"
            text = " ".join(parser.text[fig].split())
            for want in expected_text(rate, lang):
                assert want in text, (lang, fig, want, text[:300])


def test_markdown_shows_the_json_figure_of_every_row(reports: dict) -> None:
    data = json.loads(reports["json-en"])
    for lang in ("en", "zh"):
        lines = reports[f"md-{lang}"].splitlines()
        for fig, rate in _rows(data).items():
            if fig.startswith("risk:"):
                continue  # the Markdown summary has no per-risk table
            key = fig.split(":", 1)[1]
            if fig.startswith("domain:"):
                from assay.report.i18n import t

                key = t(lang, key)
            want = expected_text(rate, lang)
            hits = [
                ln for ln in lines if (f"`{key}`" in ln or f"| {key}" in ln) and all(w in ln for w in want)
            ]
            assert hits, (lang, fig, want)


def test_bounded_report_has_the_full_reports_figures(reports: dict) -> None:
    bounded, full = json.loads(reports["json-en"]), json.loads(reports["json-full"])
    assert _rows(bounded) == _rows(full)
    assert full["sampling"] is None and len(full["samples"]) == full["totals"]["cases"]
    assert bounded["sampling"]["cases"] == full["totals"]["cases"] > bounded["sampling"]["shown"]
    full_ids = {q["id"]: q["sample_ids"] for q in full["requirements"]}
    for q in bounded["requirements"]:
        assert set(q["sample_ids"]) <= set(full_ids[q["id"]])
        assert (q["sample_total"] or len(q["sample_ids"])) == len(full_ids[q["id"]])


def test_rows_count_exactly_the_cases_scoring_counted(reports: dict) -> None:
    data = json.loads(reports["json-full"])
    assessment = api.assessment(reports["run_id"], db=reports["db"])  # type: ignore[arg-type]
    outcome = {s["case_id"]: s["outcome"] for s in data["samples"]}
    assert outcome == {**{s["case_id"]: "none" for s in data["samples"]}, **assessment.case_outcomes}
    for section in ("domains", "categories", "languages"):
        for row in data[section]:
            ids = row["sample_ids"]
            assert len(ids) == len(set(ids)) == row["rate"]["n"], (section, row["key"])
            unsafe = sum(outcome[c] == "unsafe" for c in ids)
            unscorable = sum(outcome[c] == "unscorable" for c in ids)
            # one per-case rule everywhere; unscorables count against safety in every row
            assert (row["rate"]["k"], row["rate"]["unscorable"]) == (unsafe, unscorable), (
                section,
                row["key"],
            )
            assert row["rate"]["rate"] == pytest.approx((unsafe + unscorable) / len(ids))
    by_id = {r.requirement_id: r for r in assessment.requirements}
    for q in data["requirements"]:
        rr = by_id[q["id"]]
        assert q["sample_ids"] == list(rr.case_ids)
        if rr.estimate is not None:
            assert q["rate"]["n"] == rr.estimate.n == len(rr.case_ids)


def test_cli_verdict_table_agrees_with_the_json(reports: dict) -> None:
    data = json.loads(reports["json-en"])
    cli = " ".join(reports["cli"].split())
    for q in data["requirements"]:
        r = q.get("rate")
        if not r or r.get("rate") is None:
            continue
        assert (
            f"{pct(r['lower'])} – {pct(r['upper'])} ({interval_label(r['confidence'], r['method'])})" in cli
        ), q["id"]
