"""Grader validation against labelled responses.

A label file holds responses a person (or, for public benchmarks, some stated process)
has labelled. `load_labels` reads CSV or JSONL with the columns `prompt`, `response`,
`label`, `language` and optionally `category`, `expected`, `id`, `note`; every bad row
raises an `InputError` naming the file and line. `validate_grader` runs a grader over
the rows and returns a `ValidationReport`: accuracy, precision, recall, F1 and Cohen's
κ overall, per language and per category, the full confusion matrix over the grader's
labels, and the sensitivity / specificity a run needs for the Rogan–Gladen correction
of a measured rate (`assay.scoring.correct_estimate`).

Binary view. Refusal-style labels (`refusal`, `partial`, `compliance`) are compared
through `Judgment.label`, with refusal-or-partial as the positive class. Outcome-style
labels (`safe`, `unsafe`) are compared through `Judgment.outcome`, with `unsafe` as the
positive class. Rows the grader cannot score are counted (`unscorable`) and left out
of the figures, never silently: the report says how many.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.core.errors import InputError
from assay.core.ids import sha256_hex
from assay.core.types import EXPECTED_VALUES, LANGUAGES, Case, Judgment, Message, Outcome, Response, utcnow
from assay.graders.base import Grader

REFUSAL_LABELS: tuple[str, ...] = ("refusal", "partial", "compliance")
OUTCOME_LABELS: tuple[str, ...] = ("safe", "unsafe")
#: label aliases accepted in label files
_ALIASES = {
    "refuse": "refusal",
    "refused": "refusal",
    "full_refusal": "refusal",
    "partial_refusal": "partial",
    "comply": "compliance",
    "complied": "compliance",
    "complies": "compliance",
    "full_compliance": "compliance",
    "partial_compliance": "partial",
    "harmful": "unsafe",
    "harmless": "safe",
    "benign": "safe",
}


class LabelledRow(BaseModel):
    """One labelled response."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str
    response: str
    label: str
    language: str
    category: str = "uncategorised"
    expected: str | None = None
    id: str | None = None
    note: str = ""
    line: int = 0  # where it came from, for messages
    #: content mode of the case (e.g. "harmful", "benign" for content graders), when the file gives one
    mode: str | None = None
    #: every category and TC260-003 risk of the case (`category` is the first category)
    categories: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    #: the model family that wrote the answer (e.g. "smollm2"), for per-family figures
    family: str | None = None
    #: columns of the file that validation does not use (reported, never an error)
    #: the transform chain the prompt was sent through (an attacked answer), else empty
    transforms: tuple[str, ...] = ()
    #: the case's accepted reference answers (aliases included), for graders that judge accuracy
    gold: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()

    @property
    def positive(self) -> bool:
        return self.label in ("refusal", "partial", "unsafe")


# --------------------------------------------------------------------------- loading


def load_labels(path: str | Path) -> list[LabelledRow]:
    """Read a CSV or JSONL label file (chosen by extension; `.json` lines also accepted)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read label file: {exc.strerror or exc}", where=str(p)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("label file is not UTF-8", where=str(p)) from exc
    if p.suffix.lower() == ".csv":
        rows = parse_csv_labels(text, source=str(p))
    elif p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = parse_jsonl_labels(text, source=str(p))
    else:
        raise InputError("label file must end in .csv or .jsonl", where=str(p))
    if not rows:
        raise InputError("label file has no rows", where=str(p))
    return rows


def file_sha256(path: str | Path) -> str:
    return sha256_hex(Path(path).read_bytes())


def parse_jsonl_labels(text: str, *, source: str = "<labels>") -> list[LabelledRow]:
    from assay.core.io import parse_jsonl

    return [_row(obj, f"{source}:{n}", n) for n, obj in parse_jsonl(text, source)]


def parse_csv_labels(text: str, *, source: str = "<labels>") -> list[LabelledRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        raise InputError("CSV has no header row", where=f"{source}:1")
    header = [h.strip() for h in reader.fieldnames]
    missing = [c for c in ("prompt", "response", "label", "language") if c not in header]
    if missing:
        raise InputError(f"CSV header lacks column(s) {', '.join(missing)}", where=f"{source}:1")
    rows: list[LabelledRow] = []
    for rec in reader:
        n = reader.line_num
        if None in rec:
            raise InputError("row has more fields than the header", where=f"{source}:{n}")
        obj = {(k or "").strip(): v for k, v in rec.items() if v is not None}
        if not any((v or "").strip() for v in obj.values()):
            continue
        rows.append(_row(obj, f"{source}:{n}", n))
    return rows


_KNOWN = {
    "prompt",
    "response",
    "label",
    "language",
    "category",
    "categories",
    "risks",
    "mode",
    "expected",
    "id",
    "note",
    "kind",
    "family",
    # how an ambiguous label was decided (the shipped corpus): informational, not reported as unused
    "adjudication",
    # the attack / perturbation chain the prompt was sent through (empty: the plain prompt)
    "transforms",
    # the case's reference answers (accuracy graders: `factuality` reads them as metadata.gold)
    "gold",
}


def _names(value: Any, column: str, where: str) -> tuple[str, ...]:
    """A list column: a JSON list of strings, or text separated by ';' or ','."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in re.split(r"[;,]", value) if p.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise InputError(f"{column!r} must be a list of names or text separated by ';'", where=where)


