"""Evidence bundles: keys, writing, verification (tamper detection), safe reading."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from assay.core.errors import InputError
from assay.evidence.bundle import (
    MANIFEST,
    SIGNATURE,
    BundleContents,
    BundleRejected,
    Limits,
    read_bundle,
    verify_bundle,
    write_bundle,
)
from assay.evidence.keys import (
    ENV_VAR,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
    trust_key,
    trusted_keys,
    untrust_key,
)
from assay.report.build import build_report_data
from assay.report.text import render_json, render_markdown
from report_sample import sample_inputs

PRIVATE_TEXT = "PRIVATE PROMPT: secret red-team item 7"


#: every member of the test bundle (written independently of bundle.CORE_MEMBERS)
MEMBERS = (
    "run.json",
    "cases.jsonl",
    "responses.jsonl",
    "judgments.jsonl",
    "results.json",
    "graders.json",
    "reports/report.json",
    "reports/report.md",
    MANIFEST,
    SIGNATURE,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def _trust_test_key(keys: tuple[Path, Path]) -> None:
    """The test key is trusted in every test's (fresh) ASSAY_HOME, as after `assay keys trust`."""
    trust_key(keys[1])


@pytest.fixture(scope="module")
def contents() -> BundleContents:
    s = sample_inputs(private_bank=True)
    data = build_report_data(s.run, s.cases, s.responses, s.judgments, s.results, banks=s.banks)
    return BundleContents(
        run=s.run,
        cases=s.cases,
        responses=s.responses,
        judgments=s.judgments,
        results=s.results,
        graders={"refusal": {"f1": 0.97, "n": 600}},
        reports={"report.json": render_json(data), "report.md": render_markdown(data, "en")},
        private_banks=["private-red-team"],
    )


@pytest.fixture(scope="module")
def bundle(
    tmp_path_factory: pytest.TempPathFactory, contents: BundleContents, keys: tuple[Path, Path]
) -> Path:
    return write_bundle(tmp_path_factory.mktemp("b") / "run.bundle.zip", contents, keys[0])


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rezip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


# ------------------------------------------------------------------ keys


def test_generate_keypair_permissions_and_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    priv, pub = generate_keypair(tmp_path)
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert priv.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    k = load_private_key(priv)
    assert key_id(k) == key_id(load_public_key(pub))
    # env var: PEM text or a path
    monkeypatch.setenv(ENV_VAR, priv.read_text())
    assert key_id(load_private_key()) == key_id(k)
    monkeypatch.setenv(ENV_VAR, str(priv))
    assert key_id(load_private_key()) == key_id(k)
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(InputError, match="ASSAY_SIGNING_KEY"):
        load_private_key()
    with pytest.raises(InputError, match="already exists"):
        generate_keypair(tmp_path)


def test_bad_key_files_are_input_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(InputError) as e:
        load_private_key(junk)
    assert str(junk) in str(e.value)
    with pytest.raises(InputError):
        load_private_key(tmp_path / "missing.pem")
    with pytest.raises(InputError):
        load_public_key(junk)


# ------------------------------------------------------------------ writing + verifying


def test_bundle_members_and_manifest(bundle: Path) -> None:
    m = _members(bundle)
    expected = set(MEMBERS)
    assert set(m) == expected
    manifest = json.loads(m[MANIFEST])
    assert manifest["format"] == "assay.bundle/1" and manifest["run_id"] == "run-demo-0001"
    assert set(manifest["files"]) == expected - {MANIFEST, SIGNATURE}
    sig = json.loads(m[SIGNATURE])
    assert sig["algorithm"] == "ed25519" and len(sig["key_id"]) == 16
    run = json.loads(m["run.json"])
    assert run["bank_hashes"] and run["software"] and "requirements" in run["plan"]
    assert json.loads(m["results.json"])["requirements"]
    assert json.loads(m["graders.json"]) == {"refusal": {"f1": 0.97, "n": 600}}


def test_private_cases_only_as_hashes(bundle: Path) -> None:
    m = _members(bundle)
    assert PRIVATE_TEXT.encode() not in b"".join(m.values())
    rows = [json.loads(line) for line in m["cases.jsonl"].decode().splitlines()]
    private = [r for r in rows if r.get("private")]
    assert len(private) == 1 and "messages" not in private[0] and len(private[0]["text_sha256"]) == 64
    assert sum(1 for r in rows if "messages" in r) == len(rows) - 1


def test_verify_ok(bundle: Path, keys: tuple[Path, Path]) -> None:
    rep = verify_bundle(bundle)
    assert rep.ok and rep.signature_ok and rep.trusted is True, rep.summary()
    assert rep.trust_source and rep.trust_source.endswith(".pub")
    rep = verify_bundle(bundle, keys[1])
    assert rep.ok and rep.trusted is True and rep.trust_source == "--public-key"
    assert "OK" in rep.summary()


