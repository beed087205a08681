"""The transform interface, registry, chain parsing and chain application.

A transform derives an attack or perturbation variant from a case. Transforms declare
their own metadata in the manner of garak's probes (what they probe, attack complexity,
languages, accepted parameters), so a report can say what each attack did and a plan can
ask for "attack success rate per transform and category".

A chain is written `"roleplay:dan+base64"` (or given as a tuple of steps); each step is
`ID` or `ID:PARAM`. Steps apply left to right. Every step is deterministic given
(case, step, seed): it draws from `random.Random` seeded with the case id, the step and
the seed, never from the global generator.

The derived case keeps `categories`, `risks`, `expected`, `language`, `group` and the
grader metadata (`canary`, `gold`, ...), appends the step to `transforms`, sets `parent`
to the root case id (kept through chains) and appends a line to
`metadata["transform_notes"]`. A step that cannot run (a language it does not support,
or `translate` without a translator) leaves the case unchanged and is reported in
`TransformResult.skipped` with its reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
from abc import ABC
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from assay.core import registry as _registry
from assay.core.errors import InputError
from assay.core.registry import Registry
from assay.core.types import Case, Language, Message

Complexity = Literal["low", "medium", "high"]
TransformKind = Literal["attack", "perturbation"]

#: (text, source_language, target_language) -> translated text
Translator = Callable[[str, str, str], Awaitable[str]]


@dataclass(frozen=True)
class TransformContext:
    """What some transforms need from outside: a translator for `translate`.

    `translate_target` is the pivot language used when a `translate` step names none.
    """

    translator: Translator | None = None
    translate_target: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    """A step that did not run, and why (shown in run notes and reports)."""

    step: str
    reason: str

    def __str__(self) -> str:
        return f"{self.step}: skipped — {self.reason}"


@dataclass(frozen=True)
class TransformResult:
    case: Case
    skipped: tuple[Skip, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(str(s) for s in self.skipped)

    @property
    def note(self) -> str | None:
        """All skip reasons in one line, or None when every step ran."""
        return "; ".join(self.notes) or None

    @property
    def applied(self) -> tuple[str, ...]:
        return self.case.transforms


class TransformMeta(BaseModel):
    """A transform's self-description, as `list_transforms()` returns it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    kind: TransformKind
    description: str
    probes: str
    complexity: Complexity
    languages: tuple[str, ...]
    params: tuple[str, ...]
    default_param: str | None
    param_help: str
    categories: tuple[str, ...]
    test_method: str
    multi_turn: bool
    needs_context: bool


class TransformSkipped(Exception):
    """Raised inside `apply` when the step cannot run on this case; the chain goes on."""


class Transform(ABC):
    """Base class. Subclasses set the ClassVars and override `transform` (or `atransform`)."""

    id: ClassVar[str]
    version: ClassVar[str] = "1"
    kind: ClassVar[TransformKind] = "attack"
    description: ClassVar[str] = ""
    #: what weakness the transform probes, in a sentence
    probes: ClassVar[str] = ""
    complexity: ClassVar[Complexity] = "low"
    languages: ClassVar[tuple[str, ...]] = ("zh", "en")
    #: named variants accepted after the colon; empty with `free_param` = any value
    params: ClassVar[tuple[str, ...]] = ()
    default_param: ClassVar[str | None] = None
    free_param: ClassVar[bool] = False
    param_help: ClassVar[str] = ""
    #: unified categories this transform probes (TS-05 jailbreak, TS-03 robustness)
    categories: ClassVar[tuple[str, ...]] = ("TS-05",)
    test_method: ClassVar[str] = "T-JAILBREAK"
    multi_turn: ClassVar[bool] = False
    needs_context: ClassVar[bool] = False

    @classmethod
    def meta(cls) -> TransformMeta:
        return TransformMeta(
            id=cls.id,
            version=cls.version,
            kind=cls.kind,
            description=cls.description,
            probes=cls.probes,
            complexity=cls.complexity,
            languages=cls.languages,
            params=cls.params,
            default_param=cls.default_param,
            param_help=cls.param_help,
            categories=cls.categories,
            test_method=cls.test_method,
            multi_turn=cls.multi_turn,
            needs_context=cls.needs_context,
        )

    def check_param(self, param: str | None) -> None:
        """Raise InputError for a parameter this transform does not accept."""
        if param is None or self.free_param:
            return
        if param not in self.params:
            known = ", ".join(self.params) if self.params else "none"
            raise InputError(
                f"transform {self.id!r} does not accept {param!r}; accepted: {known}", where="--chain"
            )

    def transform(self, case: Case, rng: random.Random, param: str | None, ctx: TransformContext) -> Case:
        """Return the derived case (build it with `derive`). Raise TransformSkipped to skip."""
        raise NotImplementedError

    async def atransform(
        self, case: Case, rng: random.Random, param: str | None, ctx: TransformContext
    ) -> Case:
        return self.transform(case, rng, param, ctx)


