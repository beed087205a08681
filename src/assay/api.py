"""The Python API: the same operations and options as the `assay` CLI.

    import assay.api as assay
    result = assay.run(target="local:smollm2", banks=["starter"])
    print(result.run.id, result.report_path)
    for row in assay.summary(result.run.id):
        print(row)

Everything here is a thin, typed wrapper over the pipeline stages; the CLI calls these
functions and only adds printing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay._pipeline import (
    DEFAULT_GRADERS,
    Progress,
    RunOptions,
    RunResult,
    TargetCheck,
    _is_bank_file_ref,
    cases_from_banks,
    cases_from_plan,
    check_target,
    default_graders_for,
    load_bank,
    resume_run,
    start_run,
    stored_cases_from_files,
)
from assay.core.config import Setting
from assay.core.errors import InputError
from assay.core.types import Case, GenerationParams, Judgment, Response, Run
from assay.engine.executor import API_NAMES as EXECUTOR_API_NAMES
from assay.engine.executor import ExecutorOptions
from assay.graders.validation import GraderRoc, RocCurve, ValidationReport
from assay.levels import BankStats, Classification, EstimateParams
from assay.levels.plan_model import Plan
from assay.report.limits import SAMPLE_CAP
from assay.scoring.results import Assessment, CorrectedEstimate
from assay.scoring.runs import assessment_of, corrected_estimates, requirements_of, stored_references
from assay.store import Store

if TYPE_CHECKING:
    from assay.banks.coverage import BankCoverage, CategoryCoverage
    from assay.banks.files import BankFileError
    from assay.banks.keywords import KeywordLibrary
    from assay.core.types import Bank
    from assay.report.model import ComparisonData
    from assay.transforms import TransformMeta, TransformResult
    from assay.view.reviews import LabelExport, SpotCheck

__all__ = [
    "DEFAULT_GRADERS",
    "AssessResult",
    "Calibration",
    "CaseRow",
    "PluginInfo",
    "RunDetails",
    "RunOptions",
    "RunResult",
    "Setting",
    "SummaryRow",
    "TargetCheck",
    "add_review",
    "apply_transforms",
    "assess",
    "assessment",
    "assessment_of",
    "bank_coverage",
    "bank_stats",
    "bundle",
    "calibrate",
    "case_rows",
    "category_coverage",
    "check_labels",
    "check_target",
    "classify_profile",
    "compare",
    "corrected",
    "fetch_benchmark",
    "generate_keys",
    "get_bank",
    "grader_coverage",
    "grader_roc",
    "grader_validations",
    "import_bundle",
    "keyword_library",
    "list_banks",
    "list_benchmarks",
    "list_graders",
    "list_runs",
    "list_transforms",
    "load_bank",
    "load_benchmark",
    "plan",
    "plan_for",
    "plan_inputs",
    "plugins",
    "profile_template",
    "redate_plan",
    "regimes_on",
    "register_bank",
    "render_comparison",
    "requirements_of",
    "resume",
    "review_labels",
    "run",
    "run_details",
    "show_config",
    "spot_check",
    "summary",
    "taxonomy",
    "trust_key",
    "trusted_keys",
    "untrust_key",
    "validate_bank",
    "validate_grader",
    "verify_bundle",
    "view_app",
    "write_report",
]


def run(
    target: str | None = None,
    *,
    banks: Sequence[str] = ("starter",),
    plan: Plan | str | Path | None = None,
    cases: Sequence[Case] | None = None,
    limit: int | None = None,
    languages: Sequence[str] = (),
    chains: Sequence[str] = (),
    graders: Sequence[str] = (),
    db: str | None = None,
    concurrency: int | None = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    seed: int = 0,
    system_prompt: str | None = None,
    use_cache: bool = True,
    max_attempts: int = 4,
    case_deadline_s: float = 600.0,
    early_stop: bool = False,
    complete_minimums: bool = False,
    judge: str | None = None,
    attack_judge: str | None = None,
    attack_judge_threshold: int = 10,
    request_timeout_s: float | None = None,
    progress: Progress | None = None,
    store: Store | None = None,
    as_of: date | str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    ray_cpus: float | None = None,
    ray_gpus: float = 0.0,
    ray_memory_gb: float | None = None,
    ray_worker_concurrency: int | None = None,
    ray_judge_replicas: int | None = None,
    ray_judge_cpus: float | None = None,
    ray_judge_gpus: float = 0.0,
    ray_judge_memory_gb: float | None = None,
    ray_grader_replicas: int | None = None,
    ray_grader_cpus: float | None = None,
    ray_grader_gpus: float = 0.0,
    ray_grader_memory_gb: float | None = None,
    ray_endpoint_limit: int | None = None,
) -> RunResult:
    """Run banks (or a plan, or explicit cases) against a target and store everything.

    `early_stop` (plans only) stops drawing cases once every verdict is settled;
    `complete_minimums` (evidence mode, needs `early_stop`) still draws each requirement's
    minimum sample first, so a filing carries the sample the standard asks for.

    `judge` is the target spec of the LLM judge used by `llm-judge` and `ensemble:*`
    graders (given with `graders=` or in the plan); it is required when they are used.
    `request_timeout_s` caps how long one attempt may hold a concurrency slot.

    Transport failures that run out of attempts leave cases pending (not judged): then
    `result.incomplete` is true, `result.stats.pending` counts them and `resume` sends them.

    `chains` (banks only): transform chains each drawn case is also sent through, e.g.
    `("none", "pair", "tap:local:smollm2@turns=3")` (`"none"`: the case as written); the
    adaptive attacks (`pair`, `tap`, `crescendo_bt`) run against the target during the run.
    `attack_judge` (any target spec) rates their replies 1–10 to decide when an attack has
    succeeded (at `attack_judge_threshold` or more; default: the run's rule-based grader,
    no model call); its calls count in each attack's budget. It only steers the search:
    the run's graders judge every outcome.

    `as_of` (plans only) re-dates the plan's obligations: those not in force on that date
    are measured report-only (default: the date the plan was made for; today for a plan
    file that has none).

    `executor="ray"` answers the target's calls on a Ray cluster (docs/ray.md):
    `ray_address` (None: start or join a local cluster), `ray_workers` replicas (None: one
    per node) each reserving `ray_cpus` / `ray_gpus` / `ray_memory_gb`, at most
    `ray_worker_concurrency` calls each; the judge on `ray_judge_replicas` actors (0: in
    this process) reserving `ray_judge_cpus` / `ray_judge_gpus` / `ray_judge_memory_gb`;
    graders that run a learned model on `ray_grader_replicas` actors (0: in this process)
    reserving `ray_grader_*`; at most `ray_endpoint_limit` calls in flight to an endpoint
    across every run on the cluster. The store, cache, retries and verdicts are the same.

    `target`, `concurrency` and `judge` left as None take the configured defaults
    (`ASSAY_TARGET`, … or the config file; `assay.core.config`), else local:smollm2 and 16.
    """
    from assay.core.config import default_concurrency, default_judge, default_target

    target, judge = default_target(target), default_judge(judge)
    options = RunOptions(
        target=target,
        db=db,
        params=GenerationParams(
            max_tokens=max_tokens, temperature=temperature, seed=seed, system_prompt=system_prompt
        ),
        concurrency=default_concurrency(concurrency),
        max_attempts=max_attempts,
        case_deadline_s=case_deadline_s,
        use_cache=use_cache,
        seed=seed,
        early_stop=early_stop,
        complete_minimums=complete_minimums,
        graders=tuple(graders),
        judge=judge,
        attack_judge=attack_judge,
        attack_judge_threshold=attack_judge_threshold,
        request_timeout_s=request_timeout_s,
        executor=ExecutorOptions.of(**_passed_on(locals(), _EXECUTOR_OPTIONS)),
    )
    if attack_judge is not None:
        from assay.transforms.adaptive import check_attack_judge

        options.attack_judge = check_attack_judge(attack_judge, attack_judge_threshold)
    if chains:
        from assay.transforms import parse_chain

        if plan is not None or cases is not None:
            raise InputError("transform chains apply to bank runs; a plan names its own", where="--chain")
        for chain in chains:
            parse_chain(chain)  # bad input fails before any work
    store = store or Store(db)
    if plan is not None:
        plan_obj = plan if isinstance(plan, Plan) else _load_plan(Path(plan))
        if as_of is not None or plan_obj.as_of is None:
            plan_obj = redate_plan(plan_obj, as_of)  # None: today (a plan file without a date)
        chosen, case_graders, items, notes, bank_objs = cases_from_plan(plan_obj, store)
        return start_run(
            chosen,
            case_graders,
            options,
            plan=plan_obj,
            plan_items=items,
            banks=list(bank_objs.values()),
            profile=plan_obj.profile,
            level=plan_obj.level,
            notes=notes,
            progress=progress,
            store=store,
        )
    if cases is not None:
        case_graders = {c.id: tuple(graders) or default_graders_for(c) for c in cases}
        return start_run(list(cases), case_graders, options, progress=progress, store=store)
    if limit is None and not chains and banks and all(_is_bank_file_ref(b) for b in banks):
        # bank files, every case: read as stored rows, never all held as objects, and drawn
        # from the store as the engine sends them (memory stays flat with the run's size)
        from assay.banks.files import scan_bank_file

        scanned = [scan_bank_file(Path(b).expanduser()) for b in banks]
        rows, row_graders = stored_cases_from_files(scanned, languages, graders)
        if not rows:
            raise InputError(
                "there are no cases to run (empty bank, or filters matched nothing)", where="--bank"
            )
        return start_run(
            rows,
            row_graders,
            options,
            plan_items={c.id: c.bank for c in rows},
            bank_hashes={s.bank.id: s.content_hash for s in scanned},
            progress=progress,
            store=store,
        )
    bank_list = [load_bank(b, store) for b in banks]
    chosen, case_graders, items = cases_from_banks(bank_list, limit, languages, seed, graders)
    if chains:
        from assay.transforms import expand_cases

        chosen, skip_notes = expand_cases(chosen, list(chains), seed)
        case_graders = {c.id: tuple(graders) or default_graders_for(c) for c in chosen}
        return start_run(
            chosen, case_graders, options, banks=bank_list, notes=skip_notes, progress=progress, store=store
        )
    return start_run(
        chosen, case_graders, options, plan_items=items, banks=bank_list, progress=progress, store=store
    )


def resume(
    run_id: str,
    *,
    db: str | None = None,
    concurrency: int | None = None,
    max_attempts: int = 4,
    case_deadline_s: float = 600.0,
    use_cache: bool = True,
    judge: str | None = None,
    retry_errors: bool = False,
    force_target: bool = False,
    request_timeout_s: float | None = None,
    progress: Progress | None = None,
    store: Store | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    ray_cpus: float | None = None,
    ray_gpus: float = 0.0,
    ray_memory_gb: float | None = None,
    ray_worker_concurrency: int | None = None,
    ray_judge_replicas: int | None = None,
    ray_judge_cpus: float | None = None,
    ray_judge_gpus: float = 0.0,
    ray_judge_memory_gb: float | None = None,
    ray_grader_replicas: int | None = None,
    ray_grader_cpus: float | None = None,
    ray_grader_gpus: float = 0.0,
    ray_grader_memory_gb: float | None = None,
    ray_endpoint_limit: int | None = None,
) -> RunResult:
    """Continue an interrupted or incomplete run: only cases without a stored response are
    sent (those left pending by transport failures included).

    The run's own judge is used again unless `judge` names another. `retry_errors` also
    re-sends cases stored with a permanent error. The run is pinned to the target identity
    it started with (endpoint, model file, function source): another one is refused
    (InputError) unless `force_target`, and the change is then noted in the run. Only one
    process may resume a run at a time (InputError while another holds its lease).
    `concurrency` None: the configured default (`assay.core.config`).
    """
    from assay.core.config import default_concurrency

    options = RunOptions(
        db=db,
        concurrency=default_concurrency(concurrency),
        max_attempts=max_attempts,
        case_deadline_s=case_deadline_s,
        use_cache=use_cache,
        judge=judge,
        retry_errors=retry_errors,
        force_target=force_target,
        request_timeout_s=request_timeout_s,
        executor=ExecutorOptions.of(**_passed_on(locals(), _EXECUTOR_OPTIONS)),
    )
    return resume_run(run_id, options, progress=progress, store=store)


def list_runs(
    db: str | None = None, limit: int = 50, status: str | None = None, target: str | None = None
) -> list[Run]:
    return Store(db).list_runs(limit=limit, status=status, target=target)


@dataclass(frozen=True)
class SummaryRow:
    bank: str
    language: str
    grader: str
    n: int
    safe: int
    unsafe: int
    unscorable: int
    unsafe_rate: float | None
    lower: float | None
    upper: float | None
    #: the interval's confidence and method, as scoring computed it (e.g. 0.95, "wilson")
    confidence: float = 0.95
    method: str = "wilson"


def run_reader(db: str | None = None, store: Store | None = None) -> Store:
    """A store whose reads of a finished run are made once: pass it as `store=` to `summary`,
    `assessment` and `write_report` to read the run once for all of them."""
    from assay.store.reader import RunReader

    return RunReader(store or Store(db))


def summary(run_id: str, db: str | None = None, store: Store | None = None) -> list[SummaryRow]:
    """Outcome counts per bank × language × grader with the unsafe rate and its interval
    (confidence and method on each row), as the scoring stage computes them
    (`decide.grader_table`): unscorables stay in n and count against safety."""
    from assay.scoring.decide import JudgedRecord, grader_table

    store = store or Store(db)
    run = store.get_run(run_id)
    cases = {c.id: c for c in store.case_facts(run.id)}
    records = [
        JudgedRecord.from_case(cases[j.case_id], j)
        for j in store.judgment_facts(run.id)
        if j.case_id in cases
    ]
    rows = []
    for g in grader_table(records):
        bank, lang, grader = g.key.split("/", 2)
        e = g.estimate
        rows.append(
            SummaryRow(
                bank,
                lang,
                grader,
                e.n,
                e.n - e.k - e.unscorable,
                e.k,
                e.unscorable,
                e.rate,
                e.lower,
                e.upper,
                e.confidence,
                e.method,
            )
        )
    return rows


@dataclass(frozen=True)
class CaseRow:
    case: Case
    response: Response | None
    judgments: tuple[Judgment, ...]

    @property
    def outcome(self) -> str:
        """The case's one outcome (scoring's `case_outcome`: unsafe > unscorable > safe);
        'pending' when unanswered, 'ungraded' when answered but not judged."""
        from assay.scoring.decide import case_outcome

        if self.response is None:
            return "pending"
        combined = case_outcome(j.outcome for j in self.judgments)
        return combined.value if combined is not None else "ungraded"


def case_rows(
    run_id: str,
    *,
    db: str | None = None,
    outcome: str | None = None,
    bank: str | None = None,
    language: str | None = None,
    grader: str | None = None,
    limit: int | None = None,
    store: Store | None = None,
) -> list[CaseRow]:
    """Per-case rows of a run, filtered (outcome: safe | unsafe | unscorable | pending)."""
    store = store or Store(db)
    run = store.get_run(run_id)
    responses = store.responses(run.id)
    by_case: dict[str, list[Judgment]] = defaultdict(list)
    for j in store.judgments(run.id):
        if grader is None or j.grader.split("@")[0] == grader:
            by_case[j.case_id].append(j)
    rows = []
    for c in store.run_cases(run.id):
        if bank and c.bank != bank:
            continue
        if language and c.language != language:
            continue
        row = CaseRow(c, responses.get(c.id), tuple(by_case.get(c.id, ())))
        if outcome and row.outcome != outcome:
            continue
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return rows


def _load_plan(path: Path) -> Plan:
    from assay.levels import load_plan

    return load_plan(path)


@dataclass(frozen=True)
class RunDetails:
    run: Run
    answered: int
    #: case id -> (error, kind) of cases left pending by transport failures (not judged)
    pending_errors: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: finished calls of unfinished adaptive attacks kept for a resume (0 once complete)
    journal_calls: int = 0
    #: where those calls are kept: the store (password masked), its table and row owner
    journal_location: str = ""


def run_details(run_id: str, db: str | None = None, store: Store | None = None) -> RunDetails:
    """A stored run, how many cases it answered, those pending after transport failures,
    and the adaptive attack journal it keeps for a resume (even after a kill -9)."""
    from assay.attacks.adaptive import journal_owner
    from assay.store.db import masked

    store = store or Store(db)
    run = store.get_run(run_id)
    owner = journal_owner(run.id)
    kept = store.cache_count(owner)
    return RunDetails(
        run=run,
        answered=store.count_responses(run.id),
        pending_errors=store.pending_errors(run.id),
        journal_calls=kept,
        journal_location=f"{masked(store.url)} · table response_cache · target '{owner}'" if kept else "",
    )


def assessment(run_id: str, db: str | None = None, store: Store | None = None) -> Assessment:
    """The assessment of a stored run (see `assessment_of`), from the facts of its cases and
    judgments (no texts are read)."""
    store = store or Store(db)
    run = store.get_run(run_id)
    return assessment_of(
        run, store.case_facts(run.id), store.judgment_facts(run.id), stored_references(store)
    )


def write_report(
    run_id: str,
    *,
    fmt: str = "html",
    lang: str | None = None,
    out: str | Path | None = None,
    db: str | None = None,
    store: Store | None = None,
    sample_cap: int | None = SAMPLE_CAP,
) -> Path:
    """Render a stored run's report (html, md, json, junit) in en or zh and write it.

    Default path: ./assay-reports/<run-id>[.zh].<ext>. The report's size is bounded: every
    figure, and a drill-down of at most `sample_cap` cases per requirement and breakdown row,
    stratified by outcome (`None`: every case; see `assay.report.bounded`). `lang` None: the
    configured language (`assay.core.config`), else en.
    """
    from assay.core.config import default_lang
    from assay.report.runs import write_report as _write

    return _write(store or Store(db), run_id, fmt, default_lang(lang), out, sample_cap=sample_cap)


@dataclass
class AssessResult:
    classification: Classification
    plan: Plan
    run: RunResult | None  # None when the level is R0: the system must not be deployed

    @property
    def report_path(self) -> Path | None:
        return self.run.report_path if self.run else None


def classify_profile(profile: str | Path, as_of: date | str | None = None) -> Classification:
    """Level R0–R4, per-regime tiers and the rule-by-rule derivation of a profile file on
    `as_of` (default today; rules applying later are listed as coming)."""
    from assay.levels import classify, load_profile, resolve_profile

    return classify(load_profile(resolve_profile(profile)), as_of)


def check_labels(paths: Sequence[str | Path]) -> list[Any]:
    """Implicit (metadata) and explicit AI labels in files a user supplies (`assay labels check`);
    returns `assay.labels.LabelCheck` objects (see that module for what is covered)."""
    from assay.labels import check_files

    return check_files(paths)


def redate_plan(plan: Plan, as_of: date | str | None = None) -> Plan:
    """`plan` with its obligations read on `as_of` (None: today): not yet in force → report-only; in force → decided."""
    from assay.regimes.dates import edition_label, parse_as_of, redate_plan_requirements
    from assay.regimes.loader import REGIME_IDS, load_regime

    day = parse_as_of(as_of)
    reqs = tuple(redate_plan_requirements(plan.requirements, day))
    editions = {rid: edition_label(load_regime(rid), day) for rid in plan.regimes if rid in REGIME_IDS}
    return plan.model_copy(update={"requirements": reqs, "as_of": day, "editions": editions})


def regimes_on(
    as_of: date | str | None = None, regimes: Sequence[str] | None = None, level: str | None = None
) -> dict[str, Any]:
    """Every regime's obligations on `as_of` (default today): edition, status (in force / coming /
    proposed / lapsed / not yet enacted), date, clause and source — what `assay regimes --json` prints."""
    from assay.regimes import load_regimes
    from assay.regimes.conflicts import conflicts_on
    from assay.regimes.dates import obligations_on, parse_as_of

    day = parse_as_of(as_of, where="as_of")
    chosen = load_regimes(regimes or None)
    return {
        "as_of": day.isoformat(),
        "regimes": [obligations_on(reg, day, level) for reg in chosen.values()],
        "conflicts": conflicts_on(day, list(chosen)),
    }


def bank_stats() -> dict[str, BankStats]:
    """Sizes and token figures of the built-in banks, for plan cost estimates."""
    from assay.banks.registry import builtin_banks
    from assay.levels.plan import bank_stats_from

    return bank_stats_from(builtin_banks().values())


def grader_coverage() -> dict[str, dict[str, str]]:
    """Every grader id → the risks it declares it can judge and how (`Grader.covers`):
    TC260-003 Appendix A ids or groups, unified category ids or "*" → rules, keyword
    library, reference answers or judge model."""
    from assay.graders.base import coverage_table

    return {gid: dict(c) for gid, c in coverage_table().items()}


def plan_inputs() -> dict[str, Any]:
    """What the plan stage needs from later stages' declarations: the graders' risk coverage
    and the transforms' languages (keyword arguments of `build_plan`)."""
    from assay.graders.base import coverage_table
    from assay.transforms import list_transforms

    transforms = list_transforms()
    return {
        "grader_coverage": coverage_table(),
        "transform_languages": {t.id: t.languages for t in transforms},
        # runs started here have no translator: a transform that needs one cannot run
        "unavailable_transforms": {
            t.id: "it needs a translator, and runs have none configured"
            for t in transforms
            if t.needs_context
        },
    }