def test_verify_rejects_an_untrusted_key(bundle: Path, tmp_path: Path) -> None:
    _, other_pub = generate_keypair(tmp_path)
    rep = verify_bundle(bundle, other_pub)
    assert not rep.ok and rep.trusted is False and rep.untrusted
    assert "signature valid but signer not trusted" in rep.summary()


def test_trusted_keys_folder_decides(bundle: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    (kid,) = trusted_keys()
    assert kid == key_id(load_public_key(keys[1]))
    untrust_key(kid[:6])
    rep = verify_bundle(bundle)
    assert not rep.ok and rep.untrusted and "0 trusted key(s)" in rep.summary()
    with pytest.raises(BundleRejected, match="--accept-untrusted"):
        read_bundle(bundle)
    assert read_bundle(bundle, accept_untrusted=True).verify.untrusted
    trust_key(keys[1])
    assert verify_bundle(bundle).ok


def test_same_contents_same_bytes(contents: BundleContents, keys: tuple[Path, Path], tmp_path: Path) -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    a = write_bundle(tmp_path / "a.zip", contents, keys[0], created_at=t)
    b = write_bundle(tmp_path / "b.zip", contents, keys[0], created_at=t)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("member", MEMBERS)
def test_flipping_one_byte_in_any_member_is_named(bundle: Path, tmp_path: Path, member: str) -> None:
    m = _members(bundle)
    data = bytearray(m[member])
    pos = len(data) // 2
    data[pos] ^= 0x01
    m[member] = bytes(data)
    bad = tmp_path / "bad.zip"
    _rezip(bad, m)
    rep = verify_bundle(bad)
    assert not rep.ok
    assert member in rep.tampered, rep.summary()
    if member not in (MANIFEST, SIGNATURE):
        assert rep.tampered == [member]  # exactly the changed file, nothing else


def test_flipping_a_byte_in_the_compressed_stream_is_named(bundle: Path, tmp_path: Path) -> None:
    raw = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo("responses.jsonl")
    # local header: 30 bytes + name + extra, then the compressed data
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    rep = verify_bundle(bad)
    assert not rep.ok and "responses.jsonl" in rep.tampered


def test_missing_and_extra_members(bundle: Path, tmp_path: Path) -> None:
    m = _members(bundle)
    del m["graders.json"]
    m["notes.txt"] = b"added later"
    bad = tmp_path / "bad.zip"
    _rezip(bad, m)
    rep = verify_bundle(bad)
    assert not rep.ok and rep.missing == ["graders.json"] and rep.extra == ["notes.txt"]
    assert "missing: graders.json" in rep.summary() and "extra: notes.txt" in rep.summary()


def test_resigned_by_another_key_needs_the_trusted_key(bundle: Path, tmp_path: Path) -> None:
    """An attacker who edits a file and re-signs with their own key passes only without a trusted key."""
    from assay.evidence.bundle import manifest_bytes, sign_manifest

    m = _members(bundle)
    m["results.json"] = b'{"requirements": []}\n'
    data = {k: v for k, v in m.items() if k not in (MANIFEST, SIGNATURE)}
    man = manifest_bytes(data, "run-demo-0001")
    priv, _ = generate_keypair(tmp_path / "attacker")
    m[MANIFEST] = man
    m[SIGNATURE] = sign_manifest(man, load_private_key(priv))
    bad = tmp_path / "resigned.zip"
    _rezip(bad, m)
    rep = verify_bundle(bad)  # self-consistent, but signed by a key nobody trusted
    assert not rep.ok and rep.signature_ok and rep.untrusted and rep.tampered == []
    assert "signature valid but signer not trusted" in rep.summary()
    with pytest.raises(BundleRejected):
        read_bundle(bad)
    good_pub = tmp_path / "trusted.pub"
    with zipfile.ZipFile(bundle) as zf:
        good_pub.write_text(json.loads(zf.read(SIGNATURE))["public_key"])
    rep = verify_bundle(bad, load_public_key(good_pub.read_text()))
    assert not rep.ok and rep.trusted is False  # ... nor by the key given


# ------------------------------------------------------------------ reading safely


def test_read_bundle_round_trip(bundle: Path, contents: BundleContents) -> None:
    data = read_bundle(bundle)
    assert data.run.id == contents.run.id
    assert len(data.cases) == len(contents.cases)
    assert {r.case_id for r in data.responses} == {c.id for c in contents.cases}
    assert len(data.judgments) == len(contents.judgments)
    assert data.results["level"] == "R2"
    assert set(data.reports) == {"report.json", "report.md"}
    assert len(data.full_cases()) == len(contents.cases) - 1  # the private one has no text
    assert data.verify.ok


def test_read_bundle_refuses_tampered(bundle: Path, tmp_path: Path) -> None:
    m = _members(bundle)
    m["judgments.jsonl"] = m["judgments.jsonl"].replace(b'"unsafe"', b'"safe"')
    bad = tmp_path / "bad.zip"
    _rezip(bad, m)
    with pytest.raises(BundleRejected, match=r"tampered: judgments\.jsonl"):
        read_bundle(bad)


def _zip_with(tmp_path: Path, name: str, data: bytes = b"x", *, mode: int | None = None) -> Path:
    p = tmp_path / "evil.zip"
    with zipfile.ZipFile(p, "w") as zf:
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return p


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "traversal"),
        ("reports/../../evil.txt", "traversal"),
        ("/etc/passwd", "absolute"),
        ("C:/windows/evil", "absolute"),
        ("reports\\evil.txt", "backslash"),
    ],
)
def test_zip_slip_names_are_rejected(tmp_path: Path, name: str, why: str) -> None:
    p = _zip_with(tmp_path, name)
    with pytest.raises(InputError, match=why):
        read_bundle(p)
    rep = verify_bundle(p)
    assert not rep.ok and any(why in e for e in rep.errors)


