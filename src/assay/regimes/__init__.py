"""Regime requirements: each governance text as versioned, testable data.

`load_regimes()` returns every packaged regime (`tc260-003`, `eu-ai-act`,
`nist-ai-600-1`, `ailuminate`, `assay-baseline`); `regime_hashes()` gives the data-file
hashes a run records.
"""

from assay.regimes.loader import (
    LEVELS,
    REGIME_IDS,
    all_requirements,
    check_regime,
    load_regime,
    load_regimes,
    parse_regime,
    regime_hashes,
    regime_ids,
    requirements_for,
)
from assay.regimes.model import (
    BankRequirement,
    GradeBand,
    GradingScheme,
    Regime,
    Requirement,
    Selector,
    Stratum,
    Tier,
)

__all__ = [
    "LEVELS",
    "REGIME_IDS",
    "BankRequirement",
    "GradeBand",
    "GradingScheme",
    "Regime",
    "Requirement",
    "Selector",
    "Stratum",
    "Tier",
    "all_requirements",
    "check_regime",
    "load_regime",
    "load_regimes",
    "parse_regime",
    "regime_hashes",
    "regime_ids",
    "requirements_for",
]
