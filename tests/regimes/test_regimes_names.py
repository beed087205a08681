"""Regime display names come from the regimes' own data files (issue 13): the report keeps
no hand-written table, so a regime added as a data file is named without touching it."""

from __future__ import annotations

import pytest

from assay.regimes.loader import load_regime, load_regimes, parse_regime, regime_ids
from assay.report import build, regime_text


def test_every_regime_is_named_from_its_data_file() -> None:
    names = build.default_lookups().regimes
    assert set(names) == set(regime_ids())
    for rid, reg in load_regimes().items():
        assert names[rid] == {"name_en": reg.display_name_en, "name_zh": reg.display_name_zh}
        assert names[rid]["name_en"] and names[rid]["name_zh"]
    assert not hasattr(regime_text, "REGIME_NAMES")


def test_a_short_name_in_the_data_wins_and_the_title_is_the_fallback() -> None:
    tc = load_regime("tc260-003")
    assert tc.name_en and names_of("tc260-003")[0] == tc.name_en != tc.title_en
    labelling = load_regime("cn-labelling")
    assert not labelling.name_en and names_of("cn-labelling") == (labelling.title_en, labelling.title_zh)


def names_of(rid: str) -> tuple[str, str]:
    return build.default_lookups().name("regimes", rid)


def test_a_new_regime_file_brings_its_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "id: my-regime\nversion: '1'\nedition: 'Mine 2026'\nkind: baseline\n"
        "title_en: 'My in-house baseline'\ntitle_zh: 我的内部基线\nname_en: Mine\n"
    )
    reg = parse_regime(text, "my-regime.yaml")
    import assay.regimes.loader as loader

    monkeypatch.setattr(loader, "load_regimes", lambda ids=None: {**load_regimes(ids), reg.id: reg})
    assert build.regime_names()["my-regime"] == {"name_en": "Mine", "name_zh": "我的内部基线"}