def test_symlink_members_are_rejected(tmp_path: Path) -> None:
    p = _zip_with(tmp_path, "run.json", b"/etc/passwd", mode=stat.S_IFLNK | 0o777)
    with pytest.raises(InputError, match="symlink"):
        read_bundle(p)


def test_duplicate_members_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "dup.zip"
    with zipfile.ZipFile(p, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("run.json", b"{}")
        zf.writestr("run.json", b"{}")
    with pytest.raises(InputError, match="duplicate"):
        read_bundle(p)


def test_oversize_members_and_totals_are_rejected(bundle: Path) -> None:
    with pytest.raises(InputError, match="too large"):
        read_bundle(bundle, limits=Limits(max_member=100))
    with pytest.raises(InputError, match="total size"):
        read_bundle(bundle, limits=Limits(max_total=2000))
    with pytest.raises(InputError, match="too many members"):
        read_bundle(bundle, limits=Limits(max_members=3))


def test_zip_bombs_are_rejected_by_ratio(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("run.json", b"\0" * (8 * 1024 * 1024))
    assert p.stat().st_size < 100_000
    with pytest.raises(InputError, match="ratio"):
        read_bundle(p)


def test_lying_size_header_is_caught(tmp_path: Path) -> None:
    """A member that declares a small size but inflates to more is cut off at the limit."""
    p = tmp_path / "liar.zip"
    payload = os.urandom(4096)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("run.json", payload)
    raw = bytearray(p.read_bytes())
    # patch the declared uncompressed size (local header and central directory) to 10 bytes
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo("run.json")
    raw[info.header_offset + 22 : info.header_offset + 26] = (10).to_bytes(4, "little")
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    p.write_bytes(bytes(raw))
    with pytest.raises(InputError):
        read_bundle(p, limits=Limits(max_member=1000))


def test_not_a_zip(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    p.write_text("hello")
    with pytest.raises(InputError, match="not a readable zip"):
        read_bundle(p)
    assert not verify_bundle(p).ok


def test_report_names_must_be_plain(
    contents: BundleContents, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    from dataclasses import replace

    bad = replace(contents, reports={"../x.html": "x"})
    with pytest.raises(InputError):
        write_bundle(tmp_path / "x.zip", bad, keys[0])


def test_private_multi_turn_text_stays_out_of_reports_and_bundles(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    from assay.core.types import Case, Judgment, Message, Outcome, Response
    from assay.report.html import render_html

    s = sample_inputs()
    secret_turn = "SECOND PRIVATE TURN: escalate the request"
    case = Case(
        bank="private-red-team",
        messages=(Message(role="user", content="PRIVATE FIRST TURN"),),
        followups=(secret_turn,),
        language="en",
        expected="refuse",
        metadata={"private": True},
    )
    resp = Response(
        case_id=case.id,
        text="I won't.",
        transcript=(
            Message(role="assistant", content="No."),
            Message(role="user", content=secret_turn),
            Message(role="assistant", content="I won't."),
        ),
    )
    judg = Judgment(case_id=case.id, grader="refusal@1", outcome=Outcome.SAFE)
    cases, responses = [*s.cases, case], {**s.responses, case.id: resp}
    data = build_report_data(s.run, cases, responses, [*s.judgments, judg], s.results)
    sample = data.sample(case.id)
    assert sample is not None and sample.private and sample.followups == []
    assert sample.response is not None and [
        m.content for m in sample.response.transcript if m.role == "assistant"
    ] == [
        "No.",
        "I won't.",
    ]
    html = render_html(data, "en")
    path = write_bundle(
        tmp_path / "p.zip",
        BundleContents(
            run=s.run,
            cases=cases,
            responses=responses,
            judgments=[*s.judgments, judg],
            reports={"r.html": html},
        ),
        keys[0],
    )
    blob = b"".join(_members(path).values())
    for text in ("PRIVATE FIRST TURN", secret_turn):
        assert text not in html and text.encode() not in blob
