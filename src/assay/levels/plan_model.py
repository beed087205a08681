"""Plan: the concrete banks × transforms × graders × sample sizes × thresholds of a run.

A plan is a reviewable YAML file. Each item is one draw of cases from one bank with one
transform chain and the graders that judge it; `requirements` lists every requirement
the item's responses serve, so one response serves all regimes that need it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.core.ids import content_id
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


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: int = 0
    target_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notes: list[str] = Field(default_factory=list)
    judge_calls: int = 0  # calls to an LLM judge (llm-judge grader), not to the target
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