def _answers(value: Any, where: str) -> tuple[str, ...]:
    """The `gold` column: a JSON list of accepted answers, or text separated by ';' (answers
    may hold commas: "1,000", "Washington, D.C.")."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(";") if p.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise InputError("'gold' must be a list of answers or text separated by ';'", where=where)


def _row(obj: dict[str, Any], where: str, line: int) -> LabelledRow:
    ignored = tuple(sorted(set(obj) - _KNOWN))
    for col in ("prompt", "response", "label", "language"):
        if col not in obj or obj[col] is None:
            raise InputError(f"missing {col!r}", where=where)
        if not isinstance(obj[col], str):
            raise InputError(f"{col!r} must be text", where=where)
    label = obj["label"].strip().lower()
    label = _ALIASES.get(label, label)
    if label not in REFUSAL_LABELS + OUTCOME_LABELS:
        raise InputError(
            f"label {obj['label']!r} is not one of {', '.join(REFUSAL_LABELS + OUTCOME_LABELS)}", where=where
        )
    lang = obj["language"].strip().lower()
    if lang not in LANGUAGES:
        raise InputError(f"language {obj['language']!r} is not one of {', '.join(LANGUAGES)}", where=where)
    expected = (obj.get("expected") or "").strip() or None
    if expected is not None and expected not in EXPECTED_VALUES:
        raise InputError(f"expected {expected!r} is not a known expected behaviour", where=where)
    note = obj.get("note") or ""
    if obj.get("kind"):
        note = f"{obj['kind']}: {note}" if note else str(obj["kind"])
    categories = _names(obj.get("categories"), "categories", where)
    category = str(obj.get("category") or "").strip() or (categories[0] if categories else "uncategorised")
    mode = obj.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise InputError("'mode' must be text", where=where)
    return LabelledRow(
        prompt=obj["prompt"],
        response=obj["response"],
        label=label,
        language=lang,
        category=category,
        categories=categories or (category,),
        risks=_names(obj.get("risks"), "risks", where),
        mode=(mode or "").strip() or None,
        expected=expected,
        id=(str(obj["id"]) if obj.get("id") not in (None, "") else None),
        note=str(note),
        line=line,
        family=(str(obj.get("family") or "").strip() or None),
        transforms=_names(obj.get("transforms"), "transforms", where),
        gold=_answers(obj.get("gold"), where),
        ignored_columns=ignored,
    )


# --------------------------------------------------------------------------- metrics


class BinaryMetrics(BaseModel):
    """Agreement of a grader's binary decision with the labels (positive = refuses / unsafe)."""

    model_config = ConfigDict(frozen=True)

    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    unscorable: int = 0
    accuracy: float | None
    precision: float | None
    recall: float | None  # = sensitivity
    specificity: float | None
    f1: float | None
    kappa: float | None

    @classmethod
    def from_counts(cls, tp: int, fp: int, fn: int, tn: int, unscorable: int = 0) -> BinaryMetrics:
        n = tp + fp + fn + tn

        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None

        precision = ratio(tp, tp + fp)
        recall = ratio(tp, tp + fn)
        f1 = ratio(2 * tp, 2 * tp + fp + fn)
        kappa: float | None = None
        if n:
            po = (tp + tn) / n
            pe = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
            kappa = (po - pe) / (1 - pe) if pe < 1 else (1.0 if po == 1 else 0.0)
        return cls(
            n=n,
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            unscorable=unscorable,
            accuracy=ratio(tp + tn, n),
            precision=precision,
            recall=recall,
            specificity=ratio(tn, tn + fp),
            f1=f1,
            kappa=kappa,
        )

    @property
    def sensitivity(self) -> float | None:
        return self.recall


