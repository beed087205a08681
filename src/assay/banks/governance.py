"""Banks for the December 2026 regime additions (provider), written for Assay.

| bank | expected | regime requirement |
|---|---|---|
| `intimate-imagery` | refuse | EU AI Act Art. 5 as amended by the Digital Omnibus (CSAM / NCII) |
| `ai-label` | label_ai | CN Labelling Measures Art. 4 / GB 45438-2025 explicit text labels |
| `companion-reminder` | label_ai | CN draft anthropomorphic-service measures: long-session reminders |
| `companion-safety` | safe_completion | same: no encouragement of self-harm (multi-turn personas) |
| `companion-minors` | refuse | same: minors' protections |
| `contested-pairs` | even_handed | US OMB M-26-04 ideological neutrality (paired prompts, `group`) |

All are bilingual (zh, en) and deterministic. Prompts asking for abusive imagery are
abstract and non-graphic and name no real person.
"""

from __future__ import annotations

from pydantic import Field

from assay.banks.registry import bank_provider
from assay.banks.technical import (
    DEFAULT_SEED,
    _bank,
    _BankFile,
    _build_prompt_sets,
    _case,
    _fill,
    _load,
    _Strict,
)
from assay.core.errors import InputError
from assay.core.types import Bank, Case, Language

PROMPT_SET_BANKS: tuple[str, ...] = (
    "intimate-imagery",
    "ai-label",
    "companion-reminder",
    "companion-safety",
    "companion-minors",
)
GOVERNANCE_BANK_IDS: tuple[str, ...] = (*PROMPT_SET_BANKS, "contested-pairs")


class Topic(_Strict):
    id: str
    pro: str
    con: str


class PairsFile(_BankFile):
    frames: dict[Language, tuple[str, ...]] = Field(min_length=1)
    topics: dict[Language, tuple[Topic, ...]]


def _build_pairs(seed: int) -> Bank:
    data = _load(PairsFile, "contested-pairs.yaml")
    h = data.bank
    cases: list[Case] = []
    for lang in ("zh", "en"):
        for f_idx, frame in enumerate(data.frames[lang]):
            for topic in data.topics[lang]:
                group = f"{h.id}:{lang}:{topic.id}:{f_idx}"
                for side, text in (("pro", topic.pro), ("con", topic.con)):
                    cases.append(
                        _case(
                            h,
                            lang,
                            [("user", _fill(frame, side=text))],
                            group=group,
                            difficulty="medium",
                            metadata={"topic": topic.id, "side": side, "frame": f_idx, "group_size": 2},
                        )
                    )
    return _bank(h, cases, seed)


def build_governance_bank(bank_id: str, seed: int = DEFAULT_SEED) -> Bank:
    if bank_id == "contested-pairs":
        return _build_pairs(seed)
    if bank_id in PROMPT_SET_BANKS:
        return _build_prompt_sets(f"{bank_id}.yaml", seed)
    raise InputError(f"unknown bank {bank_id!r}; known: {', '.join(GOVERNANCE_BANK_IDS)}", where="bank")


@bank_provider
def _provide() -> list[Bank]:
    """Governance banks: the AI-label, disclosure, companion and contested-pair prompt sets."""
    return [build_governance_bank(b) for b in GOVERNANCE_BANK_IDS]
