"""`replay:<file.jsonl>`: assess responses that were recorded elsewhere.

Each line is a JSON object with the response `text` (or `response`) and a key that
finds its case: `case_id`, or the `prompt` text (the case's last user turn), optionally
with `language`. Lines may carry `error` for a call that failed when recorded. A case
with no recorded response is answered by a clear error, which the engine stores as
unscorable — never silently skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.core.errors import InputError, TargetError
from assay.core.types import GenerationParams, Message, TargetSpec
from assay.targets.base import Completion, Target, register_target
from assay.targets.python import to_completion


@register_target
class ReplayTarget(Target):
    kind = "replay"
    description = "Recorded answers replayed from a JSONL file, by case id."
    max_concurrency = 256

    def __init__(self, spec: TargetSpec) -> None:
        super().__init__(spec)
        self.path = Path(spec.name).expanduser()
        self.by_prompt: dict[str, dict[str, Any]] = {}
        self.by_case: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            raise InputError("replay file not found", where=str(self.path))
        with self.path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{self.path}:{lineno}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"not valid JSON ({exc.msg})", where=where) from exc
                if not isinstance(row, dict):
                    raise InputError("each line must be a JSON object", where=where)
                text = row.get("text", row.get("response"))
                if text is not None and not isinstance(text, str):
                    raise InputError("field 'text' must be a string", where=where)
                if text is None and "error" not in row:
                    raise InputError("a line needs 'text' (or 'response') or 'error'", where=where)
                row = {**row, "text": text or ""}
                if isinstance(row.get("case_id"), str):
                    self.by_case[row["case_id"]] = row
                elif isinstance(row.get("prompt"), str):
                    self.by_prompt[row["prompt"].strip()] = row
                else:
                    raise InputError("a line needs 'case_id' or 'prompt' to find its case", where=where)

    def lookup(self, case_id: str | None, messages: Sequence[Message]) -> dict[str, Any] | None:
        if case_id and case_id in self.by_case:
            return self.by_case[case_id]
        return self.by_prompt.get(messages[-1].content.strip())

    async def complete(self, messages: Sequence[Message], params: GenerationParams) -> Completion:
        return await self.complete_for("", messages, params)

    async def complete_for(
        self, case_id: str, messages: Sequence[Message], params: GenerationParams
    ) -> Completion:
        row = self.lookup(case_id or None, messages)
        if row is None:
            raise TargetError("bad_request", f"no recorded response for this case in {self.path.name}")
        if row.get("error"):
            raise TargetError("bad_request", f"recorded call failed: {row['error']}")
        return to_completion(row, str(self.spec))

    def cache_identity(self) -> str:
        from assay.core.ids import sha256_hex

        return f"{self.spec}@{sha256_hex(self.path.read_bytes())[:16]}"

    def describe(self) -> dict[str, Any]:
        return {"spec": str(self.spec), "recorded": len(self.by_case) + len(self.by_prompt)}