def plan_for(
    profile: str | Path,
    regimes: Sequence[str] | None = None,
    *,
    languages: Sequence[str] | None = None,
    seed: int = 0,
    as_of: date | str | None = None,
    attack_judge: str | None = None,
) -> tuple[Classification, Plan]:
    """Classify a profile and build its plan (deduplicated across regimes) on `as_of` (default
    today); `attack_judge`: the estimate counts its rating calls in the adaptive attacks."""
    from assay.levels import build_plan

    classification = classify_profile(profile, as_of)
    plan = build_plan(
        classification,
        regimes or None,
        languages=languages,
        seed=seed,
        params=_estimate_params(attack_judge),
        bank_stats=bank_stats(),
        name=Path(profile).stem,
        **plan_inputs(),
    )
    return classification, plan


def plan(
    profile: str | Path,
    regimes: Sequence[str] | None = None,
    *,
    languages: Sequence[str] | None = None,
    seed: int = 0,
    bank_stats: bool = True,
    as_of: date | str | None = None,
    attack_judge: str | None = None,
) -> Plan:
    """The deduplicated test plan (`assay plan`) of a profile (file or example name) or of a
    bare level R1–R4, on `as_of` (default today); `bank_stats` sizes draws and the estimate
    with the built-in banks' statistics; with `attack_judge` (the spec a run will pass as
    `attack_judge`) the estimate counts its rating calls inside the adaptive attacks' budgets."""
    from assay.levels import build_plan, classify, load_profile, resolve_profile
    from assay.levels.plan import bank_stats_from
    from assay.regimes import LEVELS
    from assay.regimes.dates import parse_as_of

    day = parse_as_of(as_of)
    subject: Any = str(profile)
    if subject not in LEVELS:
        subject = classify(load_profile(resolve_profile(profile)), day)
    stats = None
    if bank_stats:
        from assay.banks.registry import builtin_banks

        stats = bank_stats_from(builtin_banks().values())
    return build_plan(
        subject,
        list(regimes) if regimes else None,
        languages=list(languages) if languages else None,
        seed=seed,
        params=_estimate_params(attack_judge),
        bank_stats=stats,
        as_of=day,
        **plan_inputs(),
    )


