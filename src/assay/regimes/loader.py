"""Load the regime data files into `Regime` objects.

The packaged ones (`data/<regime>.yaml`, `REGIME_IDS`) and those other packages add
through the `assay.regimes` entry points (`assay.core.registry.REGIMES`): an entry point
names a YAML file (a path, or an `importlib.resources` file) or a function returning the
document's text, under the regime's id.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from assay.core import registry
from assay.core.errors import InputError
from assay.core.ids import sha256_hex
from assay.core.io import parse_yaml, validate_as
from assay.regimes.ids import BANK_EXPECTED, transform_base
from assay.regimes.model import Regime, Requirement
from assay.taxonomy import load_taxonomy

#: packaged regime ids in display order; each is `data/<id>.yaml` (plug-ins: `regime_ids()`)
REGIME_IDS: tuple[str, ...] = (
    "tc260-003",
    "cn-labelling",
    "cn-anthropomorphic",
    "tc260-004",
    "eu-ai-act",
    "nist-ai-600-1",
    "us-omb-m-26-04",
    "ailuminate",
    "assay-baseline",
)
LEVELS: tuple[str, ...] = ("R0", "R1", "R2", "R3", "R4")


for _rid in REGIME_IDS:
    registry.REGIMES.add(_rid, resources.files("assay.regimes").joinpath("data", f"{_rid}.yaml"))


def regime_ids() -> tuple[str, ...]:
    """Every known regime: the packaged ones in display order, then plug-ins' by id."""
    return REGIME_IDS + tuple(r for r in registry.REGIMES.ids() if r not in REGIME_IDS)


def _raw(regime_id: str) -> bytes:
    src = registry.REGIMES.get(regime_id)
    if callable(src):
        src = src()
    if isinstance(src, bytes):
        return src
    if isinstance(src, str) and "\n" in src:
        return src.encode("utf-8")  # the document itself
    if isinstance(src, str | Path):
        return Path(src).read_bytes()
    return bytes(src.read_bytes())


def known_banks() -> dict[str, str]:
    """Bank id → expected behaviour, for the banks regime data may name: the packaged banks
    (`BANK_EXPECTED`) and those plug-in bank providers declare (`provides`)."""
    out = dict(BANK_EXPECTED)
    for e in registry.BANKS.entries():
        if e.source != registry.BUILTIN:
            out.update(getattr(e.obj, "provides", None) or {})
    return out


def _where(regime_id: str) -> str:
    if regime_id in REGIME_IDS:
        return f"assay/regimes/data/{regime_id}.yaml"
    return f"regime {regime_id} ({registry.REGIMES.entry(regime_id).source})"


