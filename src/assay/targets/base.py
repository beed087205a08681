"""The target interface.

A target answers a conversation. It raises `TargetError` with a kind the engine can act
on (retry on rate_limit/overload/server/timeout/unreachable, give up on auth or
bad_request). Targets never log or return secrets; `describe()` is safe to store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from assay.core import registry as _registry
from assay.core.registry import Registry
from assay.core.types import Case, GenerationParams, Message, TargetSpec, Usage

#: the case the engine is answering (set per case): targets that act on a case's own
#: environment (the agent harness, adaptive attacks) read it; plain targets ignore it
CURRENT_CASE: ContextVar[Case | None] = ContextVar("assay_current_case", default=None)
#: set while the engine holds the shared slot of the call it is making (see SharedSlots):
#: a target that takes a slot itself (for callers other than the engine) must not take another
SLOT_HELD: ContextVar[bool] = ContextVar("assay_slot_held", default=False)


class SharedSlots(Protocol):
    """Calls in flight to one endpoint, shared with other processes (the Ray executor's
    per-endpoint limit across workers and runs). The engine takes a slot before an attempt
    starts its clock and gives it back with the attempt's outcome ("ok" or an error kind:
    "rate_limit" / "overload" shrink the shared limit, as they shrink the run's)."""

    async def acquire(self) -> Any: ...

    def release(self, token: Any, outcome: str) -> None: ...


@dataclass(slots=True)
class Completion:
    text: str
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    #: tool calls a tool-using target made while answering (see Response.actions)
    actions: tuple[dict[str, Any], ...] = ()


class Target(ABC):
    #: the spec prefix this class serves (`openai` in `openai:gpt-4o-mini`); see `register_target`
    kind: ClassVar[str] = ""
    #: one line for `assay targets`
    description: ClassVar[str] = ""
    #: how many requests the target can usefully serve at once (engine concurrency ceiling)
    max_concurrency: int = 64
    #: whether abandoning a call frees the work behind it (a remote request: yes; a local
    #: model or function in a thread: no). Only then may the engine cut a slow attempt
    #: short with a timeout learnt from observed latencies, and try it again.
    cancellable: bool = False
    #: calls in flight shared with other processes (None: only the run's own limit)
    shared_slots: SharedSlots | None = None

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec

    @abstractmethod
    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        """Answer one conversation (the last message is a user turn)."""

    async def complete_for(
        self, case_id: str, messages: Sequence[Message], params: GenerationParams
    ) -> Completion:
        """What the engine calls: `complete`, unless a target needs to know the case (replay)."""
        return await self.complete(messages, params)

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, threads and models."""

    def describe(self) -> dict[str, Any]:
        """What a run records about the target. Never includes keys or auth headers."""
        return {"spec": str(self.spec)}

    def cache_identity(self) -> str:
        """What answers depend on besides the conversation and the parameters: the response
        cache is keyed by it, so the same spec pointed at another server (or a changed
        model file or function) never replays old answers. Never contains secrets."""
        return str(self.spec)

    def identity(self) -> str:
        """What a run pins when it starts and checks when it resumes: the cache identity
        (endpoint without credentials, model content hash, function source hash)."""
        return self.cache_identity()

    async def __aenter__(self) -> Target:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def with_system_prompt(messages: Sequence[Message], params: GenerationParams) -> list[Message]:
    """Prepend the run's system prompt unless the case brings its own system turn."""
    msgs = list(messages)
    if params.system_prompt and not (msgs and msgs[0].role == "system"):
        msgs.insert(0, Message(role="system", content=params.system_prompt))
    return msgs


#: target kind → Target class (or any factory called as `factory(spec, **options)`); see
#: `assay.core.registry` (plug-ins: entry-point group `assay.targets`, named by the kind)
TARGETS: Registry[Any] = _registry.TARGETS
_TT = TypeVar("_TT", bound=type[Target])


def register_target(cls: _TT) -> _TT:
    """Class decorator: serve specs `KIND:NAME` with this class (its `kind` attribute)."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} needs a kind")
    TARGETS.add(cls.kind, cls)
    return cls
