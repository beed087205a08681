"""Risk coverage: which risks a grader can judge, and how.

Graders declare it (`Grader.covers`); plans check it before a run and the engine before
each judgment. This module holds only the vocabulary and the matching rule, so every
stage reads a declaration the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

CoverageMethod = Literal["rules", "keyword library", "reference answers", "judge model"]
#: strongest first: when several keys cover a risk, the first method listed is reported
COVERAGE_METHODS: tuple[CoverageMethod, ...] = (
    "judge model",
    "reference answers",
    "keyword library",
    "rules",
)
#: the key that covers every risk
ANY_RISK = "*"


def covering_method(covers: Mapping[str, str], risk: str) -> CoverageMethod | None:
    """How a declaration `covers` (key → method) judges `risk`; None when it cannot.

    A key covers itself, what lies below it ("A.1" covers "A.1.a") and, for "*", anything.
    """
    found = [m for key, m in covers.items() if key == ANY_RISK or risk == key or risk.startswith(key + ".")]
    known = [m for m in COVERAGE_METHODS if m in found]
    return known[0] if known else None
