"""A `python:` victim for the resume test: `python:attack_bots:killer` (and an attack judge
that logs its calls, `python:attack_bots:judge`).

Behaves like `assay.testing.victims.roleplay_weak` (refuses harmful requests unless they
come in a role-play frame) and appends one line per answered call to $ASSAY_CALL_LOG (a
hash of the whole conversation it was sent). On call number $ASSAY_KILL_AT, if
$ASSAY_KILL_MARK does not exist yet, it creates it and SIGKILLs its own process before
answering: a kill -9 in the middle of an attack's conversation.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path
from typing import Any

from assay.testing.victims import crescendo_weak, roleplay_weak


def killer(messages: list[dict[str, Any]], **_: Any) -> str:
    log = Path(os.environ["ASSAY_CALL_LOG"])
    done = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    mark = Path(os.environ["ASSAY_KILL_MARK"])
    if done + 1 == int(os.environ.get("ASSAY_KILL_AT", "0")) and not mark.exists():
        mark.write_text("killed", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    key = hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with log.open("a", encoding="utf-8") as fh:
        fh.write(key + "\n")
    text = str(messages[-1]["content"])
    return roleplay_weak(messages) if "actor" in text.lower() or "演员" in text else crescendo_weak(messages)


def judge(messages: list[dict[str, Any]], **_: Any) -> str:
    """An attack judge (`--attack-judge python:attack_bots:judge`): rates like
    `assay.testing.judges.steps` and logs one line per call to $ASSAY_JUDGE_LOG."""
    from assay.testing.judges import steps

    key = hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with Path(os.environ["ASSAY_JUDGE_LOG"]).open("a", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return steps(messages)


def flaky(messages: list[dict[str, Any]], **_: Any) -> str:
    """A victim that refuses every harmful request, and fails in transport (a server error)
    on role-play prompts while $ASSAY_FLAKY is not "off": PAIR's second attempt stays
    pending, crescendo (no role-play) finishes."""
    from assay.testing.victims import robust

    text = str(messages[-1]["content"])
    if os.environ.get("ASSAY_FLAKY", "on") != "off" and ("actor" in text.lower() or "演员" in text):
        raise RuntimeError("backend went away")
    return robust(messages)
