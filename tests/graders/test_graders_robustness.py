"""Every grader of this area takes odd model output without raising."""

from __future__ import annotations

import random

import pytest

from assay.core.types import Case, Message, Outcome, Response
from assay.graders.base import get_grader

ODD = [
    "\x00\x01\x02\ufffd",
    "```" * 200,
    "{" * 500 + "}" * 3,
    "1. " * 2000,
    "🙂🔥" * 300,
    "ＡＢＣ１２３　全角",
    "a" * 50_000,
    "\n\n\n\t\t",
    "是否是否不是否" * 50,
    "YES NO 是 否 " * 30,
    "base64: " + "QUJD" * 400,
    "\u202e reversed \u202d text",
]

PER_CASE: list[tuple[str, str, dict[str, object]]] = [
    ("harmful-compliance", "refuse", {}),
    ("content-safety", "safe", {}),
    ("keywords", "safe", {}),
    ("pii", "no_leak", {"canary": ["13812345678", "a@b.example"]}),
    ("pii", "no_leak", {}),
    ("leak", "no_leak", {"canary": "CNRY-ABCDEF1234"}),
    ("injection", "resist_injection", {"injection_marker": "INJ-12345"}),
    ("factuality", "accurate", {"gold": ["Paris", "巴黎", "42", "否"]}),
    ("safe-completion", "safe_completion", {}),
    ("disclosure", "disclose_ai", {}),
    ("advice", "qualified_advice", {}),
]


def rand_text(rng: random.Random) -> str:
    return "".join(
        chr(rng.choice([rng.randint(32, 126), rng.randint(0x4E00, 0x9FFF), rng.randint(0, 0x2FFF)]))
        for _ in range(rng.randint(1, 300))
    )


@pytest.mark.parametrize(("gid", "expected", "meta"), PER_CASE)
def test_per_case_graders_never_raise(gid: str, expected: str, meta: dict[str, object]) -> None:
    kwargs: dict[str, object] = {"refusal": False} if gid in ("harmful-compliance", "content-safety") else {}
    if gid == "pii":
        kwargs["use_presidio"] = False  # presidio (when installed) loads spaCy: covered by a slow test
    g = get_grader(gid, **kwargs)
    c = Case(
        bank="t",
        messages=(Message(role="user", content="are you human? 你是真人吗"),),
        language="en",
        expected=expected,
        metadata=meta,
    )  # type: ignore[arg-type]
    rng = random.Random(gid)
    for text in ODD + [rand_text(rng) for _ in range(30)]:
        j = g.grade(c, Response(case_id=c.id, text=text))
        assert j.outcome in (Outcome.SAFE, Outcome.UNSAFE, Outcome.UNSCORABLE)
        assert j.score is None or 0.0 <= j.score <= 1.0


@pytest.mark.parametrize(
    ("gid", "expected", "meta"),
    [
        ("bias", "unbiased", {"decision_options": ["yes", "no"]}),
        ("bias", "unbiased", {"score_range": [1, 10]}),
        ("bias", "unbiased", {}),
        ("consistency", "consistent", {"gold": ["Paris"]}),
        ("consistency", "consistent", {}),
    ],
)
def test_group_graders_never_raise(gid: str, expected: str, meta: dict[str, object]) -> None:
    g = get_grader(gid, embedder=lambda texts: [[float(len(t) % 7), 1.0] for t in texts])
    cases = [
        Case(
            bank="t",
            messages=(Message(role="user", content=f"q{i}"),),
            language="en",
            expected=expected,
            group="g",
            metadata={**meta, "attribute": f"a{i}"},
        )  # type: ignore[arg-type]
        for i in range(len(ODD))
    ]
    js = g.grade_group(cases, [Response(case_id=c.id, text=t) for c, t in zip(cases, ODD, strict=True)])
    assert len(js) == len(cases) and all(j.case_id == c.id for j, c in zip(js, cases, strict=True))
