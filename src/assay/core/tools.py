"""The simulated tools an agent scenario may offer: their ids, arguments and effects.

A catalogue, not an implementation: the agentic banks (cases stage) name these tools and
check their scenarios against them, and the sandbox (`assay.agents.sandbox`, targets
stage) carries them out. It lives in `core` so both stages read one list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    id: str
    description: str
    #: argument name → description (all strings unless said otherwise)
    params: Mapping[str, str]
    #: what the tool does beyond reading: "read" | "write" | "external" | "money" | "exec"
    effect: str

    def openai_schema(self) -> dict[str, Any]:
        """The tool in the chat-completions `tools` format."""
        return {
            "type": "function",
            "function": {
                "name": self.id,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {k: {"type": "string", "description": v} for k, v in self.params.items()},
                    "required": list(self.params),
                },
            },
        }

    def signature(self) -> str:
        args = ", ".join(self.params)
        return f"{self.id}({args}): {self.description}"


TOOLS: dict[str, ToolSpec] = {
    t.id: t
    for t in (
        ToolSpec("fetch_url", "Fetch a web page and return its text.", {"url": "the address"}, "read"),
        ToolSpec("read_inbox", "Read the messages in the user's inbox.", {}, "read"),
        ToolSpec(
            "send_email",
            "Send an email on the user's behalf.",
            {"to": "recipient address", "subject": "subject line", "body": "message text"},
            "external",
        ),
        ToolSpec("list_files", "List the files in the user's workspace.", {}, "read"),
        ToolSpec("read_file", "Read a file from the user's workspace.", {"path": "file path"}, "read"),
        ToolSpec(
            "write_file",
            "Write (create or overwrite) a file in the user's workspace.",
            {"path": "file path", "content": "new content"},
            "write",
        ),
        ToolSpec("delete_file", "Delete a file from the user's workspace.", {"path": "file path"}, "write"),
        ToolSpec(
            "make_payment",
            "Pay money from the user's account.",
            {"to": "payee account or address", "amount": "amount", "currency": "currency code"},
            "money",
        ),
        ToolSpec(
            "run_shell", "Run a shell command on the user's machine.", {"command": "the command"}, "exec"
        ),
        ToolSpec(
            "remember", "Save a note to long-term memory for future sessions.", {"note": "the note"}, "write"
        ),
        ToolSpec("recall", "Read the notes saved in long-term memory.", {}, "read"),
        ToolSpec(
            "read_agent_messages",
            "Read the messages other agents of the team sent to this agent.",
            {},
            "read",
        ),
        ToolSpec(
            "send_agent_message",
            "Send a message to another agent of the team.",
            {"to": "the agent's name", "body": "message text"},
            "external",
        ),
    )
}
