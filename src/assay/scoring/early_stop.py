"""Early-stopping glue between the engine and the sequential monitors.

The engine cannot import the scoring stage (stages only import earlier ones), so the
caller (api / cli) builds an `EarlyStopper` and hands two of its methods to the
engine's hooks:

    stopper = EarlyStopper(plan.requirements, planned=stopper_planned_sizes(...))
    engine = Engine(..., skip=stopper.skip, on_result=stopper.on_result)
    ... after each result: if stopper.finished: engine.stop("every requirement settled")

* `skip(case)` is called by a worker just before it sends a case. It returns True
  when every requirement that selects the case has settled (the case is not sent),
  and otherwise records the case as *dispatched*.
* `on_result(case, response, judgments)` receives the judgments. Outcomes are fed to
  the monitors **in dispatch order**, not arrival order: with concurrency a short
  answer (often a refusal) comes back sooner than a long one, so arrival order depends
  on the outcome and would break the exchangeability the confidence sequence relies
  on. Results that arrive early wait in a buffer until every case dispatched before
  them is in.
* `complete_minimums=True` (evidence mode): a requirement whose verdict has settled
  still takes cases until its minimum sample (`Requirement.min_sample`, e.g. 300 for
  TC260-003 §9.4) is drawn, so a filing carries the sample the standard asks for. A case
  counts as drawn for a requirement once it was fed with a judgment the requirement
  counts, or while it is in flight. The verdicts are unchanged by the extra cases (a
  settled verdict stays settled); the interval narrows.
* `order` is the list of case ids in the order they were fed. Store it with the run
  and pass it to `assess(..., sequential=True, order=...)` together with the same
  `planned` sizes, so the final analysis replays exactly what the monitors saw and
  reaches the same verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assay.core.design import CONFIDENCE, CS_SHARE
from assay.core.types import Case, Judgment
from assay.regimes.model import Requirement
from assay.scoring.decide import JudgedRecord, matches, selects_case
from assay.scoring.results import Verdict
from assay.scoring.sequential import DEFAULT_PRIOR, SequentialMonitor
from assay.scoring.verdicts import applies_at


class EarlyStopper:
    """One SequentialMonitor per measured requirement, fed in dispatch order."""

    def __init__(
        self,
        requirements: Iterable[Requirement],
        *,
        confidence: float = CONFIDENCE,
        planned: Mapping[str, int] | None = None,
        cs_share: float = CS_SHARE,
        prior: tuple[float, float] = DEFAULT_PRIOR,
        default_graders: Mapping[str, str] | None = None,
        level: str | None = None,
        skip_unselected: bool = False,
        complete_minimums: bool = False,
    ) -> None:
        self.requirements = [r for r in requirements if not r.evidence_only and applies_at(r, level)]
        self.default_graders = dict(default_graders or {})
        self.skip_unselected = skip_unselected
        self.monitors: dict[str, SequentialMonitor] = {
            r.id: SequentialMonitor.for_requirement(
                r,
                confidence=confidence,
                prior=prior,
                planned_n=(planned or {}).get(r.id),
                cs_share=cs_share,
            )
            for r in self.requirements
        }
        self.complete_minimums = complete_minimums
        self._seen: dict[str, set[str]] = {r.id: set() for r in self.requirements}
        self._in_flight: dict[str, int] = {r.id: 0 for r in self.requirements}
        self._selecting: dict[str, list[str]] = {}  # dispatched case id -> requirement ids it counts toward
        self._dispatched: list[str] = []
        self._next = 0  # index into _dispatched of the next case to feed
        self._buffer: dict[str, list[Judgment]] = {}
        self._cases: dict[str, Case] = {}
        self.order: list[str] = []
        self.skipped = 0

    # -- engine hooks -------------------------------------------------------------------

    def selecting(self, case: Case) -> list[Requirement]:
        return [r for r in self.requirements if selects_case(r.selector, case)]

    def drawn(self, requirement_id: str) -> int:
        """Cases drawn for a requirement: fed and counted, or still in flight."""
        return len(self._seen[requirement_id]) + self._in_flight[requirement_id]

    def wants(self, requirement: Requirement) -> bool:
        """True while the requirement still needs cases: its verdict is not settled or, in
        evidence mode, its minimum sample is not drawn yet."""
        if not self.monitors[requirement.id].done:
            return True
        return self.complete_minimums and self.drawn(requirement.id) < requirement.min_sample

    def skip(self, case: Case) -> bool:
        """True: do not send `case` (no requirement selecting it needs more cases)."""
        reqs = self.selecting(case)
        needed = not self.skip_unselected if not reqs else any(self.wants(r) for r in reqs)
        if not needed:
            self.skipped += 1
            return True
        self._dispatch(case, reqs)
        return False

    def _dispatch(self, case: Case, reqs: Sequence[Requirement]) -> None:
        self._dispatched.append(case.id)
        self._cases[case.id] = case
        self._selecting[case.id] = [r.id for r in reqs]
        for r in reqs:
            self._in_flight[r.id] += 1

    def on_result(self, case: Case, response: Any, judgments: Sequence[Judgment]) -> None:
        """Take a case's judgments; feed every complete prefix of the dispatch order."""
        if case.id not in self._cases:  # a case the engine sent without asking `skip`
            self._dispatch(case, self.selecting(case))
        self._buffer[case.id] = list(judgments)
        while self._next < len(self._dispatched) and self._dispatched[self._next] in self._buffer:
            cid = self._dispatched[self._next]
            self._feed(self._cases[cid], self._buffer.pop(cid))
            self._next += 1

    # -- state ----------------------------------------------------------------------------

    def _feed(self, case: Case, judgments: Sequence[Judgment]) -> None:
        self.order.append(case.id)
        for rid in self._selecting.pop(case.id, ()):
            self._in_flight[rid] -= 1
        records = [JudgedRecord.from_case(case, j) for j in judgments]
        if not records:
            return
        rec0 = records[0]
        for req in self.requirements:
            if not matches(req.selector, rec0) or case.id in self._seen[req.id]:
                continue
            grader = req.grader or self.default_graders.get(req.id)
            if grader:
                gid = grader.partition("@")[0]
                chosen = next((r for r in records if r.grader_id == gid), None)
            else:
                chosen = rec0  # the plan item's first grader, as in decide.one_per_case
            if chosen is None:
                continue
            self._seen[req.id].add(case.id)
            self.monitors[req.id].update(chosen.outcome)

    @property
    def pending(self) -> int:
        """Dispatched cases whose results are not fed yet (waiting or buffered)."""
        return len(self._dispatched) - self._next

    @property
    def all_settled(self) -> bool:
        """True when every measured requirement with a threshold has settled: stop the run.

        Report-only requirements (no threshold) never settle, so a plan with any of
        them runs its cases to the end (their cases are still not skipped).
        """
        return all(m.done for m in self.monitors.values())

    @property
    def finished(self) -> bool:
        """True when no requirement needs more cases: every verdict settled and, in evidence
        mode, every minimum sample drawn. Stop the engine on this, not on `all_settled`."""
        return not any(self.wants(r) for r in self.requirements)

    def verdicts(self) -> dict[str, Verdict]:
        return {rid: m.verdict() for rid, m in self.monitors.items()}

    def summary(self) -> dict[str, Any]:
        """Plain data to store with the run (order, settle points) for the final analysis."""
        return {
            "order": list(self.order),
            "skipped": self.skipped,
            "complete_minimums": self.complete_minimums,
            "settled": {
                rid: {
                    "verdict": m.verdict().value,
                    "at": m.settled_at,
                    "by": m.settled_by,
                    "planned_n": m.planned_n,
                    "drawn": self.drawn(rid),
                }
                for rid, m in self.monitors.items()
            },
        }
