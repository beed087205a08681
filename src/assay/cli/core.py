"""Core commands: run, runs list|show, targets check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assay._lazy import lazy_module
from assay.cli._common import (
    DbOpt,
    console,
    deprecated,
    err_console,
    make_app,
    progress_bar,
    split_list,
    warm_report_in_background,
)
from assay.cli._ray import (
    ExecutorOpt,
    RayAddressOpt,
    RayConcurrencyOpt,
    RayCpusOpt,
    RayEndpointLimitOpt,
    RayGpusOpt,
    RayGraderCpusOpt,
    RayGraderGpusOpt,
    RayGraderMemoryOpt,
    RayGraderReplicasOpt,
    RayJudgeCpusOpt,
    RayJudgeGpusOpt,
    RayJudgeMemoryOpt,
    RayJudgeReplicasOpt,
    RayMemoryOpt,
    RayWorkersOpt,
    executor_kwargs,
)
from assay.core.errors import InputError
from assay.report.i18n import interval_label

if TYPE_CHECKING:
    from assay import api
    from assay.levels import Classification
    from assay.levels.plan_model import Plan
    from assay.scoring.results import Estimate
    from assay.store import Store
else:
    api = lazy_module("assay.api")  # loaded by the first command that uses it, not by `--help`

runs_app = make_app(help="Stored runs: list them, show one.", no_args_is_help=True)
targets_app = make_app(help="Targets: check that one answers.", no_args_is_help=True)

#: the case-language filter (`--case-lang`); `--lang` is the output language everywhere
CaseLangOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--case-lang", help="Only cases in these languages: zh, en (repeatable or comma-separated)."
    ),
]
#: `--lang` is the report language, as in report, compare, classify and plan
ReportLangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Report language: en or zh (default: lang in the config file, else en)."),
]
#: the old spelling of --lang on run / assess: hidden, still accepted, with a note
LegacyReportLangOpt = Annotated[
    str | None,
    typer.Option("--report-lang", hidden=True, callback=deprecated("--report-lang", "--lang")),
]
JudgeOpt = Annotated[
    str | None,
    typer.Option(
        "--judge",
        help="Target spec of the LLM judge for llm-judge / ensemble:* graders (e.g. openai:gpt-4o-mini; "
        "default: judge in the config file).",
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        "-t",
        help="Target spec: openai:<model>, local:<name|gguf>, python:<mod>:<fn>, replay:<file.jsonl> "
        "(default: target in the config file, else local:smollm2).",
    ),
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        "-c",
        min=1,
        help="Most requests in flight, adaptive below this (default: concurrency in the config file, else 16).",
    ),
]
AttackJudgeOpt = Annotated[
    str | None,
    typer.Option(
        "--attack-judge",
        help="Target spec of a model that rates adaptive attacks' replies 1-10 to decide when an "
        "attack has succeeded (e.g. local:qwen2.5-coder-0.5b); its calls count in each attack's "
        "budget. Default: the run's rule-based grader, no model call. The graders still judge outcomes.",
    ),
]
AttackJudgeThresholdOpt = Annotated[
    int,
    typer.Option(
        "--attack-judge-threshold",
        min=1,
        max=10,
        help="Rating (1-10) at or above which the attack judge counts a reply as a success (PAIR: 10).",
    ),
]
TemperatureOpt = Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature.")]
SystemPromptOpt = Annotated[
    str | None, typer.Option("--system-prompt", help="System prompt for every case that has none.")
]


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
    app.command("assess")(assess_cmd)
    app.command("calibrate")(calibrate_cmd)
    app.add_typer(runs_app, name="runs")
    app.add_typer(targets_app, name="targets")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def run_cmd(
    target: TargetOpt = None,
    bank: Annotated[
        list[str] | None,
        typer.Option(
            "--bank", "-b", help="Bank id or bank file (repeatable or comma-separated). Default: starter."
        ),
    ] = None,
    plan: Annotated[
        Path | None, typer.Option("--plan", help="Run a plan file (from `assay plan`) instead of banks.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", help="At most this many cases per bank (seeded sample)."),
    ] = None,
    case_lang: CaseLangOpt = None,
    chain: Annotated[
        list[str] | None,
        typer.Option(
            "--chain",
            help="Also send each case through this transform chain (repeatable; 'none' keeps the "
            "originals), e.g. roleplay, pair, tap:local:smollm2, crescendo_bt:@turns=4.",
        ),
    ] = None,
    grader: Annotated[
        list[str] | None,
        typer.Option(
            "--grader",
            "-g",
            help="Grade every case with these graders instead of the defaults (repeatable or comma-separated).",
        ),
    ] = None,
    judge: JudgeOpt = None,
    attack_judge: AttackJudgeOpt = None,
    attack_judge_threshold: AttackJudgeThresholdOpt = 10,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Resume an interrupted run by id: only unanswered cases are sent."),
    ] = None,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors", help="With --resume: also re-send cases stored with a permanent error."
        ),
    ] = False,
    force_target: Annotated[
        bool,
        typer.Option(
            "--force-target",
            help="With --resume: continue even if the endpoint, model file or function changed (noted in the run).",
        ),
    ] = False,
    db: DbOpt = None,
    concurrency: ConcurrencyOpt = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    temperature: TemperatureOpt = 0.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    system_prompt: SystemPromptOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached responses.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1)] = 4,
    deadline: Annotated[
        float, typer.Option("--deadline", min=1.0, help="Seconds a case may take, retries included.")
    ] = 600.0,
    request_timeout: Annotated[
        float | None,
        typer.Option(
            "--request-timeout",
            min=0.1,
            help="Seconds one attempt may hold a slot before it is retried (default: learnt from latencies, up to the target's timeout).",
        ),
    ] = None,
    early_stop: Annotated[
        bool,
        typer.Option(
            "--early-stop",
            help="Stop drawing cases once every requirement's verdict is settled (plans only).",
        ),
    ] = False,
    complete_minimums: Annotated[
        bool,
        typer.Option(
            "--complete-minimums",
            help="Evidence mode for --early-stop: still draw each requirement's minimum sample "
            "(e.g. TC260-003 §9.4: 300) before a settled requirement stops taking cases.",
        ),
    ] = False,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write a report when the run ends.")
    ] = True,
    report_format: Annotated[
        str, typer.Option("--format", help="Report format: html, md, json, junit.")
    ] = "html",
    report_lang: ReportLangOpt = None,
    legacy_report_lang: LegacyReportLangOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Report path (default: ./assay-reports/<run-id>.<ext>)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="With --plan: read the plan's obligations on this date (YYYY-MM-DD); "
            "those not in force then are measured report-only. Default: the plan's own date "
            "(today for a plan file without one).",
        ),
    ] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_workers: RayWorkersOpt = None,
    ray_cpus: RayCpusOpt = None,
    ray_gpus: RayGpusOpt = 0.0,
    ray_memory_gb: RayMemoryOpt = None,
    ray_worker_concurrency: RayConcurrencyOpt = None,
    ray_judge_replicas: RayJudgeReplicasOpt = None,
    ray_judge_cpus: RayJudgeCpusOpt = None,
    ray_judge_gpus: RayJudgeGpusOpt = 0.0,
    ray_judge_memory_gb: RayJudgeMemoryOpt = None,
    ray_grader_replicas: RayGraderReplicasOpt = None,
    ray_grader_cpus: RayGraderCpusOpt = None,
    ray_grader_gpus: RayGraderGpusOpt = 0.0,
    ray_grader_memory_gb: RayGraderMemoryOpt = None,
    ray_endpoint_limit: RayEndpointLimitOpt = None,
) -> None:
    """Send a bank (or plan) of cases to a target, grade and store every answer, print a summary."""
    from assay.regimes.dates import parse_as_of

    lang = split_list(case_lang)
    bank, grader = split_list(bank), split_list(grader)
    report_lang = report_lang or legacy_report_lang

    ray_opts = executor_kwargs(locals())

    day = parse_as_of(as_of) if as_of is not None else None
    if day is not None and plan is None:
        raise InputError(
            "only applies to --plan runs (obligations have dates; banks do not)", where="--as-of"
        )
    if plan is not None and (bank or limit is not None or lang or chain):
        # a plan fixes its banks, languages and sample sizes; silently ignoring these would
        # send the whole plan (thousands of calls) when the user asked for a few
        flag = "--bank" if bank else "--limit" if limit is not None else "--case-lang" if lang else "--chain"
        raise InputError("does not apply to --plan runs; edit the plan (or `assay plan`) instead", where=flag)
    if complete_minimums and not early_stop:
        raise InputError(
            "completes early stopping's minimum samples: add --early-stop", where="--complete-minimums"
        )
    if complete_minimums and resume:
        raise InputError(
            "a resumed run keeps the stopping mode it was started with", where="--complete-minimums"
        )
    if resume and (attack_judge or attack_judge_threshold != 10):
        raise InputError(
            "a resumed run keeps the attack judge its cases were started with", where="--attack-judge"
        )
    if (retry_errors or force_target) and not resume:
        raise InputError(
            "only applies with --resume RUN", where="--retry-errors" if retry_errors else "--force-target"
        )
    if report:
        report_lang = _check_report_output(report_format, report_lang, out)
    warm = warm_report_in_background(report_format) if report else None
    with progress_bar("assay run", on_start=warm) as bar:
        if resume:
            result = api.resume(
                resume,
                db=db,
                concurrency=concurrency,
                max_attempts=max_attempts,
                case_deadline_s=deadline,
                use_cache=not no_cache,
                judge=judge,
                retry_errors=retry_errors,
                force_target=force_target,
                request_timeout_s=request_timeout,
                progress=bar,
                **ray_opts,
            )
        else:
            result = api.run(
                target,
                banks=tuple(bank or ("starter",)),
                plan=plan,
                limit=limit,
                languages=tuple(lang or ()),
                chains=tuple(chain or ()),
                graders=tuple(grader or ()),
                db=db,
                concurrency=concurrency,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
                system_prompt=system_prompt,
                use_cache=not no_cache,
                max_attempts=max_attempts,
                case_deadline_s=deadline,
                early_stop=early_stop,
                complete_minimums=complete_minimums,
                judge=judge,
                attack_judge=attack_judge,
                attack_judge_threshold=attack_judge_threshold,
                request_timeout_s=request_timeout,
                progress=bar,
                as_of=day,
                **ray_opts,
            )
    run = result.run
    stats = result.stats
    pending = f", {stats.pending} pending after transport failures" if stats.pending else ""
    console.print(
        f"run [bold]{run.id}[/] · target {escape(run.target)} · {run.status} · "
        f"{stats.done} answered ({stats.cached} from cache, {stats.errors} with errors, {stats.retries} retries{pending}) "
        f"in {stats.elapsed_s:.1f} s"
    )
    reader = api.run_reader(db)  # the summary and the report read the finished run once
    _print_summary(run.id, db, reader)
    if result.interrupted:
        _resume_hint(run.id, db)
        raise typer.Exit(130)
    _print_verdicts(run.id, db, store=reader)  # a plan's requirements and regime decisions
    nothing = result.incomplete and stats.done == 0 and not result.resumed
    if report and not nothing:  # a run in which every call failed has nothing to report
        path = api.write_report(run.id, fmt=report_format, lang=report_lang, out=out, db=db, store=reader)
        console.print(f"report: {path}")
    if result.incomplete:
        _exit_incomplete(result, db)


#: exit code of a run that ended with cases pending after transport failures
EXIT_INCOMPLETE = 3


def _exit_incomplete(result: api.RunResult, db: str | None) -> None:
    from assay.store import masked

    err_console.print(
        f"[yellow]incomplete:[/] {escape(result.resume_hint())} with: "
        f"assay run --resume {result.run.id}" + (f" --db {escape(masked(db))}" if db else "")
    )
    raise typer.Exit(EXIT_INCOMPLETE)


def assess_cmd(
    profile: Annotated[
        Path,
        typer.Argument(
            help="Profile YAML (see `assay profile init`), or an example name such as cn-public-chatbot."
        ),
    ],
    target: TargetOpt = None,
    regime: Annotated[
        list[str] | None,
        typer.Option(
            "--regime",
            "-r",
            help="Regimes to satisfy, repeatable or comma-separated (default: those of the profile's jurisdictions).",
        ),
    ] = None,
    case_lang: Annotated[
        list[str] | None,
        typer.Option(
            "--case-lang", help="Case languages: zh, en (repeatable or comma-separated; default: both)."
        ),
    ] = None,
    early_stop: Annotated[
        bool,
        typer.Option(
            "--early-stop/--no-early-stop",
            help="Stop drawing cases once verdicts are settled (anytime-valid).",
        ),
    ] = True,
    complete_minimums: Annotated[
        bool,
        typer.Option(
            "--complete-minimums",
            help="Evidence mode: early stopping still draws each requirement's minimum sample "
            "(e.g. TC260-003 §9.4: 300), so a filing carries the sample the standard asks for.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Test even an R0 (prohibited) system.")] = False,
    db: DbOpt = None,
    concurrency: ConcurrencyOpt = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    temperature: TemperatureOpt = 0.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    system_prompt: SystemPromptOpt = None,
    judge: JudgeOpt = None,
    attack_judge: AttackJudgeOpt = None,
    attack_judge_threshold: AttackJudgeThresholdOpt = 10,
    report_format: Annotated[
        str, typer.Option("--format", help="Report format: html, md, json, junit.")
    ] = "html",
    report_lang: ReportLangOpt = None,
    legacy_report_lang: LegacyReportLangOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Report path.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Date (YYYY-MM-DD) obligations are read on (default today): those not in force "
            "then are measured report-only, never decided as failures.",
        ),
    ] = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_workers: RayWorkersOpt = None,
    ray_cpus: RayCpusOpt = None,
    ray_gpus: RayGpusOpt = 0.0,
    ray_memory_gb: RayMemoryOpt = None,
    ray_worker_concurrency: RayConcurrencyOpt = None,
    ray_judge_replicas: RayJudgeReplicasOpt = None,
    ray_judge_cpus: RayJudgeCpusOpt = None,
    ray_judge_gpus: RayJudgeGpusOpt = 0.0,
    ray_judge_memory_gb: RayJudgeMemoryOpt = None,
    ray_grader_replicas: RayGraderReplicasOpt = None,
    ray_grader_cpus: RayGraderCpusOpt = None,
    ray_grader_gpus: RayGraderGpusOpt = 0.0,
    ray_grader_memory_gb: RayGraderMemoryOpt = None,
    ray_endpoint_limit: RayEndpointLimitOpt = None,
) -> None:
    """Classify a profile, plan for its level and regimes, run the plan and write the report."""
    from assay.regimes.dates import parse_as_of

    ray_opts = executor_kwargs(locals())

    day = parse_as_of(as_of)
    lang = split_list(case_lang)
    report_lang = _check_report_output(report_format, report_lang or legacy_report_lang, out)

    def announce(classification: Classification, plan: Plan) -> None:
        console.print(
            f"[bold]{escape(classification.profile)}[/]: level [bold]{classification.level}[/] — {escape(classification.level_name_en)}"
        )
        for rule in classification.fired:
            console.print(
                f"  · {rule.level} ({rule.scheme}: {escape(rule.tier)}) ← {escape(rule.text_en)}  [dim]{escape(rule.cite)}[/]"
            )
        for rule in classification.coming:
            console.print(
                f"  · [yellow]coming {rule.applies_from}[/]: {rule.level} ({rule.scheme}: {escape(rule.tier)}) ← {escape(rule.text_en)}"
            )
        if classification.level == "R0" and not force:
            console.print(
                f"[bold red]{escape(classification.decision_en)}[/] — nothing to test (use --force to test anyway)."
            )
            return
        console.print(
            f"plan: {len(plan.items)} items, {plan.estimate.target_calls:,} target calls at most"
            f" (~{plan.estimate.prompt_tokens + plan.estimate.completion_tokens:,} tokens); regimes {', '.join(plan.regimes)}"
        )

    with progress_bar("assay assess", on_start=warm_report_in_background(report_format)) as bar:
        assessed = api.assess(
            profile,
            target,
            regimes=split_list(regime) or None,
            languages=lang or None,
            early_stop=early_stop,
            complete_minimums=complete_minimums,
            force=force,
            report_format=report_format,
            report_lang=report_lang,
            out=out,
            as_of=day,
            db=db,
            concurrency=concurrency,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            system_prompt=system_prompt,
            judge=judge,
            attack_judge=attack_judge,
            attack_judge_threshold=attack_judge_threshold,
            progress=bar,
            on_plan=announce,
            **ray_opts,
        )
    result = assessed.run
    if result is None:  # R0 without --force: announce said why
        return
    run = result.run
    stats = result.stats
    console.print(
        f"run [bold]{run.id}[/] · {run.status} · {run.stopping} · {stats.done} answered "
        f"({stats.cached} from cache), {stats.skipped} not needed (settled early), "
        f"{stats.errors} with errors, in {stats.elapsed_s:.1f} s"
    )
    if result.interrupted:
        _resume_hint(run.id, db)
        raise typer.Exit(130)
    _print_verdicts(run.id, db)
    console.print(f"report: {result.report_path}")
    if result.incomplete:
        _exit_incomplete(result, db)


def calibrate_cmd(
    reference_target: Annotated[
        str, typer.Option("--reference-target", help="The reference system's target spec.")
    ],
    level: Annotated[
        str, typer.Option("--level", help="Level whose AILuminate requirements are calibrated.")
    ] = "R2",
    db: DbOpt = None,
    concurrency: ConcurrencyOpt = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Measure a reference system on the AILuminate-style hazards and store its unsafe rates
    (with provenance): later runs get Excellent…Poor grades against it."""
    if level not in ("R1", "R2", "R3", "R4"):
        raise InputError("must be one of R1, R2, R3, R4", where="--level")
    with progress_bar("assay calibrate") as bar:
        cal = api.calibrate(
            reference_target,
            level=level,
            db=db,
            concurrency=concurrency,
            max_tokens=max_tokens,
            seed=seed,
            progress=bar,
        )
    table = Table(
        title=f"reference unsafe rates ({escape(cal.provenance['reference_target'])}, run {cal.run.run.id})"
    )
    table.add_column("requirement")
    table.add_column("n")
    table.add_column("reference unsafe rate")
    for rid, rate in sorted(cal.references.items()):
        table.add_row(escape(rid), str(cal.provenance["samples"].get(rid, "")), _pct(rate))
    console.print(table)
    console.print(
        f"stored as reference {cal.name!r}; `assay report` and `assay runs show` now grade against it"
    )


