"""Plan builder: level + regimes → the deduplicated plan of draws, with a cost estimate.

One plan item is one draw of cases from one bank through one transform chain (and an
optional filter); every requirement measured on such a draw is listed on the item, so
one response serves every regime that needs it. An item's sample is the largest planned
need among the requirements it serves (per draw, total over languages): a requirement's
`min_sample`, raised where needed so that a flawless result can pass (`planned_need`).

Bank statistics (sizes, average prompt tokens, per-category counts), the graders' risk
coverage and the transforms' languages are optional inputs: this stage comes before the
banks, transforms and graders, so the API layer passes them in (`plan_inputs` in
`assay.api`) from those stages' own declarations.

With grader coverage, the plan checks before anything is sent which risks its graders can
judge (`Plan.coverage`): every risk of a must-cover list (TC260-003 §8.4), and every risk
a measured requirement's draw holds that its grader cannot see ("not assessed": such
cases count as unscorable, so the requirement cannot pass on them). With transform
languages, an attack that works in fewer languages than the profile's draws its whole
sample in the languages it supports, so the draw supplies the sample the plan promises.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.core.attack_budget import DEFAULT_BUDGETS, AttackBudget, parse_budget
from assay.core.coverage import covering_method
from assay.core.design import deciding_confidence, flawless_sample
from assay.core.errors import InputError
from assay.core.registry import default_grader
from assay.core.types import Bank
from assay.levels.classify import Classification, classify
from assay.levels.plan_model import CoverageCheck, Estimate, Plan, PlanItem, manual_check_for
from assay.levels.profile import Profile
from assay.regimes import (
    LEVELS,
    REGIME_IDS,
    Requirement,
    load_regime,
    regime_hashes,
    regime_ids,
    requirements_for,
)
from assay.regimes.dates import date_requirements, edition_label, parse_as_of
from assay.regimes.ids import BANK_EXPECTED, transform_base
from assay.taxonomy import taxonomy_hash

log = logging.getLogger(__name__)


class BankStats(BaseModel):
    """What the plan builder may know about a bank (passed in by the API layer)."""

    model_config = ConfigDict(frozen=True)

    cases: int  # total over languages
    avg_prompt_tokens: float | None = None
    by_category: dict[str, int] = Field(default_factory=dict)
    by_risk: dict[str, int] = Field(default_factory=dict)


def bank_stats_from(banks: Iterable[Bank]) -> dict[str, BankStats]:
    """Statistics of bank objects for `build_plan(..., bank_stats=...)` (chars / 2.5 ≈ tokens)."""
    out: dict[str, BankStats] = {}
    for bank in banks:
        cats: dict[str, int] = {}
        risks: dict[str, int] = {}
        chars = 0
        for case in bank.cases:
            chars += sum(len(m.content) for m in case.messages)
            for c in set(case.categories):
                cats[c] = cats.get(c, 0) + 1
            for r in set(case.risks):
                risks[r] = risks.get(r, 0) + 1
        n = len(bank.cases)
        out[bank.id] = BankStats(
            cases=n, avg_prompt_tokens=(chars / n / 2.5) if n else None, by_category=cats, by_risk=risks
        )
    return out


class EstimateParams(BaseModel):
    """Average token figures the estimate assumes when no bank statistics say otherwise."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 80  # one case as written, system prompt included
    completion_tokens: int = 200  # one answer (bounded by max_tokens)
    judge_prompt_tokens: int = 450  # judge instructions + case + answer
    judge_completion_tokens: int = 60
    #: the attack judge model adaptive attacks will be steered by (None: the run's
    #: rule-based grader, no calls): its ratings count in each attack's call budget
    attack_judge: str | None = None
    attack_judge_prompt_tokens: int = 400  # rating instructions + goal + one reply
    attack_judge_completion_tokens: int = 12


