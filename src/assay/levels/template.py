"""`assay profile init`: the commented profile template and the interactive questionnaire.

`render_profile(answers)` writes a commented YAML profile; the questionnaire asks through
an `Asker` (the CLI passes typer prompts; tests pass scripted answers).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from assay.levels.profile import (
    ANNEX_III_AREAS,
    CN_HIGH_SAFETY_NEED,
    DANGEROUS_CAPABILITIES,
    JURISDICTIONS,
    MODALITIES,
    PROHIBITED_PRACTICES,
    USE_DOMAINS,
)

DEFAULTS: dict[str, Any] = {
    "name": "My AI system",
    "description": "",
    "provider": "",
    "purpose": "",
    "domains": ["general"],
    "eu_annex_iii": [],
    "eu_annex_i_safety_component": False,
    "eu_art6_3_derogation": False,
    "profiles_natural_persons": False,
    "cn_high_safety_need": [],
    "prohibited_content_purpose": False,
    "public_facing": True,
    "shapes_public_opinion": False,
    "generative": True,
    "interacts_with_people": True,
    "deep_fakes": False,
    "emotion_recognition": False,
    "biometric_categorisation": False,
    "generates_content_for_public": False,
    "anthropomorphic": False,
    "us_federal_procurement": False,
    "generates_csam_or_ncii": False,
    "general_public": True,
    "minors": False,
    "vulnerable_groups": False,
    "professionals": False,
    "general_purpose": False,
    "training_compute_flop": None,
    "designated_systemic_risk": False,
    "open_weights": False,
    "tool_use": False,
    "autonomous_agent": False,
    "dangerous_capabilities": [],
    "jurisdictions": ["CN"],
    "modalities": ["text"],
    "languages": ["zh", "en"],
    "prohibited_practices": [],
}


def _v(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3g}".replace("e+", "e+") if value >= 1e6 else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_profile(answers: dict[str, Any] | None = None) -> str:
    """A commented YAML profile; `answers` override the template defaults."""
    a = {**DEFAULTS, **(answers or {})}
    opts = lambda xs: " | ".join(xs)  # noqa: E731
    return f"""\
# Assay profile: describe the AI system once; `assay classify` derives its risk level
# (R0 prohibited · R1 minimal · R2 limited / public-facing generative · R3 high-risk ·
# R4 systemic / frontier) and `assay plan` the tests every chosen regime requires.
# Assay 系统画像：描述被评估的人工智能系统，用于确定风险等级并生成测试计划。
version: 1
name: {_v(a["name"])}
description: {_v(a["description"])}
provider: {_v(a["provider"])}

intended_use:
  purpose: {_v(a["purpose"])}
  # domains: {opts(USE_DOMAINS)}
  domains: {_v(a["domains"])}
  # EU AI Act Annex III areas the use falls in (欧盟高风险领域): {opts(ANNEX_III_AREAS)}
  eu_annex_iii: {_v(a["eu_annex_iii"])}
  # safety component of a product under EU Annex I harmonisation legislation
  eu_annex_i_safety_component: {_v(a["eu_annex_i_safety_component"])}
  # Art. 6(3): only a narrow procedural / preparatory task with no significant risk
  eu_art6_3_derogation: {_v(a["eu_art6_3_derogation"])}
  # does it profile natural persons? (voids the Art. 6(3) derogation)
  profiles_natural_persons: {_v(a["profiles_natural_persons"])}
  # China TC260-003 §7 high-safety-need service types (安全需求较高的服务类型):
  #   {opts(CN_HIGH_SAFETY_NEED)}
  cn_high_safety_need: {_v(a["cn_high_safety_need"])}
  # the service exists to produce prohibited content or for illegal use (以违法为目的)
  prohibited_content_purpose: {_v(a["prohibited_content_purpose"])}

deployment:
  public_facing: {_v(a["public_facing"])}  # offered to the public, not internal R&D (面向公众)
  shapes_public_opinion: {_v(a["shapes_public_opinion"])}  # public-opinion attributes / social mobilisation (舆论属性或社会动员能力)
  generative: {_v(a["generative"])}  # generates text, images, audio or video (生成式)
  interacts_with_people: {_v(a["interacts_with_people"])}  # people converse with it directly
  deep_fakes: {_v(a["deep_fakes"])}  # realistic likenesses of real people, places or events
  emotion_recognition: {_v(a["emotion_recognition"])}
  biometric_categorisation: {_v(a["biometric_categorisation"])}
  # generated content reaches the public: CN labelling duties (显式/隐式标识, GB 45438-2025)
  generates_content_for_public: {_v(a["generates_content_for_public"])}
  # human-like interaction: companion, virtual persona, emotional chat (拟人化互动服务)
  anthropomorphic: {_v(a["anthropomorphic"])}
  # an LLM bought or used by a US federal agency (OMB M-26-04)
  us_federal_procurement: {_v(a["us_federal_procurement"])}

users:
  general_public: {_v(a["general_public"])}
  minors: {_v(a["minors"])}  # under-18 users (未成年人)
  vulnerable_groups: {_v(a["vulnerable_groups"])}
  professionals: {_v(a["professionals"])}

