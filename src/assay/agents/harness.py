"""The agent harness: `agent:<target spec>` runs the inner target as a tool-using agent.

One episode per case: the harness builds a `Sandbox` from `Case.metadata["agent"]`
(the engine makes the case available through `CURRENT_CASE`), offers its tools, and loops
until the agent answers without calling a tool or `max_steps` calls were made. Every
call is carried out in the sandbox and recorded in `Completion.actions`.

How each inner kind calls tools:

- `python:` — the callable gets the conversation as dicts (tool results have role
  `tool` and a `name`) and, when it accepts it, `tools=` (chat-API tool schemas). It
  returns a string (final answer), or a dict with `text` and optionally `tool_calls`
  (`[{"tool": name, "args": {...}}]`, carried out and answered in the next round) or
  `actions` (calls the agent already made elsewhere: recorded as they are).
- `openai:` — the chat API's own tool calls (`tools` sent, `tool_calls` parsed).
- any other kind (`local:` ...) — a text protocol described in the system prompt: a line
  `CALL <tool> {json arguments}`; results come back as a user turn `RESULT <tool>: ...`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Sequence
from typing import Any

from assay.agents.sandbox import Sandbox, ToolSpec
from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec, Usage
from assay.targets.base import CURRENT_CASE, Completion, Target, register_target, with_system_prompt

DEFAULT_MAX_STEPS = 6

_CALL_RE = re.compile(r"^\s*CALL\s+([A-Za-z_][\w]*)\s*(\{.*\})?\s*$", re.MULTILINE)

PROTOCOL = {
    "en": (
        "You are an assistant that can use tools. Available tools:\n{tools}\n"
        "To use a tool, reply with exactly one line: CALL <tool> {{json arguments}}\n"
        'for example: CALL read_file {{"path": "notes.txt"}}\n'
        "You will get the result, then you may call another tool or give your final answer "
        "(a reply without a CALL line)."
    ),
    "zh": (
        "你是一个可以使用工具的助手。可用工具：\n{tools}\n"
        "需要使用工具时，只回复一行：CALL <工具名> {{JSON参数}}\n"
        '例如：CALL read_file {{"path": "notes.txt"}}\n'
        "你会收到结果，然后可以继续调用工具或给出最终回答（不含CALL行的回复）。"
    ),
}


def parse_text_calls(text: str) -> list[tuple[str, Any]]:
    """`CALL tool {json}` lines in a model's reply (malformed JSON is kept raw)."""
    out: list[tuple[str, Any]] = []
    for m in _CALL_RE.finditer(text):
        raw = m.group(2) or "{}"
        try:
            args: Any = json.loads(raw)
        except ValueError:
            args = raw
        out.append((m.group(1), args))
    return out


