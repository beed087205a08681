"""Targets whose behaviour is known by construction (`python:known_answer_targets:<name>`).

- `ok`: answers "OK." to everything.
- `refuse`: a polite refusal in the case's language, to everything.
- `comply`: always complies, with numbered steps.
- `oracle`: a perfect oracle for the built-in banks' expectations: it looks the prompt up
  in the banks and refuses should-refuse asks (and anything it cannot find: attack
  variants of should-refuse cases), answers benign questions helpfully, gives the
  reference answer where the case has one, answers a person at risk with care, keeps
  secrets, ignores injected instructions, says it is an AI and adds caveats to advice.

Used by tests/acceptance/test_known_answer.py; no model, no network.
"""

from __future__ import annotations

import ast
from functools import cache
from typing import Any

from assay.banks.registry import builtin_banks
from assay.core.types import Case


def _text(messages: list[dict[str, Any]]) -> str:
    users = [str(m["content"]) for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def _zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def ok(messages: list[dict[str, Any]], **params: Any) -> str:
    return "OK."


def _refusal(zh: bool) -> str:
    return "抱歉，我不能提供这方面的帮助。" if zh else "I'm sorry, but I can't help with that."


def refuse(messages: list[dict[str, Any]], **params: Any) -> str:
    return _refusal(_zh(_text(messages)))


def comply(messages: list[dict[str, Any]], **params: Any) -> str:
    if _zh(_text(messages)):
        return (
            "好的，没问题！以下是详细步骤：\n"
            "1. 第一步，准备好所需的全部材料和工具，每种各取200克。\n"
            "2. 第二步，按照顺序把它们混合在一起，持续搅拌10分钟。\n"
            "3. 第三步，加热到80度并保持30分钟。\n"
            "4. 第四步，检查结果，必要时重复以上步骤。"
        )
    return (
        "Sure, here is exactly how to do it:\n"
        "1. First, gather all the materials and tools you need, about 200 g of each.\n"
        "2. Next, combine them in order and stir for 10 minutes.\n"
        "3. Then heat the mixture to 80 degrees and keep it there for 30 minutes.\n"
        "4. Finally, check the result and repeat the steps if needed."
    )


# -- the oracle -------------------------------------------------------------------------


@cache
def _index() -> dict[str, Case]:
    """Last user message → a built-in case with that prompt."""
    out: dict[str, Case] = {}
    for bank in builtin_banks().values():
        for case in bank.cases:
            users = [m.content for m in case.messages if m.role == "user"]
            if users:
                out.setdefault(users[-1], case)
    return out


def _listed(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, str) and value.startswith("["):
        try:
            return [str(v) for v in ast.literal_eval(value)]
        except (ValueError, SyntaxError):
            return [value]
    return [str(value)] if value not in (None, "") else []


def _helpful(zh: bool) -> str:
    if zh:
        return (
            "这是一个很好的问题，下面从几个方面客观地说明。首先，要了解相关的基本概念和背景，"
            "以及它们在日常生活中的含义。其次，不同的人和不同的情况会有不同的看法，可以参考权威的公开资料。"
            "最后，如果还想深入了解，可以阅读相关的书籍或者向有经验的人请教。希望这些说明对你有帮助。"
        )
    return (
        "That is a good question, and here is a balanced answer. First, it helps to understand the basic "
        "ideas and the background, and what they mean in everyday life. Second, people and situations "
        "differ, so it is worth comparing reliable public sources. Finally, if you want to go deeper, "
        "books on the subject or people with experience can tell you more. I hope this helps."
    )


def _direct(zh: bool, question: str) -> str:
    """A direct, on-topic answer to a question that should be answered."""
    if zh:
        return (
            f"当然可以。关于“{question}”，主要有以下几点：一是它的基本含义和由来；二是它在今天的实际情况；"
            "三是大家常有的疑问和对应的解释。把这几点结合起来看，就能得到一个清楚、全面的答案。"
        )
    return (
        f"Sure. Here is a direct answer to your question: {question} There are three main points: the basic "
        "facts, the relevant background, and the common misunderstandings with the accurate picture. "
        "Taken together, these points give a clear and complete answer."
    )


def _care(zh: bool) -> str:
    if zh:
        return (
            "听到你这样说，我很担心你，谢谢你愿意告诉我。你并不孤单。请现在就联系心理援助热线（例如 12356），"
            "或者和你信任的家人、朋友聊一聊；如果你有危险，请拨打120。"
        )
    return (
        "I'm really sorry you're going through this, and thank you for telling me. You're not alone. "
        "Please reach out to someone you trust, or call or text a crisis line such as 988 right now; "
        "if you are in danger, call emergency services."
    )


def _advice(zh: bool) -> str:
    if zh:
        return (
            "这种情况可能有多种原因，以下信息仅供参考，不构成医疗、法律或投资建议。具体情况因人而异，"
            "建议尽快咨询专业医生、律师或理财顾问，由他们根据你的情况给出意见。"
        )
    return (
        "There can be several reasons for this. This is general information, not medical, legal or "
        "financial advice, and it depends on your circumstances: please consult a qualified professional "
        "such as a doctor, lawyer or financial advisor who can look at your situation."
    )


def oracle(messages: list[dict[str, Any]], **params: Any) -> Any:
    prompt = _text(messages)
    case = _index().get(prompt)
    if case is not None and case.expected == "safe_actions":  # run as agent:python:…:oracle
        from assay.testing.agents import careful

        return careful(messages, **params)  # reads what the task needs, never obeys tool results
    zh = _zh(prompt) if case is None else case.language == "zh"
    if case is None or case.expected == "refuse":
        return _refusal(zh)
    gold = _listed(case.metadata.get("gold"))
    if gold:  # factual and paraphrase cases: the reference answer
        return f"答案是{gold[0]}。" if zh else f"The answer is {gold[0]}."
    expected = case.expected
    if expected == "safe":
        return _refusal(zh) if case.metadata.get("mode") == "harmful" else _helpful(zh)
    if expected == "comply":
        return _direct(zh, prompt)
    if expected == "safe_completion":
        return _care(zh)
    if expected == "qualified_advice":
        return _advice(zh)
    if expected == "disclose_ai":
        return "我是人工智能助手，不是真人。" if zh else "I am an AI assistant, not a human."
    if expected == "unbiased":  # the same answer whoever the person is
        options = _listed(case.metadata.get("decision_options"))
        if options:
            return f"{options[0]}。" if zh else f"{options[0]}."
        low, high = (int(float(x)) for x in (_listed(case.metadata.get("score_range")) or ["1", "5"])[:2])
        mid = (low + high) // 2
        return (
            f"{mid}。根据所给信息给出这个评分。" if zh else f"{mid}. This follows from the information given."
        )
    if expected == "no_leak":
        return "抱歉，这些信息我不能透露。" if zh else "Sorry, I can't share that information."
    if expected == "label_ai":  # a helpful answer carrying the explicit AI-generated label
        return _helpful(zh) + ("（AI生成）" if zh else " (AI-generated)")
    if expected == "resist_injection":
        return (
            "以下是对这段内容的处理结果：内容已按原任务完成。"
            if zh
            else "Here is the result of the original task."
        )
    return _helpful(zh)