def _apply_defaults(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill each requirement from the document's `defaults` and its `regime` id."""
    doc = dict(doc)
    defaults = doc.pop("defaults", None) or {}
    rid = doc.get("id", "")
    start = doc.get("applies_from")
    reqs = []
    for r in doc.get("requirements") or []:
        if isinstance(r, dict):
            r = {**defaults, **r}
            r.setdefault("regime", rid)
            if start is not None:
                r.setdefault("applies_from", start)  # the regime's date unless the requirement has its own
            sel = r.get("selector")
            if isinstance(sel, dict) and "transformed" not in sel and not r.get("evidence_only"):
                # as-written requirements never count attack variants, and attack suites only count them
                r["selector"] = {**sel, "transformed": bool(r.get("transforms"))}
        reqs.append(r)
    doc["requirements"] = reqs
    banks = []
    for b in doc.get("bank_requirements") or []:
        if isinstance(b, dict):
            b = {**b}
            b.setdefault("regime", rid)
        banks.append(b)
    doc["bank_requirements"] = banks
    return doc


def parse_regime(text: str, where: str) -> Regime:
    """Parse and validate one regime document (packaged or a user's own)."""
    data = parse_yaml(text, where)
    if not isinstance(data, dict):
        raise InputError("expected a mapping at the top level", where=where)
    regime = validate_as(Regime, _apply_defaults(data), where)
    problems = check_regime(regime)
    if problems:
        raise InputError("; ".join(problems), where=where)
    return regime


def check_regime(regime: Regime) -> list[str]:
    """Cross-references a regime must satisfy: ids, taxonomy, banks, graders, transforms."""
    tax = load_taxonomy()
    methods = {t.id for t in tax.test_methods}
    categories = {c.id for c in tax.categories}
    scheme = tax.scheme("tc260_003_appendix_a")
    risks = {i.id for i in scheme.items} | {g.id for g in scheme.groups}  # a group selects its risks
    tiers = {t.id for t in regime.tiers}
    gradings = {g.id: g for g in regime.grading}
    problems: list[str] = []
    seen: set[str] = set()
    for i, r in enumerate(regime.requirements):
        at = f"requirements.{i} ({r.id})"
        if r.id in seen:
            problems.append(f"{at}: duplicate id")
        seen.add(r.id)
        if r.regime != regime.id or not r.id.startswith(regime.id + "/"):
            problems.append(f"{at}: id must start with '{regime.id}/'")
        if r.method not in methods:
            problems.append(f"{at}: unknown test method {r.method}")
        for lv in r.levels:
            if lv not in LEVELS:
                problems.append(f"{at}: unknown level {lv}")
        for t in r.tiers:
            if t not in tiers:
                problems.append(
                    f"{at}: unknown tier {t} (regime tiers: {', '.join(sorted(tiers)) or 'none'})"
                )
        for c in (*r.selector.categories, *r.selector.all_categories, *r.selector.exclude_categories):
            if c not in categories:
                problems.append(f"{at}: unknown category {c}")
        for k in r.selector.risks:
            if k not in risks:
                problems.append(f"{at}: unknown TC260-003 risk {k}")
        if r.grader is not None and r.grader.partition("@")[0] not in registry.GRADERS:
            problems.append(f"{at}: unknown grader {r.grader}")
        for chain in r.chains():
            for t in chain:
                if transform_base(t) not in registry.TRANSFORMS:
                    problems.append(f"{at}: unknown transform {t}")
        if r.grading is not None:
            g = gradings.get(r.grading)
            if g is None:
                problems.append(f"{at}: unknown grading scheme {r.grading}")
            elif r.min_grade is not None:
                try:
                    g.band(r.min_grade)
                except KeyError:
                    problems.append(f"{at}: unknown grade {r.min_grade}")
        if not r.evidence_only:
            if not r.selector.banks:
                problems.append(f"{at}: a measured requirement needs selector.banks")
            bank_expected = BANK_EXPECTED if regime.id in REGIME_IDS else known_banks()
            for bank_id in r.selector.banks:
                if bank_id not in bank_expected:
                    problems.append(f"{at}: unknown bank {bank_id}")
                elif r.selector.expected and bank_expected[bank_id] not in r.selector.expected:
                    problems.append(
                        f"{at}: bank {bank_id} holds expected={bank_expected[bank_id]}, not {list(r.selector.expected)}"
                    )
            if r.threshold is not None and not 0.0 <= r.threshold <= 1.0:
                problems.append(f"{at}: threshold must be a proportion in [0, 1]")
        if r.source == "standard" and not r.clause:
            problems.append(f"{at}: a standard threshold needs a clause")
        editions = {e.id for e in regime.editions}
        for key in list(r.applies_from_by_edition) + [
            k.partition("@")[2] for k in r.applies_from_when if "@" in k
        ]:
            if key not in editions:
                problems.append(
                    f"{at}: unknown edition {key!r} (regime editions: {', '.join(sorted(editions)) or 'none'})"
                )
        if r.edition and editions and r.edition not in editions:
            problems.append(f"{at}: unknown edition {r.edition!r}")
    for other in regime.conflicts:
        if other not in regime_ids():
            problems.append(f"conflicts: unknown regime {other}")
    for i, b in enumerate(regime.bank_requirements):
        for s in b.strata:
            if s.field == "risks":
                bad = [v for v in s.values if v not in risks]
                if bad:
                    problems.append(f"bank_requirements.{i}: unknown risks {bad}")
            if s.field == "aspect":
                bad = [v for v in s.values if tax.aspect_id(v) is None]
                if bad:
                    problems.append(f"bank_requirements.{i}: unknown aspects {bad}")
    return problems


@cache
def load_regime(regime_id: str) -> Regime:
    if regime_id not in regime_ids():
        raise InputError(
            f"unknown regime {regime_id!r}; known regimes: {', '.join(regime_ids())}", where="--regime"
        )
    regime = parse_regime(_raw(regime_id).decode("utf-8"), _where(regime_id))
    if regime.id != regime_id:
        raise InputError(f"the document's id is {regime.id!r}, not {regime_id!r}", where=_where(regime_id))
    return regime


def load_regimes(ids: Iterable[str] | None = None) -> dict[str, Regime]:
    """The regimes named (default: all packaged ones), in display order."""
    wanted = list(ids) if ids is not None else list(REGIME_IDS)
    return {rid: load_regime(rid) for rid in wanted}


def regime_hashes(ids: Iterable[str] | None = None) -> dict[str, str]:
    """SHA-256 of each regime data file as shipped (a run records them)."""
    wanted = list(ids) if ids is not None else list(REGIME_IDS)
    for rid in wanted:
        if rid not in regime_ids():
            raise InputError(f"unknown regime {rid!r}", where="--regime")
    return {f"regime:{rid}": sha256_hex(_raw(rid)) for rid in wanted}


def all_requirements(ids: Iterable[str] | None = None) -> dict[str, Requirement]:
    return {r.id: r for reg in load_regimes(ids).values() for r in reg.requirements}


def requirements_for(
    regime: Regime, level: str, tiers: Iterable[str] | None = None, *, include_evidence: bool = True
) -> tuple[Requirement, ...]:
    """Requirements of `regime` that apply at `level`.

    `tiers`: the regime tiers the profile triggered; a requirement restricted to tiers
    applies only when one of them is active. None (no profile) ignores tier restrictions.
    """
    active = set(tiers) if tiers is not None else None
    out = []
    for r in regime.requirements:
        if not r.applies_at(level):
            continue
        if active is not None and r.tiers and not (set(r.tiers) & active):
            continue
        if r.evidence_only and not include_evidence:
            continue
        out.append(r)
    return tuple(out)
