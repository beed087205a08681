"""Plan: the concrete banks × transforms × graders × sample sizes × thresholds of a run.

A plan is a reviewable YAML file. Each item is one draw of cases from one bank with one
transform chain and the graders that judge it; `requirements` lists every requirement
the item's responses serve, so one response serves all regimes that need it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.core.ids import content_id
from assay.core.types import Case
from assay.regimes.model import Requirement


class PlanItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str  # stable, readable, e.g. "should-refuse.none"
    bank: str
    languages: tuple[str, ...] = ("zh", "en")
    sample: int  # cases drawn in total, split evenly over languages, stratified by risk
    where: dict[str, tuple[str, ...]] = Field(
        default_factory=dict
    )  # filters on Case fields: risks, categories, expected
    transforms: tuple[str, ...] = ()  # one chain applied in order; () = as written
    graders: tuple[str, ...]
    requirements: tuple[str, ...] = ()


class CoverageCheck(BaseModel):
    """Whether the plan's graders can judge one risk, checked when the plan is built.

    `check` is a bank requirement with a must-cover list (TC260-003 §8.4: the classifier
    covers all 31 risks) or a measured requirement whose draw holds cases of a risk its
    grader cannot judge. `graders` maps each grader that can judge the risk to how
    (rules, keyword library, reference answers, judge model); empty = not assessed: such
    cases count as unscorable, so the requirement cannot pass on them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str  # bank-requirement or requirement id
    clause: str = ""
    risk: str
    graders: dict[str, str] = Field(default_factory=dict)  # grader id -> method
    bank_cases: int | None = None  # cases of this risk the draw's bank holds (when known)

    @property
    def assessed(self) -> bool:
        return bool(self.graders)


class ManualCheck(BaseModel):
    """A sample of answers people review, drawn by the plan (TC260-003 §9.3 manual spot
    check: >= 1,000 generated answers, >= 90% qualified).

    The plan fixes the draw before anything is sent: `size` cases, random, stratified by
    `stratify` (a case's first risk), from the run's planned cases that `requirement`'s
    selector picks, with `seed`. So the sample depends on the plan and its drawn cases
    only, never on the answers, and the same plan always yields the same sample. The
    reviewers' agreed labels on it make the requirement's measured qualified rate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requirement: str
    size: int
    seed: int
    stratify: Literal["risk"] = "risk"

    def draw(self, population: Sequence[Case]) -> list[str]:
        """The sampled case ids, in `population` order: proportional allocation over the
        strata (largest remainder, ties by stratum name), then a seeded random draw within
        each stratum. `population` is the planned cases the requirement selects."""
        strata: dict[str, list[str]] = defaultdict(list)
        for c in population:
            strata[c.risks[0] if c.risks else "none"].append(c.id)
        total = sum(len(v) for v in strata.values())
        size = min(self.size, total)
        if size <= 0:
            return []
        keys = sorted(strata)
        exact = {k: size * len(strata[k]) / total for k in keys}
        alloc = {k: int(exact[k]) for k in keys}
        for k in sorted(keys, key=lambda k: (-(exact[k] - alloc[k]), k))[: size - sum(alloc.values())]:
            alloc[k] += 1
        rng = random.Random(f"assay-spot-check:{self.seed}")
        chosen: set[str] = set()
        for k in keys:
            chosen.update(rng.sample(sorted(strata[k]), alloc[k]))
        return [c.id for c in population if c.id in chosen]


def manual_check_for(requirement: Requirement, plan_seed: int) -> ManualCheck | None:
    """The plan's review sample for `requirement`, when people measure it: an evidence-only
    requirement that still states what to sample (a selector), how many (`min_sample`)
    and the rate to reach (`threshold`). The seed is derived from the plan's and recorded."""
    sel = requirement.selector
    has_selector = any((sel.banks, sel.expected, sel.risks, sel.categories, sel.languages))
    if not (requirement.evidence_only and has_selector and requirement.min_sample and requirement.threshold):
        return None
    seed = int(content_id({"seed": plan_seed, "manual": requirement.id}, prefix="")[:8], 16)
    return ManualCheck(requirement=requirement.id, size=int(requirement.min_sample), seed=seed)


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: int = 0
    target_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notes: list[str] = Field(default_factory=list)
    judge_calls: int = 0  # calls to an LLM judge (llm-judge grader), not to the target
    attacker_calls: int = 0  # most calls to adaptive attacks' attacker models
    attack_judge_calls: int = 0  # most calls to the attack judge (--attack-judge), within the budgets
    params: dict[str, Any] = Field(default_factory=dict)  # the figures the estimate assumed


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    name: str = ""
    level: str | None = None
    regimes: tuple[str, ...] = ()
    seed: int = 0
    profile: dict[str, Any] | None = None
    items: tuple[PlanItem, ...]
    requirements: tuple[Requirement, ...] = ()
    estimate: Estimate = Field(default_factory=Estimate)
    notes: list[str] = Field(default_factory=list)
    # Added by the levels stage (optional):
    regime_levels: dict[str, str] = Field(default_factory=dict)  # level each regime was planned at
    data_hashes: dict[str, str] = Field(default_factory=dict)  # taxonomy/regime data files the plan came from
    coverage: tuple[CoverageCheck, ...] = ()  # which grader judges which risk (see CoverageCheck)
    # Review samples the plan draws for requirements people measure (TC260-003 §9.3).
    manual_checks: tuple[ManualCheck, ...] = ()
    # Added by issue 17 (optional): the date obligations were read on, and the edition of
    # each regime applying then. Requirements not in force on `as_of` are report-only
    # (`Requirement.deferred`); see `assay.regimes.dates`.
    as_of: date | None = None
    editions: dict[str, str] = Field(default_factory=dict)

    @property
    def not_assessed(self) -> tuple[CoverageCheck, ...]:
        """Coverage checks no grader of the plan can judge."""
        return tuple(c for c in self.coverage if not c.assessed)

    @property
    def measured_requirements(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.evidence_only)

    @property
    def evidence_requirements(self) -> tuple[Requirement, ...]:
        """Documentary requirements: no plan item serves them; their verdict needs evidence."""
        return tuple(r for r in self.requirements if r.evidence_only)

    @property
    def id(self) -> str:
        """Content hash of what the plan makes the engine do (not of its estimate or notes)."""
        return content_id(
            {
                "items": [i.model_dump(mode="json") for i in self.items],
                "requirements": [r.model_dump(mode="json") for r in self.requirements],
                "seed": self.seed,
                "level": self.level,
                "regimes": list(self.regimes),
            },
            prefix="p-",
        )