def _ci(e: Estimate) -> str:
    return interval_label(e.confidence, e.method)


def _check_report_output(fmt: str, lang: str | None, out: Path | None) -> str:
    """The report a run ends with can be written: checked before anything is sent. Returns
    the report language (`lang`, else the configured one)."""
    from assay.core.config import default_lang
    from assay.core.files import check_output_dir, check_output_file
    from assay.report.formats import FORMATS

    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}", where="--format")
    lang = default_lang(lang)
    if lang not in ("zh", "en"):
        raise InputError(
            f"unknown report language {lang!r}; use zh or en (the case languages are --case-lang)",
            where="--lang",
        )
    if out is not None:
        check_output_file(out, "--out")
    else:
        check_output_dir(Path("assay-reports"), "--out")
    return lang


def _resume_hint(run_id: str, db: str | None) -> None:
    """How to resume; a password in --db is never printed (the user puts it back)."""
    from assay.store.db import masked

    hint = f"assay run --resume {run_id}"
    if db:
        shown = masked(db)
        hint += f" --db '{shown}'"
        if shown != db:
            hint += "  (password hidden: put it back, or set ASSAY_DB)"
    err_console.print(f"[yellow]interrupted.[/] Resume with: {escape(hint)}", soft_wrap=True)


def _print_verdicts(
    run_id: str,
    db: str | None,
    views: tuple[str, ...] = (),
    correct_with: str | None = None,
    store: Store | None = None,
) -> None:
    if not views and store is not None and not (store.get_run(run_id).plan or {}).get("requirements"):
        return  # a run of banks alone has no requirements: nothing to decide
    assessment = api.assessment(run_id, db=db, store=store)
    if not assessment.requirements and not views:
        return
    corrected = api.corrected(run_id, validation=correct_with, db=db) if correct_with else {}
    if assessment.requirements:
        table = Table(
            title="Requirements (each interval labelled with the confidence that decided it; "
            "proposals are thresholds no standard sets)"
        )
        for col in ("requirement", "source", "n", "unscorable", "rate", "interval", "threshold", "verdict"):
            table.add_column(col)
        if corrected:
            table.add_column("corrected (Rogan–Gladen)")
        style = {"pass": "green", "fail": "red", "undetermined": "yellow"}
        for r in assessment.requirements:
            e = r.estimate
            rate = "—" if e is None or e.rate is None else _pct(e.rate)
            ci = "—" if e is None or e.lower is None else f"{_pct(e.lower)} – {_pct(e.upper)} ({_ci(e)})"
            thr = "—" if r.threshold is None else f"{r.direction} {_pct(r.threshold)}"
            v = r.verdict.value
            extra = (
                f" (+{r.extra_samples_needed})"
                if r.extra_samples_needed
                else f" (bank holds only {r.bank_available} more: cannot settle)"
                if r.bank_exhausted
                else ""
            )
            row = [
                escape(r.requirement_id),
                r.source,
                str(e.n if e else 0),
                str(e.unscorable if e else 0),
                rate,
                ci,
                thr,
                f"[{style.get(v, 'dim')}]{v}{extra}[/]",
            ]
            if corrected:
                c = corrected.get(r.requirement_id)
                row.append(
                    "—"
                    if c is None or c.rate is None
                    else f"{_pct(c.rate)} ({_pct(c.lower)} – {_pct(c.upper)})"
                )
            table.add_row(*row)
        console.print(table)
        for d in assessment.regimes:
            console.print(
                f"{d.regime}: [bold]{d.decision.value}[/]"
                + (" (a proposal threshold decided it)" if d.proposals_decisive else "")
            )
        for note in assessment.notes:
            console.print(f"note: {escape(note)}")
    for by in views:
        rows = assessment.breakdowns.get(by, ())
        title = "attack success rate per transform" if by == "transform" else f"unsafe rate per {by}"
        t = Table(title=title)
        for col in (by, "n", "unscorable", "rate", "interval"):
            t.add_column(col)
        for g in rows:
            e = g.estimate
            ci = "—" if e.lower is None else f"{_pct(e.lower)} – {_pct(e.upper)} ({_ci(e)})"
            t.add_row(escape(g.key), str(e.n), str(e.unscorable), _pct(e.rate), ci)
        console.print(t)


