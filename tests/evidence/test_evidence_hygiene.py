"""Secret hygiene: the scanner finds planted secrets in every encoding; writers redact them."""

from __future__ import annotations

import base64
import os
import zipfile
from pathlib import Path

import pytest

from assay.core.secrets import REDACTED, redact, redact_obj, secret_values_from_env
from assay.evidence.bundle import BundleContents, write_bundle
from assay.evidence.hygiene import assert_no_secrets, scan_for_secrets
from assay.evidence.keys import generate_keypair
from assay.report.build import build_report_data
from assay.report.html import render_html
from assay.report.text import render_json
from report_sample import sample_inputs

KEY = "sk-proj-PLANTED-9f8e7d6c5b4a39281706"


def test_redact_replaces_every_occurrence_longest_first() -> None:
    text = f"a {KEY} b {KEY[:-4]} c Authorization: Bearer abcdefghijklmnop123"
    out = redact(text, [KEY[:-4], KEY])
    assert KEY not in out and KEY[:-4] not in out
    assert out.count(REDACTED) == 3  # both keys and the bearer token
    assert redact("short secret ab", ["ab"], patterns=False) == "short secret ab"  # too short to redact


def test_redact_obj_walks_nested_values() -> None:
    obj = {"a": [KEY, {"b": (f"x{KEY}y", 3)}], KEY: 1}
    out = redact_obj(obj, [KEY])
    assert KEY not in repr(out)
    assert out["a"][1]["b"][1] == 3


def test_secret_values_from_env() -> None:
    env = {
        "OPENAI_API_KEY": KEY,
        "HOME": "/root",
        "ASSAY_TOKEN": "tok-123456789",
        "X_PASSWORD": "p",
        "AUTH_MODE": "simple",
    }
    assert secret_values_from_env(env) == [KEY, "tok-123456789"]


@pytest.mark.parametrize(
    "blob",
    [
        KEY.encode(),
        b"prefix " + KEY.encode("utf-16-le") + b" suffix",
        base64.b64encode(b"x" + KEY.encode() + b"yz"),
        base64.b64encode(b"xy" + KEY.encode()),
        base64.b64encode(KEY.encode() + b"tail"),
    ],
)
def test_scanner_finds_encoded_secrets(blob: bytes) -> None:
    assert scan_for_secrets(blob, [KEY]), blob


def test_scanner_finds_url_encoded_and_json_escaped_secrets() -> None:
    odd = 'tok/with+slash="quote"'
    assert [f.encoding for f in scan_for_secrets(b"?key=tok%2Fwith%2Bslash%3D%22quote%22&x=1", [odd])] == [
        "url-encoded"
    ]
    assert [f.encoding for f in scan_for_secrets(b'{"k": "tok/with+slash=\\"quote\\""}', [odd])] == [
        "json-escaped"
    ]


def test_scanner_reports_where_but_not_the_secret(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "run.log").write_text(f"calling with key={KEY}\n")
    (tmp_path / "clean.txt").write_text("nothing here\n")
    found = scan_for_secrets([tmp_path], [KEY, "another-secret-value"])
    assert [(Path(f.where).name, f.secret, f.encoding) for f in found] == [("run.log", 0, "utf-8")]
    with pytest.raises(AssertionError) as e:
        assert_no_secrets(tmp_path, [KEY])
    assert "run.log" in str(e.value) and KEY not in str(e.value)
    assert_no_secrets(tmp_path / "clean.txt", [KEY])


def test_scanner_looks_inside_compressed_zips(tmp_path: Path) -> None:
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("responses.jsonl", ("padding " * 200 + KEY) * 3)
    assert KEY.encode() not in z.read_bytes()  # deflate hides it from a byte search
    found = scan_for_secrets(z, [KEY])
    assert found and found[0].where.endswith("b.zip:responses.jsonl")


def test_scanner_needs_a_secret_and_an_existing_target(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        scan_for_secrets(tmp_path, [""])
    with pytest.raises(FileNotFoundError):
        scan_for_secrets(tmp_path / "nope", [KEY])


def test_reports_and_bundles_carry_no_planted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the environment that leaks into a response and an error never reaches any artifact."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    s = sample_inputs()
    responses = dict(s.responses)
    cid = s.cases[2].id
    responses[cid] = responses[cid].model_copy(
        update={"text": f"echo: Authorization: Bearer {KEY}", "error": f"401 for key {KEY}"}
    )
    run = s.run.model_copy(update={"notes": [f"started with {KEY}"]})
    data = build_report_data(
        run, s.cases, responses, s.judgments, s.results, secrets=secret_values_from_env()
    )
    (tmp_path / "r.html").write_text(render_html(data, "en"))
    (tmp_path / "r.json").write_text(render_json(data))
    priv, _ = generate_keypair(tmp_path / "keys")
    write_bundle(
        tmp_path / "b.zip",
        BundleContents(run=run, cases=s.cases, responses=responses, judgments=s.judgments, results=s.results),
        priv,
    )
    assert_no_secrets([tmp_path / "r.html", tmp_path / "r.json", tmp_path / "b.zip"], [KEY])
    # and the scanner would have caught it: the unredacted response does contain the key
    assert scan_for_secrets(responses[cid].model_dump_json().encode(), [KEY])
    assert os.environ["OPENAI_API_KEY"] == KEY


def test_redact_json_text_keeps_json_valid() -> None:
    import json

    from assay.core.secrets import redact_json_text

    odd = 'key"with\\quotes-123456'
    doc = {"a": f"x {odd} y", "b": ["密钥 " + KEY], "c": 1}
    text = json.dumps(doc, ensure_ascii=False)
    out = json.loads(redact_json_text(text, [odd, KEY]))
    assert out == {"a": f"x {REDACTED} y", "b": [f"密钥 {REDACTED}"], "c": 1}
    ascii_text = json.dumps({"k": f"密{KEY}"}, ensure_ascii=True)
    assert KEY not in json.loads(redact_json_text(ascii_text, [KEY]))["k"]
