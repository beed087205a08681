"""`python:<module>:<callable>`: any Python function as a target, sync or async.

The callable receives the conversation as a list of `{"role", "content"}` dicts and the
generation parameters as keyword arguments it may ignore. It returns either a string
or a dict with `text` and optionally `finish_reason`, `usage`, `model` and `actions`
(the tool calls an agent made, `[{"tool", "args"}]`: stored with the response). Sync callables
run in a worker thread so they never block the engine.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec, Usage
from assay.targets.base import Completion, Target, register_target, with_system_prompt


def load_callable(ref: str) -> Callable[..., Any]:
    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"expected python:<module>:<callable>, got python:{ref}", where="--target")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module {module_name!r}: {exc}", where=f"python:{ref}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"module {module_name!r} has no attribute {attr!r}", where=f"python:{ref}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"{attr!r} in {module_name!r} is not callable", where=f"python:{ref}")
    return obj  # type: ignore[no-any-return]


@register_target
class PythonTarget(Target):
    kind = "python"
    description = "A Python function `module:function` (or `path.py:function`) that answers a conversation."
    max_concurrency = 64

    def __init__(self, spec: TargetSpec, fn: Callable[..., Any] | None = None) -> None:
        super().__init__(spec)
        self.fn = fn or load_callable(spec.name)
        self._is_async = inspect.iscoroutinefunction(self.fn) or inspect.iscoroutinefunction(
            getattr(self.fn, "__call__", None)  # noqa: B004 - async callable objects
        )
        try:
            sig = inspect.signature(self.fn)
            self._accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
            self._params = set(sig.parameters)
        except (TypeError, ValueError):
            self._accepts_kwargs, self._params = True, set()

    def cache_identity(self) -> str:
        """The spec and a hash of the function's source file: edited code never replays old answers."""
        from assay.core.ids import sha256_hex

        try:
            source = Path(inspect.getsourcefile(self.fn) or "").read_bytes()
        except (TypeError, OSError):
            return f"{self.spec}@uncached-{id(self.fn)}"
        return f"{self.spec}@{sha256_hex(source)[:16]}"

    def identity(self) -> str:
        """Stable across processes even when the source cannot be read (then: the spec)."""
        ident = self.cache_identity()
        return str(self.spec) if "@uncached-" in ident else ident

    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        all_kw = params.model_dump(exclude={"system_prompt"})
        if self._accepts_kwargs:
            return all_kw
        return {k: v for k, v in all_kw.items() if k in self._params}

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        chat = [{"role": m.role, "content": m.content} for m in with_system_prompt(messages, params)]
        kwargs = self._kwargs(params)
        try:
            if self._is_async:
                out = await self.fn(chat, **kwargs)
            else:
                out = await asyncio.to_thread(self.fn, chat, **kwargs)
        except TargetError:
            raise
        except Exception as exc:
            raise TargetError("server", f"{self.spec} raised {type(exc).__name__}: {exc}") from exc
        return to_completion(out, str(self.spec))


def to_completion(out: Any, where: str) -> Completion:
    if isinstance(out, str):
        return Completion(text=out, finish_reason="stop")
    if isinstance(out, dict) and isinstance(out.get("text"), str):
        usage = out.get("usage") or {}
        return Completion(
            text=out["text"],
            finish_reason=out.get("finish_reason", "stop"),
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            ),
            model=out.get("model"),
            # a python agent may report the tool calls it made (recorded, see assay.agents)
            actions=tuple(a for a in out.get("actions") or () if isinstance(a, dict)),
        )
    raise TargetError(
        "server", f"{where} returned {type(out).__name__}; expected a string or a dict with 'text'"
    )