class RatedTransform(Transform):
    """A transform whose free parameter is a rate in (0, 1] (e.g. `typo:0.2`); subclasses set `default_param`."""

    free_param: ClassVar[bool] = True

    def check_param(self, param: str | None) -> None:
        rate_param(param, self.id)

    def rate(self, param: str | None) -> float:
        """The rate for this step: `param`, else `default_param`."""
        return rate_param(param or self.default_param, self.id)

    def step(self, param: str | None) -> str:
        return step_name((self.id, param))


# --------------------------------------------------------------------------- registry

#: transform id → class; see `assay.core.registry` (plug-ins: entry-point group `assay.transforms`)
TRANSFORMS: Registry[type[Transform]] = _registry.TRANSFORMS
_T = TypeVar("_T", bound=type[Transform])


def register_transform(cls: _T) -> _T:
    """Class decorator: make a transform available by its id (`TRANSFORMS.register`)."""
    if not getattr(cls, "id", ""):
        raise TypeError(f"{cls.__name__} needs an id")
    TRANSFORMS.add(cls.id, cls)
    return cls


def get_transform(transform_id: str) -> Transform:
    return TRANSFORMS.get(transform_id)()


def list_transforms() -> list[TransformMeta]:
    """Metadata of every registered transform, sorted by id."""
    return [e.obj.meta() for e in TRANSFORMS.entries()]


# --------------------------------------------------------------------------- chains

Step = tuple[str, str | None]
ChainSpec = str | Sequence[str]


def parse_step(text: str) -> Step:
    raw = text.strip()
    if not raw:
        raise InputError("empty transform step", where="--chain")
    tid, sep, param = raw.partition(":")
    tid, param = tid.strip().lower().replace("-", "_"), param.strip()
    if sep and not param:
        raise InputError(f"transform step {raw!r} has a colon but no parameter", where="--chain")
    t = get_transform(tid)
    t.check_param(param or None)
    return tid, (param or None)


def parse_chain(chain: ChainSpec | None) -> tuple[Step, ...]:
    """`"roleplay:dan+base64"` or `("roleplay:dan", "base64")` → ((id, param), ...). `""`/`"none"` = no steps."""
    if chain is None:
        return ()
    parts: list[str]
    if isinstance(chain, str):
        if chain.strip().lower() in ("", "none"):
            return ()
        parts = chain.split("+")
    else:
        parts = [p for item in chain for p in item.split("+")]
    return tuple(parse_step(p) for p in parts)


def step_name(step: Step) -> str:
    tid, param = step
    return tid if param is None else f"{tid}:{param}"


def rate_param(value: str | None, transform_id: str) -> float:
    """A transform's rate parameter, in (0, 1]; None gives 0.0. Anything else is an InputError."""
    if value is None:
        return 0.0
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0.0 < rate <= 1.0:
        raise InputError(f"{transform_id} takes a rate between 0 and 1, not {value!r}", where="--chain")
    return rate


def chain_name(chain: ChainSpec | None) -> str:
    """The canonical spelling of a chain: `"roleplay:dan+base64"`, or `"none"`."""
    steps = parse_chain(chain)
    return "+".join(step_name(s) for s in steps) if steps else "none"


def step_rng(case: Case, step: Step, seed: int) -> random.Random:
    return random.Random(f"{case.id}|{step_name(step)}|{seed}")


def _prepare(case: Case, step: Step, ctx: TransformContext) -> tuple[Transform, Skip | None]:
    t = get_transform(step[0])
    if case.language not in t.languages:
        return t, Skip(
            step_name(step),
            f"does not support language {case.language!r} (supports {', '.join(t.languages)})",
        )
    return t, None


def apply_transform(
    case: Case, step: str | Step, seed: int = 0, ctx: TransformContext | Translator | None = None
) -> TransformResult:
    """Apply one step synchronously."""
    return apply_chain(case, (step_name(step) if isinstance(step, tuple) else step,), seed, ctx)