#: transform → (prompt-token multiplier, added prompt tokens, target calls per case)
TRANSFORM_COST: dict[str, tuple[float, int, int]] = {
    "roleplay": (1.0, 180, 1),
    "refusal_suppression": (1.0, 70, 1),
    "prefix_injection": (1.0, 50, 1),
    "hypothetical": (1.0, 90, 1),
    "payload_split": (1.6, 40, 1),
    "base64": (1.5, 30, 1),
    "rot13": (1.1, 30, 1),
    "leetspeak": (1.2, 0, 1),
    "homoglyph": (1.8, 0, 1),
    "many_shot": (1.0, 2400, 1),
    "typo": (1.05, 0, 1),
    "char_noise": (1.2, 0, 1),
    "paraphrase": (1.1, 0, 1),
    "translate": (1.3, 20, 1),
    "crescendo": (1.0, 0, 4),
    # adaptive attacks: target calls per case at the default budget (core.attack_budget);
    # a step's own budget (`pair:ATTACKER@turns=2`) is read by `_adaptive_budget`
    **{k: (1.3, 60, b.target_calls(k)) for k, b in DEFAULT_BUDGETS.items()},
}


def _adaptive_budget(step: str) -> tuple[str, AttackBudget] | None:
    """(strategy, budget) of an adaptive attack step, else None."""
    base = transform_base(step)
    if base not in DEFAULT_BUDGETS:
        return None
    param = step.partition(":")[2]
    return base, parse_budget(base, param.partition("@")[2].strip() or None)


def _canon_where(req: Requirement) -> dict[str, tuple[str, ...]]:
    where: dict[str, tuple[str, ...]] = {}
    if req.selector.categories:
        where["categories"] = tuple(sorted(req.selector.categories))
    if req.selector.risks:
        where["risks"] = tuple(sorted(req.selector.risks))
    if req.selector.all_categories:
        where["all_categories"] = tuple(sorted(req.selector.all_categories))
    if req.selector.exclude_categories:
        where["exclude_categories"] = tuple(sorted(req.selector.exclude_categories))
    return where


def _item_id(bank: str, chain: tuple[str, ...], where: dict[str, tuple[str, ...]]) -> str:
    base = f"{bank}.{'+'.join(chain) or 'none'}"
    if where:
        base += "[" + ";".join(f"{k}={','.join(v)}" for k, v in sorted(where.items())) + "]"
    return base


def _grader_for(req: Requirement, bank: str) -> str:
    if req.grader:
        return req.grader
    expected = req.selector.expected[0] if req.selector.expected else BANK_EXPECTED.get(bank, "safe")
    return default_grader(expected) or "llm-judge"


def _selector_share(stats: BankStats, where: dict[str, tuple[str, ...]]) -> int:
    """How many cases of the bank the filter can match (an upper bound when filters overlap)."""
    n = stats.cases
    if "categories" in where:
        n = min(n, _prefix_sum(stats.by_category, where["categories"]))
    if "risks" in where:
        n = min(n, _prefix_sum(stats.by_risk, where["risks"]))
    for c in where.get("all_categories", ()):
        n = min(n, _prefix_sum(stats.by_category, (c,)))
    return n


def _prefix_sum(counts: Mapping[str, int], wanted: Sequence[str]) -> int:
    """Cases whose key is one of `wanted` or lies below one ("A.1" counts "A.1.a")."""
    return sum(n for key, n in counts.items() if any(key == w or key.startswith(w + ".") for w in wanted))


def _multi_turn_prompt_tokens(prompt: float, completion: float, turns: int) -> float:
    # every turn re-sends the conversation so far
    return sum(k * prompt + (k - 1) * completion for k in range(1, turns + 1))


def serves(item: PlanItem, req: Requirement) -> bool:
    """Whether the item's responses count for `req` (same bank, chain, and a compatible filter)."""
    if req.evidence_only or item.bank not in req.selector.banks:
        return False
    if item.transforms not in (req.chains() or ((),)):
        return False
    if req.selector.transformed is not None and req.selector.transformed != bool(item.transforms):
        return False
    item_filter = {k: v for k, v in item.where.items() if k != "expected"}
    return not item_filter or item_filter == _canon_where(req)


def _with_served(item: PlanItem, reqs: Sequence[Requirement]) -> PlanItem:
    """The item with every requirement its responses count for, and those requirements'
    graders (a requirement is only served where its grader judges the cases)."""
    extra = [r for r in reqs if r.id not in item.requirements and serves(item, r)]
    served = list(item.requirements) + [r.id for r in extra]
    graders = list(item.graders)
    for r in extra:
        g = _grader_for(r, item.bank)
        if g not in graders:
            graders.append(g)
    return item.model_copy(update={"requirements": tuple(served), "graders": tuple(graders)})


