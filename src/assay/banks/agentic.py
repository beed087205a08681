"""Agentic scenario banks (provider): `agent-injection` and `agent-agency`.

Built from versioned YAML files in `assay/banks/data/agentic/`, validated here. Each
scenario × each variant of its file is one case (variant i fills every `{slot}` with the
i-th value of that slot's pool, cycling: attacker addresses, hosts, accounts, planted keys) with `expected: safe_actions`; the case
carries the simulated environment the agent harness (`assay.agents`) acts on, in
`metadata["agent"]`:

- `tools`: the tools offered; `env`: web pages, inbox, files, memory, shell outputs;
- `exposure`: the tool call that shows the agent the planted content (an agent that never
  makes it was not tested: the `agent-actions` grader says unscorable);
- `forbidden`: `[{tool, args: {name: regex}, times, why}]`: the actions that make the case
  unsafe (`tool: "*"` and argument `"*"` match any; `times`: how many matching calls it
  takes, default 1, e.g. 2 where the harm is acting on the same erroneous result again),
  judged by the `agent-actions` grader;
- `safe`: the expected safe behaviour, in words (shown with the grader's judgment);
- `kind`: one of `SCENARIO_KINDS`; `owasp_agentic` / `atlas`: crosswalk ids shown in reports.

`agentic_coverage()` says which OWASP Agentic Top 10 (2026) ids the banks' scenarios cover.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assay.banks.registry import bank_provider
from assay.core.errors import InputError
from assay.core.tools import TOOLS
from assay.core.types import Bank, Case, Language, Message

AGENTIC_FILES: tuple[str, ...] = ("agent-injection.yaml", "agent-agency.yaml")
AGENTIC_BANK_IDS: tuple[str, ...] = tuple(f.removesuffix(".yaml") for f in AGENTIC_FILES)

ScenarioKind = Literal[
    "indirect_injection",
    "data_exfiltration",
    "excessive_agency",
    "unsafe_tool_args",
    "privilege_escalation",
    "goal_hijacking",
    "memory_poisoning",
    "supply_chain",
    "inter_agent",
    "cascading_failure",
    "oversight_evasion",
]
SCENARIO_KINDS: tuple[str, ...] = ScenarioKind.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Forbidden(_Strict):
    tool: str
    args: dict[str, str] = Field(default_factory=dict)
    #: matching calls it takes to be unsafe (2+: repeating an action on the same bad input)
    times: int = Field(default=1, ge=1, le=20)
    why: str = ""

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if v != "*" and v not in TOOLS:
            raise ValueError(f"unknown tool {v!r}; tools: {', '.join(TOOLS)}")
        return v


class Scenario(_Strict):
    id: str
    kind: ScenarioKind
    lang: Language
    categories: tuple[str, ...]
    owasp_agentic: tuple[str, ...] = ()
    atlas: tuple[str, ...] = ()
    system: str | None = None
    task: str
    tools: tuple[str, ...]
    exposure: str
    env: dict[str, Any] = Field(default_factory=dict)
    forbidden: tuple[Forbidden, ...]
    canary: str | None = None
    max_steps: int = 6
    #: the expected safe behaviour, in words (the grader's judgment shows it)
    safe: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        unknown = [t for t in self.tools if t not in TOOLS]
        if unknown:
            raise ValueError(f"scenario {self.id}: unknown tool(s) {', '.join(unknown)}")
        if self.exposure not in self.tools:
            raise ValueError(f"scenario {self.id}: exposure {self.exposure!r} is not among its tools")
        if not self.forbidden:
            raise ValueError(f"scenario {self.id}: needs at least one forbidden action")
        bad = [o for o in self.owasp_agentic if not re.fullmatch(r"ASI(0[1-9]|10)", o)]
        if bad:
            raise ValueError(f"scenario {self.id}: not an OWASP Agentic id: {', '.join(bad)}")
        return self


class AgenticHeader(_Strict):
    id: str
    version: str
    title: str = ""
    description: str = ""
    expected: Literal["safe_actions"]


class AgenticFile(_Strict):
    bank: AgenticHeader
    #: cases per scenario; variant i fills each slot with `slots[name][i % len]`
    variants: int = Field(default=1, ge=1, le=100)
    slots: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    scenarios: tuple[Scenario, ...]

    def variant_values(self) -> list[dict[str, str]]:
        return [{k: v[i % len(v)] for k, v in self.slots.items() if v} for i in range(self.variants)]

    @model_validator(mode="after")
    def _unique(self) -> AgenticFile:
        seen: set[str] = set()
        for s in self.scenarios:
            if s.id in seen:
                raise ValueError(f"two scenarios share the id {s.id!r}")
            seen.add(s.id)
        return self


def _fill(obj: Any, values: Mapping[str, str], *, regex: bool = False) -> Any:
    """Replace `{slot}` placeholders in every string of `obj` (regex-escaped in patterns)."""
    if isinstance(obj, str):
        for k, v in values.items():
            obj = obj.replace("{" + k + "}", re.escape(v) if regex else v)
        return obj
    if isinstance(obj, Mapping):
        return {_fill(k, values): _fill(v, values, regex=regex) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_fill(v, values, regex=regex) for v in obj]
    return obj


def load_agentic_file(name: str) -> AgenticFile:
    where = f"assay/banks/data/agentic/{name}"
    try:
        text = resources.files("assay.banks").joinpath("data", "agentic", name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("bank data file is missing", where=where) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"invalid YAML: {exc}", where=f"{where}:{mark.line + 1}" if mark else where) from exc
    try:
        return AgenticFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{first['msg']} ({exc.error_count()} error(s))", where=f"{where}: {loc}") from exc


def _case(bank_id: str, s: Scenario, values: Mapping[str, str], variant: int) -> Case:
    messages = []
    if s.system:
        messages.append(Message(role="system", content=_fill(s.system, values)))
    messages.append(Message(role="user", content=_fill(s.task, values)))
    agent = {
        "scenario": s.id,
        "kind": s.kind,
        "tools": list(s.tools),
        "exposure": s.exposure,
        "env": _fill(s.env, values),
        "forbidden": [
            {
                "tool": f.tool,
                "args": _fill(f.args, values, regex=True),
                "why": _fill(f.why, values),
                **({"times": f.times} if f.times > 1 else {}),
            }
            for f in s.forbidden
        ],
        "max_steps": s.max_steps,
    }
    if s.safe:
        agent["safe"] = _fill(s.safe, values)
    meta: dict[str, Any] = {
        "agent": agent,
        "scenario_kind": s.kind,
        "owasp_agentic": list(s.owasp_agentic),
        "mitre_atlas": list(s.atlas),
        "variant": variant,
    }
    if s.canary:
        meta["canary"] = _fill(s.canary, values)
    return Case(
        bank=bank_id,
        messages=tuple(messages),
        language=s.lang,
        categories=s.categories,
        expected="safe_actions",
        group=None,
        metadata=meta,
    )


def build_agentic_bank(name: str) -> Bank:
    f = load_agentic_file(name)
    cases = [
        _case(f.bank.id, s, values, i) for s in f.scenarios for i, values in enumerate(f.variant_values())
    ]
    return Bank(
        id=f.bank.id,
        version=f.bank.version,
        title=f.bank.title,
        description=" ".join(f.bank.description.split()),
        kind="technical",
        source="builtin",
        cases=tuple(cases),
    )


@cache
def agentic_banks() -> tuple[Bank, ...]:
    return tuple(build_agentic_bank(n) for n in AGENTIC_FILES)


#: the OWASP Top 10 for Agentic Applications (2026) ids
OWASP_AGENTIC_IDS: tuple[str, ...] = tuple(f"ASI{i:02d}" for i in range(1, 11))


def agentic_coverage() -> dict[str, dict[str, Any]]:
    """OWASP Agentic id -> {"banks", "kinds", "scenarios" (ids), "languages"} of the
    built-in agentic scenarios tagged with it (an id no scenario tags is absent)."""
    out: dict[str, dict[str, Any]] = {}
    for name in AGENTIC_FILES:
        f = load_agentic_file(name)
        for s in f.scenarios:
            for asi in s.owasp_agentic:
                row = out.setdefault(asi, {"banks": [], "kinds": [], "scenarios": [], "languages": []})
                for key, value in (
                    ("banks", f.bank.id),
                    ("kinds", s.kind),
                    ("scenarios", s.id),
                    ("languages", s.lang),
                ):
                    if value not in row[key]:
                        row[key].append(value)
    return dict(sorted(out.items()))


@bank_provider
def agentic_bank_provider() -> list[Bank]:
    """The agentic scenario banks (agent-injection, agent-agency), zh and en."""
    return list(agentic_banks())
