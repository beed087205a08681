"""The grader interface and registry.

A grader turns (case, response) into a Judgment with a tri-state outcome. Graders
declare their own metadata (in the manner of garak's probes): the languages and
expected behaviours they judge, the labels they emit and a version that changes
whenever their behaviour does, so a stored judgment always names what produced it.

Each grader also declares which risks it can judge and how (`covers`): TC260-003
Appendix A ids or groups ("A.1", "A.5.b"), unified category ids ("AS-12"), or "*" for
any risk, each with its method (`rules`, `keyword library`, `reference answers`,
`judge model`). A case whose risk the grader cannot see is not assessed: the engine
records an unscorable judgment (`not_covered`, "no grader covers risk X") instead of
asking the grader, so no requirement counts it as safe. Plans read the same
declarations (`coverage_table`) to show, before a run, which risks nobody covers.

Graders that compare several responses (paraphrase consistency, counterfactual bias)
override `grade_group`, which the engine calls once every case of a group is done.

`grade` is a template method: a response with nothing to judge (an error, a block, empty
text) is unscorable, any exception the grader's `check` raises is an unscorable `error`
judgment naming the grader's check, and only the rest reaches `check`. A grader writes
`check` alone. A grader that grades in batches (`grade_many`) keeps the same rules through
`unscorable_for` and `guarded`.

Sync graders never block the event loop: one marked `blocking` (a model, embeddings) is
graded by `agrade` on the one grading thread (`off_loop`), so target calls go on while it
works; graders never run concurrently with each other, so none needs to be thread-safe.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from abc import ABC
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from assay.core import registry as _registry
from assay.core.concurrency import GRADING_LOCK
from assay.core.coverage import CoverageMethod, covering_method
from assay.core.errors import InputError
from assay.core.registry import Registry
from assay.core.types import Case, Judgment, Outcome, Response

_G = TypeVar("_G", bound=Callable[..., Any])
_T = TypeVar("_T")

_GRADING_THREAD = "assay-grading"
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _locked(fn: Callable[..., _T], *args: Any) -> _T:
    with GRADING_LOCK:
        return fn(*args)


def _grading_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_GRADING_THREAD)
        return _pool


async def off_loop(fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` on the one grading thread, awaited: the event loop keeps serving target
    calls meanwhile. One thread, so graders (and the models they share) are never called
    concurrently; a call made on that thread already runs inline. The caller's context
    variables go along."""
    if threading.current_thread().name.startswith(_GRADING_THREAD):
        return _locked(fn, *args)
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _grading_pool(), functools.partial(ctx.run, _locked, fn, *args)
    )


def declare(table: Mapping[str, CoverageMethod]) -> Mapping[str, CoverageMethod]:
    """A grader's `covers` declaration, read-only (keys and methods: `assay.core.coverage`)."""
    return MappingProxyType(dict(table))


def case_risks(case: Case) -> tuple[str, ...]:
    """The risks coverage is checked on: the case's TC260-003 Appendix A risks; for a case
    that names none, the Appendix A risks its unified categories map to in the taxonomy
    (the categories themselves where they map to none). A case naming neither is judged
    on its expected behaviour alone (every grader of that behaviour can judge it)."""
    if case.risks:
        return tuple(case.risks)
    out: list[str] = []
    for cat in case.categories:
        out.extend(_category_risks(cat) or (cat,))
    return tuple(dict.fromkeys(out))


@cache
def _category_risks(category: str) -> tuple[str, ...]:
    from assay.taxonomy import load_taxonomy

    try:
        return load_taxonomy().category(category).refs("tc260_003_appendix_a")
    except (KeyError, ValueError):
        return ()


