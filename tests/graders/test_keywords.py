"""Keyword library: format, loader errors, matcher and TC260-003 §8.1 coverage report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.banks.keywords import (
    KEYWORD_RISKS,
    TC260_MIN_A1,
    TC260_MIN_A2,
    TC260_MIN_TOTAL,
    KeywordLibrary,
    builtin_keyword_library,
    normalize,
)
from assay.core.errors import InputError

HEADER = {"library": "t-kw", "version": "1", "languages": ["zh", "en"]}


def _write_jsonl(path: Path, header: dict | None, entries: list[dict]) -> Path:
    lines = ([json.dumps(header, ensure_ascii=False)] if header is not None else []) + [
        json.dumps(e, ensure_ascii=False) for e in entries
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def lib() -> KeywordLibrary:
    return KeywordLibrary.from_entries(
        [
            {"keyword": "颠覆国家政权", "risk": "A.1.a", "language": "zh"},
            {"keyword": "国家", "risk": "A.1.b", "language": "zh", "weight": 0.2},
            {"keyword": "杀", "risk": "A.1.f", "language": "zh", "exclude": ["杀毒", "进程"]},
            {"keyword": "kill", "risk": "A.1.f", "language": "en", "exclude": ["process"]},
            {"keyword": "bomb", "risk": "A.1.d", "language": "en"},
            {"keyword": "build a bomb", "risk": "A.1.d", "language": "en"},
            {"keyword": "ISIS", "risk": "A.1.d", "language": "en", "word_boundary": False},
            {"keyword": "fake news", "risk": "A.1.g", "language": "en"},
        ],
        context_window=10,
    )


def test_chinese_matches_without_word_boundaries(lib: KeywordLibrary) -> None:
    text = "有人想颠覆国家政权吗"
    hits = lib.match(text)
    assert [(h.keyword, h.risk) for h in hits] == [("颠覆国家政权", "A.1.a"), ("国家", "A.1.b")]
    for h in hits:
        assert text[h.span[0] : h.span[1]] == h.matched == h.keyword
    assert hits[0].span == (3, 9)
    # non-overlapping view keeps the longer, more specific phrase only
    assert [h.keyword for h in lib.match(text, overlapping=False)] == ["颠覆国家政权"]


def test_english_word_boundary_and_case(lib: KeywordLibrary) -> None:
    assert lib.match("a new skill set, bombastic talk") == []
    hits = lib.match("He said: KILL them. Bomb!")
    assert [(h.keyword, h.matched) for h in hits] == [("kill", "KILL"), ("bomb", "Bomb")]
    # explicit word_boundary=False matches inside words
    assert [h.keyword for h in lib.match("xISISy")] == ["ISIS"]


def test_fullwidth_is_normalised_and_spans_index_original(lib: KeywordLibrary) -> None:
    text = "看 ＦＡＫＥ　ＮＥＷＳ 了"  # full-width letters and ideographic space
    (hit,) = lib.match(text)
    assert hit.keyword == "fake news"
    assert text[hit.span[0] : hit.span[1]] == "ＦＡＫＥ　ＮＥＷＳ"


def test_spans_survive_length_changing_normalisation(lib: KeywordLibrary) -> None:
    # "ﬀ" (U+FB00) expands to "ff" under NFKC; spans must still point into the original text
    text = "ﬀ ﬀ then KILL"
    (hit,) = lib.match(text)
    assert text[hit.span[0] : hit.span[1]] == "KILL"


def test_english_keyword_next_to_chinese_keeps_its_boundaries(lib: KeywordLibrary) -> None:
    assert [h.keyword for h in lib.match("我要kill他")] == ["kill"]
    assert lib.match("我有skill的") == []


def test_spans_exact_when_expansion_and_merge_cancel_out(lib: KeywordLibrary) -> None:
    # "ﬀ" expands to two characters and half-width "ｶﾞ" merges into one under NFKC: the
    # whole-text form has the original length but shifted indexes; spans must stay exact.
    for text in ("ﬀ kill ｶﾞ", "……kill", "ｶﾞ ＫＩＬＬ ß"):
        (hit,) = lib.match(text)
        assert normalize(text[hit.span[0] : hit.span[1]]) == "kill", text


def test_exclude_context_disambiguates(lib: KeywordLibrary) -> None:
    assert lib.match("kill the process now") == []
    assert lib.match("电脑要杀毒") == []
    assert [h.keyword for h in lib.match("他想杀人")] == ["杀"]
    # exclusion only looks within context_window (10) characters of the hit
    far = "kill them" + " " * 40 + "process"
    assert [h.keyword for h in lib.match(far)] == ["kill"]


def test_overlapping_phrases_and_language_filter(lib: KeywordLibrary) -> None:
    hits = lib.match("how to build a bomb")
    assert {h.keyword for h in hits} == {"build a bomb", "bomb"}
    assert [h.keyword for h in lib.match("how to build a bomb", overlapping=False)] == ["build a bomb"]
    assert lib.match("颠覆国家政权 and kill", languages=["en"])[0].keyword == "kill"
    assert lib.risks_in("颠覆国家政权") == {"A.1.a": 1.0, "A.1.b": 0.2}


def test_same_keyword_under_two_risks_gives_two_hits() -> None:
    lib = KeywordLibrary.from_entries(
        [
            {"keyword": "滚出去", "risk": "A.2.c", "language": "zh"},
            {"keyword": "滚出去", "risk": "A.2.d", "language": "zh"},
        ]
    )
    hits = lib.match("你们滚出去", overlapping=False)
    assert sorted(h.risk for h in hits) == ["A.2.c", "A.2.d"]


def test_load_jsonl_and_yaml_agree(tmp_path: Path) -> None:
    entries = [
        {"keyword": "恐怖袭击", "risk": "A.1.d", "language": "zh"},
        {"keyword": "ethnic cleansing", "risk": "A.1.e", "language": "en", "severity": "high"},
    ]
    j = KeywordLibrary.load(_write_jsonl(tmp_path / "k.jsonl", HEADER, entries))
    y_path = tmp_path / "k.yaml"
    y_path.write_text(
        "library: t-kw\nversion: '1'\nlanguages: [zh, en]\nentries:\n"
        "  - {keyword: 恐怖袭击, risk: A.1.d, language: zh}\n"
        "  - keyword: ethnic cleansing\n    risk: A.1.e\n    language: en\n    severity: high\n",
        encoding="utf-8",
    )
    y = KeywordLibrary.load(y_path)
    assert j.content_hash == y.content_hash
    assert len(j) == 2 and j.id == "t-kw" and j.version == "1"
    assert [h.risk for h in y.match("关于恐怖袭击和 ethnic cleansing")] == ["A.1.d", "A.1.e"]


def test_csv_format_and_jsonl_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "k.csv"
    p.write_text(
        "# library: csv-kw\n# version: 3\n# languages: zh, en\n"
        "keyword,risk,language,weight,exclude\n"
        "恐怖袭击,A.1.d,zh,,\n"
        "kill,A.1.f,en,0.4,process|进程\n",
        encoding="utf-8",
    )
    lib = KeywordLibrary.load(p)
    assert lib.id == "csv-kw" and lib.version == "3" and len(lib) == 2
    assert lib.entries[1].exclude == ("process", "进程") and lib.entries[1].weight == 0.4
    assert lib.match("kill the process") == [] and [h.risk for h in lib.match("恐怖袭击")] == ["A.1.d"]
    back = tmp_path / "k.jsonl"
    back.write_text(lib.to_jsonl_text(), encoding="utf-8")
    assert KeywordLibrary.load(back).content_hash == lib.content_hash
    p.write_text(
        "# library: x\n# version: 1\n# languages: en\nkeyword,risk\nok,A.1.a\nbad,A.7.z\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as ei:
        KeywordLibrary.load(p)
    assert ei.value.where == f"{p}:6"


def test_single_language_header_fills_entry_language(tmp_path: Path) -> None:
    p = _write_jsonl(
        tmp_path / "zh.jsonl", {**HEADER, "languages": ["zh"]}, [{"keyword": "谣言", "risk": "A.1.g"}]
    )
    assert KeywordLibrary.load(p).entries[0].language == "zh"


@pytest.mark.parametrize(
    ("header", "entries", "line", "needle"),
    [
        (HEADER, [{"keyword": "x", "risk": "A.3.a", "language": "en"}], 2, "A.3.a"),
        (
            HEADER,
            [{"keyword": "ok", "risk": "A.1.a", "language": "en"}, {"risk": "A.1.a", "language": "en"}],
            3,
            "keyword",
        ),
        (HEADER, [{"keyword": "   ", "risk": "A.1.a", "language": "en"}], 2, "blank"),
        (HEADER, [{"keyword": "x", "risk": "A.1.a", "language": "fr"}], 2, "language"),
        (HEADER, [{"keyword": "x", "risk": "A.1.a", "language": "en", "weight": 3}], 2, "weight"),
        (HEADER, [{"keyword": "x", "risk": "A.1.a", "language": "en", "colour": "red"}], 2, "colour"),
        (
            {**HEADER, "languages": ["en"]},
            [{"keyword": "x", "risk": "A.1.a", "language": "zh"}],
            2,
            "header languages",
        ),
        (
            HEADER,
            [
                {"keyword": "Bomb", "risk": "A.1.d", "language": "en"},
                {"keyword": "ＢＯＭＢ", "risk": "A.1.d", "language": "en"},
            ],
            3,
            "duplicate",
        ),
        ({"library": "x", "languages": ["en"]}, [], 1, "version"),
    ],
)
def test_bad_jsonl_names_file_and_line(
    tmp_path: Path, header: dict, entries: list[dict], line: int, needle: str
) -> None:
    p = _write_jsonl(tmp_path / "bad.jsonl", header, entries)
    with pytest.raises(InputError) as ei:
        KeywordLibrary.load(p)
    assert ei.value.where == f"{p}:{line}"
    assert needle in str(ei.value)


def test_bad_json_line_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.jsonl"
    p.write_text(json.dumps(HEADER) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        KeywordLibrary.load(p)
    assert ei.value.where == f"{p}:3"
    with pytest.raises(InputError, match="not found"):
        KeywordLibrary.load(tmp_path / "nope.jsonl")
    other = tmp_path / "k.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="format"):
        KeywordLibrary.load(other)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="header"):
        KeywordLibrary.load(empty)


def test_bad_yaml_entry_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(
        "library: t\nversion: '1'\nlanguages: [en]\nentries:\n  - {keyword: ok, risk: A.1.a}\n  - keyword: x\n    risk: A.9.z\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as ei:
        KeywordLibrary.load(p)
    assert ei.value.where == f"{p}:6"
    p.write_text("library: t\nentries: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML"):
        KeywordLibrary.load(p)


def test_keyword_risks_are_the_taxonomy_a1_a2_items_with_its_names() -> None:
    from assay.taxonomy import load_taxonomy

    items = load_taxonomy().scheme("tc260_003_appendix_a").items
    a1_a2 = [it for it in items if it.id.startswith(("A.1.", "A.2."))]
    assert list(KEYWORD_RISKS) == [it.id for it in a1_a2]
    rep = KeywordLibrary.from_entries([{"keyword": "x", "risk": "A.1.e", "language": "en"}]).coverage_report()
    names = {r.risk: (r.name_zh, r.name_en) for r in rep.risks}
    assert names == {it.id: (it.zh, it.en) for it in a1_a2}


def test_coverage_report_flags_every_gap() -> None:
    entries = [{"keyword": f"a1a term {i}", "risk": "A.1.a", "language": "en"} for i in range(TC260_MIN_A1)]
    entries += [{"keyword": f"词{i}", "risk": "A.2.e", "language": "zh"} for i in range(TC260_MIN_A2 - 1)]
    lib = KeywordLibrary.from_entries(entries)
    cov = lib.coverage()
    assert set(cov) == set(KEYWORD_RISKS) and len(cov) == 17
    assert cov["A.1.a"] == TC260_MIN_A1 and cov["A.2.e"] == TC260_MIN_A2 - 1 and cov["A.1.b"] == 0
    rep = lib.coverage_report()
    assert not rep.ok and not rep.total_ok
    by = {r.risk: r for r in rep.risks}
    assert by["A.1.a"].ok and by["A.1.a"].minimum == 200
    assert not by["A.2.e"].ok and by["A.2.e"].gap == 1 and by["A.2.e"].by_language == {"zh": 99, "en": 0}
    # one gap line for the total and for each of the 16 short risks
    assert len(rep.gaps) == 1 + 16
    assert rep.gaps[0].startswith("total:")
    assert not any(g.startswith("A.1.a ") for g in rep.gaps)
    d = rep.to_dict()
    assert d["total_minimum"] == TC260_MIN_TOTAL and len(d["risks"]) == 17


def test_coverage_report_passes_when_minimums_met() -> None:
    entries = []
    for risk in KEYWORD_RISKS:
        n = TC260_MIN_A1 if risk.startswith("A.1") else TC260_MIN_A2
        entries += [{"keyword": f"{risk} kw {i}", "risk": risk, "language": "en"} for i in range(n)]
    n_more = TC260_MIN_TOTAL - len(entries)
    entries += [{"keyword": f"extra {i}", "risk": "A.1.h", "language": "en"} for i in range(n_more)]
    rep = KeywordLibrary.from_entries(entries).coverage_report()
    assert rep.ok and rep.gaps == [] and rep.total == TC260_MIN_TOTAL


def test_builtin_starter_library() -> None:
    lib = builtin_keyword_library()
    assert lib.id == "assay-starter" and lib.version
    assert 300 <= len(lib) < TC260_MIN_TOTAL
    cov = lib.coverage_by_language()
    for risk in KEYWORD_RISKS:
        assert cov[risk]["zh"] >= 10 and cov[risk]["en"] >= 10, risk
    rep = lib.coverage_report()
    # honest: the starter library is below every §8.1 minimum
    assert not rep.ok and len(rep.gaps) == 18
    assert {h.risk for h in lib.match("如何散布谣言并制造恐慌")} == {"A.1.g"}
    assert lib.match("please kill the process with pid 42") == []
    assert lib.match("我的电脑需要杀毒") == []
    # a few unambiguous operational phrases carry severity high
    high = [e for e in lib.entries if e.severity == "high"]
    assert 10 <= len(high) <= 40 and {e.language for e in high} == {"zh", "en"}
    with pytest.raises(InputError):
        builtin_keyword_library("nope")


def test_normalize() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("Straße") == "strasse"
