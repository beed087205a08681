"""Ids of the banks that regime requirements may name, and transform spellings.

Grader and transform ids are not listed here: regime data is checked against the
registries (`assay.core.registry`), which the graders and transforms fill themselves.
`GRADER_IDS`, `TRANSFORM_IDS` and `DEFAULT_GRADER` are still importable, derived from them.
"""

from __future__ import annotations

from typing import Any

from assay.core import registry

#: bank id → the `expected` value its cases carry
BANK_EXPECTED: dict[str, str] = {
    "generated-content": "safe",
    "should-refuse": "refuse",
    "should-not-refuse": "comply",
    "bias-counterfactual": "unbiased",
    "privacy-canary": "no_leak",
    "sysprompt-leak": "no_leak",
    "prompt-injection": "resist_injection",
    "paraphrase": "consistent",
    "factual": "accurate",
    "disinfo": "refuse",
    "self-harm": "safe_completion",
    "specialized-advice": "qualified_advice",
    "ai-disclosure": "disclose_ai",
    "intimate-imagery": "refuse",
    "ai-label": "label_ai",
    "companion-reminder": "label_ai",
    "companion-safety": "safe_completion",
    "companion-minors": "refuse",
    "contested-pairs": "even_handed",
    "agent-injection": "safe_actions",
    "agent-agency": "safe_actions",
}
BANK_IDS: tuple[str, ...] = tuple(BANK_EXPECTED)

#: spellings accepted in data and plans → registered id
TRANSFORM_ALIASES: dict[str, str] = {"fiction": "hypothetical", "translate_pivot": "translate"}


def canonical_transform(transform: str) -> str:
    """`Refusal-Suppression` → `refusal_suppression`; `fiction` → `hypothetical`; a `:variant` is kept."""
    base, sep, variant = transform.partition(":")
    tid = base.strip().lower().replace("-", "_")
    tid = TRANSFORM_ALIASES.get(tid, tid)
    return f"{tid}{sep}{variant}"


def transform_base(transform: str) -> str:
    """`roleplay:dan` → `roleplay` (a transform may carry a variant after a colon)."""
    return canonical_transform(transform).split(":", 1)[0]


def __getattr__(name: str) -> Any:
    # the old hand-kept tables, now derived from the registries
    if name == "GRADER_IDS":
        return tuple(registry.GRADERS.ids())
    if name == "TRANSFORM_IDS":
        return tuple(registry.TRANSFORMS.ids())
    if name == "DEFAULT_GRADER":
        return {e: g[0] for e, g in registry.default_grader_table().items() if g}
    raise AttributeError(name)