class RocPoint(BaseModel):
    """One cut-off on a grader's score: every answer scoring at least `cut` is called positive."""

    model_config = ConfigDict(frozen=True)

    cut: float | None  # None: the grader's own decision where it is not a cut on the score
    tpr: float  # recall at this cut
    fpr: float  # 1 − specificity at this cut
    precision: float | None
    f1: float | None
    flagged: int  # answers called positive at this cut


class RocCurve(BaseModel):
    """How well a grader's score ranks positive answers above negative ones, over every
    cut-off, with the grader's own decision placed on it.

    `auc` is the empirical area under the curve (the chance that a random positive answer
    scores above a random negative one, ties counted half), with a 95% interval from DeLong's
    variance. `operating` is the grader's own decision on these rows (its recall and
    false-positive rate: the figures the binary metrics report). `decision_is_cut` says
    whether that decision is a cut on the score (every answer called positive scores above
    every one called negative): only then does the operating point lie on the curve, and
    moving along it is a matter of choosing another cut. `points` keeps the curve's corners,
    thinned to at most `MAX_ROC_POINTS`."""

    model_config = ConfigDict(frozen=True)

    n_positive: int
    n_negative: int
    auc: float
    auc_low: float
    auc_high: float
    decision_is_cut: bool
    cut: float | None  # the lowest score called positive, when the decision is a cut
    operating: RocPoint
    points: list[RocPoint] = Field(default_factory=list)  # (the shipped per-language curves keep none)


class GraderRoc(BaseModel):
    """A grader's ROC on one label file: over all its rows and per language."""

    model_config = ConfigDict(frozen=True)

    grader: str  # id@version
    file: str
    overall: RocCurve
    per_language: dict[str, RocCurve] = Field(default_factory=dict)


#: most points a stored curve keeps (its corners, thinned evenly; the operating point is kept)
MAX_ROC_POINTS = 41


def _auc_delong(pos: Sequence[float], neg: Sequence[float]) -> tuple[float, float]:
    """Empirical AUC and its DeLong variance (placements by sorting: O(n log n))."""
    from bisect import bisect_left, bisect_right

    sn, sp = sorted(neg), sorted(pos)
    m, n = len(pos), len(neg)
    # placement of each positive among the negatives, and of each negative among the positives
    v10 = [(bisect_left(sn, x) + 0.5 * (bisect_right(sn, x) - bisect_left(sn, x))) / n for x in pos]
    v01 = [(m - bisect_right(sp, y) + 0.5 * (bisect_right(sp, y) - bisect_left(sp, y))) / m for y in neg]
    auc = sum(v10) / m

    def var(v: list[float]) -> float:
        mean = sum(v) / len(v)
        return sum((x - mean) ** 2 for x in v) / (len(v) - 1) if len(v) > 1 else 0.0

    return auc, var(v10) / m + var(v01) / n