def _print_summary(run_id: str, db: str | None, store: Store | None = None) -> None:
    rows = api.summary(run_id, db=db, store=store)
    if not rows:
        return
    label = interval_label(rows[0].confidence, rows[0].method)  # as scoring computed it
    table = Table(
        title=f"Outcomes (unsafe rate with {label} interval; unscorables stay in n and count as unsafe)"
    )
    for col in ("bank", "lang", "grader", "n", "safe", "unsafe", "unscorable", "unsafe rate", "interval"):
        table.add_column(col, justify="right" if col in ("n", "safe", "unsafe", "unscorable") else "left")
    for r in rows:
        ci = "—" if r.lower is None else f"{_pct(r.lower)} – {_pct(r.upper)}"
        table.add_row(
            r.bank,
            r.language,
            r.grader,
            str(r.n),
            str(r.safe),
            str(r.unsafe),
            str(r.unscorable),
            _pct(r.unsafe_rate),
            ci,
        )
    console.print(table)


@runs_app.command("list")
def runs_list(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    status: Annotated[
        str | None, typer.Option("--status", help="running, completed, interrupted, failed")
    ] = None,
    target: Annotated[str | None, typer.Option("--target")] = None,
) -> None:
    """List stored runs, newest first."""
    runs = api.list_runs(db=db, limit=limit, status=status, target=target)
    table = Table()
    table.add_column("run", no_wrap=True, min_width=23)  # the id is what users copy: never cut it
    for col in ("created (UTC)", "status"):
        table.add_column(col)
    table.add_column("target", overflow="fold")
    for col in ("level", "cases"):
        table.add_column(col)
    for r in runs:
        table.add_row(
            r.id,
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.status,
            escape(r.target),
            r.level or "—",
            str(r.case_count),
        )
    console.print(table)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    db: DbOpt = None,
    cases: Annotated[bool, typer.Option("--cases", help="Show per-case rows.")] = False,
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", help="Only cases with this outcome: safe, unsafe, unscorable, pending."),
    ] = None,
    bank: Annotated[str | None, typer.Option("--bank", help="Only cases of this bank.")] = None,
    case_lang: Annotated[
        str | None, typer.Option("--case-lang", help="Only cases in this language (zh, en).")
    ] = None,
    legacy_lang: Annotated[
        str | None,
        typer.Option("--lang", hidden=True, callback=deprecated("--lang (case language)", "--case-lang")),
    ] = None,
    grader: Annotated[str | None, typer.Option("--grader", help="Only this grader's judgments.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            help="Breakdowns to show: category, language, transform, bank (repeatable or comma-separated).",
        ),
    ] = None,
    correct_with: Annotated[
        str | None,
        typer.Option(
            "--correct-with",
            help="Add Rogan–Gladen corrected refusal rates, using the grader validation stored under this name.",
        ),
    ] = None,
) -> None:
    """Summary of a run: outcomes, requirement verdicts and regime decisions; with --by the
    per-category / language / transform views; with --cases (or any filter) the per-case rows."""
    by = split_list(by)
    lang = case_lang or legacy_lang
    for view in by:
        if view not in ("category", "language", "transform", "bank"):
            raise InputError("must be one of category, language, transform, bank", where="--by")
    if outcome and outcome not in ("safe", "unsafe", "unscorable", "pending"):
        raise InputError("must be one of safe, unsafe, unscorable, pending", where="--outcome")
    details = api.run_details(run_id, db=db)
    r = details.run
    console.print(
        f"[bold]{r.id}[/] · {escape(r.target)} · {r.status} · {r.case_count} cases · created {r.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if r.level:
        console.print(f"level {r.level}")
    if r.judge:
        console.print(f"judge {escape(r.judge)}")
    console.print(f"answered {details.answered} / {r.case_count} · {r.stopping}")
    if details.pending_errors:
        kinds = sorted({k or "error" for _e, k in details.pending_errors.values()})
        console.print(
            f"[yellow]{len(details.pending_errors)} pending after transport failures[/] "
            f"({escape(', '.join(kinds))}; not judged): assay run --resume {r.id}"
        )
    if details.journal_calls:
        console.print(
            f"[yellow]adaptive attack journal:[/] {details.journal_calls} finished call(s) kept for "
            f"`assay run --resume {r.id}` in {escape(details.journal_location)} (removed when the run completes)"
        )
    for note in r.notes:
        if not note.startswith("adaptive attack journal:"):  # said above, from the store itself
            console.print(f"note: {escape(note)}")
    _print_summary(r.id, db)
    _print_verdicts(r.id, db, tuple(by or ()), correct_with)
    if cases or outcome or bank or lang or grader:
        rows = api.case_rows(
            r.id, db=db, outcome=outcome, bank=bank, language=lang, grader=grader, limit=limit
        )
        table = Table(show_lines=True)
        for col in ("case", "bank", "lang", "outcome", "prompt", "response", "judgments"):
            table.add_column(col, overflow="fold")
        for row in rows:
            resp = row.response
            text = "" if resp is None else (resp.text if resp.ok else f"[error] {resp.error}")
            js = "; ".join(
                f"{j.grader.split('@')[0]}={j.outcome.value}" + (f" ({j.label})" if j.label else "")
                for j in row.judgments
            )
            table.add_row(
                row.case.id,
                row.case.bank,
                row.case.language,
                row.outcome,
                escape(_clip(row.case.prompt)),
                escape(_clip(text)),
                escape(js),
            )
        console.print(table)


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


@targets_app.command("check")
def targets_check(
    spec: Annotated[str, typer.Argument(help="Target spec, e.g. openai:gpt-4o-mini or local:smollm2.")],
) -> None:
    """Make one test call and print the model, latency and any error in plain words."""
    res = api.check_target(spec)
    if res.ok:
        console.print(
            f"[green]ok[/] {escape(res.spec)} · model {escape(res.model or '?')} · {res.latency_s:.2f} s · replied: {escape(_clip(res.reply, 60))!r}"
        )
        return
    raise InputError(f"{res.error} ({res.error_kind})", where=f"target {res.spec}")
