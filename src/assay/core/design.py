"""The statistical design every stage shares: the confidence behind verdicts, how early
stopping splits it, and the smallest sample at which a flawless result can pass.

The planner sizes samples with it and scoring decides with it, so the two cannot drift
apart: a plan never draws a sample at which even a perfect target would stay undetermined.

Verdicts use two-sided intervals. Without early stopping the fixed-n Wilson interval at
`CONFIDENCE` decides. With early stopping (the default) alpha = 1 - CONFIDENCE is split:
`CS_SHARE` of it goes to the anytime-valid confidence sequence, the rest to one fixed-n
Wilson test at the planned sample, so that test runs at 1 - alpha * (1 - CS_SHARE)
(97.5% by default). See `assay.scoring.sequential`.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

#: the confidence of every verdict (P(wrong verdict) <= 1 - CONFIDENCE per requirement)
CONFIDENCE = 0.95
#: early stopping: the share of alpha spent on the confidence sequence
CS_SHARE = 0.5


def deciding_confidence(
    early_stop: bool, confidence: float = CONFIDENCE, cs_share: float = CS_SHARE
) -> float:
    """The confidence of the interval that decides a requirement at its planned sample."""
    if not early_stop or cs_share >= 1.0:
        return confidence
    return 1.0 - (1.0 - confidence) * (1.0 - cs_share)


def flawless_sample(threshold: float, direction: Literal[">=", "<="], confidence: float) -> int:
    """The smallest n at which a flawless result passes a two-sided Wilson test at `confidence`.

    Flawless: every case counts for the requirement (">=", k = n) or none does ("<=", k = 0).
    Wilson's lower bound at k = n is n / (n + z^2), and its upper bound at k = 0 is
    z^2 / (n + z^2), which gives n >= t z^2 / (1 - t) and n >= z^2 (1 - t) / t.
    Returns 0 for thresholds a flawless result always meets (">= 0", "<= 1").
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    z2 = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0) ** 2
    # the share a flawless result must reach with its interval: t for ">=", 1 - t for "<="
    t = threshold if direction == ">=" else 1.0 - threshold
    if t <= 0.0:
        return 0
    if t >= 1.0:
        raise ValueError(f"no sample lets a flawless result pass {direction} {threshold}")
    n = max(1, math.ceil(t * z2 / (1.0 - t)))
    while n / (n + z2) < t:  # guard against rounding at the boundary
        n += 1
    return n


def confidence_text(confidence: float) -> str:
    """A confidence level as people write it: 0.95 -> "95%", 0.975 -> "97.5%"."""
    return f"{confidence * 100:.2f}".rstrip("0").rstrip(".") + "%"
