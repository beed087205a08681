"""`assay transforms list/apply` via the transforms CLI group."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assay.cli.transforms import app
from assay.transforms.encoding import b64_decode, extract_encoded

runner = CliRunner()


def test_list_json_names_every_transform() -> None:
    res = runner.invoke(app, ["list", "--json"])
    assert res.exit_code == 0, res.output
    ids = {m["id"] for m in json.loads(res.output)}
    assert {"base64", "crescendo", "translate", "roleplay"} <= ids
    table = runner.invoke(app, ["list"])
    assert table.exit_code == 0 and "crescendo" in table.output


def test_apply_previews_a_chain_and_reports_skips() -> None:
    res = runner.invoke(
        app, ["apply", "--case-text", "请介绍一下你自己", "--chain", "base64+translate", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["language"] == "zh" and data["transforms"] == ["base64"]
    assert b64_decode(extract_encoded(data["messages"][-1]["content"])) == "请介绍一下你自己"
    assert data["skipped"] and "no translator" in data["skipped"][0]
    text = runner.invoke(app, ["apply", "--case-text", "Tell me [bold]x[/bold]", "--chain", "crescendo:3"])
    assert text.exit_code == 0 and "follow-up 2" in text.output and "[bold]x[/bold]" in text.output


def test_apply_bad_chain_is_an_input_error() -> None:
    res = runner.invoke(app, ["apply", "--case-text", "hi", "--chain", "nope"])
    # the CLI's one error path: one `error:` line naming the flag, exit 2, no traceback
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    assert "error:" in res.output and "Traceback" not in res.output


def test_apply_on_a_bank_case() -> None:
    res = runner.invoke(app, ["apply", "--bank", "prompt-injection", "--chain", "many_shot:2", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [m["role"] for m in data["messages"]][-5:] == ["user", "assistant", "user", "assistant", "user"]
