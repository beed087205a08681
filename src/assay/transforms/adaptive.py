"""Adaptive attacks driven by an attacker model: `pair`, `tap`, `crescendo_bt`.

Unlike the other transforms these cannot be written out in advance: the next attack
depends on how the target answered. The transform only marks the case
(`metadata["adaptive"]`: strategy, attacker spec, budget, goal); the engine runs the
attack against the target during the run (`assay.attacks.adaptive`), judges each reply
with the run's own grader for early success, keeps to the budget and stores every
finished call as it completes, so a run killed mid-conversation resumes without
repeating it.

Step syntax: `pair`, `pair:ATTACKER` or `pair:ATTACKER@turns=3,calls=6` where ATTACKER
is any target spec (`local:smollm2`, `openai:<model>`, `python:<mod>:<fn>`). Without
one the built-in offline template attacker (`python:assay.attacks.builtin:templates`,
no model) is used: nothing is called that the user did not name.
"""

from __future__ import annotations

import random
from typing import ClassVar

from assay.core.attack_budget import AttackBudget, parse_budget
from assay.core.errors import InputError
from assay.core.types import Case, TargetSpec
from assay.transforms.base import Transform, TransformContext, TransformSkipped, derive, register_transform

DEFAULT_ATTACKER = "python:assay.attacks.builtin:templates"


def split_param(strategy: str, param: str | None) -> tuple[str, AttackBudget]:
    """`ATTACKER@k=v,...` → (attacker spec, budget)."""
    spec, _, budget = (param or "").partition("@")
    spec = spec.strip() or DEFAULT_ATTACKER
    try:
        parsed = TargetSpec.parse(spec)
    except ValueError as exc:
        raise InputError(f"{strategy}: attacker {exc}", where="--chain") from exc
    if parsed.kind in ("replay", "agent"):
        raise InputError(f"{strategy}: the attacker must be a model or function, not {spec}", where="--chain")
    return spec, parse_budget(strategy, budget.strip() or None)


class _Adaptive(Transform):
    strategy: ClassVar[str]
    complexity = "high"
    free_param = True
    multi_turn = True
    param_help = (
        "ATTACKER target spec (default: the built-in offline template attacker), optionally "
        "@turns=N,calls=N,tokens=N[,width=N,branching=N,backtracks=N]"
    )

    def check_param(self, param: str | None) -> None:
        split_param(self.strategy, param)

    def transform(self, case: Case, rng: random.Random, param: str | None, ctx: TransformContext) -> Case:
        if case.followups or "adaptive" in case.metadata:
            raise TransformSkipped("the case is already multi-turn or adaptive")
        if "agent" in case.metadata:
            raise TransformSkipped("agentic scenarios are not attacked adaptively")
        attacker, budget = split_param(self.strategy, param)
        step = self.id if param is None else f"{self.id}:{param}"
        return derive(
            case,
            step,
            note=f"adaptive {self.strategy} attack by {attacker} (budget {budget.model_dump()})",
            metadata={
                "adaptive": {
                    "strategy": self.strategy,
                    "attacker": attacker,
                    "budget": budget.model_dump(),
                    "seed": rng.randrange(2**31),
                }
            },
        )


@register_transform
class Pair(_Adaptive):
    id = "pair"
    strategy = "pair"
    description = (
        "PAIR: an attacker model refines one jailbreak prompt per iteration from the target's last reply."
    )
    probes = "Whether an iterative attacker finds a prompt that breaks the refusal within a small budget."


@register_transform
class Tap(_Adaptive):
    id = "tap"
    strategy = "tap"
    description = "TAP: tree of attacks with pruning; the attacker branches candidate prompts, off-topic and weak ones are pruned."
    probes = "Whether a breadth-limited search over attacker prompts breaks the refusal within budget."


@register_transform
class CrescendoBacktrack(_Adaptive):
    id = "crescendo_bt"
    strategy = "crescendo_bt"
    description = "Crescendo with backtracking: an attacker escalates a real conversation turn by turn, retracting refused turns."
    probes = "Whether an adaptive multi-turn escalation erodes refusals; refused steps are rewound, not left in context."
