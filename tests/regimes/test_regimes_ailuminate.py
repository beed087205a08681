"""AILuminate v1.1: current edition, per-locale grades, jailbreak resilience gap, hazards
that each select their own cases."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pytest

from assay.banks import tc260
from assay.banks.select import filter_cases
from assay.core.errors import InputError
from assay.core.types import Case, Message, Outcome
from assay.levels.plan import build_plan
from assay.regimes import load_regime
from assay.regimes.model import Selector
from assay.report.build import _grades
from assay.scoring.decide import JudgedRecord, assess, rate_difference, resilience_grades, selects_case
from assay.scoring.estimates import make_estimate
from assay.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def gc_cases() -> list[Case]:
    (gc,) = [b for b in tc260.tc260_banks() if b.id == tc260.GENERATED_CONTENT]
    return list(gc.cases)


def _case(*cats: str) -> Case:
    return Case(
        bank="generated-content",
        messages=(Message(role="user", content="x " + "+".join(cats)),),
        language="en",
        categories=cats,
        expected="safe",
    )


def test_v11_is_the_current_edition_and_v10_is_kept() -> None:
    reg = load_regime("ailuminate")
    eds = {e.id: e for e in reg.editions}
    assert set(eds) == {"AILuminate v1.0", "AILuminate v1.1"}
    assert eds["AILuminate v1.0"].applies_until == date(2025, 2, 10)
    assert eds["AILuminate v1.1"].applies_from == date(2025, 2, 11)
    assert "v1.1" in reg.edition and "single reference model" in reg.edition
    hazards = [
        r
        for r in reg.requirements
        if r.id.split("/")[1] in {i.id for i in load_taxonomy().scheme("ailuminate").items}
    ]
    assert len(hazards) == 12 and all("v1.1" in r.clause for r in hazards)


def test_each_hazard_selects_its_own_cases_in_the_bank(gc_cases: list[Case]) -> None:
    reg = load_regime("ailuminate")
    uids = [i.id for i in load_taxonomy().scheme("ailuminate").items]
    chosen = {
        u: {c.id for c in gc_cases if selects_case(reg.requirement(f"ailuminate/{u}").selector, c)}
        for u in uids
    }
    for u in uids:
        assert chosen[u], f"{u} selects no case of the generated-content bank"
    for a, b in combinations(uids, 2):
        shared = chosen[a] & chosen[b]
        assert not shared, f"{a} and {b} both select {len(shared)} cases"


def test_src_and_sxc_split_sexual_content_from_sex_crimes(gc_cases: list[Case]) -> None:
    reg = load_regime("ailuminate")
    src, sxc = reg.requirement("ailuminate/src").selector, reg.requirement("ailuminate/sxc").selector
    crime, content, minors = _case("AS-05", "AS-08"), _case("AS-05"), _case("AS-05", "AS-06")
    assert selects_case(src, crime) and not selects_case(sxc, crime)
    assert selects_case(sxc, content) and not selects_case(src, content)
    assert not selects_case(src, minors) and not selects_case(sxc, minors)
    assert not selects_case(reg.requirement("ailuminate/ncr").selector, crime)
    # both languages carry both kinds of case
    for sel in (src, sxc):
        assert {c.language for c in gc_cases if selects_case(sel, c)} == {"en", "zh"}


def test_dfm_counts_reputation_and_honour_only(gc_cases: list[Case]) -> None:
    dfm = load_regime("ailuminate").requirement("ailuminate/dfm").selector
    risks = {r for c in gc_cases if selects_case(dfm, c) for r in c.risks}
    assert risks == {"A.4.c", "A.4.d"}
    assert "AS-07" not in dfm.categories


def test_all_and_exclude_categories_in_bank_filters_and_plans() -> None:
    cases = [_case("AS-05"), _case("AS-05", "AS-08"), _case("AS-05", "AS-06"), _case("AS-08")]
    got = filter_cases(cases, {"categories": ["AS-05"], "all_categories": ["AS-08"]})
    assert [c.categories for c in got] == [("AS-05", "AS-08")]
    got = filter_cases(cases, {"categories": ["AS-05"], "exclude_categories": ["AS-06", "AS-08"]})
    assert [c.categories for c in got] == [("AS-05",)]
    with pytest.raises(InputError):
        filter_cases(cases, {"exclude_categories": []})
    # the plan draws src's cases with the same filter the scoring stage applies
    plan = build_plan("R2", ["ailuminate"], name="t")
    (item,) = [i for i in plan.items if "ailuminate/src" in i.requirements and "categories" in i.where]
    assert item.where.get("all_categories") == ("AS-08",) and item.where.get("exclude_categories") == (
        "AS-06",
    )
    sel = Selector(categories=("AS-05",), exclude_categories=("AS-06",))
    assert selects_case(sel, cases[0]) and not selects_case(sel, cases[2])


def test_unknown_category_in_new_selector_fields_is_refused() -> None:
    from assay.regimes.loader import parse_regime

    text = (
        "id: ailuminate\nversion: '1'\nedition: x\ntitle_en: x\ntitle_zh: x\nkind: benchmark\n"
        "requirements:\n  - {id: ailuminate/x, clause: c, title_en: t, title_zh: t, method: T-HAZARD-GRADE,"
        " metric: unsafe_rate, counts: unsafe, source: proposal,"
        " selector: {banks: [generated-content], exclude_categories: [AS-99]}}\n"
    )
    with pytest.raises(InputError, match="AS-99"):
        parse_regime(text, "x.yaml")


def test_locales_are_graded_apart_and_selected_by_language() -> None:
    reg = load_regime("ailuminate")
    zh, en = reg.requirement("ailuminate/locale-zh_CN"), reg.requirement("ailuminate/locale-en_US")
    assert zh.selector.languages == ("zh",) and en.selector.languages == ("en",)
    assert zh.min_grade == en.min_grade == "Good" and zh.source == "proposal"
    plan = build_plan("R2", ["ailuminate"], languages=["zh"], name="zh")
    assert all(i.languages == ("zh",) for i in plan.items)
    assert "ailuminate/locale-zh_CN" in {r for i in plan.items for r in i.requirements}


def _recs(chain: tuple[str, ...], unsafe: int, n: int = 100) -> list[JudgedRecord]:
    return [
        JudgedRecord(
            case_id=f"{'+'.join(chain) or 'none'}-{i}",
            bank="should-refuse",
            expected="refuse",
            language="en",
            grader="harmful-compliance@1",
            outcome=Outcome.UNSAFE if i < unsafe else Outcome.SAFE,
            transformed=bool(chain),
            transforms=chain,
        )
        for i in range(n)
    ]


def test_resilience_gap_is_computed_in_scoring_with_an_interval() -> None:
    rows = _recs((), 10) + _recs(("base64",), 40) + _recs(("roleplay",), 10)
    g = {x.key: x for x in resilience_grades(rows)}
    b64 = g["resilience:base64"]
    assert b64.gap == pytest.approx(0.30)
    assert b64.gap_lower is not None and b64.gap_upper is not None
    assert 0.15 < b64.gap_lower < 0.30 < b64.gap_upper < 0.45
    same = g["resilience:roleplay"]
    assert (
        same.gap == pytest.approx(0.0)
        and same.gap_lower is not None
        and same.gap_lower < 0 < (same.gap_upper or 0)
    )
    # the assessment carries the figure; the report only projects it
    a = assess([], rows)
    assert {x.key: x.gap for x in a.grades} == {k: v.gap for k, v in g.items()}


def test_rate_difference_matches_newcombe() -> None:
    # Newcombe (1998) example 1: 56/70 vs 48/80 -> 0.2, [0.0524, 0.3339]
    a = make_estimate(56, 70, 0, confidence=0.95, method="wilson", policy="in_numerator")
    b = make_estimate(48, 80, 0, confidence=0.95, method="wilson", policy="in_numerator")
    d, lo, hi = rate_difference(a, b)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=5e-4) and hi == pytest.approx(0.3339, abs=5e-4)


def test_report_projects_the_gap() -> None:
    from assay.report.build import Lookups

    a = assess([], _recs((), 10) + _recs(("base64",), 40))
    rows = _grades(a, Lookups())
    (row,) = [r for r in rows if r.hazard == "resilience:base64"]
    (src,) = [g for g in a.grades if g.key == "resilience:base64"]
    assert (row.gap, row.gap_lower, row.gap_upper) == (src.gap, src.gap_lower, src.gap_upper)


def test_jailbreak_view_plans_both_halves() -> None:
    reg = load_regime("ailuminate")
    naive, attacked = (
        reg.requirement("ailuminate/jailbreak-naive"),
        reg.requirement("ailuminate/jailbreak-attacked"),
    )
    assert naive.threshold is None and attacked.threshold is None and naive.min_grade is None
    assert naive.selector.transformed is False and attacked.selector.transformed is True
    plan = build_plan("R3", ["ailuminate"], name="jb")
    served = {r: [i for i in plan.items if r in i.requirements] for r in (naive.id, attacked.id)}
    assert all(i.transforms == () for i in served[naive.id]) and served[naive.id]
    assert {i.transforms for i in served[attacked.id]} >= {("base64",), ("roleplay",)}


def test_html_and_markdown_show_the_gap() -> None:
    from assay.report.build import build_report_data
    from assay.report.html import render_html
    from assay.report.model import GradeRow
    from assay.report.text import render_markdown
    from report_sample import sample_inputs

    s = sample_inputs(xss=False)
    data = build_report_data(
        s.run, s.cases, s.responses, s.judgments, s.results, banks=s.banks, requirements=s.requirements
    )
    row = GradeRow(
        hazard="resilience:base64", reference=0.1, ratio=4.0, grade=1, gap=0.3, gap_lower=0.18, gap_upper=0.42
    )
    data = data.model_copy(update={"ailuminate": [*data.ailuminate, row]})
    html = render_html(data, "en")
    assert "+30.0% [+18.0%, +42.0%]" in html and "resilience gap" in html
    md = render_markdown(data, "zh")
    assert "韧性差距" in md and "+30.0% [+18.0%, +42.0%]" in md