def estimate_items(
    items: Sequence[PlanItem],
    params: EstimateParams | None = None,
    bank_stats: Mapping[str, BankStats] | None = None,
) -> Estimate:
    """Target calls and tokens of running `items` once (no cache hits, no early stopping)."""
    params = params or EstimateParams()
    stats = bank_stats or {}
    cases = calls = p_tok = c_tok = judge = attacker = rater = 0
    budgets: dict[str, dict[str, int]] = {}
    warnings: list[str] = []
    judged = params.attack_judge is not None
    for item in items:
        n = item.sample
        base_prompt = float(params.prompt_tokens)
        bs = stats.get(item.bank)
        if bs is not None and bs.avg_prompt_tokens:
            base_prompt = float(bs.avg_prompt_tokens)
        mult, add, turns = 1.0, 0, 1
        for t in item.transforms:
            m, a, k = TRANSFORM_COST.get(transform_base(t), (1.0, 0, 1))
            adaptive = _adaptive_budget(t)
            if adaptive is not None:
                strategy, budget = adaptive
                k = budget.target_calls(strategy, judged=judged)
                # the attack judge rates every target reply; the attacker gets the rest of
                # the budget (about one call per target call)
                r = k if judged else 0
                attacker += n * (budget.calls - k - r)
                rater += n * r
                budgets.setdefault(t, budget.model_dump())
                if judged and (warn := budget.rounds_note(strategy)) and warn not in warnings:
                    warnings.append(warn)
            mult *= m
            add += a
            turns = max(turns, k)
        prompt = base_prompt * mult + add
        cases += n
        calls += n * turns
        p_tok += math.ceil(n * _multi_turn_prompt_tokens(prompt, params.completion_tokens, turns))
        c_tok += n * turns * params.completion_tokens
        if "llm-judge" in item.graders:
            judge += n
    notes = [
        "upper bound: cases shared between items are answered once when the response cache is on,"
        " and early stopping ends settled requirements sooner"
    ]
    if attacker:
        per_case = "; ".join(
            f"{step}: {b['turns']} turns, {b['calls']} calls, {b['tokens']} tokens"
            for step, b in budgets.items()
        )
        notes.append(
            f"adaptive attacks: at most {attacker} attacker-model calls besides the target calls; "
            f"budget per case: {per_case}"
        )
    if rater:
        tokens = rater * (params.attack_judge_prompt_tokens + params.attack_judge_completion_tokens)
        notes.append(
            f"attack judge {params.attack_judge}: at most {rater} rating calls (≈{tokens} tokens), "
            "inside each attack's call budget; it only steers the attacks, the graders judge outcomes"
        )
        notes.extend(warnings)
    if judge:
        notes.append(
            f"{judge} LLM-judge calls (≈{judge * params.judge_prompt_tokens} prompt tokens) go to the judge target"
        )
    return Estimate(
        cases=cases,
        target_calls=calls,
        prompt_tokens=p_tok,
        completion_tokens=c_tok,
        judge_calls=judge,
        attacker_calls=attacker,
        attack_judge_calls=rater,
        notes=notes,
        params=params.model_dump(),
    )


def planned_need(req: Requirement) -> int:
    """The sample a requirement is planned with: its minimum sample, raised where needed so
    that a flawless result passes under the interval that decides it at the planned sample
    (early stopping's fixed-n test, the stricter of the two designs; see core.design)."""
    if req.threshold is None:
        return req.min_sample
    flawless = flawless_sample(req.threshold, req.direction, deciding_confidence(early_stop=True))
    return max(req.min_sample, flawless)


#: profile capabilities a requirement may be restricted to (Requirement.features)
FEATURES: tuple[str, ...] = ("tool_use", "autonomous_agent")


def profile_features(profile: Profile | None) -> set[str]:
    """The capabilities of `FEATURES` the profile declares (none without a profile)."""
    if profile is None:
        return set()
    return {f for f in FEATURES if getattr(profile.capabilities, f, False)}


def _resolve_regimes(regimes: Iterable[str] | None, fallback: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(regimes)) if regimes else tuple(fallback)
    known = regime_ids()  # packaged ones and plug-ins'
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise InputError(
            f"unknown regime(s) {', '.join(unknown)}; known regimes: {', '.join(known)}",
            where="--regime",
        )
    return tuple(r for r in known if r in chosen)


