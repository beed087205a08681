"""CLI: taxonomy, regimes, profile init, classify, plan (typer CliRunner on a local app)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assay.cli import risk
from assay.cli._common import make_app
from assay.levels import example_profile_path, load_plan, load_profile

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    local = make_app()  # the CLI's one error path: bad input → one message, exit 2
    risk.register(local)
    return local


def run(app: typer.Typer, *args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_taxonomy_table_en_zh_and_domain(app: typer.Typer) -> None:
    r = run(app, "taxonomy")
    assert r.exit_code == 0, r.output
    assert "AS-01" in r.output and "TS-16" in r.output
    r = run(app, "taxonomy", "--lang", "zh", "--domain", "technical_safety")
    assert r.exit_code == 0
    assert "算力安全风险" in r.output and "AS-01" not in r.output
    r = run(app, "taxonomy", "--domain", "nope")
    assert r.exit_code == 2


def test_taxonomy_export(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    r = run(app, "taxonomy", "export", "--format", "csv", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {"category", "scheme", "ref", "source", "confidence"} <= set(rows[0])
    assert {r["ref"] for r in rows if r["scheme"] == "tc260_003_appendix_a"} >= {"A.1.a", "A.5.b"}
    r = run(app, "taxonomy", "export", "--format", "json", "--lang", "zh")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert len(doc["categories"]) == 37 and doc["crosswalk"][0]["category_name"]
    assert run(app, "taxonomy", "export", "--format", "xml").exit_code == 2


def test_regimes(app: typer.Typer) -> None:
    r = run(app, "regimes", "--regime", "tc260-003", "--level", "R2")
    assert r.exit_code == 0, r.output
    assert "9.4-should-refuse" in r.output and "0.95" in r.output and "should-refuse" in r.output
    assert "8.2-generated-bank" in r.output
    r = run(app, "regimes", "--regime", "ailuminate", "--lang", "zh")
    assert r.exit_code == 0 and "优秀" in r.output and "建议值" in r.output
    r = run(app, "regimes", "--regime", "eu-ai-act", "--level", "R2")
    assert "art50-1-disclosure" in r.output and "art10-bias" not in r.output
    assert run(app, "regimes", "--level", "R9").exit_code == 2
    assert run(app, "regimes", "--regime", "gdpr").exit_code == 2


def test_profile_init_template(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    r = run(app, "profile", "init", "-o", str(out), "--no-interactive")
    assert r.exit_code == 0, r.output
    assert "# Assay profile" in out.read_text(encoding="utf-8")
    assert load_profile(out).jurisdictions == ("CN",)
    again = run(app, "profile", "init", "-o", str(out), "--no-interactive")
    assert again.exit_code == 2 and "--force" in again.output


def test_profile_init_interactive(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "q.yaml"
    answers = [
        "CV ranker",  # name
        "Ranks CVs",  # description
        "ACME",  # provider
        "EU",  # jurisdictions
        "-",  # prohibited practices
        "rank applicants",  # purpose
        "employment",  # domains
        "employment",  # annex III
        "y",  # profiles natural persons
        "n",  # annex I
        "-",  # cn high safety need
        "n",  # illegal purpose
        "n",  # public
        "n",  # opinion
        "y",  # generative
        "y",  # interacts
        "n",
        "n",
        "n",  # deep fakes, emotion, biometric
        "n",
        "n",
        "n",
        "y",  # general public, minors, vulnerable, professionals
        "n",  # general purpose
        "n",
        "n",  # tools, agent
        "-",  # dangerous
        "text",  # modalities
        "bogus",  # languages: rejected, asked again
        "en",
    ]
    r = run(app, "profile", "init", "-o", str(out), "--interactive", input="\n".join(answers) + "\n")
    assert r.exit_code == 0, r.output
    p = load_profile(out)
    assert p.name == "CV ranker" and p.intended_use.eu_annex_iii == ("employment",) and p.languages == ("en",)
    assert "unknown choice" in r.output
    c = run(app, "classify", str(out))
    assert "R3" in c.output


def test_classify_examples(app: typer.Typer) -> None:
    cases = {
        "cn-public-chatbot": ("R2", "CN-2"),
        "eu-cv-screening": ("R3", "EU-3"),
        "gpai-frontier-model": ("R4", "EU-10"),
        "social-scoring": ("R0", "EU-2"),
    }
    for name, (level, rule) in cases.items():
        r = run(app, "classify", str(example_profile_path(name)))
        assert r.exit_code == 0, r.output
        assert f"Level: {level}" in r.output and rule in r.output
    r = run(app, "classify", str(example_profile_path("social-scoring")))
    assert "DO NOT DEPLOY" in r.output
    r = run(app, "classify", str(example_profile_path("cn-public-chatbot")), "--lang", "zh")
    assert "风险等级: R2" in r.output and "面向公众" in r.output
    r = run(app, "classify", str(example_profile_path("eu-cv-screening")), "--json")
    doc = json.loads(r.stdout)
    assert doc["level"] == "R3" and doc["schemes"]["eu-ai-act"]["primary"] == "high_risk"
    r = run(app, "classify", str(example_profile_path("eu-cv-screening")), "--all-rules")
    assert "CN-5" in r.output  # rules that did not fire are listed too


def test_bad_profile_exits_2_naming_the_field(app: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "profile.yaml"
    bad.write_text("name: x\njurisdictions: [CN]\nusers:\n  minors: perhaps\n", encoding="utf-8")
    r = run(app, "classify", str(bad))
    assert r.exit_code == 2
    assert f"{bad}: users.minors:" in r.output.replace("\n", "")
    assert run(app, "plan", str(bad)).exit_code == 2
    assert run(app, "classify", str(tmp_path / "missing.yaml")).exit_code == 2


def test_plan_command(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "plan.yaml"
    r = run(app, "plan", str(example_profile_path("cn-public-chatbot")), "-o", str(out))
    assert r.exit_code == 0, r.output
    plan = load_plan(out)
    assert plan.level == "R2" and "tc260-003" in plan.regimes
    assert "should-refuse.none" in r.output and "target calls" in r.output
    r = run(app, "plan", "R3", "--regime", "eu-ai-act", "--lang", "zh", "-o", str(tmp_path / "r3.yaml"))
    assert r.exit_code == 0 and "目标调用次数" in r.output
    assert load_plan(tmp_path / "r3.yaml").regimes == ("eu-ai-act",)
    r = run(app, "plan", "R2")  # no -o, not a terminal: the YAML goes to stdout
    assert r.stdout.startswith("# Assay test plan")
    r = run(app, "plan", str(example_profile_path("social-scoring")))
    assert "do not deploy" in r.output
    assert run(app, "plan", "R2", "--regime", "gdpr").exit_code == 2
