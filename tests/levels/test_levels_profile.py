"""Profile schema: field-level errors naming the file, template and questionnaire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.core.errors import InputError
from assay.levels import example_profiles, load_profile, parse_profile, questionnaire, render_profile
from assay.levels.template import parse_choices

GOOD = """
name: demo
jurisdictions: [CN]
deployment: {public_facing: true}
"""


def test_minimal_profile_gets_defaults(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(GOOD, encoding="utf-8")
    p = load_profile(f)
    assert p.name == "demo" and p.jurisdictions == ("CN",)
    assert p.deployment.public_facing and p.deployment.generative
    assert p.languages == ("zh", "en") and not p.users.minors


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ("users: {minors: maybe}", "users.minors"),
        ("deployment: {public_facng: true}", "deployment.public_facng"),
        ("intended_use: {eu_annex_iii: [astrology]}", "intended_use.eu_annex_iii.0"),
        ("capabilities: {training_compute_flop: -1}", "capabilities.training_compute_flop"),
        ("prohibited_practices: [mind_reading]", "prohibited_practices.0"),
        ("jurisdictions: []", "jurisdictions"),
        ("languages: [fr]", "languages.0"),
        ("colour: blue", "colour"),
    ],
)
def test_bad_field_is_named_with_the_file(tmp_path: Path, patch: str, field: str) -> None:
    f = tmp_path / "profile.yaml"
    base = "name: demo\n"
    if not patch.startswith("jurisdictions"):
        base += "jurisdictions: [CN]\n"
    f.write_text(base + patch + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(f)
    msg = str(err.value)
    assert msg.startswith(f"{f}: {field}:"), msg
    assert err.value.exit_code == 2


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InputError) as err:
        parse_profile("name: ''\njurisdictions: [XX]\nusers: {minors: 3}\n", "p.yaml")
    msg = str(err.value)
    for field in ("name", "jurisdictions.0", "users.minors"):
        assert f"p.yaml: {field}:" in msg


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_profile(tmp_path / "nope.yaml")
    f = tmp_path / "broken.yaml"
    f.write_text("name: x\njurisdictions: [CN\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_profile(f)
    f.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="mapping"):
        load_profile(f)


def test_template_is_a_valid_commented_profile() -> None:
    text = render_profile()
    assert text.count("#") > 15 and "eu_annex_iii" in text and "未成年人" in text
    p = parse_profile(text)
    assert p.jurisdictions == ("CN",)
    filled = parse_profile(
        render_profile(
            {"name": "x", "jurisdictions": ["EU"], "training_compute_flop": 2e25, "general_purpose": True}
        )
    )
    assert filled.capabilities.training_compute_flop == 2e25 and filled.jurisdictions == ("EU",)


class Scripted:
    """An Asker that answers from a script keyed by a word in the question."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def _find(self, question: str, default: Any) -> Any:
        self.asked.append(question)
        for key, value in self.answers.items():
            if key in question:
                return value
        return default

    def text(self, question: str, default: str) -> str:
        return str(self._find(question, default))

    def confirm(self, question: str, default: bool) -> bool:
        return bool(self._find(question, default))

    def choose(self, question: str, options: tuple[str, ...], default: list[str]) -> list[str]:
        value = self._find(question, default)
        return parse_choices(value, options) if isinstance(value, str) else list(value)


def test_questionnaire_builds_a_profile_from_answers() -> None:
    asker = Scripted(
        {
            "System name": "Frontier",
            "Where is it offered": "EU, US",
            "general-purpose": True,
            "training compute": "3e25",
            "Annex III": "-",
        }
    )
    p = parse_profile(render_profile(questionnaire(asker)))
    assert p.name == "Frontier" and p.jurisdictions == ("EU", "US")
    assert p.capabilities.general_purpose and p.capabilities.training_compute_flop == 3e25
    assert any("compute" in q for q in asker.asked)


def test_questionnaire_skips_follow_ups() -> None:
    asker = Scripted({"general-purpose": False})
    questionnaire(asker)
    assert not any("compute" in q for q in asker.asked)


def test_parse_choices() -> None:
    assert parse_choices("EU, CN EU", ("CN", "EU")) == ["EU", "CN"]
    assert parse_choices("-", ("CN",)) == []
    with pytest.raises(ValueError, match="XX"):
        parse_choices("XX", ("CN",))


def test_example_profiles_load() -> None:
    ex = example_profiles()
    assert set(ex) == {
        "cn-public-chatbot",
        "eu-cv-screening",
        "gpai-frontier-model",
        "social-scoring",
        "eu-image-generator",
        "cn-companion-chat",
        "us-federal-assistant",
        "cn-government-assistant",
        "cn-government-office",
    }
