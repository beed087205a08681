"""Regimes that pull in opposite directions, side by side on a date (never reconciled).

A regime names the regimes it may pull against (`Regime.conflicts`) and, optionally, the
requirements of either side where they clash (`Regime.conflict_requirements`). The view
shows each side's requirements with their clause, status and threshold on the date, so a
reader sees both demands at once; Assay measures both and does not pick one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from assay.regimes.dates import clause_on, edition_label, status_on
from assay.regimes.loader import REGIME_IDS, load_regime
from assay.regimes.model import Regime, Requirement


def clash_requirements(regime: Regime, other: Regime) -> tuple[Requirement, ...]:
    """`other`'s requirements on the clash `regime` declares (all measured ones when it names none)."""
    named = set(regime.conflict_requirements) | set(other.conflict_requirements)
    mine = [r for r in other.requirements if r.id in named]
    if mine or named & {r.id for r in regime.requirements}:
        return tuple(mine)
    return tuple(r for r in other.requirements if not r.evidence_only)


def conflicts_on(as_of: date, regimes: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Each declared conflict between two of `regimes` (default: all packaged), with both
    sides' clashing requirements on `as_of`: JSON-ready, what `assay regimes` shows."""
    ids = [r for r in (regimes if regimes is not None else REGIME_IDS) if r in REGIME_IDS]
    out: list[dict[str, Any]] = []
    for rid in ids:
        reg = load_regime(rid)
        for oid in reg.conflicts:
            if oid not in ids:
                continue
            other = load_regime(oid)
            sides = []
            for side in (reg, other):
                counter = other if side is reg else reg
                reqs = clash_requirements(counter, side)
                sides.append(
                    {
                        "regime": side.id,
                        "title": side.title_en,
                        "edition": edition_label(side, as_of),
                        "requirements": [
                            {
                                "id": r.id,
                                "title": r.title_en,
                                "clause": clause_on(r, side, as_of),
                                "status": status_on(r, as_of, side),
                                "threshold": r.threshold,
                                "direction": r.direction if r.threshold is not None else None,
                                "source": r.source,
                                "banks": list(r.selector.banks),
                            }
                            for r in reqs
                        ],
                    }
                )
            out.append(
                {
                    "regimes": [reg.id, other.id],
                    "note_en": reg.notes_en[0] if reg.notes_en else "",
                    "note_zh": reg.notes_zh[0] if reg.notes_zh else "",
                    "sides": sides,
                }
            )
    return out


__all__ = ["clash_requirements", "conflicts_on"]