def roc_curve(scores: Sequence[float], gold: Sequence[bool], called: Sequence[bool]) -> RocCurve | None:
    """The ROC of `scores` against the labels `gold` (True: positive), with the grader's
    decisions `called` (True: called positive) as the operating point. None when either
    class is missing (no curve exists)."""
    rows = list(zip(scores, gold, called, strict=True))
    n_pos = sum(1 for _, g, _ in rows if g)
    n_neg = len(rows) - n_pos
    if not n_pos or not n_neg:
        return None
    auc, variance = _auc_delong([s for s, g, _ in rows if g], [s for s, g, _ in rows if not g])
    half = 1.959964 * variance**0.5

    def point(cut: float | None, tp: int, fp: int) -> RocPoint:
        flagged = tp + fp
        return RocPoint(
            cut=None if cut is None else round(cut, 6),
            tpr=round(tp / n_pos, 4),
            fpr=round(fp / n_neg, 4),
            precision=round(tp / flagged, 4) if flagged else None,
            f1=round(2 * tp / (flagged + n_pos), 4),
            flagged=flagged,
        )

    corners: list[RocPoint] = []
    tp = fp = 0
    ordered = sorted(rows, key=lambda r: -r[0])
    for i, (s, g, _) in enumerate(ordered):
        tp += g
        fp += not g
        if i + 1 == len(ordered) or ordered[i + 1][0] < s:  # a corner: the last row at this score
            corners.append(point(s, tp, fp))
    called_pos = [s for s, _, c in rows if c]
    called_neg = [s for s, _, c in rows if not c]
    is_cut = not called_pos or not called_neg or min(called_pos) > max(called_neg)
    cut = min(called_pos) if called_pos and is_cut else None
    op_tp = sum(1 for _, g, c in rows if g and c)
    operating = point(cut, op_tp, len(called_pos) - op_tp)
    keep = corners
    if len(corners) > MAX_ROC_POINTS:
        step = (len(corners) - 1) / (MAX_ROC_POINTS - 1)
        keep = [corners[round(k * step)] for k in range(MAX_ROC_POINTS)]
        if cut is not None and not any(p.cut == operating.cut for p in keep):
            keep = sorted([*keep, operating], key=lambda p: -(p.cut or 0.0))
    return RocCurve(
        n_positive=n_pos,
        n_negative=n_neg,
        auc=round(auc, 4),
        auc_low=round(max(0.0, auc - half), 4),
        auc_high=round(min(1.0, auc + half), 4),
        decision_is_cut=is_cut,
        cut=cut,
        operating=operating,
        points=keep,
    )


def cohen_kappa(gold: Sequence[str], pred: Sequence[str]) -> float | None:
    """Cohen's κ for any number of classes."""
    n = len(gold)
    if n == 0 or n != len(pred):
        return None
    classes = sorted(set(gold) | set(pred))
    po = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n
    pe = sum((sum(1 for g in gold if g == c) / n) * (sum(1 for p in pred if p == c) / n) for c in classes)
    if pe >= 1:
        return 1.0 if po == 1 else 0.0
    return (po - pe) / (1 - pe)


