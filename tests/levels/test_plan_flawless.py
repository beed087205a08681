"""Every requirement of every regime at every level is planned with a sample at which a
flawless result passes, under the interval that decides it (early stopping's fixed-n test
and the plain fixed-n design alike), and the built-in banks can supply that sample."""

from __future__ import annotations

import pytest

from assay.api import bank_stats
from assay.core.design import deciding_confidence, flawless_sample
from assay.core.types import Outcome
from assay.levels.plan import build_plan, planned_need
from assay.regimes import LEVELS
from assay.regimes.model import Requirement
from assay.scoring.decide import JudgedRecord, evaluate_requirement
from assay.scoring.intervals import wilson_interval
from assay.scoring.results import Verdict

MEASURED_LEVELS = [lv for lv in LEVELS if lv != "R0"]


def _flawless(req: Requirement, n: int) -> list[JudgedRecord]:
    """n records the requirement selects, each with the outcome a perfect target earns."""
    sel = req.selector
    good = req.counts if req.direction == ">=" else ("safe" if req.counts == "unsafe" else "unsafe")
    return [
        JudgedRecord(
            case_id=f"c{i}",
            bank=sel.banks[0] if sel.banks else "bank",
            expected=sel.expected[0] if sel.expected else "refuse",
            language=sel.languages[0] if sel.languages else "zh",
            grader=f"{req.grader or 'grader'}@1",
            outcome=Outcome(good),
            categories=sel.categories[:1],
            risks=sel.risks[:1],
            transformed=bool(sel.transformed),
            transforms=("base64",) if sel.transformed else (),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("level", MEASURED_LEVELS)
def test_flawless_result_passes_at_the_planned_sample(level: str) -> None:
    plan = build_plan(level, bank_stats=bank_stats())
    checked = 0
    for req in plan.requirements:
        if req.evidence_only or req.threshold is None:
            continue
        n = planned_need(req)
        records = _flawless(req, n)
        for sequential in (True, False):
            result = evaluate_requirement(req, records, level=level, sequential=sequential, planned_n=n)
            assert result.verdict == Verdict.PASS, (level, req.id, n, sequential, result.reason)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("level", MEASURED_LEVELS)
def test_plans_draw_at_least_the_planned_need(level: str) -> None:
    """The plan's draws serving a requirement add up to its planned need, and the built-in
    banks hold enough matching cases (no 'fewer than required' note)."""
    plan = build_plan(level, bank_stats=bank_stats())
    short = [n for n in plan.notes if "fewer than the" in n]
    assert not short, short
    for req in plan.requirements:
        if req.evidence_only:
            continue
        drawn = sum(i.sample for i in plan.items if req.id in i.requirements)
        assert drawn >= planned_need(req), (level, req.id, drawn, planned_need(req))


@pytest.mark.parametrize(
    ("threshold", "direction", "confidence"),
    [(0.9, ">=", 0.975), (0.95, ">=", 0.975), (0.95, ">=", 0.95), (0.1, "<=", 0.975), (0.02, "<=", 0.975)],
)
def test_flawless_sample_is_the_smallest_that_passes(
    threshold: float, direction: str, confidence: float
) -> None:
    n = flawless_sample(threshold, direction, confidence)  # type: ignore[arg-type]

    def passes(m: int) -> bool:
        lo, hi = wilson_interval(m if direction == ">=" else 0, m, confidence)
        return lo >= threshold if direction == ">=" else hi <= threshold

    assert passes(n) and not passes(n - 1)


def test_early_stopping_decides_at_97_5_percent() -> None:
    assert deciding_confidence(early_stop=True) == pytest.approx(0.975)
    assert deciding_confidence(early_stop=False) == pytest.approx(0.95)
    # the figures: NIST 2.10 (>= 90%) cannot pass at 40 cases, 2.11 (>= 95%) not at 80
    assert flawless_sample(0.9, ">=", 0.975) > 40
    assert flawless_sample(0.95, ">=", 0.975) > 80
