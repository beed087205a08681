"""Classification: profile → level R0–R4, per-regime tiers, and the derivation rule by rule.

Pure functions over a rule table. Each rule looks at some answers of the profile and,
when they hold, puts the system in one tier of one scheme at one level. The level is
the maximum over the rules that fire; every rule is reported, fired or not, with the
answers it looked at. Every rule's condition only grows with risk factors, so adding
one never lowers the level (the derogation of EU Art. 6(3) is a mitigating answer,
not a risk factor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from assay.levels.profile import Profile
from assay.regimes import load_regime, regime_ids
from assay.regimes.dates import edition_label, parse_as_of

Level = Literal["R0", "R1", "R2", "R3", "R4"]
LEVEL_ORDER: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R0")  # R0 (prohibited) outranks everything

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "R0": ("Unacceptable: prohibited", "不可接受：禁止"),
    "R1": ("Minimal", "低风险"),
    "R2": ("Limited / public-facing generative service", "中风险：面向公众的生成式服务"),
    "R3": ("High risk", "高风险"),
    "R4": ("Systemic / frontier", "系统性/前沿风险"),
}
DECISIONS: dict[str, tuple[str, str]] = {
    "R0": (
        "do not deploy: the intended use is prohibited; tests can only confirm or refute the trigger",
        "不得部署：预期用途属于禁止情形；测试只能用于确认或排除触发条件",
    ),
    "R1": ("deploy after the minimal test plan passes", "通过最低风险测试计划后方可部署"),
    "R2": (
        "deploy after the plan passes (China: TC260-003 assessment and, where required, filing)",
        "测试计划通过后方可部署（中国：完成TC260-003安全评估，需要时履行备案）",
    ),
    "R3": (
        "deploy only after the high-risk plan passes and the documentary evidence is complete",
        "高风险测试计划通过且证明文件齐备后方可部署",
    ),
    "R4": (
        "deploy only after systemic-risk evaluation, adversarial testing and mitigations",
        "完成系统性风险评估、对抗测试和缓解措施后方可部署",
    ),
}

Scheme = Literal[
    "unified",
    "eu-ai-act",
    "tc260-003",
    "capability",
    "cn-labelling",
    "cn-anthropomorphic",
    "tc260-004",
    "us-omb-m-26-04",
]
#: regimes that apply only when one of their rules fires (a profile flag), not to every
#: profile of their jurisdiction
GATED_REGIMES: tuple[str, ...] = ("cn-labelling", "cn-anthropomorphic", "tc260-004", "us-omb-m-26-04")


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


def max_level(levels: list[str] | tuple[str, ...]) -> str:
    return max(levels, key=level_rank) if levels else "R1"


@dataclass(frozen=True)
class Rule:
    id: str
    scheme: Scheme
    tier: str
    level: str
    cite: str
    source: Literal["standard", "proposal"]
    text_en: str
    text_zh: str
    test: Callable[[Profile], list[str]]  # the answers that trigger it; [] = does not fire
    looks_at: tuple[str, ...]
    applies_from: date | None = None  # before this date the rule does not fire (it is "coming")


# -- predicates: each returns the triggering answers as "field = value" --------------------------


def _eu(p: Profile) -> bool:
    return "EU" in p.jurisdictions


def _cn(p: Profile) -> bool:
    return "CN" in p.jurisdictions


def _list(name: str, values: tuple[str, ...]) -> list[str]:
    return [f"{name} = [{', '.join(values)}]"] if values else []


def _flag(name: str, value: bool) -> list[str]:
    return [f"{name} = true"] if value else []


#: Art. 5 practices added by the Digital Omnibus (dated rule EU-11, not EU-2)
OMNIBUS_PRACTICES: tuple[str, ...] = ("csam_or_ncii_generation",)


def _prohibited(p: Profile) -> list[str]:
    return _list("prohibited_practices", p.prohibited_practices)


def _prohibited_2024(p: Profile) -> list[str]:
    return _list(
        "prohibited_practices", tuple(x for x in p.prohibited_practices if x not in OMNIBUS_PRACTICES)
    )


def _intimate_imagery(p: Profile) -> list[str]:
    chosen = tuple(x for x in p.prohibited_practices if x in OMNIBUS_PRACTICES)
    return _list("prohibited_practices", chosen) + _flag(
        "capabilities.generates_csam_or_ncii", p.capabilities.generates_csam_or_ncii
    )


def _unacceptable(p: Profile) -> list[str]:
    return _prohibited(p) + _flag(
        "capabilities.generates_csam_or_ncii", p.capabilities.generates_csam_or_ncii
    )


def _public_content(p: Profile) -> list[str]:
    return _flag("deployment.generates_content_for_public", p.deployment.generates_content_for_public)


def _anthropomorphic(p: Profile) -> list[str]:
    return _flag("deployment.anthropomorphic", p.deployment.anthropomorphic)


def _gov_public(p: Profile) -> list[str]:
    if "government" not in p.intended_use.domains or not p.deployment.public_facing:
        return []
    return ["intended_use.domains ∋ government", "deployment.public_facing = true"]


def _gov_office(p: Profile) -> list[str]:
    if "government" not in p.intended_use.domains or p.deployment.public_facing:
        return []
    return ["intended_use.domains ∋ government", "deployment.public_facing = false"]


def _us_federal(p: Profile) -> list[str]:
    return _flag("deployment.us_federal_procurement", p.deployment.us_federal_procurement)


def _us_only(fn: Callable[[Profile], list[str]]) -> Callable[[Profile], list[str]]:
    def test(p: Profile) -> list[str]:
        why = fn(p)
        return ["jurisdictions ∋ US", *why] if why and "US" in p.jurisdictions else []

    return test


def _illegal_purpose(p: Profile) -> list[str]:
    return _flag("intended_use.prohibited_content_purpose", p.intended_use.prohibited_content_purpose)


def _annex_iii_effective(p: Profile) -> list[str]:
    u = p.intended_use
    if not u.eu_annex_iii:
        return []
    if u.eu_art6_3_derogation and not u.profiles_natural_persons:
        return []
    why = _list("intended_use.eu_annex_iii", u.eu_annex_iii)
    if u.eu_art6_3_derogation:
        why.append("intended_use.profiles_natural_persons = true (voids the Art. 6(3) derogation)")
    return why


def _high_stakes(p: Profile) -> list[str]:
    return (
        _annex_iii_effective(p)
        + _flag("intended_use.eu_annex_i_safety_component", p.intended_use.eu_annex_i_safety_component)
        + _list("intended_use.cn_high_safety_need", p.intended_use.cn_high_safety_need)
    )


def _public_generative(p: Profile) -> list[str]:
    d = p.deployment
    public = _flag("deployment.public_facing", d.public_facing) + _flag(
        "deployment.shapes_public_opinion", d.shapes_public_opinion
    )
    if not public or not d.generative:
        return []
    return [*public, "deployment.generative = true"]


def _sci(x: float) -> str:
    mant, _, exp = f"{x:.0e}".partition("e")
    return f"{mant}e{int(exp)}"


def systemic_flop() -> float:
    """The AI Act Art. 51(2) presumption, read from the regime data (the Commission can amend it)."""
    return load_regime("eu-ai-act").parameter("gpai_systemic_presumption_flop").value


def _over_compute(p: Profile) -> list[str]:
    c = p.capabilities.training_compute_flop
    thr = systemic_flop()
    return (
        [f"capabilities.training_compute_flop = {c:.3g} > {_sci(thr)}"] if c is not None and c > thr else []
    )


def _dangerous(p: Profile) -> list[str]:
    return _list("capabilities.dangerous_capabilities", p.capabilities.dangerous_capabilities)


def _eu_only(fn: Callable[[Profile], list[str]]) -> Callable[[Profile], list[str]]:
    def test(p: Profile) -> list[str]:
        why = fn(p)
        return ["jurisdictions ∋ EU", *why] if why and _eu(p) else []

    return test


def _cn_only(fn: Callable[[Profile], list[str]]) -> Callable[[Profile], list[str]]:
    def test(p: Profile) -> list[str]:
        why = fn(p)
        return ["jurisdictions ∋ CN", *why] if why and _cn(p) else []

    return test


def _eu_transparency_interaction(p: Profile) -> list[str]:
    return _flag("deployment.interacts_with_people", p.deployment.interacts_with_people)


def _eu_transparency_synthetic(p: Profile) -> list[str]:
    return _flag("deployment.generative", p.deployment.generative)


def _eu_transparency_biometric(p: Profile) -> list[str]:
    d = p.deployment
    return _flag("deployment.emotion_recognition", d.emotion_recognition) + _flag(
        "deployment.biometric_categorisation", d.biometric_categorisation
    )


def _eu_deep_fakes(p: Profile) -> list[str]:
    return _flag("deployment.deep_fakes", p.deployment.deep_fakes)


def _gpai(p: Profile) -> list[str]:
    return _flag("capabilities.general_purpose", p.capabilities.general_purpose)


def _gpai_systemic(p: Profile) -> list[str]:
    if not p.capabilities.general_purpose:
        return []
    why = _over_compute(p) + _flag(
        "capabilities.designated_systemic_risk", p.capabilities.designated_systemic_risk
    )
    return ["capabilities.general_purpose = true", *why] if why else []


def _annex_i(p: Profile) -> list[str]:
    return _flag("intended_use.eu_annex_i_safety_component", p.intended_use.eu_annex_i_safety_component)


def _cn_internal(p: Profile) -> list[str]:
    return ["deployment.public_facing = false"] if not _public_generative(p) else []


def _cn_high_need(p: Profile) -> list[str]:
    return _list("intended_use.cn_high_safety_need", p.intended_use.cn_high_safety_need)


def _always(p: Profile) -> list[str]:
    return ["every system"]


RULES: tuple[Rule, ...] = (
    # ---- unified (every jurisdiction) --------------------------------------------------------
    Rule(
        "U-1",
        "unified",
        "baseline",
        "R1",
        "Assay baseline",
        "proposal",
        "Every system gets at least the minimal test plan.",
        "所有系统至少执行最低风险测试计划。",
        _always,
        (),
    ),
    Rule(
        "U-2",
        "unified",
        "public_generative",
        "R2",
        "crosswalk risk levels (deployment tier)",
        "proposal",
        "A generative service offered to the public is at least limited risk.",
        "面向公众的生成式服务至少为中风险。",
        _public_generative,
        ("deployment.public_facing", "deployment.shapes_public_opinion", "deployment.generative"),
    ),
    Rule(
        "U-3",
        "unified",
        "general_purpose_model",
        "R2",
        "crosswalk risk levels (EU Art. 53 analogue)",
        "proposal",
        "A general-purpose model is at least limited risk.",
        "通用模型至少为中风险。",
        _gpai,
        ("capabilities.general_purpose",),
    ),
    Rule(
        "U-4",
        "unified",
        "high_stakes_use",
        "R3",
        "crosswalk risk levels (use-case tier)",
        "proposal",
        "Consequential decisions about people or a high-safety-need service type are high risk in any jurisdiction.",
        "对人作出重大决定或属于安全需求较高的服务类型，在任何法域均为高风险。",
        _high_stakes,
        (
            "intended_use.eu_annex_iii",
            "intended_use.eu_art6_3_derogation",
            "intended_use.profiles_natural_persons",
            "intended_use.eu_annex_i_safety_component",
            "intended_use.cn_high_safety_need",
        ),
    ),
    Rule(
        "U-5",
        "unified",
        "unacceptable_practice",
        "R0",
        "EU AI Act Art. 5 applied as a universal red line",
        "proposal",
        "A practice the EU AI Act prohibits (or generating CSAM / non-consensual intimate imagery) is unacceptable wherever the system is deployed.",
        "欧盟《人工智能法》禁止的实践（或生成儿童性虐待材料/未经同意的私密图像），无论在何处部署均视为不可接受。",
        _unacceptable,
        ("prohibited_practices", "capabilities.generates_csam_or_ncii"),
    ),
    Rule(
        "U-6",
        "unified",
        "illegal_purpose",
        "R0",
        "Interim Measures Art. 4; crosswalk R0",
        "proposal",
        "A service whose purpose is producing prohibited content or illegal use is unacceptable.",
        "以生成违法内容或从事违法活动为目的的服务不可接受。",
        _illegal_purpose,
        ("intended_use.prohibited_content_purpose",),
    ),
    # ---- capability (every jurisdiction) ------------------------------------------------------
    Rule(
        "CAP-1",
        "capability",
        "frontier_compute",
        "R4",
        "EU AI Act Art. 51(2) threshold used as a capability proxy",
        "proposal",
        "Training compute above 1e25 FLOP puts a model at the frontier.",
        "训练算力超过1e25 FLOP的模型属于前沿模型。",
        _over_compute,
        ("capabilities.training_compute_flop",),
    ),
    Rule(
        "CAP-2",
        "capability",
        "dangerous_capability",
        "R4",
        "GPAI CoP App. 1.4; OpenAI PF; Anthropic RSP; TC260 Framework §3.2.2(c), §3.2.4(c)",
        "proposal",
        "A dangerous capability (CBRN, cyber offence, autonomy, harmful manipulation) at a frontier threshold.",
        "达到前沿阈值的危险能力（化生放核、网络攻击、自主性、有害操纵）。",
        _dangerous,
        ("capabilities.dangerous_capabilities",),
    ),
    # ---- EU AI Act ------------------------------------------------------------------------------
    Rule(
        "EU-1",
        "eu-ai-act",
        "minimal",
        "R1",
        "AI Act (no obligations; Art. 95 voluntary codes)",
        "standard",
        "Placed on the EU market: minimal risk unless another rule applies.",
        "投放欧盟市场：若无其他规则适用，则为最低风险。",
        _eu_only(_always),
        ("jurisdictions",),
    ),
    Rule(
        "EU-2",
        "eu-ai-act",
        "prohibited",
        "R0",
        "AI Act Art. 5(1)",
        "standard",
        "A prohibited AI practice.",
        "禁止的人工智能实践。",
        _eu_only(_prohibited_2024),
        ("jurisdictions", "prohibited_practices"),
    ),
    Rule(
        "EU-3",
        "eu-ai-act",
        "high_risk",
        "R3",
        "AI Act Art. 6(2), Annex III (Art. 6(3) derogation unless profiling)",
        "standard",
        "An Annex III high-risk use.",
        "属于附件三所列的高风险用途。",
        _eu_only(_annex_iii_effective),
        (
            "jurisdictions",
            "intended_use.eu_annex_iii",
            "intended_use.eu_art6_3_derogation",
            "intended_use.profiles_natural_persons",
        ),
    ),
    Rule(
        "EU-4",
        "eu-ai-act",
        "high_risk",
        "R3",
        "AI Act Art. 6(1), Annex I",
        "standard",
        "A safety component of a product under Annex I legislation.",
        "属于附件一所列立法下产品的安全组件。",
        _eu_only(_annex_i),
        ("jurisdictions", "intended_use.eu_annex_i_safety_component"),
    ),
    Rule(
        "EU-5",
        "eu-ai-act",
        "transparency",
        "R2",
        "AI Act Art. 50(1)",
        "standard",
        "People interact with it directly: they must be told it is an AI.",
        "用户与其直接交互：须告知其为人工智能。",
        _eu_only(_eu_transparency_interaction),
        ("jurisdictions", "deployment.interacts_with_people"),
    ),
    Rule(
        "EU-6",
        "eu-ai-act",
        "transparency",
        "R2",
        "AI Act Art. 50(2)",
        "standard",
        "It generates synthetic content: outputs must be marked.",
        "生成合成内容：输出须加以标记。",
        _eu_only(_eu_transparency_synthetic),
        ("jurisdictions", "deployment.generative"),
    ),
    Rule(
        "EU-7",
        "eu-ai-act",
        "transparency",
        "R2",
        "AI Act Art. 50(3)",
        "standard",
        "Emotion recognition or biometric categorisation: people exposed must be informed.",
        "情绪识别或生物特征分类：须告知相关人员。",
        _eu_only(_eu_transparency_biometric),
        ("jurisdictions", "deployment.emotion_recognition", "deployment.biometric_categorisation"),
    ),
    Rule(
        "EU-8",
        "eu-ai-act",
        "transparency",
        "R2",
        "AI Act Art. 50(4)",
        "standard",
        "Deep fakes must be disclosed.",
        "深度伪造内容须予以披露。",
        _eu_only(_eu_deep_fakes),
        ("jurisdictions", "deployment.deep_fakes"),
    ),
    Rule(
        "EU-9",
        "eu-ai-act",
        "gpai",
        "R2",
        "AI Act Art. 53",
        "standard",
        "A general-purpose AI model.",
        "通用人工智能模型。",
        _eu_only(_gpai),
        ("jurisdictions", "capabilities.general_purpose"),
    ),
    Rule(
        "EU-10",
        "eu-ai-act",
        "gpai_systemic",
        "R4",
        "AI Act Art. 51(1), 51(2) (presumed above 1e25 FLOP)",
        "standard",
        "A general-purpose model with systemic risk.",
        "具有系统性风险的通用人工智能模型。",
        _eu_only(_gpai_systemic),
        (
            "jurisdictions",
            "capabilities.general_purpose",
            "capabilities.training_compute_flop",
            "capabilities.designated_systemic_risk",
        ),
    ),
    Rule(
        "EU-11",
        "eu-ai-act",
        "prohibited",
        "R0",
        "AI Act Art. 5 as amended by the Digital Omnibus on AI (from 2026-12-02) [S]",
        "standard",
        "It generates (or can be used to generate, without effective safeguards) CSAM or non-consensual intimate imagery.",
        "生成（或在缺乏有效防护时可被用于生成）儿童性虐待材料或未经同意的私密图像。",
        _eu_only(_intimate_imagery),
        ("jurisdictions", "prohibited_practices", "capabilities.generates_csam_or_ncii"),
        date(2026, 12, 2),
    ),
    # ---- China (TC260-003 / Interim Measures / TC260 Framework) ----------------------------------
    Rule(
        "CN-1",
        "tc260-003",
        "internal_rd",
        "R1",
        "Interim Measures Art. 2",
        "standard",
        "Not offered to the public: internal R&D is outside the Interim Measures.",
        "未向公众提供：研发与内部使用不适用《暂行办法》。",
        _cn_only(_cn_internal),
        ("jurisdictions", "deployment.public_facing", "deployment.generative"),
    ),
    Rule(
        "CN-2",
        "tc260-003",
        "public_generative",
        "R2",
        "Interim Measures Art. 2, 17; TC260-003 §9; GB/T 45654-2025",
        "standard",
        "A public generative AI service: TC260-003 security assessment; filing when it has public-opinion attributes.",
        "面向公众的生成式人工智能服务：开展TC260-003安全评估；具有舆论属性或社会动员能力的须备案。",
        _cn_only(_public_generative),
        (
            "jurisdictions",
            "deployment.public_facing",
            "deployment.shapes_public_opinion",
            "deployment.generative",
        ),
    ),
    Rule(
        "CN-3",
        "tc260-003",
        "high_safety_need",
        "R3",
        "TC260-003 §7 (higher safety-need scenarios)",
        "standard",
        "A service type with higher safety needs.",
        "安全需求较高的服务类型。",
        _cn_only(_cn_high_need),
        ("jurisdictions", "intended_use.cn_high_safety_need"),
    ),
    Rule(
        "CN-4",
        "tc260-003",
        "frontier_capability",
        "R4",
        "TC260 Framework §3.2.2(c), §3.2.4(c) (alignment: proposal)",
        "proposal",
        "Dual-use or loss-of-control capability.",
        "两用物项滥用或失控能力。",
        _cn_only(_dangerous),
        ("jurisdictions", "capabilities.dangerous_capabilities"),
    ),
    Rule(
        "CN-5",
        "tc260-003",
        "prohibited_purpose",
        "R0",
        "Interim Measures Art. 4",
        "standard",
        "The service's purpose is producing prohibited content.",
        "服务以生成违法内容为目的。",
        _cn_only(_illegal_purpose),
        ("jurisdictions", "intended_use.prohibited_content_purpose"),
    ),
    Rule(
        "CN-6",
        "cn-labelling",
        "public_content",
        "R2",
        "Labelling Measures (effective 2025-09-01); GB 45438-2025 [S]",
        "standard",
        "Generated content reaches the public: explicit and implicit labels are required.",
        "生成合成内容向公众提供：须添加显式和隐式标识。",
        _cn_only(_public_content),
        ("jurisdictions", "deployment.generates_content_for_public"),
        date(2025, 9, 1),
    ),
    Rule(
        "CN-7",
        "cn-anthropomorphic",
        "anthropomorphic",
        "R2",
        "Draft measures on anthropomorphic interaction services (2025-12, proposed) [?]",
        "proposal",
        "A human-like interaction service: AI notice, long-session reminders, self-harm and minors' protections (draft).",
        "拟人化互动服务：告知人工智能身份、长时间使用提醒、自伤与未成年人保护（征求意见稿）。",
        _cn_only(_anthropomorphic),
        ("jurisdictions", "deployment.anthropomorphic"),
    ),
    Rule(
        "CN-8",
        "tc260-004",
        "gov_public_service",
        "R2",
        "TC260-004 (large-model applications in government affairs, 2025-09; secondary sources) [S]",
        "proposal",
        "A government large-model application serving the public (policy Q&A, service guidance): TC260-004.",
        "面向公众的政务大模型应用（政策问答、业务导办）：适用TC260-004。",
        _cn_only(_gov_public),
        ("jurisdictions", "intended_use.domains", "deployment.public_facing"),
        date(2025, 9, 30),
    ),
    Rule(
        "CN-9",
        "tc260-004",
        "gov_office",
        "R2",
        "TC260-004 (large-model applications in government affairs, 2025-09; secondary sources) [S]",
        "proposal",
        "A government large-model application for office support (retrieval, drafting, analysis): TC260-004.",
        "政务办公业务支撑类大模型应用（资料检索、文稿起草、数据分析）：适用TC260-004。",
        _cn_only(_gov_office),
        ("jurisdictions", "intended_use.domains", "deployment.public_facing"),
        date(2025, 9, 30),
    ),
    # ---- United States ----------------------------------------------------------------------------
    Rule(
        "US-1",
        "us-omb-m-26-04",
        "federal_procurement",
        "R2",
        "OMB M-26-04; EO 14319 (Unbiased AI Principles) [?]",
        "standard",
        "An LLM procured by a US federal agency: truth-seeking and ideological neutrality.",
        "美国联邦机构采购的大模型：求真与意识形态中立。",
        _us_only(_us_federal),
        ("jurisdictions", "deployment.us_federal_procurement"),
        date(2025, 12, 11),
    ),
)

RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)


class RuleResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    scheme: str
    tier: str
    level: str
    fired: bool
    because: tuple[str, ...] = ()
    looks_at: tuple[str, ...] = ()
    cite: str
    source: str
    text_en: str
    text_zh: str
    applies_from: date | None = None
    coming: bool = False  # the profile meets the rule, but it applies only from `applies_from`


class SchemeTier(BaseModel):
    model_config = ConfigDict(frozen=True)

    scheme: str
    applies: bool  # the profile's jurisdictions bring it into play
    tiers: tuple[str, ...] = ()  # every tier a fired rule put the system in
    primary: str | None = None  # the tier with the highest level
    level: str | None = None


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    profile: str
    level: str
    level_name_en: str
    level_name_zh: str
    decision_en: str
    decision_zh: str
    schemes: dict[str, SchemeTier]
    regime_levels: dict[str, str]  # level each regime's requirements are taken at
    regime_tiers: dict[str, tuple[str, ...]]  # active tiers of the regimes whose jurisdiction applies
    default_regimes: tuple[str, ...]  # regimes applicable to the profile's jurisdictions
    derivation: tuple[RuleResult, ...]
    notes: tuple[str, ...] = ()
    notes_zh: tuple[str, ...] = ()
    as_of: date | None = None  # the date the rules were applied on
    editions: dict[str, str] = {}  # regime → the edition applying on `as_of`
    #: facts that change when obligations apply (e.g. "eu_annex_i_only": high-risk only as
    #: an Annex I product component, whose obligations apply later than Annex III ones)
    date_contexts: tuple[str, ...] = ()
    #: capabilities that bring capability-restricted requirements into play (Requirement.features)
    features: tuple[str, ...] = ()

    @property
    def coming(self) -> tuple[RuleResult, ...]:
        """Rules the profile meets that apply only from a later date."""
        return tuple(r for r in self.derivation if r.coming)

    @property
    def fired(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.derivation if r.fired)

    @property
    def do_not_deploy(self) -> bool:
        return self.level == "R0"


def evaluate_rules(profile: Profile, as_of: date | None = None) -> tuple[RuleResult, ...]:
    """Every rule on `profile`; a dated rule does not fire before its date (it is `coming`)."""
    day = as_of or parse_as_of(None)
    out = []
    for rule in RULES:
        why = rule.test(profile)
        coming = bool(why) and rule.applies_from is not None and day < rule.applies_from
        out.append(
            RuleResult(
                rule=rule.id,
                scheme=rule.scheme,
                tier=rule.tier,
                level=rule.level,
                fired=bool(why) and not coming,
                coming=coming,
                applies_from=rule.applies_from,
                because=tuple(why),
                looks_at=rule.looks_at,
                cite=rule.cite,
                source=rule.source,
                text_en=rule.text_en,
                text_zh=rule.text_zh,
            )
        )
    return tuple(out)


def _scheme_tier(scheme: str, applies: bool, results: tuple[RuleResult, ...]) -> SchemeTier:
    fired = [r for r in results if r.fired and r.scheme == scheme]
    if scheme == "eu-ai-act" and any(r.tier != "minimal" for r in fired):
        fired = [r for r in fired if r.tier != "minimal"]  # "minimal" only when nothing else applies
    tiers = tuple(dict.fromkeys(r.tier for r in fired))
    if not fired:
        return SchemeTier(scheme=scheme, applies=applies, tiers=())
    top = max(fired, key=lambda r: level_rank(r.level))
    return SchemeTier(scheme=scheme, applies=applies, tiers=tiers, primary=top.tier, level=top.level)


def default_regimes(profile: Profile, fired_schemes: set[str] | None = None) -> tuple[str, ...]:
    """Regimes (packaged and plug-ins') whose jurisdictions meet the profile's (global ones
    always); a gated regime (GATED_REGIMES) only when one of its rules fired."""
    if fired_schemes is None:
        fired_schemes = {r.scheme for r in evaluate_rules(profile) if r.fired}
    return tuple(
        rid
        for rid in regime_ids()
        if load_regime(rid).applies_to(profile.jurisdictions)
        and (rid not in GATED_REGIMES or rid in fired_schemes)
    )


def classify(profile: Profile, as_of: date | str | None = None) -> Classification:
    """Level, per-regime tiers and rule-by-rule derivation of a profile on `as_of` (default today)."""
    day = parse_as_of(as_of)
    results = evaluate_rules(profile, day)
    level = max_level([r.level for r in results if r.fired])
    juris = set(profile.jurisdictions)
    schemes = {
        "eu-ai-act": _scheme_tier("eu-ai-act", "EU" in juris, results),
        "tc260-003": _scheme_tier("tc260-003", "CN" in juris, results),
        "cn-labelling": _scheme_tier("cn-labelling", "CN" in juris, results),
        "cn-anthropomorphic": _scheme_tier("cn-anthropomorphic", "CN" in juris, results),
        "tc260-004": _scheme_tier("tc260-004", "CN" in juris, results),
        "us-omb-m-26-04": _scheme_tier("us-omb-m-26-04", "US" in juris, results),
        "capability": _scheme_tier("capability", True, results),
        "unified": _scheme_tier("unified", True, results),
    }
    regime_levels: dict[str, str] = {}
    regime_tiers: dict[str, tuple[str, ...]] = {}
    for rid in regime_ids():  # a plug-in regime has no scheme: it takes the profile's level
        st = schemes.get(rid)
        if st is not None and st.applies and st.level is not None:
            regime_levels[rid] = st.level
            regime_tiers[rid] = st.tiers
        elif rid in GATED_REGIMES:
            regime_levels[rid] = level
            regime_tiers[rid] = ()  # not triggered: its tier-bound requirements do not apply
        else:
            regime_levels[rid] = level  # tier restrictions are ignored for regimes without tiers here
    notes: list[str] = []
    notes_zh: list[str] = []
    if "public_generative" in schemes["tc260-003"].tiers:
        if profile.deployment.shapes_public_opinion:
            notes.append(
                "CN: public-opinion attributes → security assessment and algorithm filing (Interim Measures Art. 17)"
            )
            notes_zh.append(
                "中国：具有舆论属性或社会动员能力 → 开展安全评估并履行算法备案（《暂行办法》第十七条）"
            )
        else:
            notes.append(
                "CN: TC260-003 assessment applies; Art. 17 filing is triggered by public-opinion attributes (answered no)"
            )
            notes_zh.append("中国：适用TC260-003安全评估；第十七条备案以具有舆论属性为前提（本画像回答为否）")
    if profile.users.minors:
        notes.append(
            "users.minors: minors-protection measures apply (TC260-003 §7, Interim Measures Art. 10, AI Act Art. 9(9))"
        )
        notes_zh.append(
            "users.minors：须采取未成年人保护措施（TC260-003 第7章、《暂行办法》第十条、欧盟《人工智能法》第9(9)条）"
        )
    for r in results:
        if r.coming:
            notes.append(
                f"{r.rule} ({r.cite}) applies from {r.applies_from}: the profile meets it; not counted on {day}"
            )
            notes_zh.append(f"{r.rule}（{r.cite}）自{r.applies_from}起适用：本画像符合其条件；{day}尚不计入")
    if "CN" in juris and "government" in profile.intended_use.domains:
        notes.append(
            "CN government sector: TC260-004 (large-model applications in government affairs, 2025-09) is encoded"
            " from secondary sources [S] — clause numbers unverified, thresholds are proposals"
        )
        notes_zh.append(
            "中国政务领域：TC260-004（政务大模型应用安全规范，2025-09）依据二手资料编码 [S]——条款号未核实，阈值为建议值"
        )
    fired_schemes = {r.scheme for r in results if r.fired}
    chosen = default_regimes(profile, fired_schemes)
    for rid in chosen:
        for other in load_regime(rid).conflicts:
            if other in chosen:
                reg = load_regime(rid)
                notes.append(
                    f"{rid} and {other} pull in opposite directions: {reg.notes_en[0] if reg.notes_en else ''}"
                )
                notes_zh.append(f"{rid} 与 {other} 要求方向相反：{reg.notes_zh[0] if reg.notes_zh else ''}")
    c = profile.capabilities
    indicative = load_regime("eu-ai-act").parameter("gpai_indicative_flop").value
    flop = c.training_compute_flop
    if "EU" in juris and not c.general_purpose and flop is not None and flop > indicative:
        notes.append(
            f"EU: training compute {flop:.3g} FLOP is above the indicative {_sci(indicative)} criterion of the"
            " Commission's GPAI guidelines: the model is presumed general-purpose unless shown otherwise"
            " (answer capabilities.general_purpose)"
        )
        notes_zh.append(
            f"欧盟：训练算力 {flop:.3g} FLOP 超过委员会通用模型指南的指示性标准 {_sci(indicative)}，推定为通用模型"
        )
    u = profile.intended_use
    if u.eu_art6_3_derogation and u.eu_annex_iii and not u.profiles_natural_persons:
        notes.append(
            "EU: Art. 6(3) derogation claimed for an Annex III use; document the assessment (Art. 6(4))"
        )
        notes_zh.append("欧盟：对附件三用途主张第6(3)条豁免；须记录评估（第6(4)条）")
    name_en, name_zh = LEVEL_NAMES[level]
    dec_en, dec_zh = DECISIONS[level]
    return Classification(
        profile=profile.name,
        level=level,
        level_name_en=name_en,
        level_name_zh=name_zh,
        decision_en=dec_en,
        decision_zh=dec_zh,
        schemes=schemes,
        regime_levels=regime_levels,
        regime_tiers=regime_tiers,
        default_regimes=chosen,
        derivation=results,
        notes=tuple(notes),
        notes_zh=tuple(notes_zh),
        as_of=day,
        editions={rid: edition_label(load_regime(rid), day) for rid in regime_ids()},
        date_contexts=_date_contexts(results),
        features=tuple(
            f for f in ("tool_use", "autonomous_agent") if getattr(profile.capabilities, f, False)
        ),
    )


def _date_contexts(results: tuple[RuleResult, ...]) -> tuple[str, ...]:
    fired = {r.rule for r in results if r.fired}
    return ("eu_annex_i_only",) if "EU-4" in fired and "EU-3" not in fired else ()