class ValidationReport(BaseModel):
    """What a validation run measured; the store persists it as it stands."""

    model_config = ConfigDict(frozen=True)

    grader: str  # id@version
    label_file: str | None = None
    label_hash: str  # sha256 of the label file bytes (or of the rows when no file)
    created_at: datetime = Field(default_factory=utcnow)
    label_space: Literal["refusal", "outcome"]
    positive: str  # what the positive class means
    n_rows: int
    unscorable: int
    overall: BinaryMetrics
    per_language: dict[str, BinaryMetrics]
    per_category: dict[str, BinaryMetrics]
    #: per model family that wrote the answers (rows with a `family` column)
    per_family: dict[str, BinaryMetrics] = Field(default_factory=dict)
    #: per TC260-003 Appendix A risk of the rows (a row counts under each risk it names)
    per_risk: dict[str, BinaryMetrics] = Field(default_factory=dict)
    #: when some rows carry `transforms`: "plain", "attacked" and each chain (empty otherwise)
    per_attack: dict[str, BinaryMetrics] = Field(default_factory=dict)
    #: the ROC of the judgments' scores over the scored rows (None when a judgment has no
    #: score or one class is missing), and per language
    roc: RocCurve | None = None
    roc_per_language: dict[str, RocCurve] = Field(default_factory=dict)
    classes: tuple[str, ...]
    #: confusion[gold][predicted] counts over `classes` (+ "unscorable" as a predicted column)
    confusion: dict[str, dict[str, int]]
    multiclass_accuracy: float | None
    multiclass_kappa: float | None
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def sensitivity(self) -> float | None:
        return self.overall.recall

    @property
    def specificity(self) -> float | None:
        return self.overall.specificity

    def summary(self) -> str:
        o = self.overall

        def f(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        return (
            f"{self.grader}: n={o.n} (unscorable {self.unscorable}) acc={f(o.accuracy)} P={f(o.precision)} "
            f"R={f(o.recall)} F1={f(o.f1)} kappa={f(o.kappa)}"
        )


def _case_for(row: LabelledRow, index: int) -> Case:
    default = "refuse" if row.label in REFUSAL_LABELS else ("accurate" if row.gold else "safe")
    expected = row.expected or default
    metadata: dict[str, Any] = {"row": row.id or index}
    if row.mode:
        metadata["mode"] = row.mode
    if row.gold:
        metadata["gold"] = list(row.gold)
    return Case(
        bank="validation",
        messages=(Message(role="user", content=row.prompt or " "),),
        language=row.language,  # type: ignore[arg-type]
        categories=row.categories or (row.category,),
        risks=row.risks,
        transforms=row.transforms,
        expected=expected,  # type: ignore[arg-type]
        metadata=metadata,
    )


def _check_rows(grader: Grader, rows: Sequence[LabelledRow], label_file: str | None) -> bool:
    """Validate the label space; True when the rows use refusal labels."""
    if not rows:
        raise InputError("no labelled rows to validate against", where=label_file)
    refusal_space = all(r.label in REFUSAL_LABELS for r in rows)
    outcome_space = all(r.label in OUTCOME_LABELS for r in rows)
    if not (refusal_space or outcome_space):
        raise InputError(
            "a label file must use either refusal labels (refusal/partial/compliance) or outcome labels (safe/unsafe), not both",
            where=label_file,
        )
    if refusal_space and not grader.detects_refusal:
        raise InputError(
            f"grader {grader.key} judges content (safe/unsafe), not refusal: it does not emit refusal labels "
            "to compare with refusal/partial/compliance; validate it against a file labelled safe/unsafe",
            where=label_file,
        )
    return refusal_space


def _cases_and_responses(rows: Sequence[LabelledRow]) -> tuple[list[Case], list[Response]]:
    cases = [_case_for(r, i) for i, r in enumerate(rows)]
    responses = [Response(case_id=c.id, text=r.response) for c, r in zip(cases, rows, strict=True)]
    return cases, responses


def validate_grader(
    grader: Grader,
    rows: Sequence[LabelledRow],
    *,
    label_file: str | None = None,
    label_hash: str | None = None,
) -> ValidationReport:
    """Run `grader` over labelled rows and measure its agreement with the labels.

    Asynchronous graders (the LLM judge, ensembles) are run by `avalidate_grader` in one
    event loop, so their calls overlap.
    """
    if grader.is_async:
        return asyncio.run(avalidate_grader(grader, rows, label_file=label_file, label_hash=label_hash))
    refusal_space = _check_rows(grader, rows, label_file)
    cases, responses = _cases_and_responses(rows)
    many = getattr(grader, "grade_many", None)
    judgments = (
        list(many(cases, responses))
        if callable(many)
        else [grader.grade(c, r) for c, r in zip(cases, responses, strict=True)]
    )
    return measure(grader, rows, judgments, refusal_space, label_file=label_file, label_hash=label_hash)


async def avalidate_grader(
    grader: Grader,
    rows: Sequence[LabelledRow],
    *,
    label_file: str | None = None,
    label_hash: str | None = None,
    concurrency: int = 32,
) -> ValidationReport:
    """`validate_grader` from a running event loop: at most `concurrency` rows are graded
    at once (a local judge batches them; a remote one gets parallel requests)."""
    refusal_space = _check_rows(grader, rows, label_file)
    cases, responses = _cases_and_responses(rows)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: Case, response: Response) -> Judgment:
        async with gate:
            return await grader.agrade(case, response)

    judgments = list(await asyncio.gather(*(one(c, r) for c, r in zip(cases, responses, strict=True))))
    return measure(grader, rows, judgments, refusal_space, label_file=label_file, label_hash=label_hash)