def apply_chain(
    case: Case, chain: ChainSpec | None, seed: int = 0, ctx: TransformContext | Translator | None = None
) -> TransformResult:
    """Apply a chain synchronously.

    `ctx` is a TransformContext, or a bare translator callable. Steps that await a
    translator run through `asyncio.run` (in a worker thread when an event loop is
    already running in this one); async code should prefer `apply_chain_async`.
    """
    ctx = as_context(ctx)
    steps = parse_chain(chain)
    if ctx.translator is not None and any(get_transform(tid).needs_context for tid, _ in steps):
        coro_args = (case, steps_to_spec(steps), seed, ctx)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(apply_chain_async(*coro_args))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(lambda: asyncio.run(apply_chain_async(*coro_args))).result()
    current, skipped = case, []
    for step in steps:
        t, skip = _prepare(current, step, ctx)
        if skip is None:
            try:
                current = t.transform(current, step_rng(current, step, seed), step[1], ctx)
            except TransformSkipped as exc:
                skip = Skip(step_name(step), str(exc))
        if skip is not None:
            skipped.append(skip)
    return TransformResult(current, tuple(skipped))


def as_context(ctx: TransformContext | Translator | None) -> TransformContext:
    if ctx is None:
        return TransformContext()
    if isinstance(ctx, TransformContext):
        return ctx
    if callable(ctx):
        return TransformContext(translator=ctx)
    raise TypeError(f"expected a TransformContext or a translator callable, not {type(ctx).__name__}")


async def apply_chain_async(
    case: Case, chain: ChainSpec | None, seed: int = 0, ctx: TransformContext | Translator | None = None
) -> TransformResult:
    """Apply a chain, awaiting async steps (translation)."""
    ctx = as_context(ctx)
    current, skipped = case, []
    for step in parse_chain(chain):
        t, skip = _prepare(current, step, ctx)
        if skip is None:
            try:
                current = await t.atransform(current, step_rng(current, step, seed), step[1], ctx)
            except TransformSkipped as exc:
                skip = Skip(step_name(step), str(exc))
        if skip is not None:
            skipped.append(skip)
    return TransformResult(current, tuple(skipped))


def chain_of(case: Case) -> str:
    """The chain a case went through, as a grouping key for per-transform rates (`"none"` if untouched)."""
    return "+".join(case.transforms) or "none"


def expand_cases(
    cases: Sequence[Case],
    chains: Sequence[ChainSpec | None],
    seed: int = 0,
    ctx: TransformContext | Translator | None = None,
) -> tuple[list[Case], list[str]]:
    """Every case through every chain (`None`/`"none"` keeps the original), deduplicated by id.

    Returns the cases and the distinct skip notes, e.g. for a run's notes.
    """
    out: dict[str, Case] = {}
    notes: dict[str, None] = {}
    for chain in chains:
        for case in cases:
            res = apply_chain(case, chain, seed, ctx)
            out.setdefault(res.case.id, res.case)
            for skip in res.skipped:
                notes.setdefault(f"{skip.step}: skipped — {skip.reason}", None)
    return list(out.values()), list(notes)


def steps_to_spec(steps: Sequence[Step]) -> tuple[str, ...]:
    return tuple(step_name(s) for s in steps)


# --------------------------------------------------------------------------- helpers for transforms


def request_text(case: Case) -> str:
    """The turn a transform rewrites: the last follow-up if any, else the last user message."""
    return case.followups[-1] if case.followups else case.messages[-1].content


def derive(
    case: Case,
    step: str,
    *,
    request: str | None = None,
    messages: Sequence[Message] | None = None,
    followups: Sequence[str] | None = None,
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Case:
    """A new case derived from `case` by `step`.

    `request` replaces the request turn (see `request_text`); `messages`/`followups`
    replace those fields outright. Categories, risks, expected, language and group stay.
    """
    msgs = tuple(messages) if messages is not None else case.messages
    fups = tuple(followups) if followups is not None else case.followups
    if request is not None:
        if fups:
            fups = (*fups[:-1], request)
        else:
            msgs = (*msgs[:-1], Message(role="user", content=request))
    meta = dict(case.metadata)
    if metadata:
        meta.update(metadata)
    if note:
        meta["transform_notes"] = [*meta.get("transform_notes", []), f"{step}: {note}"]
    return Case(
        bank=case.bank,
        messages=msgs,
        followups=fups,
        language=case.language,
        categories=case.categories,
        risks=case.risks,
        expected=case.expected,
        persona=case.persona,
        difficulty=case.difficulty,
        group=case.group,
        transforms=(*case.transforms, step),
        parent=case.parent or case.id,
        metadata=meta,
    )


def pick(rng: random.Random, options: Sequence[str], param: str | None) -> str:
    return param if param is not None else rng.choice(list(options))


def lang_of(case: Case) -> Language:
    return case.language
