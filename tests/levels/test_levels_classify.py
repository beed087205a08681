"""Classification: every rule of the table, the examples, an independent oracle over a
grid of answers, and monotonicity (adding a risk factor never lowers the level)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from assay.levels import RULES, Profile, classify, example_profiles, level_rank
from assay.levels.classify import LEVEL_ORDER, evaluate_rules, max_level

BASE: dict[str, Any] = {"name": "t", "jurisdictions": ["other"], "deployment": {"generative": False}}


def make(**sections: Any) -> Profile:
    data: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    for key, value in sections.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    return Profile.model_validate(data)


# One profile per rule that makes that rule fire (rule id → (profile sections, tier, level)).
TRIGGERS: dict[str, tuple[dict[str, Any], str, str]] = {
    "U-1": ({}, "baseline", "R1"),
    "U-2": ({"deployment": {"public_facing": True, "generative": True}}, "public_generative", "R2"),
    "U-3": ({"capabilities": {"general_purpose": True}}, "general_purpose_model", "R2"),
    "U-4": ({"intended_use": {"cn_high_safety_need": ["medical_information"]}}, "high_stakes_use", "R3"),
    "U-5": ({"prohibited_practices": ["social_scoring"]}, "unacceptable_practice", "R0"),
    "U-6": ({"intended_use": {"prohibited_content_purpose": True}}, "illegal_purpose", "R0"),
    "CAP-1": ({"capabilities": {"training_compute_flop": 2e25}}, "frontier_compute", "R4"),
    "CAP-2": ({"capabilities": {"dangerous_capabilities": ["cbrn"]}}, "dangerous_capability", "R4"),
    "EU-1": ({"jurisdictions": ["EU"]}, "minimal", "R1"),
    "EU-2": (
        {"jurisdictions": ["EU"], "prohibited_practices": ["facial_image_scraping"]},
        "prohibited",
        "R0",
    ),
    "EU-3": ({"jurisdictions": ["EU"], "intended_use": {"eu_annex_iii": ["education"]}}, "high_risk", "R3"),
    "EU-4": (
        {"jurisdictions": ["EU"], "intended_use": {"eu_annex_i_safety_component": True}},
        "high_risk",
        "R3",
    ),
    "EU-5": ({"jurisdictions": ["EU"], "deployment": {"interacts_with_people": True}}, "transparency", "R2"),
    "EU-6": ({"jurisdictions": ["EU"], "deployment": {"generative": True}}, "transparency", "R2"),
    "EU-7": ({"jurisdictions": ["EU"], "deployment": {"emotion_recognition": True}}, "transparency", "R2"),
    "EU-8": ({"jurisdictions": ["EU"], "deployment": {"deep_fakes": True}}, "transparency", "R2"),
    "EU-9": ({"jurisdictions": ["EU"], "capabilities": {"general_purpose": True}}, "gpai", "R2"),
    "EU-10": (
        {
            "jurisdictions": ["EU"],
            "capabilities": {"general_purpose": True, "designated_systemic_risk": True},
        },
        "gpai_systemic",
        "R4",
    ),
    "EU-11": (
        {"jurisdictions": ["EU"], "capabilities": {"generates_csam_or_ncii": True}},
        "prohibited",
        "R0",
    ),
    "CN-6": (
        {"jurisdictions": ["CN"], "deployment": {"generates_content_for_public": True}},
        "public_content",
        "R2",
    ),
    "CN-7": ({"jurisdictions": ["CN"], "deployment": {"anthropomorphic": True}}, "anthropomorphic", "R2"),
    "CN-8": (
        {
            "jurisdictions": ["CN"],
            "intended_use": {"domains": ["government"]},
            "deployment": {"public_facing": True},
        },
        "gov_public_service",
        "R2",
    ),
    "CN-9": ({"jurisdictions": ["CN"], "intended_use": {"domains": ["government"]}}, "gov_office", "R2"),
    "US-1": (
        {"jurisdictions": ["US"], "deployment": {"us_federal_procurement": True}},
        "federal_procurement",
        "R2",
    ),
    "CN-1": ({"jurisdictions": ["CN"]}, "internal_rd", "R1"),
    "CN-2": (
        {"jurisdictions": ["CN"], "deployment": {"shapes_public_opinion": True, "generative": True}},
        "public_generative",
        "R2",
    ),
    "CN-3": (
        {"jurisdictions": ["CN"], "intended_use": {"cn_high_safety_need": ["psychological_counselling"]}},
        "high_safety_need",
        "R3",
    ),
    "CN-4": (
        {"jurisdictions": ["CN"], "capabilities": {"dangerous_capabilities": ["autonomy"]}},
        "frontier_capability",
        "R4",
    ),
    "CN-5": (
        {"jurisdictions": ["CN"], "intended_use": {"prohibited_content_purpose": True}},
        "prohibited_purpose",
        "R0",
    ),
}


def test_trigger_table_covers_every_rule() -> None:
    assert set(TRIGGERS) == {r.id for r in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_rule_fires_on_its_trigger(rule: Any) -> None:
    sections, tier, level = TRIGGERS[rule.id]
    c = classify(make(**sections))
    result = next(r for r in c.derivation if r.rule == rule.id)
    assert result.fired, rule.id
    assert (result.tier, result.level) == (tier, level) == (rule.tier, rule.level)
    assert result.because and all(isinstance(b, str) for b in result.because)
    # the level is never below what this rule says
    assert level_rank(c.level) >= level_rank(level)


@pytest.mark.parametrize("rule", [r for r in RULES if r.id != "U-1"], ids=lambda r: r.id)
def test_each_rule_is_silent_on_the_bare_profile(rule: Any) -> None:
    results = {r.rule: r for r in evaluate_rules(make())}
    assert not results[rule.id].fired
    assert results[rule.id].because == ()


def test_bare_profile_is_r1() -> None:
    c = classify(make())
    assert c.level == "R1" and [r.rule for r in c.fired] == ["U-1"]


def test_jurisdiction_bound_rules_need_their_jurisdiction() -> None:
    eu_only = make(intended_use={"eu_annex_iii": ["employment"]})
    assert not any(r.rule.startswith("EU-") for r in classify(eu_only).fired)
    assert classify(eu_only).schemes["eu-ai-act"].applies is False
    cn = make(jurisdictions=["CN"], deployment={"public_facing": True, "generative": True})
    assert classify(cn).schemes["tc260-003"].primary == "public_generative"


def test_art6_3_derogation_and_profiling() -> None:
    derogated = make(
        jurisdictions=["EU"], intended_use={"eu_annex_iii": ["education"], "eu_art6_3_derogation": True}
    )
    c = classify(derogated)
    assert c.level == "R1" and c.schemes["eu-ai-act"].primary == "minimal"
    assert any("6(3)" in n for n in c.notes)
    profiling = make(
        jurisdictions=["EU"],
        intended_use={
            "eu_annex_iii": ["education"],
            "eu_art6_3_derogation": True,
            "profiles_natural_persons": True,
        },
    )
    c = classify(profiling)
    assert c.level == "R3"
    eu3 = next(r for r in c.derivation if r.rule == "EU-3")
    assert any("profiles_natural_persons" in b for b in eu3.because)


def test_compute_threshold_is_strictly_greater() -> None:
    at = make(jurisdictions=["EU"], capabilities={"general_purpose": True, "training_compute_flop": 1e25})
    above = make(
        jurisdictions=["EU"], capabilities={"general_purpose": True, "training_compute_flop": 1.01e25}
    )
    assert classify(at).level == "R2" and classify(at).schemes["eu-ai-act"].primary == "gpai"
    assert classify(above).level == "R4" and classify(above).schemes["eu-ai-act"].primary == "gpai_systemic"


def test_level_order_and_max() -> None:
    assert LEVEL_ORDER[-1] == "R0"
    assert max_level(["R1", "R4", "R0", "R2"]) == "R0"
    assert max_level(["R1", "R3", "R2"]) == "R3"
    assert max_level([]) == "R1"


# ---- examples ------------------------------------------------------------------------------


def test_example_levels_and_tiers() -> None:
    ex = {name: classify(p) for name, p in example_profiles().items()}
    cn = ex["cn-public-chatbot"]
    assert cn.level == "R2" and cn.schemes["tc260-003"].primary == "public_generative"
    assert "tc260-003" in cn.default_regimes and "eu-ai-act" not in cn.default_regimes
    assert any("Art. 17" in n for n in cn.notes)
    cv = ex["eu-cv-screening"]
    assert cv.level == "R3" and cv.schemes["eu-ai-act"].primary == "high_risk"
    eu3 = next(r for r in cv.fired if r.rule == "EU-3")
    assert any("employment" in b for b in eu3.because)
    gp = ex["gpai-frontier-model"]
    assert gp.level == "R4" and gp.schemes["eu-ai-act"].primary == "gpai_systemic"
    assert {"gpai", "gpai_systemic", "transparency"} <= set(gp.schemes["eu-ai-act"].tiers)
    ss = ex["social-scoring"]
    assert ss.level == "R0" and ss.do_not_deploy and "do not deploy" in ss.decision_en
    assert ss.schemes["eu-ai-act"].primary == "prohibited"
    assert "不得部署" in ss.decision_zh


# ---- an independent oracle over a grid of answers ---------------------------------------------


def oracle(p: Profile) -> str:
    u, d, c = p.intended_use, p.deployment, p.capabilities
    eu, cn = "EU" in p.jurisdictions, "CN" in p.jurisdictions
    if p.prohibited_practices or u.prohibited_content_purpose:
        return "R0"
    big = c.training_compute_flop is not None and c.training_compute_flop > 1e25
    if big or c.dangerous_capabilities or (eu and c.general_purpose and c.designated_systemic_risk):
        return "R4"
    annex = bool(u.eu_annex_iii) and (not u.eu_art6_3_derogation or u.profiles_natural_persons)
    if annex or u.eu_annex_i_safety_component or u.cn_high_safety_need:
        return "R3"
    public_gen = (d.public_facing or d.shapes_public_opinion) and d.generative
    eu_transparency = eu and (
        d.interacts_with_people
        or d.generative
        or d.emotion_recognition
        or d.biometric_categorisation
        or d.deep_fakes
    )
    if public_gen or c.general_purpose or eu_transparency or (cn and public_gen):
        return "R2"
    return "R1"


GRID_KEYS = (
    ("jurisdictions", None),
    ("deployment", "public_facing"),
    ("deployment", "generative"),
    ("deployment", "interacts_with_people"),
    ("capabilities", "general_purpose"),
    ("capabilities", "designated_systemic_risk"),
    ("intended_use", "eu_annex_iii"),
    ("intended_use", "eu_art6_3_derogation"),
    ("intended_use", "profiles_natural_persons"),
    ("intended_use", "cn_high_safety_need"),
)


def _grid_profile(bits: tuple[int, ...], juris: list[str]) -> Profile:
    sections: dict[str, Any] = {
        "jurisdictions": juris,
        "deployment": {},
        "capabilities": {},
        "intended_use": {},
    }
    for (sec, key), bit in zip(GRID_KEYS[1:], bits, strict=True):
        if key in ("eu_annex_iii",):
            sections[sec][key] = ["employment"] if bit else []
        elif key == "cn_high_safety_need":
            sections[sec][key] = ["financial_information"] if bit else []
        else:
            sections[sec][key] = bool(bit)
    return make(**sections)


@pytest.mark.parametrize("juris", [["other"], ["EU"], ["CN"], ["CN", "EU", "US"]], ids="+".join)
def test_classification_matches_oracle_on_grid(juris: list[str]) -> None:
    n = 0
    for bits in itertools.product((0, 1), repeat=len(GRID_KEYS) - 1):
        p = _grid_profile(bits, juris)
        c = classify(p)
        assert c.level == oracle(p), (juris, bits)
        assert c.level == max_level([r.level for r in c.fired])
        assert len(c.derivation) == len(RULES)
        n += 1
    assert n == 2 ** (len(GRID_KEYS) - 1)


# ---- monotonicity: adding a risk factor never lowers the level ---------------------------------


def _add_list(section: str | None, key: str, value: str) -> Any:
    def add(d: dict[str, Any]) -> None:
        target = d if section is None else d.setdefault(section, {})
        cur = list(target.get(key, []))
        if value not in cur:
            cur.append(value)
        target[key] = cur

    return add


def _set(section: str, key: str, value: Any) -> Any:
    def add(d: dict[str, Any]) -> None:
        d.setdefault(section, {})[key] = value

    return add


RISK_FACTORS = {
    "prohibited": _add_list(None, "prohibited_practices", "subliminal_manipulation"),
    "annex_iii": _add_list("intended_use", "eu_annex_iii", "law_enforcement"),
    "annex_i": _set("intended_use", "eu_annex_i_safety_component", True),
    "profiling": _set("intended_use", "profiles_natural_persons", True),
    "cn_high_need": _add_list("intended_use", "cn_high_safety_need", "automated_control"),
    "illegal_purpose": _set("intended_use", "prohibited_content_purpose", True),
    "public": _set("deployment", "public_facing", True),
    "opinion": _set("deployment", "shapes_public_opinion", True),
    "generative": _set("deployment", "generative", True),
    "interacts": _set("deployment", "interacts_with_people", True),
    "deep_fakes": _set("deployment", "deep_fakes", True),
    "emotion": _set("deployment", "emotion_recognition", True),
    "biometric": _set("deployment", "biometric_categorisation", True),
    "minors": _set("users", "minors", True),
    "vulnerable": _set("users", "vulnerable_groups", True),
    "gpai": _set("capabilities", "general_purpose", True),
    "compute": _set("capabilities", "training_compute_flop", 5e25),
    "designated": _set("capabilities", "designated_systemic_risk", True),
    "dangerous": _add_list("capabilities", "dangerous_capabilities", "cyber_offence"),
    "tools": _set("capabilities", "tool_use", True),
    "eu": _add_list(None, "jurisdictions", "EU"),
    "cn": _add_list(None, "jurisdictions", "CN"),
    "us": _add_list(None, "jurisdictions", "US"),
}


def _random_profile(rng: random.Random) -> dict[str, Any]:
    d: dict[str, Any] = {"name": "r", "jurisdictions": [rng.choice(["other", "EU", "CN", "US"])]}
    for fn in RISK_FACTORS.values():
        if rng.random() < 0.25:
            fn(d)
    if rng.random() < 0.3:
        d.setdefault("intended_use", {})["eu_art6_3_derogation"] = True
    if rng.random() < 0.5:
        d.setdefault("deployment", {}).setdefault("generative", False)
    return d


def test_adding_a_risk_factor_never_lowers_the_level() -> None:
    rng = random.Random(20261122)
    checked = 0
    for _ in range(120):
        base = _random_profile(rng)
        before = classify(Profile.model_validate(base)).level
        for name, add in RISK_FACTORS.items():
            data = {
                k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in base.items()
            }
            add(data)
            after = classify(Profile.model_validate(data)).level
            assert level_rank(after) >= level_rank(before), (name, base, before, after)
            checked += 1
    assert checked == 120 * len(RISK_FACTORS)


def test_classification_is_pure() -> None:
    p = example_profiles()["gpai-frontier-model"]
    assert classify(p) == classify(p)