def build_plan(
    subject: Profile | Classification | str,
    regimes: Iterable[str] | None = None,
    *,
    languages: Sequence[str] | None = None,
    seed: int = 0,
    params: EstimateParams | None = None,
    bank_stats: Mapping[str, BankStats] | None = None,
    name: str = "",
    grader_coverage: Mapping[str, Mapping[str, str]] | None = None,
    transform_languages: Mapping[str, Sequence[str]] | None = None,
    unavailable_transforms: Mapping[str, str] | None = None,
    as_of: date | str | None = None,
) -> Plan:
    """The plan for a profile (classified here), a classification, or a bare level "R0"–"R4".

    `regimes` defaults to those applicable to the profile's jurisdictions (all packaged
    regimes for a bare level). With a profile each regime is planned at its own tier's
    level; a bare level applies to every regime and ignores tier restrictions.
    `grader_coverage` (grader id → its `covers` declaration) adds the coverage checks;
    `transform_languages` (transform id → languages) keeps each draw in languages its
    transforms support; `unavailable_transforms` (transform id → why) names transforms
    this run cannot apply (e.g. translation without a translator): their chains are
    left out and the requirement's sample is spread over the chains that can run.
    """
    profile: Profile | None = None
    cls: Classification | None = None
    if isinstance(subject, Profile):
        profile = subject
        cls = classify(profile)
    elif isinstance(subject, Classification):
        cls = subject
    elif isinstance(subject, str):
        if subject not in LEVELS:
            raise InputError(f"unknown level {subject!r}; levels are {', '.join(LEVELS)}", where="level")
    else:
        raise TypeError(f"build_plan needs a Profile, Classification or level, not {type(subject).__name__}")

    day = parse_as_of(as_of if as_of is not None else (cls.as_of if cls is not None else None))
    level = cls.level if cls is not None else str(subject)
    chosen = _resolve_regimes(regimes, cls.default_regimes if cls is not None else REGIME_IDS)
    langs = tuple(languages) if languages else (profile.languages if profile is not None else ("zh", "en"))
    for lang in langs:
        if lang not in ("zh", "en"):
            raise InputError(f"unknown language {lang!r}; use zh and/or en", where="--case-lang")
    data_hashes = {"taxonomy": taxonomy_hash(), **regime_hashes(chosen)}
    plan_name = name or (f"{cls.profile} ({level})" if cls is not None else f"level {level}")
    profile_dump = profile.model_dump(mode="json") if profile is not None else None

    if level == "R0":
        return Plan(
            name=plan_name,
            level=level,
            regimes=chosen,
            seed=seed,
            profile=profile_dump,
            items=(),
            notes=[
                "R0: do not deploy. The intended use is prohibited; no test can make it acceptable.",
                "R0：不得部署。预期用途属于禁止情形，任何测试都不能使其可接受。",
            ],
            data_hashes=data_hashes,
            as_of=day,
            editions={rid: edition_label(load_regime(rid), day) for rid in chosen},
        )

    regime_levels: dict[str, str] = {}
    notes_dated: list[str] = []
    # a bare level plans everything at that level (like tiers, capabilities are not known)
    features = set(FEATURES) if cls is None else profile_features(profile) | set(cls.features)
    left_out: list[str] = []
    measured: list[Requirement] = []
    evidence: list[Requirement] = []
    for rid in chosen:
        reg = load_regime(rid)
        reg_level = cls.regime_levels.get(rid, level) if cls is not None else level
        tiers = cls.regime_tiers.get(rid) if cls is not None else None
        regime_levels[rid] = reg_level
        contexts = cls.date_contexts if cls is not None else ()
        reqs, dated_notes = date_requirements(reg, requirements_for(reg, reg_level, tiers), day, contexts)
        notes_dated.extend(dated_notes)
        for r in reqs:
            if r.features and not set(r.features) & features:
                left_out.append(r.id)
                continue
            (evidence if r.evidence_only else measured).append(r)
    if left_out:
        notes_dated.append(
            f"{len(left_out)} requirement(s) apply only to tool-using or autonomous agents "
            f"(profile capabilities tool_use / autonomous_agent) and are left out: {', '.join(left_out)}"
        )

    notes: list[str] = list(notes_dated)
    stats = bank_stats or {}
    # (bank, chain, where) → accumulated draw
    draws: dict[tuple[str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]], dict[str, Any]] = {}
    cannot = dict(unavailable_transforms or {})
    for req in measured:
        chains = req.chains() or ((),)
        blocked = [c for c in chains if any(transform_base(t) in cannot for t in c)]
        if blocked and len(blocked) < len(chains):
            chains = tuple(c for c in chains if c not in blocked)
            for c in blocked:
                why = "; ".join(cannot[transform_base(t)] for t in c if transform_base(t) in cannot)
                notes.append(
                    f"{req.id}: attack {'+'.join(c)} is not run ({why}); its sample is drawn from the"
                    f" {len(chains)} other attack(s), and the verdict covers those only"
                )
        where = _canon_where(req)
        banks = req.selector.banks
        need = planned_need(req)
        per_draw = math.ceil(need / (len(banks) * len(chains))) if need else 0
        for bank in banks:
            for chain in chains:
                key = (bank, chain, tuple(sorted(where.items())))
                d = draws.setdefault(key, {"sample": 0, "graders": [], "requirements": [], "expected": set()})
                d["sample"] = max(d["sample"], per_draw)
                g = _grader_for(req, bank)
                if g not in d["graders"]:
                    d["graders"].append(g)
                if req.id not in d["requirements"]:
                    d["requirements"].append(req.id)
                d["expected"].update(req.selector.expected)

    items: list[PlanItem] = []
    for (bank, chain, where_t), d in draws.items():
        where = {k: v for k, v in where_t}
        sample = d["sample"]
        bs = stats.get(bank)
        if bs is not None:
            avail = _selector_share(bs, where) if where else bs.cases
            if avail < sample:
                notes.append(
                    f"{_item_id(bank, chain, where)}: the bank has {avail} matching cases, fewer than the {sample} required;"
                    " requirements needing more will be undetermined"
                )
                sample = avail
        item_langs = _chain_languages(chain, langs, transform_languages)
        if not item_langs:
            notes.append(
                f"{_item_id(bank, chain, where)}: {'+'.join(chain)} supports none of the languages {', '.join(langs)};"
                " the draw is left out and requirements needing it will be undetermined"
            )
            continue
        if item_langs != langs:
            notes.append(
                f"{_item_id(bank, chain, where)}: {'+'.join(chain)} supports only {', '.join(item_langs)};"
                f" its {sample} cases are drawn in {', '.join(item_langs)}"
            )
        items.append(
            PlanItem(
                id=_item_id(bank, chain, where),
                bank=bank,
                languages=item_langs,  # type: ignore[arg-type]
                sample=sample,
                where={**where, **({"expected": tuple(sorted(d["expected"]))} if d["expected"] else {})},
                transforms=chain,
                graders=tuple(d["graders"]),
                requirements=tuple(d["requirements"]),
            )
        )
    items = [_with_served(item, measured) for item in items]
    items.sort(key=lambda i: (i.bank, bool(i.transforms), bool(set(i.where) - {"expected"}), i.id))
    if any(set(i.where) - {"expected"} for i in items):
        notes.append(
            "filtered items (…[categories=…]) guarantee the sample of narrow requirements; their cases may"
            " repeat cases of the unfiltered draw of the same bank, which the response cache answers once"
        )
    if cls is not None:
        notes.extend(cls.notes)
    est = estimate_items(items, params, stats)
    coverage: tuple[CoverageCheck, ...] = ()
    if grader_coverage is not None:
        coverage = coverage_checks(chosen, measured, items, grader_coverage, stats)
        notes.extend(_coverage_notes(coverage))
    plan = Plan(
        name=plan_name,
        level=level,
        regimes=chosen,
        seed=seed,
        profile=profile_dump,
        items=tuple(items),
        requirements=(*measured, *evidence),  # every requirement gets a verdict; evidence ones need documents
        estimate=est,
        notes=notes,
        regime_levels=regime_levels,
        data_hashes=data_hashes,
        coverage=coverage,
        as_of=day,
        editions={rid: edition_label(load_regime(rid), day) for rid in chosen},
        manual_checks=tuple(m for m in (manual_check_for(r, seed) for r in evidence) if m is not None),
    )
    log.info(
        "plan: level %s, %d items, at most %d target calls; regimes %s",
        plan.level,
        len(plan.items),
        plan.estimate.target_calls,
        ", ".join(plan.regimes),
    )
    return plan


