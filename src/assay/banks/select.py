"""Draw a plan item's cases from a bank: seeded, split over languages, stratified.

`select_cases(bank, item, seed)`:

1. keeps the cases in `item.languages` that pass `item.where` (keys: risks, categories,
   expected, persona, difficulty, aspect, kind; a case passes a key when any of its values
   is listed, except `all_categories` (it must carry every listed category) and
   `exclude_categories` (it must carry none of them); a risk or category value also matches by prefix at a dot/dash boundary, so
   `A.1` selects A.1.a … A.1.h and `AS` every application-security category);
2. splits `item.sample` evenly over the languages (the remainder goes to the first ones);
3. in each language, stratifies by the case's stratum — `metadata.aspect` when present,
   else its TC260-003 risks, else its categories — and deals cases round-robin from the
   strata in a seeded order, each stratum's cases in a seeded order, so every stratum
   present gets at least min(its size, floor(quota / strata)) cases;
4. returns every case when a language has fewer than its quota, and says so in `notes`.

The draw depends only on (seed, bank id, bank content hash, item id, language), so the
same plan on the same bank draws the same cases on every machine. Transforms are applied
later, by the engine, through the transforms package.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from assay.core.errors import InputError
from assay.core.ids import sha256_hex
from assay.core.types import Bank, Case
from assay.levels.plan_model import PlanItem

WHERE_KEYS = (
    "risks",
    "categories",
    "expected",
    "persona",
    "difficulty",
    "aspect",
    "kind",
    "language",
    "all_categories",
    "exclude_categories",
)


@dataclass(frozen=True)
class Selection:
    """The cases drawn for one plan item, and what fell short."""

    cases: tuple[Case, ...]
    requested: int
    available: dict[str, int]  # language -> cases that passed the filters
    drawn: dict[str, int]  # language -> cases drawn
    strata: dict[str, dict[str, int]] = field(default_factory=dict)  # language -> stratum -> drawn
    notes: tuple[str, ...] = ()

    @property
    def shortfall(self) -> int:
        return max(0, self.requested - len(self.cases))

    def __len__(self) -> int:
        return len(self.cases)


def stratum_of(case: Case) -> str:
    """The stratum a case is balanced in: its aspect, else its risks, else its categories."""
    aspect = case.metadata.get("aspect")
    if isinstance(aspect, str) and aspect:
        return aspect
    if case.risks:
        return "+".join(sorted(case.risks))
    if case.categories:
        return "+".join(sorted(case.categories))
    return "-"


def _values(case: Case, key: str) -> tuple[str, ...]:
    if key == "risks":
        return case.risks
    if key == "categories":
        return case.categories
    if key in ("aspect", "kind"):
        v = case.metadata.get(key)
        return (str(v),) if v is not None else ()
    return (str(getattr(case, key)),)


def _matches(value: str, wanted: str, hierarchical: bool) -> bool:
    if value == wanted:
        return True
    return hierarchical and value.startswith(wanted) and value[len(wanted)] in ".-"


def check_where(where: Mapping[str, Sequence[str]], where_label: str = "where") -> None:
    """Raise InputError for an unknown filter key or an empty value list."""
    for key, values in where.items():
        if key not in WHERE_KEYS:
            raise InputError(
                f"unknown filter {key!r}; known filters: {', '.join(WHERE_KEYS)}", where=where_label
            )
        if not values:
            raise InputError(f"filter {key!r} lists no values", where=where_label)


def filter_cases(cases: Iterable[Case], where: Mapping[str, Sequence[str]]) -> list[Case]:
    """The cases that pass every filter in `where` (see the module docstring)."""
    check_where(where)
    out: list[Case] = []
    for c in cases:
        ok = True
        for key, wanted in where.items():
            if key == "all_categories":
                ok = all(any(_matches(v, w, True) for v in c.categories) for w in wanted)
            elif key == "exclude_categories":
                ok = not any(_matches(v, w, True) for v in c.categories for w in wanted)
            else:
                hier = key in ("risks", "categories")
                vals = _values(c, key)
                ok = any(_matches(v, w, hier) for v in vals for w in wanted)
            if not ok:
                break
        if ok:
            out.append(c)
    return out


def _rng(*parts: object) -> random.Random:
    return random.Random(int(sha256_hex("\x1f".join(str(p) for p in parts))[:16], 16))


def _quotas(total: int, languages: Sequence[str]) -> dict[str, int]:
    base, extra = divmod(total, len(languages))
    return {lang: base + (1 if i < extra else 0) for i, lang in enumerate(languages)}


def _units(cases: Iterable[Case]) -> list[list[Case]]:
    """Cases grouped into the units that are drawn whole: a `group` (a counterfactual or
    paraphrase set is only judgeable complete) or a single case."""
    units: dict[str, list[Case]] = {}
    for c in sorted(cases, key=lambda c: c.id):
        units.setdefault(f"g:{c.group}" if c.group else f"c:{c.id}", []).append(c)
    return list(units.values())


def _draw(cases: list[Case], quota: int, rng: random.Random) -> list[Case]:
    """A stratified draw of about `quota` cases; groups are drawn whole, so a draw from a
    grouped bank may end a few cases above the quota rather than split a group."""
    by_stratum: dict[str, list[list[Case]]] = defaultdict(list)
    for unit in _units(cases):
        by_stratum[stratum_of(unit[0])].append(unit)
    names = sorted(by_stratum)
    rng.shuffle(names)
    for name in names:
        rng.shuffle(by_stratum[name])
    drawn: list[Case] = []
    depth = 0
    while len(drawn) < quota:
        progressed = False
        for name in names:
            pool = by_stratum[name]
            if depth < len(pool):
                drawn.extend(pool[depth])
                progressed = True
                if len(drawn) >= quota:
                    break
        if not progressed:
            break
        depth += 1
    return drawn


def sample_cases(cases: Sequence[Case], n: int, seed: object) -> list[Case]:
    """A seeded, stratified sample of about `n` cases that keeps groups whole."""
    return _draw(list(cases), n, _rng(seed))


def select_cases(bank: Bank, item: PlanItem, seed: int) -> Selection:
    """Draw `item.sample` cases from `bank` for `item` (see the module docstring)."""
    if item.bank != bank.id:
        raise InputError(
            f"plan item {item.id!r} asks for bank {item.bank!r}, got {bank.id!r}",
            where=f"plan item {item.id}",
        )
    if item.sample < 0:
        raise InputError("sample must be zero or more", where=f"plan item {item.id}: sample")
    languages = tuple(dict.fromkeys(item.languages))
    if not languages:
        raise InputError("a plan item needs at least one language", where=f"plan item {item.id}: languages")
    check_where(item.where, where_label=f"plan item {item.id}: where")
    eligible = filter_cases(bank.cases, item.where)
    notes: list[str] = []
    quotas = _quotas(item.sample, languages)
    chosen: list[Case] = []
    available: dict[str, int] = {}
    drawn: dict[str, int] = {}
    strata: dict[str, dict[str, int]] = {}
    for lang in languages:
        pool = [c for c in eligible if c.language == lang]
        available[lang] = len(pool)
        quota = quotas[lang]
        rng = _rng(seed, bank.id, bank.content_hash, item.id, lang)
        picked = _draw(pool, quota, rng)
        if len(picked) < quota:
            notes.append(
                f"{bank.id} [{lang}]: asked for {quota} cases, the bank has {len(pool)} that pass the filters; "
                f"all {len(pool)} are used (short by {quota - len(picked)})"
            )
        n_strata = len({stratum_of(c) for c in pool})
        if pool and 0 < quota < n_strata:
            notes.append(
                f"{bank.id} [{lang}]: {quota} cases cannot cover all {n_strata} strata; some have none"
            )
        counts: dict[str, int] = defaultdict(int)
        for c in picked:
            counts[stratum_of(c)] += 1
        strata[lang] = dict(sorted(counts.items()))
        drawn[lang] = len(picked)
        chosen.extend(picked)
    return Selection(
        cases=tuple(chosen),
        requested=item.sample,
        available=available,
        drawn=drawn,
        strata=strata,
        notes=tuple(notes),
    )
