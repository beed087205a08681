"""Early-stopping trajectories: how each requirement's confidence sequence narrowed as its
cases were judged, for the dashboard's chart.

The replay is the one `evaluate_requirement(..., sequential=True)` makes (same records
in dispatch order, same `SequentialMonitor` with the same planned sample), recorded
after every outcome instead of only at the end; its last point is the interval the
verdict rests on while the sequence decides it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from assay.core.types import Case, Judgment, Run
from assay.regimes.model import Requirement
from assay.scoring.decide import JudgedRecord, in_order, select_for
from assay.scoring.results import Direction
from assay.scoring.sequential import DEFAULT_PRIOR, SequentialMonitor
from assay.scoring.verdicts import applies_at


class TrajectoryPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    rate: float
    lower: float
    upper: float


class Trajectory(BaseModel):
    model_config = ConfigDict(frozen=True)

    requirement_id: str
    threshold: float | None
    direction: Direction
    confidence: float  # of the confidence sequence (alpha split with the final test when planned)
    planned_n: int | None
    settled_at: int | None
    verdict: str
    points: tuple[TrajectoryPoint, ...]


def trajectory(
    requirement: Requirement,
    records: Sequence[JudgedRecord],
    *,
    confidence: float = 0.95,
    prior: tuple[float, float] = DEFAULT_PRIOR,
    planned_n: int | None = None,
    cs_share: float = 0.5,
    max_points: int = 150,
) -> Trajectory:
    """The running confidence-sequence interval of one requirement over `records` (in
    dispatch order), thinned to at most `max_points` points (the last one always kept)."""
    _, chosen = select_for(requirement, records)
    monitor = SequentialMonitor.for_requirement(
        requirement, confidence=confidence, prior=prior, planned_n=planned_n, cs_share=cs_share
    )
    step = max(1, len(chosen) // max_points)
    points: list[TrajectoryPoint] = []
    for i, r in enumerate(chosen, start=1):
        monitor.update(r.outcome)
        if i % step == 0 or i == len(chosen):
            lo, hi = monitor.interval
            points.append(
                TrajectoryPoint(n=monitor.n, rate=monitor.successes / monitor.n, lower=lo, upper=hi)
            )
    return Trajectory(
        requirement_id=requirement.id,
        threshold=requirement.threshold,
        direction=requirement.direction,
        confidence=monitor.cs_confidence,
        planned_n=monitor.planned_n,
        settled_at=monitor.settled_at,
        verdict=monitor.verdict().value,
        points=tuple(points),
    )


def run_trajectories(run: Run, cases: Sequence[Case], judgments: Sequence[Judgment]) -> list[Trajectory]:
    """The trajectory of every measured requirement of an early-stopped run (none otherwise),
    replayed as `assessment_of` replays it."""
    from assay.scoring.runs import planned_samples, requirements_of

    if not run.early_stop:
        return []
    by_id = {c.id: c for c in cases}
    records = [JudgedRecord.from_case(by_id[j.case_id], j) for j in judgments if j.case_id in by_id]
    answered = {j.case_id for j in judgments}
    order = [c.id for c in cases if c.id in answered]
    rows = in_order(records, order)
    requirements = requirements_of(run)
    planned = planned_samples(requirements, cases)
    out = []
    for req in requirements:
        if req.evidence_only or not applies_at(req, run.level) or req.threshold is None:
            continue
        t = trajectory(req, rows, planned_n=planned.get(req.id))
        if t.points:
            out.append(t)
    return out