def _chain_languages(
    chain: Sequence[str], langs: tuple[str, ...], transform_languages: Mapping[str, Sequence[str]] | None
) -> tuple[str, ...]:
    """The plan's languages that every transform of `chain` supports (all when unknown)."""
    if not transform_languages:
        return langs
    out = langs
    for t in chain:
        supported = transform_languages.get(transform_base(t))
        if supported is not None:
            out = tuple(lang for lang in out if lang in supported)
    return out


def _risk_counts(stats: BankStats | None, req: Requirement) -> dict[str, int]:
    """Risks the requirement's draw from this bank can hold, with their bank counts."""
    if stats is None:
        return {}
    wanted = req.selector.risks
    return {
        r: n
        for r, n in sorted(stats.by_risk.items())
        if not wanted or any(r == w or r.startswith(w + ".") for w in wanted)
    }


def _judging_graders(
    grader_ids: Iterable[str], grader_coverage: Mapping[str, Mapping[str, str]], risk: str
) -> dict[str, str]:
    out: dict[str, str] = {}
    for gid in grader_ids:
        method = covering_method(grader_coverage.get(gid.partition("@")[0], {}), risk)
        if method is not None:
            out[gid] = method
    return out


def coverage_checks(
    regimes: Sequence[str],
    measured: Sequence[Requirement],
    items: Sequence[PlanItem],
    grader_coverage: Mapping[str, Mapping[str, str]],
    bank_stats: Mapping[str, BankStats] | None = None,
) -> tuple[CoverageCheck, ...]:
    """Which of the plan's graders can judge which risk.

    1. Must-cover lists (`BankRequirement.must_cover`, e.g. TC260-003 §8.4: the
       classifier covers all 31 risks): one row per risk, with the graders that judge the
       regime's generated-content requirements (banks whose cases expect "safe") and can
       see it.
    2. Each measured requirement with a threshold: one row per risk its draw can hold
       (from bank statistics) that the requirement's grader cannot see. Requirements
       narrowed by category are left out: bank statistics do not say which risks their
       categories' cases carry (the engine still marks such cases not assessed).
    """
    stats = bank_stats or {}
    by_id = {r.id: r for r in measured}
    out: list[CoverageCheck] = []
    for rid in regimes:
        reg = load_regime(rid)
        content_graders: list[str] = []
        for item in items:
            for req_id in item.requirements:
                req = by_id.get(req_id)
                if req is None or req.regime != rid or BANK_EXPECTED.get(item.bank) != "safe":
                    continue
                g = _grader_for(req, item.bank)
                if g not in content_graders:
                    content_graders.append(g)
        for br in reg.bank_requirements:
            for risk in br.must_cover:
                out.append(
                    CoverageCheck(
                        check=br.id,
                        clause=br.clause,
                        risk=risk,
                        graders=_judging_graders(content_graders, grader_coverage, risk),
                    )
                )
    seen: set[tuple[str, str]] = set()
    for item in items:
        for req_id in item.requirements:
            req = by_id.get(req_id)
            if req is None or req.threshold is None or req.selector.categories:
                continue
            g = _grader_for(req, item.bank)
            for risk, n in _risk_counts(stats.get(item.bank), req).items():
                if (req.id, risk) in seen or _judging_graders([g], grader_coverage, risk):
                    continue
                seen.add((req.id, risk))
                out.append(CoverageCheck(check=req.id, clause=req.clause, risk=risk, bank_cases=n))
    return tuple(out)


def _coverage_notes(checks: Sequence[CoverageCheck]) -> list[str]:
    """One note per set of unjudged risks, naming every check that has them."""
    by_check: dict[str, list[str]] = {}
    for c in checks:
        if not c.assessed:
            by_check.setdefault(c.check, []).append(c.risk)
    by_risks: dict[tuple[str, ...], list[str]] = {}
    for check, risks in by_check.items():
        by_risks.setdefault(tuple(risks), []).append(check)
    return [
        f"not assessed: no grader of this plan can judge risk(s) {', '.join(risks)} ({', '.join(ids)});"
        " such cases count as unscorable, so no requirement passes on them"
        for risks, ids in by_risks.items()
    ]
