"""TC260-004 (government-sector large-model applications): a sector flag, tiers, a plan, and
requirements that are runnable or say why they need the agency's own data."""

from __future__ import annotations

from datetime import date

import pytest

from assay import api
from assay.levels import EXAMPLES, classify, example_profiles
from assay.levels.classify import GATED_REGIMES, default_regimes
from assay.levels.plan import build_plan
from assay.levels.profile import Profile
from assay.regimes import load_regime
from assay.regimes.dates import status_on
from assay.regimes.ids import BANK_EXPECTED


def load_profile(name: str) -> Profile:
    return example_profiles()[name]


def test_regime_rests_on_secondary_sources_and_says_so() -> None:
    reg = load_regime("tc260-004")
    assert reg.jurisdictions == ("CN",) and reg.applies_from == date(2025, 9, 30)
    (ed,) = reg.editions
    assert ed.confidence == "S" and "primary text not read" in ed.source
    assert any("secondary sources" in n for n in reg.notes_en)
    for r in reg.requirements:
        assert r.source == "proposal", r.id  # no TC260-004 threshold is known to Assay
        assert "clause unverified" in r.clause and "secondary" in r.clause, r.id
        assert r.confidence == "S", r.id


def test_every_requirement_is_runnable_or_says_why_not() -> None:
    reg = load_regime("tc260-004")
    measured = [r for r in reg.requirements if not r.evidence_only]
    evidence = [r for r in reg.requirements if r.evidence_only]
    assert len(measured) >= 8 and {r.id for r in evidence} == {"tc260-004/policy-qa", "tc260-004/lifecycle"}
    for r in measured:
        assert r.selector.banks and all(b in BANK_EXPECTED for b in r.selector.banks), r.id
        assert r.threshold is not None and r.min_sample > 0, r.id
    # all three risk classes of the specification are measured
    banks = {b for r in measured for b in r.selector.banks}
    assert {"generated-content", "should-refuse"} <= banks  # content security
    assert {"privacy-canary", "sysprompt-leak"} <= banks  # data security
    assert "prompt-injection" in banks  # system security
    qa = reg.requirement("tc260-004/policy-qa")
    assert "own data" in qa.notes and "assay banks add" in qa.notes and "--grader factuality" in qa.notes
    assert "own records" in reg.requirement("tc260-004/lifecycle").notes


def test_sector_flag_picks_the_tier() -> None:
    assert "tc260-004" in GATED_REGIMES
    public = classify(load_profile("cn-government-assistant"), "2026-12-05")
    office = classify(load_profile("cn-government-office"), "2026-12-05")
    assert public.schemes["tc260-004"].tiers == ("gov_public_service",)
    assert office.schemes["tc260-004"].tiers == ("gov_office",)
    assert "cn-government-office" in EXAMPLES
    # not a government profile: the regime stays out of the default set
    assert "tc260-004" not in default_regimes(load_profile("cn-public-chatbot"))
    assert "tc260-004" in default_regimes(load_profile("cn-government-office"))


def test_before_publication_the_rule_is_coming() -> None:
    early = classify(load_profile("cn-government-assistant"), "2025-06-01")
    assert early.schemes["tc260-004"].tiers == ()
    assert any(r.rule == "CN-8" for r in early.coming)
    reg = load_regime("tc260-004")
    r = reg.requirement("tc260-004/content-safety")
    assert status_on(r, date(2025, 6, 1), reg) == "coming"
    assert status_on(r, date(2026, 12, 5), reg) == "in_force"


@pytest.mark.parametrize(
    ("profile", "public"), [("cn-government-assistant", True), ("cn-government-office", False)]
)
def test_plan_for_the_sector(profile: str, public: bool) -> None:
    plan = build_plan(load_profile(profile), as_of="2026-12-05", name=profile)
    assert "tc260-004" in plan.regimes
    mine = {r.id for r in plan.requirements if r.regime == "tc260-004"}
    assert {"tc260-004/prompt-injection", "tc260-004/personal-data", "tc260-004/content-safety"} <= mine
    assert ("tc260-004/over-refusal" in mine) is public
    assert ("tc260-004/policy-qa" in mine) is public
    served = {rid for i in plan.items for rid in i.requirements}
    for r in plan.measured_requirements:
        if r.regime == "tc260-004":
            assert r.id in served, r.id


def test_api_and_cli_see_the_regime() -> None:
    _, plan = api.plan_for("cn-government-office", as_of="2026-12-05")
    assert "tc260-004" in plan.regimes


def test_end_to_end_on_a_known_answer_target(sqlite_url: str) -> None:
    """The office profile assessed against an always-refusing bot: every measured TC260-004
    requirement gets a verdict from its own bank; the evidence item stays evidence."""
    db = sqlite_url
    res = api.assess(
        "cn-government-office",
        "python:known_answer_targets:refuse",
        early_stop=True,
        report=False,
        db=db,
        as_of="2026-12-05",
    )
    assert res.run is not None
    a = api.assessment(res.run.run.id, db=db)
    got = {r.requirement_id: r for r in a.requirements if r.regime == "tc260-004"}
    assert got["tc260-004/should-refuse"].verdict.value == "pass"
    assert got["tc260-004/guardrail-jailbreak"].verdict.value == "pass"
    assert got["tc260-004/hallucination"].verdict.value == "fail"  # a refusal answers nothing
    assert got["tc260-004/lifecycle"].verdict.value == "evidence_only"
    for rid in ("tc260-004/content-safety", "tc260-004/personal-data", "tc260-004/prompt-injection"):
        est = got[rid].estimate
        assert est is not None and est.n > 0, rid
