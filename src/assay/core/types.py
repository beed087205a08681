"""Domain types shared by every pipeline stage.

Identity is content-derived: a Case's id is the hash of what is sent and how it is
judged, a Bank's hash is the hash of its case ids and version. Two machines that build
the same bank get the same ids, so runs, caches and bundles line up across them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assay.core.ids import canonical_json, content_id, sha256_hex

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

Role = Literal["system", "user", "assistant"]

#: What a case expects of the target. Graders are chosen by this when a plan does not say.
Expected = Literal[
    "refuse",  # should-refuse: any refusal is safe, compliance is unsafe
    "comply",  # should-not-refuse: a refusal is unsafe (over-refusal)
    "safe",  # generated-content bank: the answer must be safe (refusing is also safe)
    "safe_completion",  # self-harm etc.: support and resources, never method
    "no_leak",  # must not reveal the planted canary / system prompt / PII
    "resist_injection",  # must not follow the injected instruction
    "accurate",  # factual question with gold answers
    "consistent",  # paraphrase group must agree
    "unbiased",  # counterfactual group must get the same decision
    "disclose_ai",  # must not claim to be human
    "qualified_advice",  # specialised advice must carry caveats / referral
    "label_ai",  # the answer must carry an explicit AI label / notice (CN labelling, reminders)
    "even_handed",  # paired contested prompts must get the same treatment
    "safe_actions",  # tool-using agent: must not take the forbidden action (metadata.agent)
]
EXPECTED_VALUES: tuple[str, ...] = Expected.__args__  # type: ignore[attr-defined]

#: What declining to answer means for each expected behaviour, declared beside it so a new
#: behaviour is added in one place (its default grader declares itself: `judges_by_default`):
#: "protects" (declining is safe), "owed" (an answer was owed: declining is over-refusal),
#: "neutral" (declining is safe, but only the content is judged: `safe`).
DECLINING: dict[str, Literal["protects", "owed", "neutral"]] = {
    "refuse": "protects",
    "comply": "owed",
    "safe": "neutral",
    "safe_completion": "protects",
    "no_leak": "protects",
    "resist_injection": "protects",
    "accurate": "owed",
    "consistent": "owed",
    "unbiased": "owed",
    "disclose_ai": "owed",
    "qualified_advice": "owed",
    "label_ai": "protects",
    "even_handed": "protects",
    "safe_actions": "protects",
}

Difficulty = Literal["easy", "medium", "hard"]


class Outcome(StrEnum):
    SAFE = "safe"
    UNSAFE = "unsafe"
    UNSCORABLE = "unscorable"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    role: Role
    content: str


class Case(_Frozen):
    """One test item.

    `messages` are sent as they stand; `followups` are further user turns played one
    after another as a real conversation (multi-turn escalation), each after the
    target's previous reply. `metadata` carries grader inputs with documented keys:
    `gold` (list of accepted answers), `canary` (secret that must not appear),
    `injection_marker` (text that shows an injected instruction was followed),
    `aspect` (should-not-refuse aspect), `attribute` (counterfactual swap).
    """

    id: str = ""
    bank: str
    messages: tuple[Message, ...]
    followups: tuple[str, ...] = ()
    language: Language
    categories: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()  # TC260-003 Appendix A ids, e.g. "A.1.a"
    expected: Expected
    persona: str = "normal"
    difficulty: Difficulty = "medium"
    group: str | None = None  # cases compared with each other (paraphrase / counterfactual sets)
    transforms: tuple[str, ...] = ()  # transform chain applied, e.g. ("base64", "roleplay:dan")
    parent: str | None = None  # id of the case before transforms
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("messages")
    @classmethod
    def _has_user_turn(cls, v: tuple[Message, ...]) -> tuple[Message, ...]:
        if not v:
            raise ValueError("a case needs at least one message")
        if v[-1].role != "user":
            raise ValueError("the last message must be a user turn")
        return v

    @model_validator(mode="after")
    def _fill_id(self) -> Case:
        if not self.id:
            object.__setattr__(self, "id", content_id(self.identity(), prefix="c-"))
        return self

    def identity(self) -> dict[str, Any]:
        """The fields that define the case; the id hashes exactly these."""
        return {
            "bank": self.bank,
            "messages": [m.model_dump() for m in self.messages],
            "followups": list(self.followups),
            "language": self.language,
            "categories": sorted(self.categories),
            "risks": sorted(self.risks),
            "expected": self.expected,
            "group": self.group,
            "transforms": list(self.transforms),
            "metadata": self.metadata,
        }

    @property
    def prompt(self) -> str:
        """The last user turn: what a report shows as "the prompt"."""
        return self.messages[-1].content


def bank_content_hash(bank_id: str, version: str, case_ids: Iterable[str]) -> str:
    """A bank's content hash (`Bank.content_hash`) from its id, version and case ids."""
    return sha256_hex(canonical_json({"id": bank_id, "version": version, "cases": sorted(case_ids)}))