def measure(
    grader: Grader,
    rows: Sequence[LabelledRow],
    judgments: Sequence[Judgment],
    refusal_space: bool,
    *,
    label_file: str | None = None,
    label_hash: str | None = None,
) -> ValidationReport:
    """Agreement of a grader's judgments (one per row, in order) with the rows' labels."""
    classes = REFUSAL_LABELS if refusal_space else OUTCOME_LABELS
    preds: list[str | None] = []
    for j in judgments:
        if j.outcome == Outcome.UNSCORABLE:
            preds.append(None)
        elif refusal_space:
            preds.append(j.label if j.label in REFUSAL_LABELS else None)
        else:
            preds.append(j.outcome.value)

    def metrics(idx: Iterable[int]) -> BinaryMetrics:
        tp = fp = fn = tn = un = 0
        for i in idx:
            p = preds[i]
            if p is None:
                un += 1
                continue
            gold = rows[i].positive
            pos = p in ("refusal", "partial", "unsafe")
            if gold and pos:
                tp += 1
            elif gold:
                fn += 1
            elif pos:
                fp += 1
            else:
                tn += 1
        return BinaryMetrics.from_counts(tp, fp, fn, tn, un)

    all_idx = range(len(rows))
    by_lang: dict[str, list[int]] = {}
    by_cat: dict[str, list[int]] = {}
    by_family: dict[str, list[int]] = {}
    by_risk: dict[str, list[int]] = {}
    by_attack: dict[str, list[int]] = {}
    attacked_rows = any(r.transforms for r in rows)
    for i, r in enumerate(rows):
        if attacked_rows:  # plain prompts against attacked ones, and each chain
            by_attack.setdefault("attacked" if r.transforms else "plain", []).append(i)
            if r.transforms:
                by_attack.setdefault("+".join(r.transforms), []).append(i)
        for risk in dict.fromkeys(r.risks):
            by_risk.setdefault(risk, []).append(i)
        by_lang.setdefault(r.language, []).append(i)
        by_cat.setdefault(r.category, []).append(i)
        if r.family:
            by_family.setdefault(r.family, []).append(i)
    confusion = {g: {p: 0 for p in (*classes, "unscorable")} for g in classes}
    for r, p in zip(rows, preds, strict=True):
        confusion[r.label][p if p is not None else "unscorable"] += 1
    scored = [(r.label, p) for r, p in zip(rows, preds, strict=True) if p is not None]
    mc_acc = (sum(1 for g, p in scored if g == p) / len(scored)) if scored else None
    if label_hash is None:
        label_hash = sha256_hex(  # (a row without transforms hashes as before they were read)
            json.dumps(
                [  # (columns a row leaves empty are left out, so older rows hash as they did)
                    r.model_dump(
                        exclude={"line"}
                        | ({"transforms"} if not r.transforms else set())
                        | ({"gold"} if not r.gold else set())
                    )
                    for r in rows
                ],
                ensure_ascii=False,
            )
        )
    layers: dict[str, int] = {}
    for j in judgments:
        layer = j.details.get("layer") if j.details else None
        if layer:
            layers[str(layer)] = layers.get(str(layer), 0) + 1
    details: dict[str, Any] = {"layers": layers} if layers else {}
    escalated = sum(1 for j in judgments if j.details and j.details.get("escalated"))
    if any(j.details and "escalated" in j.details for j in judgments):
        # ensembles: how many answers went (or, offline, would have gone) to the judge
        details["escalated"] = escalated
        details["escalation_failed"] = sum(
            1 for j in judgments if j.details and j.details.get("escalation_failed")
        )
    ignored = sorted({c for r in rows for c in r.ignored_columns})
    if ignored:
        details["ignored_columns"] = ignored
    scored_idx = [i for i, p in enumerate(preds) if p is not None]
    unscored = sum(1 for i in scored_idx if judgments[i].score is None)
    if unscored:
        details["roc"] = f"not computed: {unscored} scored judgment(s) carry no score"

    def roc(idx: Iterable[int]) -> RocCurve | None:
        idx = [i for i in idx if preds[i] is not None]
        if unscored or not idx:
            return None
        return roc_curve(
            [float(judgments[i].score) for i in idx],  # type: ignore[arg-type]
            [rows[i].positive for i in idx],
            [preds[i] in ("refusal", "partial", "unsafe") for i in idx],
        )

    roc_per_language = {k: c for k, v in sorted(by_lang.items()) if (c := roc(v)) is not None}
    return ValidationReport(
        grader=grader.key,
        label_file=label_file,
        label_hash=label_hash,
        label_space="refusal" if refusal_space else "outcome",
        positive="refusal or partial" if refusal_space else "unsafe",
        n_rows=len(rows),
        unscorable=sum(1 for p in preds if p is None),
        overall=metrics(all_idx),
        per_language={k: metrics(v) for k, v in sorted(by_lang.items())},
        per_category={k: metrics(v) for k, v in sorted(by_cat.items())},
        per_family={k: metrics(v) for k, v in sorted(by_family.items())},
        per_risk={k: metrics(v) for k, v in sorted(by_risk.items())},
        per_attack={k: metrics(v) for k, v in sorted(by_attack.items())},
        roc=roc(all_idx),
        roc_per_language=roc_per_language,
        classes=classes,
        confusion=confusion,
        multiclass_accuracy=mc_acc,
        multiclass_kappa=cohen_kappa([g for g, _ in scored], [p for _, p in scored]),
        details=details,
    )


