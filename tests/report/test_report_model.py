"""ReportData, its builder and the text renderers (JSON, Markdown, JUnit, HTML as text)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from assay.core.types import Outcome
from assay.report.build import build_report_data, rate_from_estimate
from assay.report.compare import build_comparison
from assay.report.html import anchor, render_compare_html, render_html
from assay.report.i18n import LABELS
from assay.report.model import SCHEMA_VERSION, Rate, ReportData
from assay.report.schema import schema_text
from assay.report.text import render_compare_markdown, render_json, render_junit, render_markdown
from assay.scoring.decide import case_outcome
from assay.scoring.estimates import make_estimate
from report_sample import XSS_TEXT, sample_inputs


def count_rate(k: int, n: int) -> Rate:
    rate = rate_from_estimate(make_estimate(k, n))
    assert rate is not None
    return rate


SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json"


@pytest.fixture(scope="module")
def inputs():
    return sample_inputs(private_bank=True)


@pytest.fixture(scope="module")
def data(inputs) -> ReportData:
    s = inputs
    return build_report_data(
        s.run, s.cases, s.responses, s.judgments, s.results, banks=s.banks, requirements=s.requirements
    )


def test_schema_version_and_core_fields(data: ReportData) -> None:
    assert data.schema_ == SCHEMA_VERSION == "assay.report/2"
    assert data.level == "R2" and data.level_decision == "fail"
    assert data.totals.cases == 10 and data.totals.responses == 10 and data.totals.unscorable == 1
    verdicts = {q.id: q.verdict for q in data.requirements}
    assert verdicts == {
        "tc260-003/9.4-refuse": "fail",
        "tc260-003/9.4-nonrefuse": "undetermined",
        "eu-ai-act/15-robustness": "fail",
        "nist-ai-600-1/2.3-refuse": "pass",
    }
    nonref = data.requirement("tc260-003/9.4-nonrefuse")
    assert nonref is not None and nonref.extra_samples == 297 and nonref.source == "standard"
    assert {r.id: r.decision for r in data.regimes} == {
        "eu-ai-act": "fail",
        "nist-ai-600-1": "pass",
        "tc260-003": "fail",
    }


def test_requirement_samples_follow_the_selector(inputs, data: ReportData) -> None:
    refuse = data.requirement("tc260-003/9.4-refuse")
    assert refuse is not None
    assert set(refuse.sample_ids) == {c.id for c in inputs.cases if c.bank == "should-refuse"}
    robust = data.requirement("eu-ai-act/15-robustness")
    assert robust is not None
    assert set(robust.sample_ids) == {c.id for c in inputs.cases if c.transforms}


def test_domains_and_breakdowns_come_from_scoring(data: ReportData) -> None:
    doms = {d.key: d for d in data.domains}
    assert set(doms) == {"application_security", "technical_safety"}
    # TS-05 is only the private case, judged unsafe by the sample
    assert doms["technical_safety"].rate.k == 1 and doms["technical_safety"].rate.n == 1
    # categories come from the Assessment, with names from the taxonomy
    cat = {c.key: c for c in data.categories}
    assert cat["AS-04"].rate.k == 2 and cat["AS-04"].rate.n == 4
    assert cat["AS-04"].name_zh and cat["AS-04"].domain == "application_security"
    # attack success per transform, with the untransformed baseline ("none") beside it
    assert {r.key for r in data.transforms} == {"none", "base64", "roleplay:dan"}
    assert not any("counted by the report" in n for n in data.notes)
    # each row lists exactly the cases it counted
    assert all(len(r.sample_ids) == r.rate.n for r in (*data.domains, *data.categories, *data.languages))


def test_tc260_view(data: ReportData) -> None:
    tc = data.tc260
    assert tc is not None
    assert len(tc.risks) == 31
    a1h = next(r for r in tc.risks if r.risk == "A.1.h")
    assert a1h.sampled == 4 and a1h.bank_items == {"should-refuse": 4}
    assert a1h.rate is not None and a1h.rate.k == 2  # two of the four are unsafe
    assert tc.refusal_rate is not None and tc.refusal_rate.k == 4
    assert tc.over_refusal_rate is not None and tc.over_refusal_rate.n == 3
    # every §9 clause has a line, in clause order; 9.3 has no requirement in this run
    assert [(c.clause, c.conclusion) for c in tc.clauses] == [
        ("9.2", "not_applicable"),
        ("9.3", "not_applicable"),
        ("9.4", "does_not_conform"),
    ]


def test_clause_keys_and_cited_articles() -> None:
    from assay.report.build import _clause_key, eu_articles

    assert _clause_key("TC260-003-2024 §9.4(a); GB/T 45654-2025") == "9.4(a)"
    assert _clause_key("TC260-003-2024 §9.3; GB/T 45654-2025") == "9.3"
    assert eu_articles("AI Act Art. 9(6)-(8), 15(1)") == {"9", "15"}
    assert eu_articles("AI Act Art. 10(2)(f)(g); 15(4)") == {"10", "15"}
    assert eu_articles("GPAI Code of Practice App. 1.4 (CBRN); AI Act Art. 55(1)(b)") == {"55"}
    assert eu_articles("AI Act Art. 11, Annex IV") == {"11"}


def test_eu_view_lists_other_cited_articles(inputs) -> None:
    from assay.regimes.model import Requirement

    s = inputs
    extra = Requirement(
        id="eu-ai-act/art50-1-disclosure",
        regime="eu-ai-act",
        clause="AI Act Art. 50(1)",
        title_en="Discloses being an AI",
        title_zh="表明自己是人工智能",
        method="T-DISCLOSURE",
        metric="disclosure_rate",
        source="proposal",
    )
    d = build_report_data(
        s.run, s.cases, s.responses, s.judgments, s.results, requirements=[*s.requirements, extra]
    )
    keys = [e.key for e in d.eu]
    assert keys == ["Art. 9", "Art. 10", "Art. 15", "Art. 55", "Art. 50"]
    art50 = d.eu[-1]
    assert art50.requirement_ids == ["eu-ai-act/art50-1-disclosure"] and art50.title_en.startswith(
        "Transparency"
    )


def test_eu_nist_and_ailuminate_views(data: ReportData) -> None:
    eu = {e.key: e for e in data.eu}
    assert list(eu) == ["Art. 9", "Art. 10", "Art. 15", "Art. 55"]
    assert eu["Art. 15"].requirement_ids == ["eu-ai-act/15-robustness"]
    assert eu["Art. 55"].requirement_ids == ["eu-ai-act/15-robustness"]
    assert eu["Art. 9"].status == "not_applicable"
    nist = {n.key: n for n in data.nist}
    assert set(nist) == {"600-1 §2.3", "MEASURE 2.6"}
    assert nist["600-1 §2.3"].status == "pass"
    grades = {g.hazard: g for g in data.ailuminate}
    assert grades["AS-04"].grade == 1 and grades["AS-04"].uncertain
    assert grades["AS-09"].grade == 5


def test_private_bank_text_never_appears(inputs, data: ReportData) -> None:
    private = next(s for s in data.samples if s.bank == "private-red-team")
    assert private.private and private.prompt is None and private.messages == []
    assert re.fullmatch(r"[0-9a-f]{64}", private.prompt_sha256)
    secret_text = "PRIVATE PROMPT: secret red-team item 7"
    for rendered in (
        render_json(data),
        render_html(data, "en"),
        render_html(data, "zh"),
        render_markdown(data, "en"),
    ):
        assert secret_text not in rendered
    assert data.private_banks == ["private-red-team"]
    # public cases keep their text
    assert any(s.prompt and "door lock" in s.prompt for s in data.samples)


def test_private_flag_from_ids_and_metadata(inputs) -> None:
    s = inputs
    d = build_report_data(
        s.run, s.cases, s.responses, s.judgments, s.results, private_banks=["should-not-refuse"]
    )
    assert all(x.prompt is None for x in d.samples if x.bank == "should-not-refuse")
    assert all(x.prompt is not None for x in d.samples if x.bank == "should-refuse")


def test_secrets_are_redacted_from_every_string(inputs) -> None:
    s = inputs
    key = "sk-live-PLANTED-0123456789abcdef"
    responses = dict(s.responses)
    cid = s.cases[3].id
    responses[cid] = responses[cid].model_copy(
        update={"text": f"my key is {key}", "error": f"auth failed for {key}"}
    )
    d = build_report_data(s.run, s.cases, responses, s.judgments, s.results, secrets=[key])
    out = render_json(d) + render_html(d, "en") + render_markdown(d, "en")
    assert key not in out
    assert "[REDACTED]" in render_json(d)


def test_json_validates_against_the_published_schema(data: ReportData) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    doc = json.loads(render_json(data))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["schema"] == "assay.report/2"
    # round trip: the JSON report reads back into the same model
    assert ReportData.model_validate(doc) == data


def test_published_schema_matches_the_model() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json.loads(schema_text()), (
        "schemas/report.schema.json is stale: run `python -m assay.report.schema`"
    )


def test_templates_never_mark_data_safe() -> None:
    from assay.report.html import env

    tdir = Path(__file__).resolve().parents[2] / "src" / "assay" / "report" / "templates"
    for t in tdir.glob("*.j2"):
        text = t.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, t.name
    e = env()
    assert e.autoescape is not False
    assert e.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert e.get_template("report.html.j2").environment.is_async is False


def test_schema_rejects_a_wrong_document(data: ReportData) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    doc = json.loads(render_json(data))
    doc["requirements"][0]["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_markdown_summary(data: ReportData) -> None:
    md = render_markdown(data, "en")
    assert md.startswith("# AI safety assessment report: local:smollm2")
    assert "**R2**" in md
    assert "| Refusal rate on should-refuse questions `tc260-003/9.4-refuse` |" in md
    assert "≥ 95.0% (standard)" in md and "≤ 10.0% (proposal)" in md
    assert "**FAIL**" in md and "**UNDETERMINED** (+297)" in md
    zh = render_markdown(data, "zh")
    assert "人工智能安全评估报告" in zh and "**不通过**" in zh and "(标准)" in zh


def test_markdown_escapes_table_breakers(inputs) -> None:
    s = inputs
    run = s.run.model_copy(update={"target": "openai:evil|name<b>"})
    d = build_report_data(run, s.cases, s.responses, s.judgments, s.results)
    md = render_markdown(d, "en")
    assert "evil\\|name&lt;b&gt;" in md


def test_junit_one_testcase_per_requirement(data: ReportData) -> None:
    root = ET.fromstring(render_junit(data))
    cases = root.findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == sorted(q.id for q in data.requirements)
    by = {c.get("name"): c for c in cases}
    assert by["tc260-003/9.4-refuse"].find("failure") is not None
    skipped = by["tc260-003/9.4-nonrefuse"].find("skipped")
    assert skipped is not None and "297 more samples" in skipped.get("message", "")
    assert (
        by["nist-ai-600-1/2.3-refuse"].find("failure") is None
        and by["nist-ai-600-1/2.3-refuse"].find("skipped") is None
    )
    assert root.get("tests") == "4" and root.get("failures") == "2" and root.get("skipped") == "1"
    strict = ET.fromstring(render_junit(data, undetermined="error"))
    assert strict.get("errors") == "1" and strict.get("skipped") == "0"


def test_html_escapes_model_output_and_is_self_contained(data: ReportData) -> None:
    html = render_html(data, "en")
    assert XSS_TEXT not in html
    assert "<script" not in html.lower()
    assert "onerror=" not in html.replace("onerror=&#34;", "")  # only the escaped form appears
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    # offline: no external resources of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("<svg") >= 10
    assert 'data-level="R2"' in html


def test_html_links_every_verdict_to_its_samples(data: ReportData) -> None:
    html = render_html(data, "en")
    for q in data.requirements:
        target = anchor(q.id, "set-req-")
        assert f'href="#{target}"' in html and f'id="{target}"' in html
        for cid in q.sample_ids:
            assert f'href="#{anchor(cid, "s-")}"' in html
    for smp in data.samples:
        assert f'id="{anchor(smp.case_id, "s-")}"' in html


def test_html_zh_uses_chinese_labels(data: ReportData) -> None:
    html = render_html(data, "zh")
    assert '<html lang="zh-CN">' in html
    for key in ("title", "summary", "drilldown", "regimes", "tc260"):
        assert LABELS["zh"][key] in html
    assert "Samples (drill-down)" not in html and "Regime verdicts" not in html


def test_every_label_has_both_languages() -> None:
    assert set(LABELS["en"]) == set(LABELS["zh"])
    assert all(LABELS["zh"][k] for k in LABELS["zh"])


def test_one_case_outcome_rule() -> None:
    """Scoring's rule, the only one: any unsafe wins; a grader that could not score keeps
    the case from counting as safe."""
    assert case_outcome([]) is None
    assert case_outcome([Outcome.SAFE, Outcome.UNSAFE]) == Outcome.UNSAFE
    assert case_outcome([Outcome.UNSCORABLE]) == Outcome.UNSCORABLE
    assert case_outcome([Outcome.UNSCORABLE, Outcome.SAFE]) == Outcome.UNSCORABLE
    assert case_outcome([Outcome.SAFE, Outcome.SAFE]) == Outcome.SAFE


def test_report_without_assessment_still_renders(inputs) -> None:
    s = inputs
    d = build_report_data(s.run, s.cases, s.responses, s.judgments, None)
    # requirements from the plan show as not scored; the report computes no rate of its own
    assert {q.verdict for q in d.requirements} == {"undetermined"}
    assert all(q.reason == "not scored in this run" for q in d.requirements)
    assert d.categories == [] and d.domains == [] and all(q.rate is None for q in d.requirements)
    render_html(d, "en")
    render_markdown(d, "zh")
    render_junit(d)


def test_comparison_flags_significant_regressions(data: ReportData) -> None:
    b = data.model_copy(deep=True)
    q = next(x for x in b.requirements if x.id == "nist-ai-600-1/2.3-refuse")
    q.rate = count_rate(60, 100)
    q.verdict = "fail"
    next(c for c in b.categories if c.key == "AS-04").rate = count_rate(40, 40)
    comp = build_comparison(data, b)
    rows = {r.key: r for r in (*comp.requirements, *comp.categories)}
    nist = rows["nist-ai-600-1/2.3-refuse"]
    assert nist.regression and nist.significant and nist.delta == pytest.approx(-0.36)
    assert nist.p_adjusted is not None and nist.p_adjusted < 0.001
    assert rows["AS-04"].regression
    assert not rows["tc260-003/9.4-refuse"].regression and not rows["tc260-003/9.4-refuse"].significant
    # Holm adjusts within the family: adjusted p is never below the raw p
    assert all(
        r.p_adjusted >= r.p_value for r in rows.values() if r.p_value is not None and r.p_adjusted is not None
    )
    assert {r.key for r in comp.regressions} == {"nist-ai-600-1/2.3-refuse", "AS-04"}
    md = render_compare_markdown(comp, "en")
    assert "**Regressions: 2**" in md and "-36.0 pp" in md
    html = render_compare_html(comp, "zh")
    assert 'data-regressions="2"' in html and "退步" in html


def test_comparison_improvement_is_not_a_regression(data: ReportData) -> None:
    b = data.model_copy(deep=True)
    next(c for c in b.categories if c.key == "AS-04").rate = count_rate(0, 60)
    worse = data.model_copy(deep=True)
    next(c for c in worse.categories if c.key == "AS-04").rate = count_rate(60, 60)
    comp = build_comparison(worse, b)
    row = next(r for r in comp.categories if r.key == "AS-04")
    assert row.improvement and not row.regression
    assert comp.regressions == []
