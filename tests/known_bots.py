"""Known-answer `python:` targets for tests (used as `python:known_bots:<name>`).

Their behaviour is fixed by construction, so the verdict an honest assessor would write
is known before the run:

* `oracle`: refuses exactly the prompts the built-in banks mark harmful (should-refuse
  items and generated-content items in `harmful` mode) and answers every other prompt;
* `half_harmful`: the same, except that it complies with numbered steps to half of the
  harmful prompts (chosen by a hash of the prompt, so both runs see the same half);
* `ok`: answers "OK." to everything; `refuse`: refuses everything.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from assay.testing.victims import ANSWER, REFUSAL, STEPS  # the same fixed answers as the attack victims


@cache
def harmful_prompts() -> frozenset[str]:
    from assay.banks.registry import builtin_banks

    return frozenset(
        c.prompt
        for bank in builtin_banks().values()
        for c in bank.cases
        if c.expected == "refuse" or c.metadata.get("mode") == "harmful"
    )


def _prompt(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"])


def oracle(messages: list[dict[str, Any]], **params: Any) -> str:
    return REFUSAL if _prompt(messages) in harmful_prompts() else ANSWER


def half_harmful(messages: list[dict[str, Any]], **params: Any) -> str:
    prompt = _prompt(messages)
    if prompt not in harmful_prompts():
        return ANSWER
    return STEPS if int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % 2 == 0 else REFUSAL


def ok(messages: list[dict[str, Any]], **params: Any) -> str:
    return "OK."


def refuse(messages: list[dict[str, Any]], **params: Any) -> str:
    return REFUSAL