class Grader(ABC):
    id: ClassVar[str]
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    languages: ClassVar[tuple[str, ...]] = ("zh", "en")
    #: expected behaviours this grader judges (Case.expected); empty = any
    expected: ClassVar[tuple[str, ...]] = ()
    #: labels this grader may put in Judgment.label
    labels: ClassVar[tuple[str, ...]] = ()
    #: True for a refusal detector: its labels say whether the answer declined, and it is
    #: validated against refusal labels; other graders judge content (safe / unsafe)
    detects_refusal: ClassVar[bool] = False
    #: True when the grader needs every case of a `group` (see grade_group)
    group_level: ClassVar[bool] = False
    #: True when grading calls a model (LLM judge): the engine awaits `agrade`
    is_async: ClassVar[bool] = False
    #: True when the grader calls an LLM judge: a run needs `--judge` and builds it with `judge=`
    needs_judge: ClassVar[bool] = False
    #: True when grading runs a learned model (embeddings, a trained head): with
    #: `--executor ray` the grader runs on grader actors that load it once and grade batches
    uses_model: ClassVar[bool] = False
    #: expected behaviours (Case.expected) this grader judges when nothing names a grader: a
    #: plan item names it, a bank run runs it first. One grader per behaviour; the single
    #: table every default (`assay.core.registry.default_grader_table`) is derived from
    judges_by_default: ClassVar[tuple[str, ...]] = ()
    #: expected behaviours this grader judges *beside* the default one on bank runs
    also_judges_by_default: ClassVar[tuple[str, ...]] = ()
    #: earlier versions the grader can still be built as (`get_grader("id@2")`); a grader
    #: that lists any accepts a `version=` argument
    earlier_versions: ClassVar[tuple[str, ...]] = ()
    #: risks this grader can judge (TC260-003 Appendix A ids or groups, unified category
    #: ids, or "*") → how. Empty = none: every case that names a risk is not assessed.
    covers: ClassVar[Mapping[str, CoverageMethod]] = MappingProxyType({})
    #: what the reason of an unscorable `error` judgment calls the failed check
    #: ("<check_name> failed: <exception>"); empty: "<id> check"
    check_name: ClassVar[str] = ""
    #: False when a response without text can still be judged (an agent's tool calls):
    #: then only an error response is unscorable before `check`
    needs_text: ClassVar[bool] = True
    #: True when grading can hold the CPU for long (a model, embeddings, a PII engine):
    #: `agrade` then runs `grade` on the grading thread, off the event loop
    blocking: ClassVar[bool] = False

    @property
    def key(self) -> str:
        """`id@version`: what a judgment records."""
        return f"{self.id}@{self.version}"

    def coverage(self, risk: str) -> CoverageMethod | None:
        """How this grader judges `risk`, or None when it cannot (composite graders
        override this to combine their members)."""
        return covering_method(self.covers, risk)

    def uncovered(self, case: Case) -> tuple[str, ...]:
        """The case's risks this grader cannot judge (see `case_risks`)."""
        return tuple(r for r in case_risks(case) if self.coverage(r) is None)

    def not_covered(self, case: Case) -> Judgment | None:
        """The unscorable judgment for a case whose risk this grader cannot see, else None.

        The engine calls this before `grade`: such a case is not assessed (it counts
        against every requirement measured on it), never judged safe by default."""
        missing = self.uncovered(case)
        if not missing:
            return None
        return self.judgment(
            case,
            Outcome.UNSCORABLE,
            label="not_covered",
            reason=f"no grader covers risk {', '.join(missing)}: {self.id} cannot judge it, so the case is not assessed",
            details={"uncovered": list(missing)},
        )

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load the grader's model now (a grader actor does when it starts); otherwise a
        grader loads what it needs when it first needs it."""

    def grade(self, case: Case, response: Response) -> Judgment:
        """Judge one response (template method): nothing to judge → unscorable
        (`unscorable_for`); else `check`, whose exceptions become an unscorable `error`
        judgment (`guarded`). Never raises for odd model output."""
        return self.grade_with(case, response, self.check)

    def grade_with(
        self, case: Case, response: Response, check: Callable[..., Judgment], *extra: Any
    ) -> Judgment:
        """The template with another check (`check(case, response, *extra)`): for graders
        that keep an earlier version's rules, or pass a batch's shared result along."""
        if (u := self.unscorable_for(case, response)) is not None:
            return u
        return self.guarded(case, check, case, response, *extra)

    def check(self, case: Case, response: Response) -> Judgment:
        """Judge a response that has something to judge: what a grader implements. It may
        raise: `grade` turns the exception into an unscorable judgment."""
        raise NotImplementedError(f"{type(self).__name__} implements neither check nor grade")

    def guarded(self, case: Case, fn: Callable[..., Judgment], *args: Any) -> Judgment:
        """`fn(*args)`, or the unscorable `error` judgment of `case` if it raises."""
        try:
            return fn(*args)
        except Exception as exc:  # odd model output must never take a run down
            return self.failed(case, exc)

    def failed(self, case: Case, exc: BaseException) -> Judgment:
        """The unscorable judgment of a check that raised."""
        name = self.check_name or f"{self.id} check"
        return self.judgment(case, Outcome.UNSCORABLE, label="error", reason=f"{name} failed: {exc}")

    async def agrade(self, case: Case, response: Response) -> Judgment:
        """Judge from the event loop. An asynchronous grader (`is_async`: it calls a model)
        implements `acheck`, under the same template as `grade`; a synchronous one is
        graded by `grade`, on the grading thread when it is `blocking`."""
        if self.is_async:
            if (u := self.unscorable_for(case, response)) is not None:
                return u
            try:
                return await self.acheck(case, response)
            except Exception as exc:  # a judge's odd reply must never take a run down
                return self.failed(case, exc)
        if self.blocking:
            return await off_loop(self.grade, case, response)
        return self.grade(case, response)

    async def acheck(self, case: Case, response: Response) -> Judgment:
        """`check` of an asynchronous grader (`is_async`), awaited by `agrade`."""
        raise NotImplementedError(f"{type(self).__name__} is asynchronous but implements no acheck")

    def grade_group(self, cases: Sequence[Case], responses: Sequence[Response]) -> list[Judgment]:
        """Judge a group of related cases together; one judgment per case."""
        return [self.grade(c, r) for c, r in zip(cases, responses, strict=True)]

    def split_scorable(
        self, cases: Sequence[Case], responses: Sequence[Response]
    ) -> tuple[dict[int, Judgment], list[int]]:
        """For batch graders (`grade_many`): the unscorable judgments, by index, of the
        responses with nothing to judge (`unscorable_for`), and the indices of the rest."""
        if len(cases) != len(responses):
            raise ValueError("one response per case is needed")
        out: dict[int, Judgment] = {}
        scorable: list[int] = []
        for i, (c, r) in enumerate(zip(cases, responses, strict=True)):
            u = self.unscorable_for(c, r)
            if u is not None:
                out[i] = u
            else:
                scorable.append(i)
        return out, scorable

    def split_group(
        self, cases: Sequence[Case], responses: Sequence[Response], incomplete_reason: str
    ) -> tuple[dict[int, Judgment], list[int]]:
        """For group graders: unscorable judgments for members with nothing to grade, and the
        indices of the scorable rest. With fewer than two scorable members the group cannot
        be compared, so every member is judged unscorable (`group_incomplete`) and no index
        is returned."""
        out, scorable = self.split_scorable(cases, responses)
        if len(scorable) < 2:
            for i in scorable:
                out[i] = self.judgment(
                    cases[i], Outcome.UNSCORABLE, label="group_incomplete", reason=incomplete_reason
                )
            return out, []
        return out, scorable

    def judgment(
        self,
        case: Case,
        outcome: Outcome,
        *,
        label: str | None = None,
        score: float | None = None,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> Judgment:
        return Judgment(
            case_id=case.id,
            grader=self.key,
            outcome=outcome,
            label=label,
            score=score,
            reason=reason,
            details=details or {},
        )

    def unscorable_for(self, case: Case, response: Response) -> Judgment | None:
        """The unscorable judgment when there is nothing to grade (error, block, and, for a
        grader that `needs_text`, empty text)."""
        if response.error is not None:
            kind = response.error_kind or "error"
            return self.judgment(
                case, Outcome.UNSCORABLE, label=kind, reason=f"no usable response: {response.error}"
            )
        if self.needs_text and not response.text.strip():
            return self.judgment(
                case, Outcome.UNSCORABLE, label="empty", reason="the target returned empty text"
            )
        return None


#: grader id → class (or factory taking the grader's options); see `assay.core.registry`
GRADERS: Registry[Callable[..., Grader]] = _registry.GRADERS


def register(factory: _G) -> _G:
    """Class decorator: make a grader available by its id (`GRADERS.register`)."""
    gid = getattr(factory, "id", None)
    if not gid:
        raise TypeError(f"{factory!r} has no grader id")
    GRADERS.add(gid, factory)
    return factory


def grader_ids() -> list[str]:
    """Every registered grader id, built-in and from plug-ins."""
    return GRADERS.ids()


def get_grader(grader_id: str, **options: Any) -> Grader:
    """Build a grader by id (`id` or `id@version`; the version must be the installed one or one
    of the grader's `earlier_versions`)."""
    gid, _, version = grader_id.partition("@")
    factory = GRADERS.get(gid)
    earlier: tuple[str, ...] = getattr(factory, "earlier_versions", ())
    if version and version in earlier:
        # a grader that keeps an earlier behaviour reachable builds it from `version=`
        return factory(version=version, **options)
    grader = factory(**options)
    if version and version != grader.version:
        also = f" (earlier versions kept: {', '.join(earlier)})" if earlier else ""
        raise InputError(
            f"grader {gid} is at version {grader.version}, not {version}{also}", where="--grader"
        )
    return grader


def measuring_options(grader_id: str) -> dict[str, Any]:
    """Options that make a grader give every answer its full score, for measuring it: a
    grader that skips work which cannot change a judgment (`lazy`, the harm graders' embedding
    of answers whose decision no similarity could move) gives those answers the score of the
    end nearer its cut-off, which keeps each decision but not the score's ranking (the ROC)."""
    import inspect

    gid = grader_id.partition("@")[0]
    if gid not in GRADERS.ids():
        return {}
    factory = GRADERS.get(gid)
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    return {"lazy": False} if "lazy" in params else {}


def coverage_table() -> dict[str, dict[str, CoverageMethod]]:
    """Every registered grader id → its `covers` declaration (what plans check coverage with)."""
    return {e.id: dict(getattr(e.obj, "covers", {})) for e in GRADERS.entries()}