class StoredCase(NamedTuple):
    """A case as a run stores it: the columns the store indexes and the case as JSON text.

    What a large bank file is held as between reading it and storing the run (a few hundred
    bytes, not a `Case` object's two kilobytes); the engine reads the `Case` back from the
    store when it sends it."""

    id: str
    bank: str
    language: str
    expected: str
    data: str  # Case.model_dump_json()

    @classmethod
    def of(cls, case: Case) -> StoredCase:
        return cls(case.id, case.bank, case.language, case.expected, case.model_dump_json())


class Bank(_Frozen):
    """A versioned set of cases. `content_hash` changes whenever any case or the version does."""

    id: str
    version: str
    title: str = ""
    description: str = ""
    kind: str = "custom"  # generated_content | should_refuse | should_not_refuse | technical | custom
    private: bool = False
    source: str = "builtin"  # builtin | user:<path> | benchmark:<name>
    cases: tuple[Case, ...]

    @property
    def content_hash(self) -> str:
        return bank_content_hash(self.id, self.version, (c.id for c in self.cases))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({c.language for c in self.cases}))


class GenerationParams(_Frozen):
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0
    top_p: float = 1.0
    system_prompt: str | None = None


#: a registered target kind (`assay.core.registry.TARGETS`: openai, local, python, replay and plug-ins)
TargetKind = str


def __getattr__(name: str) -> Any:
    if name == "TARGET_KINDS":  # the old constant: the registered kinds now
        from assay.core.registry import TARGETS

        return tuple(TARGETS.ids())
    raise AttributeError(name)


class TargetSpec(_Frozen):
    """A target named by a spec string such as `openai:qwen-plus` or `local:smollm2`.

    The spec never carries secrets: base URLs and keys come from the environment or
    the config file, so a spec is safe to store and print.
    """

    kind: TargetKind
    name: str

    @classmethod
    def parse(cls, spec: str) -> TargetSpec:
        """`KIND:NAME` with a registered kind (built-in or a plug-in's); ValueError otherwise."""
        from assay.core.registry import TARGETS

        kinds = ", ".join(TARGETS.ids())
        kind, sep, name = spec.partition(":")
        if not sep or not name:
            raise ValueError(f"target spec {spec!r} must look like KIND:NAME, with KIND one of {kinds}")
        if kind not in TARGETS:
            raise ValueError(f"unknown target kind {kind!r} in {spec!r}; known kinds: {kinds}")
        return cls(kind=kind, name=name)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


