"""Plans as reviewable YAML files: dump, load (with field-level errors) and check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assay.core.errors import InputError
from assay.core.io import FieldInputError, parse_yaml, read_yaml_file, validate_as
from assay.levels.plan_model import Plan

HEADER = """\
# Assay test plan: banks x transforms x graders x sample sizes x thresholds.
# Review and edit freely, then run it: items draw `sample` cases (total over `languages`)
# from `bank` through the `transforms` chain and judge them with `graders`; every
# requirement listed on an item is measured on its responses. A requirement's
# `threshold` with `source: proposal` is Assay's suggestion: replace it with your own.
# Lowering an item's sample below a requirement's `min_sample` leaves that verdict undetermined.
"""


class _PlanDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Short lists of scalars on one line ([zh, en]); everything else in block style."""


def _repr_list(dumper: Any, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(x, (str, int, float, bool)) or x is None for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_PlanDumper.add_representer(list, _repr_list)


def _req_dump(r: Any) -> dict[str, Any]:
    d: dict[str, Any] = r.model_dump(mode="json", exclude_defaults=True)
    # always show what decides the verdict, even when it equals a default
    for key in ("counts", "direction", "threshold", "min_sample", "source"):
        d[key] = getattr(r, key)
    return d


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "version": plan.version,
        "name": plan.name,
        "level": plan.level,
        "regimes": list(plan.regimes),
        "regime_levels": dict(plan.regime_levels),
        "seed": plan.seed,
        "items": [i.model_dump(mode="json") for i in plan.items],
        "requirements": [_req_dump(r) for r in plan.requirements],
        "estimate": plan.estimate.model_dump(mode="json"),
        "notes": list(plan.notes),
        "data_hashes": dict(plan.data_hashes),
        "coverage": [c.model_dump(mode="json", exclude_none=True) for c in plan.coverage],
        "profile": plan.profile,
    }


def dump_plan(plan: Plan) -> str:
    """The plan as commented YAML text (stable key order, UTF-8 kept)."""
    body = yaml.dump(plan_to_dict(plan), Dumper=_PlanDumper, allow_unicode=True, sort_keys=False, width=120)
    return f"{HEADER}# plan id: {plan.id}\n{body}"


def check_plan(plan: Plan, where: str = "plan") -> None:
    """Structural checks pydantic cannot express; raises InputError naming the field."""
    errors: list[tuple[str, str]] = []
    req_ids = {r.id for r in plan.requirements}
    evidence_ids = {r.id for r in plan.requirements if r.evidence_only}
    all_ids = [r.id for r in plan.requirements]
    for i, rid in enumerate(all_ids):
        if all_ids.index(rid) != i:
            errors.append((f"requirements ({rid})", "duplicate requirement id"))
    seen: set[str] = set()
    for n, item in enumerate(plan.items):
        at = f"items.{n}"
        if item.id in seen:
            errors.append((f"{at}.id", f"duplicate item id {item.id!r}"))
        seen.add(item.id)
        if item.sample < 0:
            errors.append((f"{at}.sample", "must be >= 0"))
        if not item.graders:
            errors.append((f"{at}.graders", "an item needs at least one grader"))
        if not item.languages:
            errors.append((f"{at}.languages", "an item needs at least one language"))
        for lang in item.languages:
            if lang not in ("zh", "en"):
                errors.append((f"{at}.languages", f"unknown language {lang!r}; use zh and/or en"))
        for rid in item.requirements:
            if rid in evidence_ids:
                errors.append(
                    (
                        f"{at}.requirements",
                        f"{rid!r} is documentary evidence (evidence_only); no item can serve it",
                    )
                )
            elif rid not in req_ids:
                errors.append(
                    (f"{at}.requirements", f"unknown requirement {rid!r} (not in the plan's requirements)")
                )
    for n, r in enumerate(plan.requirements):
        if r.threshold is not None and not 0.0 <= r.threshold <= 1.0:
            errors.append((f"requirements.{n}.threshold", "must be a proportion in [0, 1]"))
    if plan.level is not None and plan.level not in ("R0", "R1", "R2", "R3", "R4"):
        errors.append(("level", f"unknown level {plan.level!r}"))
    if errors:
        raise FieldInputError(errors, where)


def plan_warnings(plan: Plan) -> list[str]:
    """Things that will leave verdicts undetermined: samples below a requirement's minimum, unserved requirements."""
    out: list[str] = []
    for r in plan.measured_requirements:
        mine = [i for i in plan.items if r.id in i.requirements]
        wanted = {
            k: tuple(sorted(v))
            for k, v in (
                ("categories", r.selector.categories),
                ("risks", r.selector.risks),
                ("all_categories", r.selector.all_categories),
                ("exclude_categories", r.selector.exclude_categories),
            )
            if v
        }
        exact = [
            i for i in mine if wanted and {k: v for k, v in i.where.items() if k != "expected"} == wanted
        ]
        # a narrow requirement only gets a known number of cases from the draws filtered for it
        got = sum(i.sample for i in (exact or mine))
        if got == 0:
            out.append(f"{r.id}: no plan item serves it")
        elif got < r.min_sample:
            out.append(f"{r.id}: its items draw {got} cases in all, below its min_sample {r.min_sample}")
    return out


def plan_from_dict(data: Any, where: str = "plan") -> Plan:
    plan = validate_as(Plan, data, where)
    check_plan(plan, where)
    return plan


def parse_plan(text: str, where: str = "plan.yaml") -> Plan:
    return plan_from_dict(parse_yaml(text, where), where)


def load_plan(path: str | Path) -> Plan:
    """Read, validate and check a plan file; errors name the file and field path."""
    data = read_yaml_file(path)
    return plan_from_dict(data, str(path))


def save_plan(plan: Plan, path: str | Path) -> Path:
    p = Path(path)
    try:
        p.write_text(dump_plan(plan), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the plan: {exc}", where=str(p)) from exc
    return p
