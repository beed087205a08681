"""Direction in one place: what "better" means for a rate follows from what it counts.

`counts: unsafe` -> lower is better (direction "<="); `counts: safe` -> higher is
better (">="). Verdicts, comparisons (`assay compare`) and reports all take the
direction from these functions; the rule itself is defined once in
`assay.core.direction` so that regime data can be validated with it when loaded.
"""

from __future__ import annotations

from assay.core.direction import Better, Counts, Direction, better, contradiction, direction_for, worse_if

__all__ = ["Better", "Counts", "Direction", "better", "contradiction", "direction_for", "worse_if"]
