"""Profile: a YAML declaration of the AI system under assessment.

`load_profile(path)` validates it and reports every bad field as
`profile.yaml: users.minors: Input should be a valid boolean`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.core.io import parse_yaml, read_yaml_file, validate_as
from assay.core.types import Language

AnnexIIIArea = Literal[
    "biometrics",
    "critical_infrastructure",
    "education",
    "employment",
    "essential_services",
    "law_enforcement",
    "migration",
    "justice_democracy",
]
ANNEX_III_AREAS: tuple[str, ...] = AnnexIIIArea.__args__  # type: ignore[attr-defined]

CNHighSafetyNeed = Literal[
    "critical_information_infrastructure",
    "automated_control",
    "medical_information",
    "psychological_counselling",
    "financial_information",
]
CN_HIGH_SAFETY_NEED: tuple[str, ...] = CNHighSafetyNeed.__args__  # type: ignore[attr-defined]

ProhibitedPractice = Literal[
    "subliminal_manipulation",
    "exploiting_vulnerabilities",
    "social_scoring",
    "predictive_policing_profiling",
    "facial_image_scraping",
    "emotion_recognition_work_education",
    "biometric_categorisation_sensitive",
    "realtime_remote_biometric_identification",
    "csam_or_ncii_generation",  # Digital Omnibus: AI generating CSAM / non-consensual intimate imagery (from 2026-12-02)
]
PROHIBITED_PRACTICES: tuple[str, ...] = ProhibitedPractice.__args__  # type: ignore[attr-defined]

DangerousCapability = Literal["cbrn", "cyber_offence", "autonomy", "harmful_manipulation"]
DANGEROUS_CAPABILITIES: tuple[str, ...] = DangerousCapability.__args__  # type: ignore[attr-defined]

UseDomain = Literal[
    "general",
    "customer_service",
    "education",
    "health",
    "finance",
    "legal",
    "employment",
    "government",
    "media",
    "entertainment",
    "security",
    "research",
    "software",
    "other",
]
USE_DOMAINS: tuple[str, ...] = UseDomain.__args__  # type: ignore[attr-defined]

Jurisdiction = Literal["CN", "EU", "US", "UK", "SG", "other"]
JURISDICTIONS: tuple[str, ...] = Jurisdiction.__args__  # type: ignore[attr-defined]

Modality = Literal["text", "image", "audio", "video", "code"]
MODALITIES: tuple[str, ...] = Modality.__args__  # type: ignore[attr-defined]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntendedUse(_Section):
    purpose: str = ""
    domains: tuple[UseDomain, ...] = ()
    eu_annex_iii: tuple[AnnexIIIArea, ...] = ()  # EU AI Act Annex III areas the use falls in
    eu_annex_i_safety_component: bool = False  # safety component of a product under Annex I legislation
    eu_art6_3_derogation: bool = False  # narrow procedural / preparatory task with no significant risk
    profiles_natural_persons: bool = False  # profiling of people (voids the Art. 6(3) derogation)
    cn_high_safety_need: tuple[CNHighSafetyNeed, ...] = ()  # TC260-003 §7 service types
    prohibited_content_purpose: bool = False  # the service exists to produce illegal content


class Deployment(_Section):
    public_facing: bool = False  # offered to the public (not internal R&D)
    shapes_public_opinion: bool = False  # public-opinion attributes / social-mobilisation capability
    generative: bool = True  # generates text, images, audio or video
    interacts_with_people: bool = False  # people converse with it directly (chatbot, assistant)
    deep_fakes: bool = False  # generates realistic likenesses of real people, places or events
    emotion_recognition: bool = False
    biometric_categorisation: bool = False
    generates_content_for_public: bool = (
        False  # generated text/images/audio/video reach the public (CN labelling)
    )
    anthropomorphic: bool = False  # human-like interaction: companion, virtual persona, emotional chat
    us_federal_procurement: bool = False  # an LLM bought or used by a US federal agency (OMB M-26-04)


class Users(_Section):
    general_public: bool = False
    minors: bool = False
    vulnerable_groups: bool = False
    professionals: bool = False


class Capabilities(_Section):
    general_purpose: bool = False  # a general-purpose (foundation) model
    training_compute_flop: float | None = Field(default=None, ge=0)  # cumulative training compute
    designated_systemic_risk: bool = False  # designated by the European Commission (Art. 51(1)(b))
    open_weights: bool = False
    tool_use: bool = False
    autonomous_agent: bool = False
    dangerous_capabilities: tuple[
        DangerousCapability, ...
    ] = ()  # frontier thresholds reached or not ruled out
    # can produce sexual imagery of minors or intimate imagery of identifiable people without
    # consent (no effective safeguard): prohibited in the EU from 2026-12-02 (Digital Omnibus)
    generates_csam_or_ncii: bool = False


class Profile(BaseModel):
    """What the AI system is, who uses it, where, and what it can do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    name: str = Field(min_length=1)
    description: str = ""
    provider: str = ""
    intended_use: IntendedUse = IntendedUse()
    deployment: Deployment = Deployment()
    users: Users = Users()
    capabilities: Capabilities = Capabilities()
    jurisdictions: tuple[Jurisdiction, ...] = Field(min_length=1)
    modalities: tuple[Modality, ...] = ("text",)
    languages: tuple[Language, ...] = ("zh", "en")
    prohibited_practices: tuple[ProhibitedPractice, ...] = ()

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != 1:
            raise ValueError("only profile version 1 is known")
        return v

    @field_validator("jurisdictions", "modalities", "languages", "prohibited_practices")
    @classmethod
    def _no_duplicates(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("duplicate entries")
        return v


def profile_from_dict(data: Any, where: str = "profile") -> Profile:
    return validate_as(Profile, data, where)


def parse_profile(text: str, where: str = "profile.yaml") -> Profile:
    return profile_from_dict(parse_yaml(text, where), where)


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; errors name the file and the field path."""
    return profile_from_dict(read_yaml_file(path), str(path))