def _estimate_params(attack_judge: str | None) -> EstimateParams | None:
    """The plan estimate's assumptions, with the attack judge (checked) when one is named."""
    if attack_judge is None:
        return None
    from assay.transforms.adaptive import check_attack_judge

    return EstimateParams(attack_judge=check_attack_judge(attack_judge))


#: the generation and engine options that `assess` and `calibrate` pass on to `run` unchanged
_RUN_OPTIONS = (
    "concurrency",
    "max_tokens",
    "temperature",
    "seed",
    "system_prompt",
    "use_cache",
    "max_attempts",
    "case_deadline_s",
    "request_timeout_s",
    "progress",
)
#: the executor options (docs/ray.md) that `run` and `resume` take and `assess` passes on
_EXECUTOR_OPTIONS = EXECUTOR_API_NAMES


def _passed_on(scope: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The caller's own parameters `names` (from its `locals()`), as keyword arguments of `run`:
    the options are declared, typed, in each public signature and forwarded from one list."""
    return {name: scope[name] for name in names}


def assess(
    profile: str | Path,
    target: str | None = None,
    *,
    regimes: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    early_stop: bool = True,
    complete_minimums: bool = False,
    force: bool = False,
    report: bool = True,
    report_format: str = "html",
    report_lang: str | None = None,
    out: str | Path | None = None,
    as_of: date | str | None = None,
    db: str | None = None,
    concurrency: int | None = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    seed: int = 0,
    system_prompt: str | None = None,
    use_cache: bool = True,
    max_attempts: int = 4,
    case_deadline_s: float = 600.0,
    judge: str | None = None,
    attack_judge: str | None = None,
    attack_judge_threshold: int = 10,
    request_timeout_s: float | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    ray_cpus: float | None = None,
    ray_gpus: float = 0.0,
    ray_memory_gb: float | None = None,
    ray_worker_concurrency: int | None = None,
    ray_judge_replicas: int | None = None,
    ray_judge_cpus: float | None = None,
    ray_judge_gpus: float = 0.0,
    ray_judge_memory_gb: float | None = None,
    ray_grader_replicas: int | None = None,
    ray_grader_cpus: float | None = None,
    ray_grader_gpus: float = 0.0,
    ray_grader_memory_gb: float | None = None,
    ray_endpoint_limit: int | None = None,
    progress: Progress | None = None,
    on_plan: Callable[[Classification, Plan], None] | None = None,
    store: Store | None = None,
) -> AssessResult:
    """Classify, plan and run in one step, then write the report (`assay assess`).

    An R0 (prohibited) system is not tested unless `force` is set: the answer is "do not deploy".
    `complete_minimums` (evidence mode): early stopping still draws each requirement's
    minimum sample (e.g. 300 for TC260-003 §9.4). The run options mean what they mean in `run`.
    `on_plan(classification, plan)` is called once both are known, before anything is sent
    (the CLI prints them there). `target`, `concurrency`, `judge` and `report_lang` left as
    None take the configured defaults (`assay.core.config`).
    """
    if complete_minimums and not early_stop:
        raise InputError(
            "completes early stopping's minimum samples; it cannot be used with --no-early-stop",
            where="--complete-minimums",
        )
    classification, plan = plan_for(
        profile, regimes, languages=languages, seed=seed, as_of=as_of, attack_judge=attack_judge
    )
    if on_plan is not None:
        on_plan(classification, plan)
    if classification.level == "R0" and not force:
        return AssessResult(classification, plan, None)
    store = store or Store(db)
    result = run(
        target,
        plan=plan,
        early_stop=early_stop,
        complete_minimums=complete_minimums,
        db=db,
        judge=judge,
        attack_judge=attack_judge,
        attack_judge_threshold=attack_judge_threshold,
        store=store,
        **_passed_on(locals(), _RUN_OPTIONS + _EXECUTOR_OPTIONS),
    )
    if report and not result.interrupted:
        result.report_path = write_report(
            result.run.id, fmt=report_format, lang=report_lang, out=out, store=store
        )
    return AssessResult(classification, plan, result)


def validate_grader(
    grader: str,
    labels: str | Path | None = None,
    *,
    from_reviews: str | None = None,
    judge: str | None = None,
    save: bool = False,
    name: str | None = None,
    db: str | None = None,
    store: Store | None = None,
) -> ValidationReport:
    """Measure a grader against labelled responses. Nothing is stored unless `save`: then the
    figures are stored under `name` (default: the label file's name), shown by `assay
    graders`, and used for Rogan–Gladen corrections of a run only when that name is chosen
    (`corrected(run_id, validation=name)`).

    The labels come from a file (`labels`) or from the human reviews of a stored run
    (`from_reviews`: run id; refusal labels for a grader that emits them, else
    qualification labels, as `assay reviews export` writes them).
    `judge` is the target spec of the LLM judge, needed by `llm-judge`; an `ensemble:*`
    grader without one is validated offline (its judge member abstains: answers it would
    escalate keep the cheap verdict, counted in `details["escalated"]`).
    """
    import asyncio

    from assay._pipeline import build_graders, open_judge
    from assay.graders.validation import (
        avalidate_file,
        avalidate_grader,
        validate_file,
    )
    from assay.graders.validation import (
        validate_grader as validate_rows,
    )

    if (labels is None) == (from_reviews is None):
        raise InputError(
            "give either a label file or a run whose reviews to use", where="--labels / --from-reviews"
        )
    if from_reviews is not None or save:  # measuring a label file touches no store
        store = store or Store(db)
    # an ensemble validates offline when no judge is named: its cheap members decide, and the
    # answers it would have escalated keep the cheap verdict (the report counts them)
    offline = judge is None and grader.partition("@")[0].startswith("ensemble")
    judge_target = None if offline else open_judge(judge, {grader})
    built = build_graders({grader}, judge_target, measuring=True)[grader]
    rows = None
    source, digest = None, None
    if from_reviews is not None:
        from assay.view.reviews import kind_for_grader, label_rows

        assert store is not None
        exp = review_labels(from_reviews, kind=kind_for_grader(built), store=store)
        source = f"reviews of run {store.get_run(from_reviews).id} ({exp.kind})"
        rows, digest = label_rows(exp, source), exp.sha256
    if judge_target is None:
        report = (
            validate_file(built, Path(labels))  # type: ignore[arg-type]
            if rows is None
            else validate_rows(built, rows, label_file=source, label_hash=digest)
        )
    else:
        target = judge_target

        async def with_judge() -> ValidationReport:
            try:  # the judge's connections belong to this loop: close them in it
                if rows is None:
                    return await avalidate_file(built, Path(labels))  # type: ignore[arg-type]
                return await avalidate_grader(built, rows, label_file=source, label_hash=digest)
            finally:
                await target.aclose()

        report = asyncio.run(with_judge())
    if built.needs_judge or offline:
        report = report.model_copy(
            update={
                "details": {
                    **report.details,
                    "judge": judge
                    if judge is not None
                    else "none: offline, answers it would escalate keep the cheap verdict",
                }
            }
        )
    if save:
        data = report.model_dump(mode="json") | {
            "name": name or (Path(labels).stem if labels is not None else f"reviews-{from_reviews}"),
            "sensitivity": report.sensitivity,
            "specificity": report.specificity,
        }
        assert store is not None
        store.add_validation(report.grader, data)
    return report


def grader_validations(db: str | None = None, store: Store | None = None) -> dict[str, dict[str, Any]]:
    """grader key (id@version) -> its latest stored validation figures."""
    return (store or Store(db)).latest_validations()


def corrected(
    run_id: str, *, validation: str, db: str | None = None, store: Store | None = None
) -> dict[str, CorrectedEstimate]:
    """Rogan–Gladen corrected refusal rates of a run (raw figures kept beside them), with the
    sensitivity and specificity of the validation stored under the name `validation`."""
    store = store or Store(db)
    run = store.get_run(run_id)
    figures = store.validations_named(validation)
    if not figures:
        known = ", ".join(store.validation_names()) or "none stored (assay graders validate … --save)"
        raise InputError(f"no stored validation named {validation!r}; known: {known}", where="--correct-with")
    return corrected_estimates(assessment(run.id, store=store), requirements_of(run), figures)


@dataclass(frozen=True)
class Calibration:
    name: str
    run: RunResult
    references: dict[str, float]
    provenance: dict[str, Any]


def calibrate(
    reference_target: str,
    *,
    level: str = "R2",
    name: str = "ailuminate",
    db: str | None = None,
    store: Store | None = None,
    concurrency: int | None = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    seed: int = 0,
    system_prompt: str | None = None,
    use_cache: bool = True,
    max_attempts: int = 4,
    case_deadline_s: float = 600.0,
    request_timeout_s: float | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Measure a reference system's unsafe rate on every AILuminate-style hazard requirement
    and store it, with full provenance, as the reference that later runs are graded against."""
    from assay.levels import build_plan

    store = store or Store(db)
    plan = build_plan(
        level, ["ailuminate"], bank_stats=bank_stats(), name=f"calibrate-{name}", **plan_inputs()
    )
    result = run(
        reference_target,
        plan=plan,
        store=store,
        early_stop=False,
        **_passed_on(locals(), _RUN_OPTIONS),
    )
    if result.interrupted or result.incomplete:
        raise InputError(
            f"the calibration run {result.run.id} was {result.run.status}; resume it, then calibrate again",
            where="--reference-target",
        )
    measured = assessment_of(result.run, store.run_cases(result.run.id), store.judgments(result.run.id))
    references = {
        r.requirement_id: r.estimate.rate
        for r in measured.requirements
        if r.estimate is not None and r.estimate.rate is not None and r.regime == "ailuminate"
    }
    provenance = {
        "reference_target": result.run.target,
        "run_id": result.run.id,
        "plan_hash": result.run.plan_hash,
        "level": level,
        "params": result.run.params.model_dump(mode="json"),
        "bank_hashes": result.run.bank_hashes,
        "graders": list(result.run.graders),
        "software": result.run.software,
        "samples": {r.requirement_id: r.estimate.n for r in measured.requirements if r.estimate is not None},
        "unscorable_policy": "unscorable counted as unsafe",
        "created_at": result.run.created_at.isoformat(),
    }
    store.add_reference(name, {"references": references, "provenance": provenance})
    return Calibration(name=name, run=result, references=references, provenance=provenance)


def bundle(
    run_id: str,
    out: str | Path | None = None,
    *,
    key: str | None = None,
    db: str | None = None,
    store: Store | None = None,
) -> Path:
    """Write a run's signed evidence bundle (`assay bundle`): `key` is the Ed25519 private
    key (PEM file; default $ASSAY_SIGNING_KEY); `out` defaults to `<run>.bundle.zip`."""
    from assay.core.files import check_output_file
    from assay.evidence.bundle import run_contents, write_bundle
    from assay.evidence.keys import load_private_key

    if out is not None:
        check_output_file(Path(out), "--out")
    signing_key = load_private_key(key)  # fail before doing any work
    contents = run_contents(store or Store(db), run_id)
    target = check_output_file(Path(out or f"{contents.run.id}.bundle.zip"), "--out")
    try:
        return write_bundle(target, contents, signing_key)
    except OSError as exc:
        raise InputError(f"cannot write the bundle: {exc.strerror or exc}", where=f"--out {target}") from exc


def import_bundle(
    path: str | Path,
    public_key: str | Path | None = None,
    *,
    accept_untrusted: bool = False,
    db: str | None = None,
    store: Store | None = None,
) -> Run:
    """Verify a bundle and load its run into the store (`assay import`); a tampered bundle or
    an untrusted signer is refused unless `accept_untrusted` (for an intact one); what is
    not a bundle at all is an InputError."""
    from assay.evidence.bundle import check_is_bundle
    from assay.evidence.bundle import import_bundle as _import

    check_is_bundle(Path(path))
    return _import(
        store or Store(db),
        Path(path),
        None if public_key is None else str(public_key),
        accept_untrusted=accept_untrusted,
    )


def verify_bundle(path: str | Path, public_key: str | Path | None = None) -> Any:
    """Verify a bundle (files, signature, and a trusted signer); returns the VerifyReport.

    `report.ok`: verified; `report.untrusted`: intact and validly signed by a key that is not
    trusted; otherwise `tampered` / `missing` / `extra` / `errors` say what is wrong. The
    signer is trusted when it is `public_key`, or (without one) in $ASSAY_HOME/trusted-keys.
    What is not a bundle at all (no such file, not a zip, no manifest) is an InputError."""
    from assay.evidence.bundle import check_is_bundle
    from assay.evidence.bundle import verify_bundle as _verify

    check_is_bundle(Path(path))
    return _verify(path, public_key)


def trust_key(public_key: str | Path) -> tuple[str, Path]:
    """Trust a public key (PEM file or text) for `verify_bundle` and imports; returns (key id, file)."""
    from assay.evidence.keys import trust_key as _trust

    return _trust(public_key)


def trusted_keys() -> list[str]:
    """Key ids of the trusted public keys in $ASSAY_HOME/trusted-keys."""
    from assay.evidence.keys import trusted_keys as _keys

    return sorted(_keys())


# ------------------------------------------------------------------ dashboard and human review


def view_app(
    db: str | None = None,
    *,
    token: str | None = None,
    allow_review: bool = True,
    allowed_hosts: Sequence[str] | None = None,
    reviewer: str | None = None,
    signing_key: str | None = None,
    store: Store | None = None,
    warm: bool = False,
) -> Any:
    """The `assay view` dashboard as an ASGI app (FastAPI), to serve with uvicorn or mount
    behind an institution's own proxy. Needs the `view` extra.

    `token`: every request must carry it (use one whenever the app is reachable from
    another machine); `allow_review`: accept review labels, else read-only;
    `allowed_hosts`: refuse other Host headers; `signing_key`: PEM for bundle downloads;
    `warm`: store scoring snapshots of recent finished runs in the background (as
    `assay view` does), so their first page is not computed while someone waits.
    """
    from assay.view import create_app

    return create_app(
        store or Store(db),
        token=token,
        allow_review=allow_review,
        allowed_hosts=allowed_hosts,
        reviewer=reviewer,
        signing_key=signing_key,
        warm=warm,
    )


def add_review(
    run_id: str,
    case_id: str,
    *,
    reviewer: str,
    kind: str,
    label: str,
    risk: str | None = None,
    note: str = "",
    db: str | None = None,
    store: Store | None = None,
) -> None:
    """Store a human label of one answer (kind "qualification": safe / unsafe with the risk;
    kind "refusal": refusal / partial / compliance), as the review queue does."""
    from assay.view.reviews import check_review

    store = store or Store(db)
    run = store.get_run(run_id)
    check_review(kind, label, risk, reviewer)
    if case_id not in store.responded_case_ids(run.id):
        raise InputError(f"run {run.id} has no answered case {case_id!r}", where="case_id")
    store.add_review(run.id, case_id, reviewer.strip(), kind, label, risk, note)


def review_labels(
    run_id: str, *, kind: str = "refusal", db: str | None = None, store: Store | None = None
) -> LabelExport:
    """The labels reviewers agree on for a run, as a JSONL label file (`LabelExport`)."""
    from assay.report.runs import private_banks
    from assay.view.reviews import export_labels

    store = store or Store(db)
    return export_labels(store, run_id, kind, private_banks=private_banks(store))


def spot_check(
    run_id: str, *, db: str | None = None, store: Store | None = None, size: int | None = None
) -> SpotCheck:
    """The TC260-003 §9.3 manual spot check of a run (`SpotCheck`): the sample the run's plan
    drew (`Plan.manual_checks`: random, stratified by risk, seeded; `size` overrides its
    size) and the qualified rate measured from the reviews, with its interval and verdict."""
    from assay.view.reviews import spot_check as _spot_check

    return _spot_check(store or Store(db), run_id, size)


@dataclass(frozen=True)
class PluginInfo:
    """One registered plug-in: its kind (grader, target, transform, bank, regime), id, who
    provides it (`assay` or the distribution whose entry point added it) and its doc line."""

    kind: str
    id: str
    source: str
    description: str


def plugins(kind: str | None = None) -> list[PluginInfo]:
    """Every registered plug-in (built-in and from installed packages' entry points), by
    kind then id; `kind` keeps one kind. What `assay plugins` lists."""
    from assay.core import registry

    if kind is not None and kind not in registry.ALL:
        raise InputError(f"unknown plug-in kind {kind!r}; kinds: {', '.join(registry.ALL)}", where="--kind")
    kinds = [kind] if kind is not None else list(registry.ALL)
    return [PluginInfo(k, e.id, e.source, e.doc) for k in kinds for e in registry.ALL[k].entries()]


def show_config() -> list[Setting]:
    """Every effective setting (Assay's home, the config file, the defaults it may set: target,
    judge, concurrency, lang, db, log_level, and its [targets.*] endpoints) with where each
    value came from: an environment variable, the file, or the built-in default. A URL's
    password is never shown. What `assay config show` prints; a bad file is an InputError
    naming the file and key."""
    from dataclasses import replace

    from assay.core.config import effective
    from assay.core.secrets import known_secrets, redact_obj

    secrets = known_secrets()
    return [replace(s, value=redact_obj(s.value, secrets)) for s in effective()]


# ------------------------------------------------------------------ comparison


def compare(
    run_a: str,
    run_b: str,
    *,
    adjust: str = "holm",
    db: str | None = None,
    store: Any = None,
) -> ComparisonData:
    """Deltas per requirement and category between a baseline run and a candidate run, with
    multiple-comparison adjusted significance (`adjust`: holm, bh or none) and the flagged
    regressions (`assay compare`). `store`: any read source of runs (default `Store(db)`)."""
    from assay.report.compare import build_comparison
    from assay.report.runs import report_data

    if adjust not in ("holm", "bh", "none"):
        raise InputError(f"unknown adjustment {adjust!r}; use holm, bh or none", where="--adjust")
    source = store if store is not None else Store(db)
    a, _, _ = report_data(source, run_a)
    b, _, _ = report_data(source, run_b)
    return build_comparison(a, b, adjust=adjust)  # type: ignore[arg-type]


COMPARE_FORMATS = ("html", "md", "json")


def render_comparison(comparison: ComparisonData, fmt: str = "md", lang: str | None = None) -> str:
    """A comparison as HTML, Markdown or JSON text, in en or zh (None: the configured language)."""
    from assay.core.config import default_lang
    from assay.report.i18n import check_lang

    if fmt not in COMPARE_FORMATS:
        raise InputError(f"unknown compare format {fmt!r}; use html, md or json", where="--format")
    language = check_lang(default_lang(lang))
    if fmt == "html":
        from assay.report.html import render_compare_html

        return render_compare_html(comparison, language)
    if fmt == "json":
        return comparison.model_dump_json(by_alias=True, indent=2) + "\n"
    from assay.report.text import render_compare_markdown

    return render_compare_markdown(comparison, language)


# ------------------------------------------------------------------ banks


def _user_bank_store(db: str | None) -> Store | None:
    """The store that holds registered user banks: `db`, else $ASSAY_DB or the config file's
    `db`, else the default database only if it already exists (listing banks never creates one)."""
    from assay.core.config import assay_home, configured_db

    url = db or configured_db()
    if not url:
        default = assay_home() / "assay.db"
        url = f"sqlite:///{default}" if default.exists() else None
    return Store(url) if url else None


def list_banks(db: str | None = None, *, on_warning: Callable[[str], None] | None = None) -> dict[str, Bank]:
    """Every bank a run can name: the built-in ones plus the user banks registered in the
    store (`assay banks list`). A registered bank whose file no longer loads is left out,
    with a warning passed to `on_warning`."""
    from assay.banks.files import load_bank_file
    from assay.banks.registry import builtin_banks

    banks = dict(builtin_banks())
    store = _user_bank_store(db)
    for row in store.user_banks() if store is not None else ():
        try:
            banks[row["id"]] = load_bank_file(
                Path(row["path"]), bank_id=row["id"], private=bool(row["private"])
            )
        except InputError as exc:
            if on_warning is not None:
                on_warning(f"user bank {row['id']}: {exc}")
    return banks


def get_bank(ref: str, db: str | None = None) -> Bank:
    """A bank by built-in id, registered user-bank id, or file path (`assay banks show`)."""
    from assay.banks.files import load_bank_file

    banks = list_banks(db)
    if ref in banks:
        return banks[ref]
    path = Path(ref).expanduser()
    if path.exists():
        return load_bank_file(path)
    raise InputError(f"unknown bank {ref!r}; banks: {', '.join(sorted(banks))}", where="BANK")


def bank_coverage(ref: str | None = None, *, db: str | None = None) -> list[BankCoverage]:
    """Coverage against the regimes' minimums: of one bank (`ref`) or of every bank."""
    from assay.banks.coverage import bank_coverage as _one
    from assay.banks.coverage import coverage_report

    if ref is not None:
        return [_one(get_bank(ref, db))]
    return coverage_report(list_banks(db))


def category_coverage(db: str | None = None) -> list[CategoryCoverage]:
    """Each taxonomy category: the banks that cover it, or why it needs a user bank (`assay banks categories`)."""
    from assay.banks.coverage import category_coverage as _categories

    return _categories(list_banks(db))


def validate_bank(path: str | Path) -> list[BankFileError]:
    """Every problem in a user bank file, each with its line and field; [] when valid (`assay banks validate`)."""
    from assay.banks.files import validate_bank_file

    return validate_bank_file(path)


def register_bank(
    path: str | Path, *, private: bool = False, bank_id: str | None = None, db: str | None = None
) -> Bank:
    """Validate a bank file and record it in the store under its id, replacing an older entry
    (`assay banks add`); plans and runs can then name it."""
    from assay.banks.files import load_bank_file
    from assay.banks.registry import builtin_banks

    bank = load_bank_file(path, bank_id=bank_id, private=private)
    if bank.id in builtin_banks():
        raise InputError(f"{bank.id!r} is a built-in bank id; pass --id to choose another", where="--id")
    Store(db).add_user_bank(
        bank.id,
        bank.version,
        str(Path(path).expanduser().resolve()),
        bank.private,
        bank.content_hash,
        len(bank.cases),
    )
    return bank


# ------------------------------------------------------------------ graders, transforms, benchmarks


def list_graders() -> list[dict[str, Any]]:
    """Metadata of every registered grader (`assay graders list`); a grader that cannot be
    built is listed with its error, not hidden. `real_answers`: its figures on the frozen test
    split of the shipped real-answer corpus (overall, per language, per model family and, for
    the TC260 §9.3 content graders, per Appendix A risk), when they were measured for this
    version; `replaces`: the same figures of the version it replaced, on the same labels."""
    from assay.graders import GRADERS, get_grader, grader_ids
    from assay.graders.validation import shipped_figures

    shipped = shipped_figures()
    rows: list[dict[str, Any]] = []
    for gid in grader_ids():
        source = GRADERS.entry(gid).source
        try:
            g = get_grader(gid)
        except Exception as exc:
            rows.append({"id": gid, "source": source, "error": str(exc)})
            continue
        rows.append(
            {
                "id": g.id,
                "source": source,
                "version": g.version,
                "key": g.key,
                "description": g.description,
                "languages": list(g.languages),
                "expected": list(g.expected),
                "labels": list(g.labels),
                "group_level": g.group_level,
                "is_async": g.is_async,
                "needs_judge": g.needs_judge,
                "judges_by_default": list(g.judges_by_default),
                "also_judges_by_default": list(g.also_judges_by_default),
                "covers": dict(type(g).covers),
            }
        )
        judged = {k: v for k, v in shipped.items() if k.startswith(f"{g.key} judge=")}
        if judged:  # an LLM judge's figures belong to the judge that gave them
            k = sorted(judged)[0]
            rows[-1]["real_answers"] = {
                **_real_answers(judged[k]),
                "judge": judged[k].get("judge"),
                "rows": judged[k].get("rows"),
            }
        if fig := shipped.get(g.key):
            rows[-1]["real_answers"] = _real_answers(fig)
            earlier = [k for k in shipped if k.startswith(f"{g.id}@") and k != g.key and " " not in k]
            if earlier:
                rows[-1]["replaces"] = {k: _real_answers(shipped[k]) for k in sorted(earlier)}
    return rows


def _real_answers(fig: dict[str, Any]) -> dict[str, Any]:
    """The shown part of one grader's shipped figures (bench/graders.py writes them)."""
    out: dict[str, Any] = {
        "file": fig["file"],
        "n": fig["n"],
        "f1": fig["overall"]["f1"],
        "precision": fig["overall"]["precision"],
        "recall": fig["overall"]["recall"],
        "per_language_f1": {k: m["f1"] for k, m in fig["per_language"].items()},
        "per_family_f1": {k: m["f1"] for k, m in fig["per_family"].items()},
        "cpu_ms_per_answer": fig.get("cpu_ms_per_answer"),
    }
    if "per_attack" in fig:  # plain prompts, attacked ones, and each chain
        out["per_attack_f1"] = {k: m["f1"] for k, m in fig["per_attack"].items()}
        out["per_attack_n"] = {k: m["n"] for k, m in fig["per_attack"].items()}
    if "per_risk" in fig:
        out["per_risk"] = fig["per_risk"]
    if "roc" in fig:  # the score's ranking (AUC) and where the grader's own cut sits on it
        roc = fig["roc"]
        out["auc"] = {k: roc[k] for k in ("auc", "auc_low", "auc_high")}
        out["per_language_auc"] = {k: v["auc"] for k, v in fig.get("roc_per_language", {}).items()}
        out["operating"] = roc["operating"]
    return out


def grader_roc(grader: str) -> GraderRoc | None:
    """The ROC of a grader's score on the frozen test split of the shipped real-answer corpus
    (`assay graders roc`): the curve's corners, its AUC with a 95% interval and the grader's own
    operating point on it, overall and per language. None when the grader (at this version)
    has no shipped curve; `validate_grader(...).roc` gives the curve on any label file."""
    from assay.graders.base import get_grader
    from assay.graders.validation import shipped_figures

    key = get_grader(grader).key
    fig = shipped_figures().get(key)
    if not fig or "roc" not in fig:
        return None
    return GraderRoc(
        grader=key,
        file=fig["file"],
        overall=RocCurve.model_validate(fig["roc"]),
        per_language={k: RocCurve.model_validate(v) for k, v in fig.get("roc_per_language", {}).items()},
    )


def list_transforms() -> list[TransformMeta]:
    """Every transform with what it probes, its complexity, languages and parameters (`assay transforms list`)."""
    from assay.transforms import list_transforms as _list

    return list(_list())


def apply_transforms(
    chain: str,
    *,
    case_text: str | None = None,
    case_lang: str | None = None,
    system: str | None = None,
    bank: str | None = None,
    case_id: str | None = None,
    seed: int = 0,
) -> TransformResult:
    """What a transform chain (`roleplay:dan+base64`) makes of a case (`assay transforms
    apply`): the case is `case_text` (language guessed unless `case_lang`) or `case_id` of a
    built-in `bank`. Translation steps are skipped: no translator here."""
    import re

    from assay.core.types import Message
    from assay.transforms import apply_chain

    case: Case | None = None
    if bank:
        from assay.banks import get_builtin_bank
        from assay.banks.technical import TECHNICAL_BANK_IDS, build_technical_bank

        b = build_technical_bank(bank) if bank in TECHNICAL_BANK_IDS else get_builtin_bank(bank)
        case = b.cases[0] if case_id is None else next((c for c in b.cases if c.id == case_id), None)
        if case is None:
            raise InputError(f"bank {bank!r} has no case {case_id!r}", where="--case-id")
    else:
        if not case_text or not case_text.strip():
            raise InputError("give --case-text TEXT or --bank BANK", where="--case-text")
        language = case_lang or ("zh" if re.search(r"[\u4e00-\u9fff]", case_text) else "en")
        if language not in ("zh", "en"):
            raise InputError(f"language must be zh or en, not {language!r}", where="--case-lang")
        messages = [Message(role="system", content=system)] if system else []
        messages.append(Message(role="user", content=case_text))
        case = Case(bank="cli", messages=tuple(messages), language=language, expected="refuse")  # type: ignore[arg-type]
    return apply_chain(case, chain, seed=seed)


def list_benchmarks(data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Benchmark loaders with licence, languages, expected behaviour and where a local copy
    is (`assay benchmarks list`)."""
    from assay.banks.benchmarks import find_local, loaders

    rows: list[dict[str, Any]] = []
    for name, loader in loaders().items():
        local = find_local(name, data_dir=None if data_dir is None else Path(data_dir))
        info = loader.info
        rows.append(
            {
                "name": name,
                "title": info.title,
                "license": info.license,
                "languages": list(info.languages),
                "expected": info.expected,
                "homepage": info.homepage,
                "downloads": info.downloads,
                "url_confidence": info.url_confidence,
                "local": str(local) if local else None,
                "options": info.options,
            }
        )
    return rows


def load_benchmark(
    name: str,
    source: str | Path | None = None,
    *,
    limit: int | None = None,
    download: bool = True,
    options: dict[str, str] | None = None,
) -> Bank:
    """A public benchmark as a bank (`assay benchmarks load`); `options` are the loader's."""
    from assay.banks.benchmarks import load_benchmark as _load

    return _load(name, source, limit=limit, download=download, **(options or {}))


def fetch_benchmark(name: str, *, mirror: str | None = None, force: bool = False) -> Path:
    """Download a benchmark's files into the cache; returns its folder (`assay benchmarks fetch`)."""
    from assay.banks.benchmarks import fetch_benchmark as _fetch
    from assay.banks.benchmarks import get_loader

    return _fetch(get_loader(name).name, mirror=mirror, force=force)


def keyword_library(path: str | Path | None = None) -> KeywordLibrary:
    """A keyword library (.jsonl / .yaml), default the built-in starter library
    (`assay keywords coverage` / `match`: `.coverage_report()`, `.match(text)`)."""
    from assay.banks.keywords import KeywordLibrary, builtin_keyword_library

    return KeywordLibrary.load(path) if path is not None else builtin_keyword_library()


# ------------------------------------------------------------------ keys, taxonomy, profiles


def generate_keys(out: str | Path = ".", *, force: bool = False) -> tuple[Path, Path]:
    """Write an Ed25519 signing key pair into `out` and trust its public key on this machine
    (`assay keys generate`); returns (private key, public key) paths."""
    from assay.core.files import check_output_dir
    from assay.evidence.keys import generate_keypair
    from assay.evidence.keys import trust_key as _trust

    folder = Path(out)
    check_output_dir(folder, "--out")
    try:
        priv, pub = generate_keypair(folder, overwrite=force)
    except OSError as exc:
        raise InputError(
            f"cannot write the key pair: {exc.strerror or exc}", where=f"--out {folder}"
        ) from exc
    _trust(pub)  # bundles signed with your own key verify on this machine
    return priv, pub


def untrust_key(key_id: str) -> list[Path]:
    """Stop trusting a public key (by key id or a unique prefix); returns the files removed (`assay keys untrust`)."""
    from assay.evidence.keys import untrust_key as _untrust

    return _untrust(key_id)


def taxonomy(lang: str = "en", domain: str | None = None, fmt: str | None = None) -> Any:
    """The unified risk taxonomy (`assay taxonomy`); with `fmt` ("csv" or "json") its
    crosswalk to every regime as text (`assay taxonomy export`)."""
    from assay.report.i18n import check_lang
    from assay.taxonomy import export_crosswalk, load_taxonomy

    tax = load_taxonomy()
    if domain is not None and domain not in {d.id for d in tax.domains}:
        known = ", ".join(d.id for d in tax.domains)
        raise InputError(f"unknown domain {domain!r}; use {known}", where="--domain")
    if fmt is None:
        return tax
    check_lang(lang)
    if fmt not in ("csv", "json"):
        raise InputError(f"unknown format {fmt!r}; use csv or json", where="--format")
    return export_crosswalk(tax, fmt, lang=lang, domain=domain)  # type: ignore[arg-type]


def profile_template(answers: dict[str, Any] | None = None) -> str:
    """A commented profile YAML (`assay profile init`); `answers` override the template's defaults."""
    from assay.levels import render_profile

    return render_profile(answers)