@register_target
class AgentTarget(Target):
    """`agent:<inner spec>`: the inner target as a tool-using agent in a sandbox."""

    kind = "agent"
    description = "Another target run as a tool-using agent over simulated tools in a sandbox (agent:<spec>)."

    cancellable = False

    def __init__(self, spec: TargetSpec, inner: Target | None = None, **options: object) -> None:
        super().__init__(spec)
        from assay.targets import make_target

        if spec.name.startswith("agent:"):
            raise InputError("an agent target cannot wrap another agent target", where=str(spec))
        self.inner = inner or make_target(spec.name, **options)
        self.max_concurrency = self.inner.max_concurrency
        from assay.targets.python import PythonTarget

        self._fn: Any = self.inner.fn if isinstance(self.inner, PythonTarget) else None

    def cache_identity(self) -> str:
        return f"agent[{self.inner.cache_identity()}]"

    def identity(self) -> str:
        return f"agent[{self.inner.identity()}]"

    def describe(self) -> dict[str, Any]:
        return {"spec": str(self.spec), "inner": self.inner.describe(), "harness": "assay.agents"}

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        case = CURRENT_CASE.get()
        scenario: dict[str, Any] = dict(case.metadata.get("agent") or {}) if case is not None else {}
        sandbox = Sandbox.for_scenario(scenario)
        max_steps = int(scenario.get("max_steps") or DEFAULT_MAX_STEPS)
        lang = case.language if case is not None else "en"
        if self._fn is not None:
            return await self._run_python(messages, params, sandbox, max_steps)
        if self.inner.spec.kind == "openai":
            return await self._run_native(messages, params, sandbox, max_steps)
        return await self._run_text(messages, params, sandbox, max_steps, lang)

    # -- python agents ----------------------------------------------------------------------
    async def _run_python(
        self, messages: Sequence[Message], params: GenerationParams, sandbox: Sandbox, max_steps: int
    ) -> Completion:
        from assay.targets.python import to_completion

        chat: list[dict[str, Any]] = [
            {"role": m.role, "content": m.content} for m in with_system_prompt(messages, params)
        ]
        kwargs: dict[str, Any] = {}
        try:
            sig = inspect.signature(self._fn)
            names = set(sig.parameters)
            if "tools" in names or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
                kwargs["tools"] = [t.openai_schema() for t in sandbox.specs]
        except (TypeError, ValueError):
            pass
        usage = [0, 0]
        step = 0
        while True:
            try:
                if inspect.iscoroutinefunction(self._fn):
                    out = await self._fn(list(chat), **kwargs)
                else:  # a sync agent runs in a worker thread, never blocking the engine
                    out = await asyncio.to_thread(self._fn, list(chat), **kwargs)
                    if inspect.isawaitable(out):
                        out = await out
            except TargetError:
                raise
            except Exception as exc:
                raise TargetError("server", f"{self.inner.spec} raised {type(exc).__name__}: {exc}") from exc
            calls = out.get("tool_calls") if isinstance(out, dict) else None
            if isinstance(out, dict):
                u = out.get("usage") or {}
                usage[0] += int(u.get("prompt_tokens", 0))
                usage[1] += int(u.get("completion_tokens", 0))
                for a in out.get("actions") or ():
                    if isinstance(a, dict):
                        sandbox.actions.append({**a, "step": a.get("step", step), "reported": True})
            if not calls or step >= max_steps:
                text = out if isinstance(out, str) else str(out.get("text") or "")
                done = to_completion({"text": text}, str(self.spec))
                return Completion(
                    text=done.text,
                    finish_reason="stop" if not calls else "max_steps",
                    usage=Usage(prompt_tokens=usage[0], completion_tokens=usage[1]),
                    model=str(self.inner.spec),
                    actions=tuple(sandbox.actions),
                )
            chat.append({"role": "assistant", "content": str(out.get("text") or ""), "tool_calls": calls})
            for call in calls:
                step += 1
                name = str(call.get("tool") or call.get("name") or "") if isinstance(call, dict) else ""
                args = call.get("args", call.get("arguments", {})) if isinstance(call, dict) else {}
                result = sandbox.call(name, args, step)
                chat.append({"role": "tool", "name": name, "content": result})
                if step >= max_steps:
                    break

    # -- chat-API tool calls ----------------------------------------------------------------
    async def _run_native(
        self, messages: Sequence[Message], params: GenerationParams, sandbox: Sandbox, max_steps: int
    ) -> Completion:
        from assay.targets.openai import OpenAITarget

        assert isinstance(self.inner, OpenAITarget)
        chat: list[dict[str, Any]] = [
            {"role": m.role, "content": m.content} for m in with_system_prompt(messages, params)
        ]
        tools = [t.openai_schema() for t in sandbox.specs]
        p_tok = c_tok = step = 0
        while True:
            completion, raw_calls = await self.inner.complete_chat(chat, params, tools)
            p_tok += completion.usage.prompt_tokens
            c_tok += completion.usage.completion_tokens
            if not raw_calls or step >= max_steps:
                return _final(completion, p_tok, c_tok, sandbox, cut_short=bool(raw_calls))
            chat.append({"role": "assistant", "content": completion.text or None, "tool_calls": raw_calls})
            for call in raw_calls:
                step += 1
                fn = call.get("function") or {}
                result = sandbox.call(str(fn.get("name") or ""), fn.get("arguments") or "{}", step)
                chat.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": result})

    # -- text protocol ----------------------------------------------------------------------
    async def _run_text(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        sandbox: Sandbox,
        max_steps: int,
        lang: str,
    ) -> Completion:
        convo = with_system_prompt(messages, params)
        protocol = PROTOCOL["zh" if lang == "zh" else "en"].format(tools=_tool_lines(sandbox.specs))
        if convo and convo[0].role == "system":
            convo[0] = Message(role="system", content=convo[0].content + "\n\n" + protocol)
        else:
            convo.insert(0, Message(role="system", content=protocol))
        p_tok = c_tok = step = 0
        while True:
            completion = await self.inner.complete(convo, params)
            p_tok += completion.usage.prompt_tokens
            c_tok += completion.usage.completion_tokens
            calls = parse_text_calls(completion.text)
            if not calls or step >= max_steps:
                return _final(completion, p_tok, c_tok, sandbox, cut_short=bool(calls))
            convo.append(Message(role="assistant", content=completion.text))
            results = []
            for name, args in calls[:1]:  # one call per turn: the model sees each result
                step += 1
                results.append(f"RESULT {name}: {sandbox.call(name, args, step)}")
            convo.append(Message(role="user", content="\n".join(results)))


def _tool_lines(specs: Sequence[ToolSpec]) -> str:
    return "\n".join(f"- {s.signature()}" for s in specs)


def _final(
    completion: Completion, p_tok: int, c_tok: int, sandbox: Sandbox, *, cut_short: bool
) -> Completion:
    """The agent's answer: its last turn's text, the tokens of all its turns and the actions it
    took; `cut_short` (it still asked for tools when the step budget ran out) ends as max_steps."""
    return Completion(
        text=completion.text,
        finish_reason="max_steps" if cut_short else completion.finish_reason,
        usage=Usage(prompt_tokens=p_tok, completion_tokens=c_tok),
        model=completion.model,
        actions=tuple(sandbox.actions),
    )
