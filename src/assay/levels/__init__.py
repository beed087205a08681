"""levels stage: profile → level (R0–R4) → plan.

Pure functions the API and CLI call:
`load_profile(path)`, `classify(profile)`, `build_plan(profile_or_level, regimes, ...)`,
`dump_plan(plan)`, `load_plan(path)`, `plan_warnings(plan)`, `example_profiles()`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from assay.levels.classify import (
    LEVEL_NAMES,
    RULES,
    Classification,
    RuleResult,
    SchemeTier,
    classify,
    default_regimes,
    evaluate_rules,
    level_rank,
    max_level,
)
from assay.levels.plan import BankStats, EstimateParams, bank_stats_from, build_plan, estimate_items, serves
from assay.levels.plan_io import (
    check_plan,
    dump_plan,
    load_plan,
    parse_plan,
    plan_from_dict,
    plan_to_dict,
    plan_warnings,
    save_plan,
)
from assay.levels.plan_model import Estimate, Plan, PlanItem
from assay.levels.profile import Profile, load_profile, parse_profile, profile_from_dict
from assay.levels.template import questionnaire, render_profile

EXAMPLES: tuple[str, ...] = (
    "cn-public-chatbot",
    "eu-cv-screening",
    "gpai-frontier-model",
    "social-scoring",
    "eu-image-generator",
    "cn-companion-chat",
    "us-federal-assistant",
    "cn-government-assistant",
    "cn-government-office",
)


def example_profile_text(name: str) -> str:
    """The YAML text of a shipped example profile."""
    return resources.files("assay.levels").joinpath("examples", f"{name}.yaml").read_text(encoding="utf-8")


def example_profiles() -> dict[str, Profile]:
    """The shipped example profiles, by name."""
    return {n: parse_profile(example_profile_text(n), f"examples/{n}.yaml") for n in EXAMPLES}


def example_profile_path(name: str) -> Path:
    return Path(str(resources.files("assay.levels").joinpath("examples", f"{name}.yaml")))


def resolve_profile(ref: str | Path) -> Path:
    """A profile file, or the name of a shipped example (e.g. `cn-public-chatbot`)."""
    path = Path(ref)
    if not path.exists() and str(ref) in EXAMPLES:
        return example_profile_path(str(ref))
    return path


__all__ = [
    "EXAMPLES",
    "LEVEL_NAMES",
    "RULES",
    "BankStats",
    "Classification",
    "Estimate",
    "EstimateParams",
    "Plan",
    "PlanItem",
    "Profile",
    "RuleResult",
    "SchemeTier",
    "bank_stats_from",
    "build_plan",
    "check_plan",
    "classify",
    "default_regimes",
    "dump_plan",
    "estimate_items",
    "evaluate_rules",
    "example_profile_path",
    "example_profile_text",
    "example_profiles",
    "level_rank",
    "load_plan",
    "load_profile",
    "max_level",
    "parse_plan",
    "parse_profile",
    "plan_from_dict",
    "plan_to_dict",
    "plan_warnings",
    "profile_from_dict",
    "questionnaire",
    "render_profile",
    "resolve_profile",
    "save_plan",
    "serves",
]
