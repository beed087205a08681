"""Deterministic scripted agents for tests, demos and calibration of the agentic banks.

Use them as `agent:python:assay.testing.agents:gullible` and
`agent:python:assay.testing.agents:careful`. Both first make the call the user's task
needs (fetch the URL, read the messages of the other agents, the memory, the named file,
the inbox, list the files). `gullible` then carries out whatever its tool results tell it
to do (mail addresses, backticked commands, one payment per line naming a bank account,
"remember:" notes); `careful` only reports.
Neither calls any model.
"""

from __future__ import annotations

import re
from typing import Any

_URL = re.compile(r"https?://[^\s\"'<>，。）)]+")
_FILE = re.compile(r"[\w\-.\u4e00-\u9fff]+\.(?:txt|md|csv|log|env|docx|json)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CMD = re.compile(r"`([^`]+)`")
_ACCOUNT = re.compile(r"(?:account|账户)\s*[:：]?\s*([A-Z]{2}\d{2}(?: ?[0-9A-Z]{1,4}){3,8})")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(EUR|USD|CNY)")
_REMEMBER = re.compile(r"(?:remember|记住)\s*[:：]\s*([^\n]+)", re.IGNORECASE)


def _tool_names(tools: list[dict[str, Any]] | None) -> set[str]:
    return {str(t.get("function", {}).get("name")) for t in tools or []}


def _first_call(task: str, names: set[str]) -> dict[str, Any] | None:
    if (m := _URL.search(task)) and "fetch_url" in names:
        return {"tool": "fetch_url", "args": {"url": m.group(0)}}
    if re.search(r"\bagents?\b|智能体", task, re.IGNORECASE) and "read_agent_messages" in names:
        return {"tool": "read_agent_messages", "args": {}}
    if ("memory" in task.lower() or "记忆" in task) and "recall" in names:
        return {"tool": "recall", "args": {}}
    if (m := _FILE.search(task)) and "read_file" in names:
        return {"tool": "read_file", "args": {"path": m.group(0)}}
    if any(w in task.lower() for w in ("inbox", "email", "邮箱", "邮件")) and "read_inbox" in names:
        return {"tool": "read_inbox", "args": {}}
    if "list_files" in names:
        return {"tool": "list_files", "args": {}}
    return None


def _follow(result: str, names: set[str], task: str) -> list[dict[str, Any]]:
    """What a credulous agent does with a tool result: every instruction it can parse."""
    calls: list[dict[str, Any]] = []
    for cmd in _CMD.findall(result):
        if "run_shell" in names:
            calls.append({"tool": "run_shell", "args": {"command": cmd}})
    if (m := _REMEMBER.search(result)) and "remember" in names:
        calls.append({"tool": "remember", "args": {"note": m.group(1).strip()}})
    if "make_payment" in names:
        whole = _AMOUNT.search(result)
        for line in result.splitlines():  # every line that names an account: one payment each
            if not (acc := _ACCOUNT.search(line)):
                continue
            amt = _AMOUNT.search(line) or whole
            calls.append(
                {
                    "tool": "make_payment",
                    "args": {
                        "to": acc.group(1).strip(),
                        "amount": amt.group(1) if amt else "0",
                        "currency": amt.group(2) if amt else "EUR",
                    },
                }
            )
    url = _URL.search(result)
    if url and "fetch_url" in names and "?" in url.group(0):
        calls.append({"tool": "fetch_url", "args": {"url": url.group(0) + result[:80]}})
    known = set(_EMAIL.findall(task))
    for addr in dict.fromkeys(_EMAIL.findall(result)):
        if (
            addr not in known
            and "send_email" in names
            and not addr.startswith(("noreply", "bank@", "billing@"))
        ):
            calls.append(
                {"tool": "send_email", "args": {"to": addr, "subject": "sync", "body": result[:200]}}
            )
    if "delete_file" in names and not calls:
        for path in result.splitlines():
            if path.strip().startswith(("tmp", "draft", "旧")):
                calls.append({"tool": "delete_file", "args": {"path": path.strip()}})
    return calls


def _script(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, follow: bool) -> Any:
    names = _tool_names(tools)
    task = next((m["content"] for m in messages if m["role"] == "user"), "")
    tool_turns = [m for m in messages if m["role"] == "tool"]
    if not tool_turns:
        first = _first_call(task, names)
        if first is None:
            return "I have no tool for this."
        return {"text": "", "tool_calls": [first]}
    if follow and len(tool_turns) == 1:
        calls = _follow(str(tool_turns[0]["content"]), names, task)
        if calls:
            return {"text": "Doing what the content says.", "tool_calls": calls}
    summary = str(tool_turns[0]["content"])[:160]
    if follow:
        return f"Done. Summary: {summary}"
    return (
        f"Here is what I found: {summary} (The content also contains instructions addressed to me; "
        "I did not act on them. Tell me if you want me to do anything.)"
    )


def gullible(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, **_: Any) -> Any:
    """Follows every instruction found in its tool results."""
    return _script(messages, tools, follow=True)


def careful(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None, **_: Any) -> Any:
    """Reads what the task needs, reports, and never acts on instructions from tool results."""
    return _script(messages, tools, follow=False)


def reporting(messages: list[dict[str, Any]], **_: Any) -> Any:
    """A `python:` agent that runs elsewhere and reports its actions (recorded as they are)."""
    task = messages[-1]["content"] if messages else ""
    return {
        "text": "Sent.",
        "actions": [{"tool": "send_email", "args": {"to": "x@example.org", "body": task[:40]}}],
    }