def validate_file(grader: Grader, path: str | Path) -> ValidationReport:
    """Load a label file and validate `grader` on it, recording the file's hash."""
    rows = load_labels(path)
    return validate_grader(grader, rows, label_file=str(path), label_hash=file_sha256(path))


async def avalidate_file(grader: Grader, path: str | Path) -> ValidationReport:
    """`validate_file` from a running event loop."""
    rows = load_labels(path)
    return await avalidate_grader(grader, rows, label_file=str(path), label_hash=file_sha256(path))


# --------------------------------------------------------------------------- shipped figures


def shipped_figures() -> dict[str, dict[str, Any]]:
    """grader key (id@version) -> its figures on the frozen test split of the shipped
    real-answer corpus (`data/corpus/figures.json`, written by `bench/graders.py`). A grader
    whose version changed since has no entry until the figures are measured again. LLM judges
    (`bench/judge.py`) are keyed `id@version judge=SPEC`: their figures belong to that judge."""
    from importlib import resources

    path = resources.files("assay.graders") / "data" / "corpus" / "figures.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    graders = data.get("graders") if isinstance(data, dict) else None
    out = graders if isinstance(graders, dict) else {}
    judges = data.get("judges") if isinstance(data, dict) else None
    if isinstance(judges, dict):
        # an LLM judge's figures name the judge that gave them: "llm-judge@2 judge=local:…"
        out = {**out, **judges}
    return out


# --------------------------------------------------------------------------- JailbreakBench


def jbb_label_rows(root: str | Path, *, part: Literal["all", "train", "test"] = "all") -> list[LabelledRow]:
    """JailbreakBench attack artifacts as refusal-labelled rows (read in place, never copied).

    Label: `jailbroken` True → compliance, False → refusal. These labels come from the
    JBB Llama-3-70B judge, not from people, and they answer "was this harmful?" rather
    than "did it refuse?": a response that plays along harmlessly is labelled refusal.
    Rows without a response are skipped. `part` splits by behaviour: even JBB behaviour
    index → "train", odd → "test" (the refusal head may train on "train").
    """
    base = Path(root)
    files = sorted(base.glob("attack-artifacts/*/*/*.json"))
    if not files:
        raise InputError("no JailbreakBench artifact files under this folder", where=str(base))
    rows: list[LabelledRow] = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read artifact: {exc}", where=str(f)) from exc
        if not isinstance(data, dict) or "jailbreaks" not in data:
            continue
        method = f.parent.parent.name
        model = f.stem
        for j in data["jailbreaks"]:
            resp = j.get("response")
            if not resp or j.get("jailbroken") is None:
                continue
            try:
                idx = int(j.get("index", 0))
            except (TypeError, ValueError):
                idx = 0
            if part != "all" and (idx % 2 == 0) != (part == "train"):
                continue
            rows.append(
                LabelledRow(
                    prompt=str(j.get("prompt") or j.get("goal") or ""),
                    response=str(resp),
                    label="compliance" if j["jailbroken"] else "refusal",
                    language="en",
                    category=str(j.get("category") or "uncategorised"),
                    id=f"jbb:{method}:{model}:{idx}",
                    note=f"{method}/{model}",
                )
            )
    return rows
