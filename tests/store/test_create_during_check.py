"""A new run is written while the target's check is out, and committed only when it passes
(issue 14: the check's round trip no longer delays the run's creation)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import assay._pipeline as pipeline
import assay.api as api
from assay.core.errors import InputError
from assay.store import Store
from assay.testing.mock_openai import MockServer


def _slow_check(ok: bool, delay_s: float) -> Callable[..., Any]:
    real = pipeline.check_target_async

    async def check(target: Any, params: Any = None) -> pipeline.TargetCheck:
        await asyncio.sleep(delay_s)  # long after the run's rows were inserted
        if ok:
            return await real(target, params)
        return pipeline.TargetCheck(
            str(target.spec), False, delay_s, None, "", "HTTP 401: wrong API key", "auth", target.describe()
        )

    return check


def test_a_failed_check_leaves_no_run_even_after_the_rows_were_written(
    sqlite_url: str, mock_env: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mock_env()
    monkeypatch.setattr(pipeline, "check_target_async", _slow_check(False, 0.5))
    with pytest.raises(InputError, match="401"):
        api.run("openai:mock", banks=("starter",), limit=30, db=sqlite_url)
    store = Store(sqlite_url)
    try:
        assert store.list_runs(limit=10) == []
    finally:
        store.engine.dispose()
    assert server.state.requests == 0  # no case was sent


@pytest.mark.parametrize("overlap_s", [5.0, 0.05])
def test_a_passed_check_commits_the_run_however_long_it_took(
    sqlite_url: str, mock_env: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch, overlap_s: float
) -> None:
    """Within CHECK_OVERLAP_S the transaction waits for the check; past it, it rolls back
    (a SQLite store stays locked no longer) and the run is written again after the check."""
    mock_env()
    monkeypatch.setattr(pipeline, "check_target_async", _slow_check(True, 0.3))
    monkeypatch.setattr(pipeline, "CHECK_OVERLAP_S", overlap_s)
    result = api.run("openai:mock", banks=("starter",), limit=30, db=sqlite_url)
    assert result.stats.done == 30 and not result.incomplete
    store = Store(sqlite_url)
    try:
        assert [r.id for r in store.list_runs(limit=10)] == [result.run.id]
        assert store.count_responses(result.run.id) == 30
    finally:
        store.engine.dispose()
