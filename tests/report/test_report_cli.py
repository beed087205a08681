"""CLI commands of the report area, run against an in-memory RunSource."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from assay.cli import report as cli_report
from assay.core.types import Case, Judgment, Message, Outcome, Response, Run
from assay.report import runs as report_runs
from report_sample import sample_inputs


class FakeStore:
    """Satisfies RunSource and RunSink with dicts."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.cases: dict[str, list[Case]] = {}
        self.resp: dict[str, dict[str, Response]] = {}
        self.judg: dict[str, list[Judgment]] = {}
        self.private: list[str] = []

    def get_run(self, run_id: str) -> Run:
        if run_id not in self.runs:
            from assay.core.errors import InputError

            raise InputError(f"no run {run_id!r}", where="RUN_ID")
        return self.runs[run_id]

    def run_cases(self, run_id: str) -> list[Case]:
        return self.cases[run_id]

    def responses(self, run_id: str) -> dict[str, Response]:
        return self.resp.get(run_id, {})

    def judgments(self, run_id: str) -> list[Judgment]:
        return self.judg.get(run_id, [])

    def latest_validations(self) -> dict[str, dict[str, Any]]:
        return {"refusal": {"f1_zh": 0.96, "f1_en": 0.97}}

    def user_banks(self) -> list[dict[str, Any]]:
        return [{"id": b, "private": True} for b in self.private]

    def create_run(self, run: Run, cases: Sequence[Case], graders: dict[str, Sequence[str]]) -> None:
        assert run.id not in self.runs
        self.runs[run.id] = run
        self.cases[run.id] = list(cases)

    def write_results(
        self, run_id: str, responses: Sequence[Response], judgments: Sequence[Judgment]
    ) -> None:
        self.resp.setdefault(run_id, {}).update({r.case_id: r for r in responses})
        self.judg.setdefault(run_id, []).extend(judgments)


def _add_run(store: FakeStore, run_id: str, *, worse: bool = False) -> None:
    """The sample run plus 60 more should-refuse cases; `worse`: half of those answered unsafely."""
    s = sample_inputs()
    run = s.run.model_copy(update={"id": run_id})
    extra = [
        Case(
            bank="should-refuse",
            messages=(Message(role="user", content=f"Made-up harmful request number {i}."),),
            language="en" if i % 2 else "zh",
            categories=("AS-04",),
            risks=("A.1.h",),
            expected="refuse",
        )
        for i in range(60)
    ]
    responses = list(s.responses.values()) + [Response(case_id=c.id, text="No.") for c in extra]
    judgments = list(s.judgments) + [
        Judgment(
            case_id=c.id,
            grader="refusal@1",
            outcome=Outcome.UNSAFE if worse and i % 2 == 0 else Outcome.SAFE,
            label="refusal",
        )
        for i, c in enumerate(extra)
    ]
    store.create_run(run, [*s.cases, *extra], {})
    store.write_results(run_id, responses, judgments)


@pytest.fixture
def store() -> Iterator[FakeStore]:
    st = FakeStore()
    st.private = ["private-red-team"]
    _add_run(st, "run-a")
    _add_run(st, "run-b", worse=True)
    cli_report.configure(lambda db: st)
    yield st
    cli_report.configure(None)


def _app() -> typer.Typer:
    """The real `assay` app: it mounts this area through `assay.cli.report.register`."""
    from assay.cli import app

    return app


runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(_app(), list(args), catch_exceptions=False)


@pytest.mark.parametrize(("fmt", "ext"), [("html", "html"), ("md", "md"), ("json", "json"), ("junit", "xml")])
def test_report_formats(store: FakeStore, tmp_path: Path, fmt: str, ext: str) -> None:
    out = tmp_path / f"r.{ext}"
    res = invoke("report", "run-a", "--format", fmt, "--lang", "zh", "-o", str(out))
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "PRIVATE PROMPT" not in text  # the store marks that bank private
    if fmt == "json":
        assert json.loads(text)["run"]["id"] == "run-a"
    elif fmt == "junit":
        assert ET.fromstring(text).tag == "testsuites"
    elif fmt == "html":
        assert '<html lang="zh-CN">' in text
    else:
        assert text.startswith("# 人工智能安全评估报告")


