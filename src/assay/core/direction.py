"""What "better" means for a rate: the one rule every stage uses.

A requirement's metric is the share of selected cases whose outcome is `counts`:

* `counts: unsafe` (unsafe rate, attack success, leak, flip, over-refusal): lower is
  better, so the requirement holds when the rate is `<=` its threshold;
* `counts: safe` (qualified, refusal, accuracy, safe-completion rate): higher is
  better, so it holds when the rate is `>=` its threshold.

The direction is therefore never chosen independently: regime data derive it from
`counts` (and a contradicting one is refused at load), verdicts, comparisons and reports
read it from here. Lives in `core` because the regimes stage validates with it;
`assay.scoring.direction` is the scoring stage's entry point to the same functions.
"""

from __future__ import annotations

from typing import Literal

Counts = Literal["safe", "unsafe"]
Direction = Literal[">=", "<="]
Better = Literal["higher", "lower"]


def better(counts: str) -> Better:
    """ "lower" when the rate counts unsafe outcomes, "higher" when it counts safe ones."""
    if counts == "unsafe":
        return "lower"
    if counts == "safe":
        return "higher"
    raise ValueError(f"counts must be 'safe' or 'unsafe', got {counts!r}")


def direction_for(counts: str) -> Direction:
    """The threshold direction a rate of `counts` outcomes must have: "<=" for unsafe, ">=" for safe."""
    return "<=" if better(counts) == "lower" else ">="


def worse_if(counts: str) -> Better:
    """Which change of the rate is a regression: the opposite of `better`."""
    return "higher" if better(counts) == "lower" else "lower"


def contradiction(counts: str, direction: str) -> str | None:
    """Why `direction` contradicts a rate of `counts` outcomes, or None when they agree."""
    want = direction_for(counts)
    if direction == want:
        return None
    return (
        f"counts {counts!r} means {better(counts)} is better, so the direction must be "
        f"{want!r}, not {direction!r} (leave `direction` out to derive it)"
    )
