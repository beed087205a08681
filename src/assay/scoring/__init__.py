"""Scoring: pure statistics and the decide stage (judgments -> estimates -> verdicts).

No I/O and no imports from later stages (store, report, engine). Result types are
pydantic models in `assay.scoring.results` so reports can serialise them as JSON.

Main entry points:

* `assess(requirements, records, ...)` -> `Assessment` (everything a report shows);
* `evaluate_requirements(requirements, records, ...)` -> list of `RequirementResult`;
* `SequentialMonitor` (anytime-valid confidence sequence, optionally with one
  fixed-n test at the planned sample; see `assay.scoring.sequential` for the method
  and its guarantee) and `EarlyStopper`, which plugs the monitors into the engine's
  `skip` / `on_result` hooks (see `assay.scoring.early_stop`);
* interval functions, AILuminate-style grades, Rogan–Gladen correction and
  two-proportion comparisons for `assay compare`.
"""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.scoring.compare import (
        benjamini_hochberg,
        compare_estimates,
        compare_many,
        fisher_exact,
        holm,
        newcombe_interval,
        two_proportion_p_value,
        worse_if_for,
        z_test,
    )
    from assay.scoring.correction import correct_estimate, rogan_gladen
    from assay.scoring.decide import (
        JudgedRecord,
        assess,
        attack_success_rates,
        breakdown,
        decide_level,
        decide_regime,
        decide_regimes,
        evaluate_requirement,
        evaluate_requirements,
        grade_categories,
        group_counts,
        in_order,
        matches,
        one_per_case,
        select_for,
        selects_case,
    )
    from assay.scoring.early_stop import EarlyStopper
    from assay.scoring.estimates import make_estimate, policy_for
    from assay.scoring.grades import (
        ABSOLUTE_SCORE_THRESHOLDS,
        GRADE_LABELS,
        GRADE_LABELS_ZH,
        GRADE_LETTERS,
        MAX_ACCEPTABLE_RELATIVE_SCORE,
        RELATIVE_SCORE_BANDS,
        grade_counts,
        grade_estimate,
        grade_hazards,
        grade_unsafe_fraction,
    )
    from assay.scoring.intervals import (
        binomial_interval,
        bootstrap_mean_of_rates,
        bootstrap_percentile,
        clopper_pearson_interval,
        wilson_interval,
    )
    from assay.scoring.results import (
        CONCLUSION_EN,
        CONCLUSION_ZH,
        Assessment,
        ClauseConclusion,
        ComparisonResult,
        Conclusion,
        CorrectedEstimate,
        Decision,
        Estimate,
        GradeResult,
        GroupEstimate,
        LevelDecision,
        RegimeDecision,
        RequirementResult,
        Verdict,
    )
    from assay.scoring.sequential import (
        DEFAULT_PRIOR,
        SequentialMonitor,
        all_settled,
        confidence_sequence,
        settle,
    )
    from assay.scoring.verdicts import (
        clause_conclusions,
        conclusion_for,
        requirement_verdict,
        samples_to_settle,
        verdict_from_estimate,
    )

__getattr__ = lazy_exports(
    __name__,
    (
        "compare",
        "correction",
        "decide",
        "early_stop",
        "estimates",
        "grades",
        "intervals",
        "results",
        "sequential",
        "verdicts",
    ),
)


__all__ = [
    "ABSOLUTE_SCORE_THRESHOLDS",
    "CONCLUSION_EN",
    "CONCLUSION_ZH",
    "DEFAULT_PRIOR",
    "GRADE_LABELS",
    "GRADE_LABELS_ZH",
    "GRADE_LETTERS",
    "MAX_ACCEPTABLE_RELATIVE_SCORE",
    "RELATIVE_SCORE_BANDS",
    "Assessment",
    "ClauseConclusion",
    "ComparisonResult",
    "Conclusion",
    "CorrectedEstimate",
    "Decision",
    "EarlyStopper",
    "Estimate",
    "GradeResult",
    "GroupEstimate",
    "JudgedRecord",
    "LevelDecision",
    "RegimeDecision",
    "RequirementResult",
    "SequentialMonitor",
    "Verdict",
    "all_settled",
    "assess",
    "attack_success_rates",
    "benjamini_hochberg",
    "binomial_interval",
    "bootstrap_mean_of_rates",
    "bootstrap_percentile",
    "breakdown",
    "clause_conclusions",
    "clopper_pearson_interval",
    "compare_estimates",
    "compare_many",
    "conclusion_for",
    "confidence_sequence",
    "correct_estimate",
    "decide_level",
    "decide_regime",
    "decide_regimes",
    "evaluate_requirement",
    "evaluate_requirements",
    "fisher_exact",
    "grade_categories",
    "grade_counts",
    "grade_estimate",
    "grade_hazards",
    "grade_unsafe_fraction",
    "group_counts",
    "holm",
    "in_order",
    "make_estimate",
    "matches",
    "newcombe_interval",
    "one_per_case",
    "policy_for",
    "requirement_verdict",
    "rogan_gladen",
    "samples_to_settle",
    "select_for",
    "selects_case",
    "settle",
    "two_proportion_p_value",
    "verdict_from_estimate",
    "wilson_interval",
    "worse_if_for",
    "z_test",
]
