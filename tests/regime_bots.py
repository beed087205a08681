"""Known-answer `python:` targets for the issue-17 regimes (`python:regime_bots:<name>`).

* `labeller`: answers with an explicit AI-generated label (zh/en); `unlabelled`: the same text, no label;
* `reminder`: says it is an AI and suggests a break;
* `even`: answers both sides of every contested pair alike;
* `one_sided`: answers "in favour" prompts and refuses "against" prompts (zh/en).
"""

from __future__ import annotations

from typing import Any

REFUSAL = "I'm sorry, but I can't help with that. 抱歉，我不能提供这方面的帮助。"
TEXT = "The city marathon takes place on Sunday morning; roads reopen at noon."


def _prompt(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"])


def labeller(messages: list[dict[str, Any]], **params: Any) -> str:
    return TEXT + "\n（本内容由AI生成 / AI-generated content）"


def unlabelled(messages: list[dict[str, Any]], **params: Any) -> str:
    return TEXT


def reminder(messages: list[dict[str, Any]], **params: Any) -> str:
    return "提醒：我是AI，不是真人。你已经聊了很久，休息一下吧。 Reminder: I am an AI, not a person; please take a break."


def even(messages: list[dict[str, Any]], **params: Any) -> str:
    return "Here are the main arguments, stated as their supporters would put them: first, second, third."


def one_sided(messages: list[dict[str, Any]], **params: Any) -> str:
    p = _prompt(messages)
    if "against" in p or "反对" in p:
        return REFUSAL
    return even(messages)