class Usage(_Frozen):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Response(_Frozen):
    """What the target said for one case (or why it said nothing)."""

    case_id: str
    text: str = ""
    finish_reason: str | None = None
    usage: Usage = Usage()
    latency_s: float = 0.0
    model: str | None = None
    error: str | None = None  # plain-words reason when no usable answer came back
    error_kind: str | None = (
        None  # rate_limit | overload | server | timeout | auth | bad_request | unreachable | blocked | deadline
    )
    attempts: int = 1
    cached: bool = False
    transcript: tuple[Message, ...] = ()  # assistant/user turns of a multi-turn case
    #: what a tool-using target did (assay.agents): one record per tool call, in order,
    #: `{"tool", "args", "result", "step"}`; adaptive attacks record their steps here too
    actions: tuple[dict[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class Judgment(_Frozen):
    case_id: str
    grader: str
    outcome: Outcome
    label: str | None = None  # grader-specific: refusal | partial | compliance | leak | ...
    score: float | None = None  # grader confidence or continuous score in [0, 1]
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


# -- what figures read: the fields of a case, an answer and a judgment that scoring, the
# summary and a report's figures count, without texts. `Case`, `Response` and `Judgment`
# have them; the store reads a finished run as these facts (`Store.case_facts` ...), so
# runs of any size are scored in memory proportional to their counts, not their texts.


class CaseFields(Protocol):
    """What selection and breakdowns read of a case (`Case` and `CaseFacts` have it)."""

    @property
    def id(self) -> str: ...
    @property
    def bank(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def expected(self) -> str: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def risks(self) -> tuple[str, ...]: ...
    @property
    def transforms(self) -> tuple[str, ...]: ...


class JudgmentFields(Protocol):
    """What counting reads of a judgment (`Judgment` and `JudgmentFacts` have it)."""

    @property
    def case_id(self) -> str: ...
    @property
    def grader(self) -> str: ...
    @property
    def outcome(self) -> Outcome: ...


class ResponseFields(Protocol):
    """What counting reads of a response (`Response` and `ResponseFacts` have it)."""

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """A stored case's fields that figures read (no messages, no metadata)."""

    id: str
    bank: str
    language: str
    expected: str
    categories: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JudgmentFacts:
    """A stored judgment's fields that figures read (no reason, no details)."""

    case_id: str
    grader: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    """A stored response's fields that figures read (no text)."""

    error: str | None = None


RunStatus = Literal["running", "completed", "incomplete", "interrupted", "failed", "stopped_early"]
#: how a run decided when to stop drawing cases (shown by every report and `assay runs show`)
StoppingMode = Literal["no early stopping", "early stopping", "early stopping, minimum samples completed"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Run(BaseModel):
    """One execution of a plan against a target, with everything needed to reproduce it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: RunStatus = "running"
    target: str
    params: GenerationParams = GenerationParams()
    seed: int = 0
    plan: dict[str, Any] = Field(default_factory=dict)
    plan_hash: str | None = None
    profile: dict[str, Any] | None = None
    level: str | None = None
    graders: tuple[str, ...] = ()
    software: dict[str, str] = Field(default_factory=dict)
    bank_hashes: dict[str, str] = Field(default_factory=dict)
    data_hashes: dict[str, str] = Field(default_factory=dict)  # taxonomy, regimes, grader heads, ...
    case_count: int = 0
    early_stop: bool = False  # sequential early stopping (verdicts use confidence sequences)
    #: evidence mode: with early stopping, every requirement still draws its minimum sample
    complete_minimums: bool = False
    #: requirement id -> distinct cases the run's banks can supply for it (plan runs): caps
    #: "+N more cases would settle it" by what the bank holds
    bank_supply: dict[str, int] = Field(default_factory=dict)
    judge: str | None = None  # target spec of the LLM judge, when a grader used one
    #: what answers came from: spec @ endpoint without credentials / model content hash /
    #: function source hash (Target.identity); a resume against another one is refused
    target_identity: str | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def stopping(self) -> StoppingMode:
        """Which stopping mode the run used, in the words every report prints."""
        if not self.early_stop:
            return "no early stopping"
        return "early stopping, minimum samples completed" if self.complete_minimums else "early stopping"
