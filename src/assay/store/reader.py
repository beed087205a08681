"""Reads of a finished run, each made once: the end-of-run summary and the report share them
instead of re-reading (and re-validating) the whole run from the database twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assay.core.types import Case, CaseFacts, Judgment, JudgmentFacts, Response, ResponseFacts, Run
from assay.store.db import Store


class RunReader(Store):
    """A `Store` whose reads of one run (run, cases, responses, judgments and their facts) are
    made once and kept. Only for a run nothing writes to any more (a finished run, as
    `assay run` prints and reports it); every other method is the store's own."""

    def __init__(self, store: Store) -> None:  # no super().__init__: shares the open store
        self.__dict__.update(store.__dict__)
        self._memo: dict[tuple[str, str], Any] = {}

    def _once(self, what: str, run_id: str, read: Any) -> Any:
        key = (what, run_id)
        if key not in self._memo:
            self._memo[key] = read(run_id)
        return self._memo[key]

    def get_run(self, run_id: str) -> Run:
        return self._once("run", run_id, super().get_run)  # type: ignore[no-any-return]

    def run_cases(self, run_id: str, case_ids: Iterable[str] | None = None) -> list[Case]:
        if case_ids is not None:
            return super().run_cases(run_id, case_ids)
        return self._once("cases", run_id, super().run_cases)  # type: ignore[no-any-return]

    def responses(self, run_id: str, case_ids: Iterable[str] | None = None) -> dict[str, Response]:
        if case_ids is not None:
            return super().responses(run_id, case_ids)
        return self._once("responses", run_id, super().responses)  # type: ignore[no-any-return]

    def judgments(
        self, run_id: str, grader: str | None = None, case_ids: Iterable[str] | None = None
    ) -> list[Judgment]:
        if grader is not None or case_ids is not None:
            return super().judgments(run_id, grader, case_ids)
        return self._once("judgments", run_id, super().judgments)  # type: ignore[no-any-return]

    def case_facts(self, run_id: str) -> list[CaseFacts]:
        return self._once("case_facts", run_id, super().case_facts)  # type: ignore[no-any-return]

    def response_facts(self, run_id: str) -> dict[str, ResponseFacts]:
        return self._once("response_facts", run_id, super().response_facts)  # type: ignore[no-any-return]

    def judgment_facts(self, run_id: str) -> list[JudgmentFacts]:
        return self._once("judgment_facts", run_id, super().judgment_facts)  # type: ignore[no-any-return]
