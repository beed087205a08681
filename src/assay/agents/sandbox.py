"""Simulated tools and the sandbox they act on.

The sandbox is built from a case's `metadata["agent"]["env"]`:

- `web`: url → page text (what `fetch_url` returns);
- `inbox`: list of `{from, subject, body}` (what `read_inbox` returns);
- `files`: path → text (`read_file`, `list_files`, `write_file`, `delete_file`);
- `shell`: command → output (`run_shell`; any other command "succeeds" with no output);
- `memory`: notes the agent remembered in an earlier session (`recall`, `remember`);
- `agents`: list of `{from, body}`: messages from peer agents (`read_agent_messages`;
  `send_agent_message` appends to `agent_outbox`);
- `balance`: the account balance `make_payment` reports.

Nothing leaves the sandbox: a sent mail, a payment, a deleted file or a shell command
only changes the sandbox's in-memory state and is recorded as an action
`{"tool", "args", "result", "step"}`. Unknown tools and malformed arguments are
answered with an error result (and recorded too): an agent's mistakes are evidence.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.core.tools import TOOLS, ToolSpec

#: longest tool result kept in a recorded action (the full text went to the agent)
RESULT_CHARS = 400


def tool_ids() -> tuple[str, ...]:
    return tuple(TOOLS)


@dataclass
class Sandbox:
    """The simulated world one agent episode acts on. Build one per case."""

    env: dict[str, Any] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()
    actions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = copy.deepcopy(self.env)
        self.allowed = tuple(self.allowed) or tool_ids()
        self._handlers: dict[str, Callable[[dict[str, str]], str]] = {
            "fetch_url": self._fetch_url,
            "read_inbox": self._read_inbox,
            "send_email": self._send_email,
            "list_files": self._list_files,
            "read_file": self._read_file,
            "write_file": self._write_file,
            "delete_file": self._delete_file,
            "make_payment": self._make_payment,
            "run_shell": self._run_shell,
            "remember": self._remember,
            "recall": self._recall,
            "read_agent_messages": self._read_agent_messages,
            "send_agent_message": self._send_agent_message,
        }

    @classmethod
    def for_scenario(cls, scenario: Mapping[str, Any] | None) -> Sandbox:
        scenario = scenario or {}
        return cls(env=dict(scenario.get("env") or {}), allowed=tuple(scenario.get("tools") or ()))

    @property
    def specs(self) -> list[ToolSpec]:
        return [TOOLS[t] for t in self.allowed if t in TOOLS]

    def call(self, tool: str, args: Any, step: int = 0) -> str:
        """Carry out one call in the sandbox, record it, and return the tool's result text."""
        clean = _clean_args(args)
        if tool not in TOOLS:
            result = f"error: unknown tool {tool!r}; available: {', '.join(self.allowed)}"
        elif tool not in self.allowed:
            result = f"error: tool {tool!r} is not available in this session"
        else:
            missing = [p for p in TOOLS[tool].params if p not in clean]
            result = (
                f"error: missing argument(s) {', '.join(missing)}" if missing else self._handlers[tool](clean)
            )
        self.actions.append({"tool": str(tool), "args": clean, "result": result[:RESULT_CHARS], "step": step})
        return result

    # -- tools ------------------------------------------------------------------------------
    def _fetch_url(self, a: dict[str, str]) -> str:
        web = self.env.get("web") or {}
        url = a["url"].strip()
        page = web.get(url) or web.get(url.rstrip("/")) or web.get(url + "/")
        return str(page) if page is not None else f"error: 404 not found: {url}"

    def _read_inbox(self, a: dict[str, str]) -> str:
        mails = self.env.get("inbox") or []
        if not mails:
            return "(the inbox is empty)"
        return "\n\n".join(
            f"[{i + 1}] From: {m.get('from', '')}\nSubject: {m.get('subject', '')}\n{m.get('body', '')}"
            for i, m in enumerate(mails)
        )

    def _send_email(self, a: dict[str, str]) -> str:
        self.env.setdefault("outbox", []).append(dict(a))
        return f"sent to {a['to']}"

    def _list_files(self, a: dict[str, str]) -> str:
        files = self.env.get("files") or {}
        return "\n".join(sorted(files)) or "(no files)"

    def _read_file(self, a: dict[str, str]) -> str:
        files = self.env.get("files") or {}
        path = a["path"].strip()
        return str(files[path]) if path in files else f"error: no such file: {path}"

    def _write_file(self, a: dict[str, str]) -> str:
        self.env.setdefault("files", {})[a["path"].strip()] = a["content"]
        return f"wrote {len(a['content'])} characters to {a['path']}"

    def _delete_file(self, a: dict[str, str]) -> str:
        files = self.env.setdefault("files", {})
        path = a["path"].strip()
        if path not in files:
            return f"error: no such file: {path}"
        del files[path]
        return f"deleted {path}"

    def _make_payment(self, a: dict[str, str]) -> str:
        return f"payment of {a['amount']} {a['currency']} to {a['to']} submitted"

    def _run_shell(self, a: dict[str, str]) -> str:
        outputs = self.env.get("shell") or {}
        return str(outputs.get(a["command"].strip(), "(exit status 0)"))

    def _remember(self, a: dict[str, str]) -> str:
        self.env.setdefault("memory", []).append(a["note"])
        return "saved"

    def _recall(self, a: dict[str, str]) -> str:
        notes = self.env.get("memory") or []
        return "\n".join(f"- {n}" for n in notes) or "(no notes)"

    def _read_agent_messages(self, a: dict[str, str]) -> str:
        msgs = self.env.get("agents") or []
        if not msgs:
            return "(no messages from other agents)"
        return "\n\n".join(
            f"[{i + 1}] From agent: {m.get('from', '')}\n{m.get('body', '')}" for i, m in enumerate(msgs)
        )

    def _send_agent_message(self, a: dict[str, str]) -> str:
        self.env.setdefault("agent_outbox", []).append(dict(a))
        return f"message sent to agent {a['to']}"


def _clean_args(args: Any) -> dict[str, str]:
    """Arguments as a flat str → str mapping (models send numbers, nulls, JSON strings)."""
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError:
            return {"_raw": args[:RESULT_CHARS]}
    if not isinstance(args, Mapping):
        return {"_raw": str(args)[:RESULT_CHARS]}
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in args.items()}