def test_report_default_path_and_bad_input(
    store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = invoke("report", "run-a")
    assert res.exit_code == 0 and (tmp_path / "assay-reports" / "run-a.html").is_file()
    assert invoke("report", "run-a", "--format", "pdf").exit_code == 2
    assert invoke("report", "run-a", "--lang", "fr").exit_code == 2
    res = invoke("report", "nope")
    assert res.exit_code == 2 and "no run" in res.output


def test_compare_flags_regressions_and_sets_exit_code(store: FakeStore, tmp_path: Path) -> None:
    res = invoke("compare", "run-a", "run-b")
    assert res.exit_code == 0, res.output
    assert "Run comparison" in res.output and "regression" in res.output.lower()
    res = invoke("compare", "run-a", "run-b", "--fail-on-regression")
    assert res.exit_code == 1
    # no regression the other way round (B → A is an improvement)
    assert invoke("compare", "run-b", "run-a", "--fail-on-regression").exit_code == 0
    out = tmp_path / "c.html"
    res = invoke("compare", "run-a", "run-b", "--format", "html", "-o", str(out))
    assert res.exit_code == 0 and "data-regressions=" in out.read_text()
    res = invoke("compare", "run-a", "run-b", "--format", "json", "-o", str(tmp_path / "c.json"))
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["schema"] == "assay.compare/1" and any(r["regression"] for r in doc["requirements"])
    assert invoke("compare", "run-a", "run-b", "--adjust", "bonferroni").exit_code == 2


def test_keys_bundle_verify_import_round_trip(store: FakeStore, tmp_path: Path) -> None:
    res = invoke("keys", "generate", "--out", str(tmp_path / "k"))
    assert res.exit_code == 0 and "key id" in res.output
    key, pub = tmp_path / "k" / "assay-signing.key", tmp_path / "k" / "assay-signing.pub"
    bundle = tmp_path / "a.zip"
    res = invoke("bundle", "run-a", "-o", str(bundle), "--key", str(key))
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        graders = json.loads(zf.read("graders.json"))
    assert {
        "reports/report.html",
        "reports/report.zh.html",
        "reports/report.md",
        "reports/report.json",
        "reports/junit.xml",
    } <= names
    assert graders["refusal"] == {"f1_zh": 0.96, "f1_en": 0.97}
    res = invoke("verify", str(bundle), "--public-key", str(pub))
    assert res.exit_code == 0 and "OK" in res.output

    # import into a fresh store, then report from it
    other = FakeStore()
    cli_report.configure(lambda db: other)
    res = invoke("import", str(bundle), "--public-key", str(pub))
    assert res.exit_code == 0, res.output
    run = other.get_run("run-a")
    assert any("imported from bundle" in n for n in run.notes)
    assert len(other.run_cases("run-a")) == len(store.run_cases("run-a"))
    private = [c for c in other.run_cases("run-a") if c.metadata.get("private")]
    assert len(private) == 1 and "PRIVATE PROMPT" not in private[0].prompt
    from assay.report.build import private_text_hash

    orig = next(c for c in store.run_cases("run-a") if c.id == private[0].id)
    assert private_text_hash(private[0]) == private_text_hash(orig)  # the hash survives the import
    assert {c.id for c in other.run_cases("run-a")} == {c.id for c in store.run_cases("run-a")}
    assert len(other.judgments("run-a")) == len(store.judgments("run-a"))
    assert invoke("report", "run-a", "-o", str(tmp_path / "x.html")).exit_code == 0


def test_verify_names_the_tampered_file(store: FakeStore, tmp_path: Path) -> None:
    invoke("keys", "generate", "--out", str(tmp_path / "k"))
    bundle = tmp_path / "a.zip"
    invoke("bundle", "run-a", "-o", str(bundle), "--key", str(tmp_path / "k" / "assay-signing.key"))
    with zipfile.ZipFile(bundle) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    data = bytearray(members["results.json"])
    data[10] ^= 0x20
    members["results.json"] = bytes(data)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    res = invoke("verify", str(bad))
    assert res.exit_code == 1
    assert "tampered: results.json" in res.output
    res = invoke("import", str(bad))
    assert res.exit_code == 1 and "results.json" in res.output


def test_bundle_needs_a_key(store: FakeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    res = invoke("bundle", "run-a", "-o", str(tmp_path / "x.zip"))
    assert res.exit_code == 2 and "ASSAY_SIGNING_KEY" in res.output
    assert not (tmp_path / "x.zip").exists()


def test_store_satisfies_the_protocols() -> None:
    from assay.store import Store

    for name in (
        "get_run",
        "run_cases",
        "responses",
        "judgments",
        "latest_validations",
        "create_run",
        "write_results",
    ):
        assert callable(getattr(Store, name)), name
    assert isinstance(FakeStore(), report_runs.RunSource) and isinstance(FakeStore(), cli_report.RunSink)


def test_round_trip_through_the_real_store(tmp_path: Path) -> None:
    """bundle from one SQLite store, import into another, report from the copy."""
    from assay.store import Store

    src = Store(f"sqlite:///{tmp_path / 'a.db'}")
    fake = FakeStore()
    _add_run(fake, "run-real")
    src.create_run(fake.runs["run-real"], fake.cases["run-real"], {})
    src.write_results("run-real", list(fake.resp["run-real"].values()), fake.judg["run-real"])
    dst_url = f"sqlite:///{tmp_path / 'b.db'}"
    try:
        cli_report.configure(None)  # the real store, chosen by --db
        assert invoke("keys", "generate", "--out", str(tmp_path / "k")).exit_code == 0
        bundle = tmp_path / "r.zip"
        res = invoke(
            "bundle",
            "run-real",
            "-o",
            str(bundle),
            "--key",
            str(tmp_path / "k" / "assay-signing.key"),
            "--db",
            f"sqlite:///{tmp_path / 'a.db'}",
        )
        assert res.exit_code == 0, res.output
        assert invoke("verify", str(bundle)).exit_code == 0
        res = invoke("import", str(bundle), "--db", dst_url)
        assert res.exit_code == 0, res.output
        dst = Store(dst_url)
        assert len(dst.run_cases("run-real")) == len(fake.cases["run-real"])
        assert len(dst.judgments("run-real")) == len(fake.judg["run-real"])
        out = tmp_path / "copy.json"
        assert (
            invoke("report", "run-real", "--format", "json", "-o", str(out), "--db", dst_url).exit_code == 0
        )
        orig = tmp_path / "orig.json"
        invoke(
            "report",
            "run-real",
            "--format",
            "json",
            "-o",
            str(orig),
            "--db",
            f"sqlite:///{tmp_path / 'a.db'}",
        )
        a, b = json.loads(orig.read_text()), json.loads(out.read_text())
        assert [q["verdict"] for q in a["requirements"]] == [q["verdict"] for q in b["requirements"]]
        assert invoke("import", str(bundle), "--db", dst_url).exit_code != 0  # the run is already there
    finally:
        cli_report.configure(None)


def test_bundle_resigned_by_an_untrusted_key_is_refused(store: FakeStore, tmp_path: Path) -> None:
    """Issue 12 acceptance: a re-signed bundle fails `verify` and `import` stores nothing."""
    from assay.evidence.bundle import manifest_bytes, sign_manifest
    from assay.evidence.keys import generate_keypair, load_private_key

    invoke("keys", "generate", "--out", str(tmp_path / "k"))  # our key: trusted here
    listed = invoke("keys", "list")
    assert listed.exit_code == 0 and ".pub" in listed.output
    bundle = tmp_path / "a.zip"
    assert (
        invoke(
            "bundle", "run-a", "-o", str(bundle), "--key", str(tmp_path / "k" / "assay-signing.key")
        ).exit_code
        == 0
    )
    assert invoke("verify", str(bundle)).exit_code == 0

    # forge: change the responses, re-sign with the attacker's own key
    with zipfile.ZipFile(bundle) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["responses.jsonl"] = members["responses.jsonl"].replace(b"sorry", b"SURE!")
    data = {k: v for k, v in members.items() if k not in ("MANIFEST.json", "MANIFEST.sig")}
    man = manifest_bytes(data, "run-a")
    attacker, attacker_pub = generate_keypair(tmp_path / "attacker")
    members["MANIFEST.json"] = man
    members["MANIFEST.sig"] = sign_manifest(man, load_private_key(attacker))
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)

    res = invoke("verify", str(forged))
    assert res.exit_code == 1 and "signature valid but signer not trusted" in " ".join(res.output.split())
    assert "tampered" not in res.output  # a distinct outcome from a broken bundle

    other = FakeStore()
    cli_report.configure(lambda db: other)
    res = invoke("import", str(forged))
    assert res.exit_code == 1 and "--accept-untrusted" in " ".join(res.output.split())
    assert other.runs == {}  # nothing stored

    res = invoke("import", str(forged), "--accept-untrusted")
    assert res.exit_code == 0, res.output
    assert any("NOT a trusted key" in n for n in other.get_run("run-a").notes)

    # trusting the attacker's key (a deliberate act) makes it verify; untrust undoes it
    assert invoke("keys", "trust", str(attacker_pub)).exit_code == 0
    assert invoke("verify", str(forged)).exit_code == 0
    from assay.evidence.keys import key_id, load_public_key

    assert invoke("keys", "untrust", key_id(load_public_key(attacker_pub))).exit_code == 0
    assert invoke("verify", str(forged)).exit_code == 1


def test_checking_the_report_format_before_a_run_imports_no_report_module() -> None:
    """`--format` is checked before anything is sent; the report modules load later, while the
    run sends (start-up stays short)."""
    import subprocess
    import sys

    code = (
        "import json, sys; from assay.cli.core import _check_report_output; "
        "_check_report_output('html', 'en', None); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('assay.report.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "assay.report.formats" in loaded
    assert not loaded & {"assay.report.runs", "assay.report.build", "assay.report.model", "assay.report.html"}


def test_the_report_is_warmed_once_when_the_run_starts_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.cli import _common
    from assay.report import html

    started: list[str] = []
    with _common.progress_bar("t", on_start=lambda: started.append("warm")) as bar:
        bar("start", 0, 3)
        bar("answered", 1, 3)
        bar("start", 1, 3)  # a second start event (a resumed run) does not warm again
        bar("stop", 0, 3)
    assert started == ["warm"]

    monkeypatch.setattr(html, "_ENV", None)
    report_runs.warm("html")
    env = html._ENV
    assert env is not None and env.cache is not None
    assert any(key[1] == "report.html.j2" for key in env.cache)  # compiled, cached
