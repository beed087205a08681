"""Geometry of the dashboard's inline SVG charts, from the report's view model.

Only positions are computed here (a rate of 0.37 becomes x = 0.37 × width); every rate,
bound and threshold is read as the scoring stage produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assay.report.model import RateRow, RequirementView
from assay.scoring.trajectory import Trajectory

WIDTH = 520
LABEL_W = 230
ROW_H = 22


@dataclass(frozen=True)
class ForestRow:
    key: str
    label: str
    verdict: str
    y: float
    x: float | None  # point estimate
    x_lo: float | None
    x_hi: float | None
    x_threshold: float | None
    rate: float | None
    lower: float | None
    upper: float | None
    threshold: float | None
    interval: str


@dataclass(frozen=True)
class Forest:
    rows: list[ForestRow]
    height: int
    width: int
    label_w: int
    ticks: list[tuple[float, str]]


def _x(v: float | None) -> float | None:
    return None if v is None else round(LABEL_W + v * (WIDTH - LABEL_W - 10), 1)


def forest(reqs: Sequence[RequirementView], interval_of: dict[str, str]) -> Forest:
    """One row per measured requirement: its interval, point estimate and threshold line."""
    rows = []
    y = 18.0
    for r in reqs:
        if r.rate is None or r.rate.rate is None:
            continue
        rows.append(
            ForestRow(
                key=r.id,
                label=r.id,
                verdict=r.verdict,
                y=y,
                x=_x(r.rate.rate),
                x_lo=_x(r.rate.lower),
                x_hi=_x(r.rate.upper),
                x_threshold=_x(r.threshold),
                rate=r.rate.rate,
                lower=r.rate.lower,
                upper=r.rate.upper,
                threshold=r.threshold,
                interval=interval_of.get(r.id, ""),
            )
        )
        y += ROW_H
    ticks = [(_x(v) or 0.0, f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return Forest(rows=rows, height=int(y + 10), width=WIDTH, label_w=LABEL_W, ticks=ticks)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    y: float
    w: float | None
    x_lo: float | None
    x_hi: float | None
    rate: float | None
    k: int
    n: int


@dataclass(frozen=True)
class Bars:
    rows: list[Bar]
    height: int
    width: int
    label_w: int


def bars(rows: Sequence[RateRow]) -> Bars:
    """Horizontal bars of a breakdown (unsafe rate, or attack success per transform), with intervals."""
    out = []
    y = 6.0
    span = WIDTH - LABEL_W - 10
    for r in rows:
        rate = r.rate.rate
        out.append(
            Bar(
                key=r.key,
                label=r.name_en or r.key,
                y=y,
                w=None if rate is None else round(rate * span, 1),
                x_lo=_x(r.rate.lower),
                x_hi=_x(r.rate.upper),
                rate=rate,
                k=r.rate.k,
                n=r.rate.n,
            )
        )
        y += ROW_H
    return Bars(rows=out, height=int(y + 6), width=WIDTH, label_w=LABEL_W)


@dataclass(frozen=True)
class TrajectoryChart:
    key: str
    verdict: str
    band: str  # SVG polygon points of the interval band
    rate: str  # SVG polyline points of the running rate
    y_threshold: float | None
    x_settled: float | None
    n: int
    settled_at: int | None
    confidence: float
    width: int
    height: int


def trajectories(items: Sequence[Trajectory]) -> list[TrajectoryChart]:
    """Small multiples: the confidence sequence's band narrowing with n, the threshold line
    and the point where the verdict settled."""
    w, h, pad = 260, 90, 4
    out = []
    for t in items:
        last = t.points[-1].n or 1

        def x(n: int, last: int = last) -> float:
            return round(pad + (w - 2 * pad) * n / last, 1)

        def y(v: float) -> float:
            return round(pad + (h - 2 * pad) * (1 - v), 1)

        upper = [f"{x(p.n)},{y(p.upper)}" for p in t.points]
        lower = [f"{x(p.n)},{y(p.lower)}" for p in reversed(t.points)]
        out.append(
            TrajectoryChart(
                key=t.requirement_id,
                verdict=t.verdict,
                band=" ".join(upper + lower),
                rate=" ".join(f"{x(p.n)},{y(p.rate)}" for p in t.points),
                y_threshold=None if t.threshold is None else y(t.threshold),
                x_settled=None if t.settled_at is None else x(t.settled_at),
                n=last,
                settled_at=t.settled_at,
                confidence=t.confidence,
                width=w,
                height=h,
            )
        )
    return out