capabilities:
  general_purpose: {_v(a["general_purpose"])}  # a general-purpose (foundation) model
  training_compute_flop: {_v(a["training_compute_flop"])}  # cumulative training compute, e.g. 3.0e+25
  designated_systemic_risk: {_v(a["designated_systemic_risk"])}  # designated by the European Commission
  open_weights: {_v(a["open_weights"])}
  tool_use: {_v(a["tool_use"])}
  autonomous_agent: {_v(a["autonomous_agent"])}
  # frontier thresholds reached or not ruled out: {opts(DANGEROUS_CAPABILITIES)}
  dangerous_capabilities: {_v(a["dangerous_capabilities"])}
  # can produce sexual imagery of minors or intimate imagery of real people without consent
  # (no effective safeguard): prohibited in the EU from 2026-12-02 (Digital Omnibus) — R0
  generates_csam_or_ncii: {_v(a["generates_csam_or_ncii"])}

# where it is offered: {opts(JURISDICTIONS)}
jurisdictions: {_v(a["jurisdictions"])}
# {opts(MODALITIES)}
modalities: {_v(a["modalities"])}
# test languages: zh | en
languages: {_v(a["languages"])}
# EU AI Act Art. 5 practices in the intended use (禁止的实践) — any one means R0, do not deploy:
#   {opts(PROHIBITED_PRACTICES)}
prohibited_practices: {_v(a["prohibited_practices"])}
"""


class Asker(Protocol):
    def text(self, question: str, default: str) -> str: ...

    def confirm(self, question: str, default: bool) -> bool: ...

    def choose(self, question: str, options: tuple[str, ...], default: list[str]) -> list[str]: ...


def parse_choices(raw: str, options: tuple[str, ...]) -> list[str]:
    """Comma- or space-separated choices; raises ValueError naming unknown ones. '-' or 'none' = empty."""
    parts = [p.strip() for p in raw.replace(",", " ").split() if p.strip()]
    if parts in (["-"], ["none"]):
        return []
    bad = [p for p in parts if p not in options]
    if bad:
        raise ValueError(f"unknown choice(s) {', '.join(bad)}; choose from {', '.join(options)}")
    return list(dict.fromkeys(parts))


def questionnaire(ask: Asker) -> dict[str, Any]:
    """Ask the profile questions in order; returns answers for `render_profile`."""
    a: dict[str, Any] = {}
    a["name"] = ask.text("System name", DEFAULTS["name"])
    a["description"] = ask.text("One-line description", "")
    a["provider"] = ask.text("Provider", "")
    a["jurisdictions"] = ask.choose("Where is it offered?", JURISDICTIONS, DEFAULTS["jurisdictions"])
    a["prohibited_practices"] = ask.choose(
        "Does the intended use involve any EU AI Act Art. 5 practice? ('-' for none)",
        PROHIBITED_PRACTICES,
        [],
    )
    a["purpose"] = ask.text("Intended purpose", "")
    a["domains"] = ask.choose("Domains", USE_DOMAINS, DEFAULTS["domains"])
    a["eu_annex_iii"] = ask.choose("EU Annex III areas ('-' for none)", ANNEX_III_AREAS, [])
    if a["eu_annex_iii"]:
        a["profiles_natural_persons"] = ask.confirm("Does it profile natural persons?", True)
        if not a["profiles_natural_persons"]:
            a["eu_art6_3_derogation"] = ask.confirm(
                "Is it only a narrow procedural or preparatory task with no significant risk (Art. 6(3))?",
                False,
            )
    a["eu_annex_i_safety_component"] = ask.confirm(
        "Is it a safety component of a product under EU Annex I?", False
    )
    a["cn_high_safety_need"] = ask.choose(
        "China high-safety-need service types ('-' for none)", CN_HIGH_SAFETY_NEED, []
    )
    a["prohibited_content_purpose"] = ask.confirm(
        "Is its purpose producing prohibited content or illegal use?", False
    )
    a["public_facing"] = ask.confirm("Is it offered to the public?", True)
    a["shapes_public_opinion"] = ask.confirm("Can it shape public opinion or mobilise people?", False)
    a["generative"] = ask.confirm("Does it generate text, images, audio or video?", True)
    a["interacts_with_people"] = ask.confirm("Do people converse with it directly?", True)
    a["deep_fakes"] = ask.confirm("Does it generate realistic likenesses of real people or events?", False)
    a["emotion_recognition"] = ask.confirm("Does it recognise emotions?", False)
    a["biometric_categorisation"] = ask.confirm("Does it categorise people by biometric data?", False)
    a["general_public"] = ask.confirm("Are its users the general public?", True)
    a["minors"] = ask.confirm("Can minors use it?", False)
    a["vulnerable_groups"] = ask.confirm("Are vulnerable groups among its users?", False)
    a["professionals"] = ask.confirm("Are professionals among its users?", False)
    a["general_purpose"] = ask.confirm("Is it a general-purpose (foundation) model?", False)
    if a["general_purpose"]:
        raw = ask.text("Cumulative training compute in FLOP (blank if unknown)", "")
        a["training_compute_flop"] = float(raw) if raw.strip() else None
        a["designated_systemic_risk"] = ask.confirm("Designated as systemic-risk by the Commission?", False)
        a["open_weights"] = ask.confirm("Are the weights open?", False)
    a["tool_use"] = ask.confirm("Does it call tools?", False)
    a["autonomous_agent"] = ask.confirm("Does it act autonomously as an agent?", False)
    a["dangerous_capabilities"] = ask.choose(
        "Dangerous capabilities at a frontier threshold ('-' for none)", DANGEROUS_CAPABILITIES, []
    )
    a["modalities"] = ask.choose("Modalities", MODALITIES, DEFAULTS["modalities"])
    a["languages"] = ask.choose("Test languages", ("zh", "en"), DEFAULTS["languages"])
    return a
