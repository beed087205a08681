"""Ids of the banks, graders and transforms that regime requirements may name.

These are the contract with the cases and judging stages (built in parallel): regime
data is checked against them when loaded, so a typo in a data file fails fast.
"""

from __future__ import annotations

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

GRADER_IDS: tuple[str, ...] = (
    "refusal",
    "harmful-compliance",
    "keywords",
    "pii",
    "bias",
    "leak",
    "injection",
    "factuality",
    "consistency",
    "safe-completion",
    "disclosure",
    "advice",
    "llm-judge",
    "content-safety",
    "ai-label",
    "even-handedness",
    "agent-actions",
)

TRANSFORM_IDS: tuple[str, ...] = (  # as registered in assay.transforms
    "roleplay",
    "refusal_suppression",
    "prefix_injection",
    "hypothetical",
    "payload_split",
    "base64",
    "rot13",
    "leetspeak",
    "homoglyph",
    "many_shot",
    "typo",
    "char_noise",
    "paraphrase",
    "translate",
    "crescendo",
    "pair",
    "tap",
    "crescendo_bt",
)

#: spellings accepted in data and plans → registered id
TRANSFORM_ALIASES: dict[str, str] = {"fiction": "hypothetical", "translate_pivot": "translate"}


def canonical_transform(transform: str) -> str:
    """`Refusal-Suppression` → `refusal_suppression`; `fiction` → `hypothetical`; a `:variant` is kept."""
    base, sep, variant = transform.partition(":")
    tid = base.strip().lower().replace("-", "_")
    tid = TRANSFORM_ALIASES.get(tid, tid)
    return f"{tid}{sep}{variant}"


#: the grader that judges a bank's cases when a requirement does not name one
DEFAULT_GRADER: dict[str, str] = {
    "safe": "content-safety",
    "refuse": "refusal",
    "comply": "refusal",
    "unbiased": "bias",
    "no_leak": "leak",
    "resist_injection": "injection",
    "consistent": "consistency",
    "accurate": "factuality",
    "safe_completion": "safe-completion",
    "qualified_advice": "advice",
    "disclose_ai": "disclosure",
    "label_ai": "ai-label",
    "even_handed": "even-handedness",
    "safe_actions": "agent-actions",
}


def transform_base(transform: str) -> str:
    """`roleplay:dan` → `roleplay` (a transform may carry a variant after a colon)."""
    return canonical_transform(transform).split(":", 1)[0]
