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

An attack judge (`--attack-judge SPEC`, `with_attack_judge`) is stamped into the marked
cases (`metadata["adaptive"]["judge"]`), so it is part of the case (its id, the response
cache key, what a resume reads back). It only steers the search; the run's graders judge
the outcome.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from assay.core.attack_budget import DEFAULT_JUDGE_THRESHOLD, AttackBudget, parse_budget
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


def check_attack_judge(spec: str, threshold: int = DEFAULT_JUDGE_THRESHOLD) -> str:
    """The attack judge spec, checked (InputError naming --attack-judge when it is bad)."""
    spec = spec.strip()
    try:
        parsed = TargetSpec.parse(spec)
    except ValueError as exc:
        raise InputError(f"attack judge {exc}", where="--attack-judge") from exc
    if parsed.kind in ("replay", "agent"):
        raise InputError(f"the attack judge must be a model or function, not {spec}", where="--attack-judge")
    if not 1 <= threshold <= 10:
        raise InputError(f"a rating from 1 to 10 (got {threshold})", where="--attack-judge-threshold")
    return spec


def with_attack_judge(
    cases: Sequence[Case], spec: str, threshold: int = DEFAULT_JUDGE_THRESHOLD
) -> tuple[list[Case], dict[str, str]]:
    """The cases with the attack judge stamped into every adaptive one that has none yet
    (a new case id: the judge decides what the attack sends), and old id -> new id."""
    spec = check_attack_judge(spec, threshold)
    out: list[Case] = []
    renamed: dict[str, str] = {}
    for c in cases:
        adaptive = c.metadata.get("adaptive")
        if not isinstance(adaptive, dict) or adaptive.get("judge"):
            out.append(c)
            continue
        meta = {**c.metadata, "adaptive": {**adaptive, "judge": {"spec": spec, "threshold": threshold}}}
        new = Case.model_validate({**c.model_dump(), "id": "", "metadata": meta})
        renamed[c.id] = new.id
        out.append(new)
    return out, renamed


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
