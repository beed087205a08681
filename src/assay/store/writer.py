"""Group commit: results are committed as they arrive, in batches, off the event loop.

One thread owns the writes. Whenever it is idle it takes *everything* that has queued
up since its last commit and commits it in one transaction, so batches grow by
themselves with the load. The database driver releases the GIL while it writes, so the
event loop keeps sending requests meanwhile.

Results written from the event loop are handed to the thread once per loop iteration, as
one list: a wake-up of the writer thread costs the event loop a GIL hand-over, and one per
result would cost more than the insert.

`write_graded()` also takes the grading of the answer, as a function the thread runs just
before the commit: graders then run beside the event loop instead of stalling it (an
embedding grader spends its time in C with the GIL released), and a result still costs one
hand-over, not two.

`write()` returns once the result is committed. Each of the engine's workers sends its
next case while its last answer is graded and committed, and waits for that commit before
handing over another: at most `concurrency` cases are in flight and at most `concurrency`
more are answered but not yet durable. A `kill -9` therefore re-sends at most twice
`concurrency` cases on resume, and the work held in memory is never more than one
transaction's worth.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assay.core.types import Judgment, Response
from assay.store.db import Store


@dataclass(slots=True)
class _Item:
    response: Response | None
    judgments: Sequence[Judgment]
    cache: tuple[str, str, Response] | None
    done: asyncio.Future[list[Judgment]] | None
    loop: asyncio.AbstractEventLoop | None
    pending: Response | None = None  # a case left unanswered: only its error is recorded
    #: run in the writer thread before the commit; returns the response's judgments
    grade: Callable[[], Sequence[Judgment]] | None = None
    failed: BaseException | None = None  # `grade` raised: nothing of this item is stored


class _Barrier:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


_STOP = object()


class ResultWriter:
    def __init__(self, store: Store, run_id: str, max_batch: int = 2000) -> None:
        self.store = store
        self.run_id = run_id
        self.max_batch = max_batch
        self._q: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="assay-writer", daemon=True)
        self.error: BaseException | None = None
        self.committed_responses = 0
        self.commits = 0
        # results written on the event loop since its last iteration, handed over at once
        self._staged: list[_Item] = []
        self._staged_lock = threading.Lock()

    def start(self) -> ResultWriter:
        self._thread.start()
        return self

    async def write(
        self,
        response: Response | None,
        judgments: Sequence[Judgment] = (),
        cache: tuple[str, str, Response] | None = None,
    ) -> None:
        """Queue a result and wait until it is committed."""
        self._raise_if_failed()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Judgment]] = loop.create_future()
        self._stage(loop, _Item(response, judgments, cache, done, loop))
        await done

    async def write_graded(
        self,
        response: Response,
        grade: Callable[[], Sequence[Judgment]],
        cache: tuple[str, str, Response] | None = None,
    ) -> list[Judgment]:
        """Grade a response in the writer thread (`grade()` returns its judgments), commit
        both, and return the judgments once they are durable. An exception from `grade` is
        raised here, and nothing of this response is stored."""
        self._raise_if_failed()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Judgment]] = loop.create_future()
        self._stage(loop, _Item(response, (), cache, done, loop, grade=grade))
        return await done

    async def write_pending(self, response: Response) -> None:
        """Record why a case is still unanswered (a transport failure) and wait for the commit."""
        self._raise_if_failed()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Judgment]] = loop.create_future()
        self._stage(loop, _Item(None, (), None, done, loop, response))
        await done

    def _stage(self, loop: asyncio.AbstractEventLoop, item: _Item) -> None:
        with self._staged_lock:
            first = not self._staged
            self._staged.append(item)
        if first:
            loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        """Everything staged so far goes to the writer thread in one queue entry."""
        with self._staged_lock:
            staged, self._staged = self._staged, []
        if staged:
            self._q.put(staged)

    def put(
        self,
        response: Response | None,
        judgments: Sequence[Judgment] = (),
        cache: tuple[str, str, Response] | None = None,
    ) -> None:
        """Queue a result without waiting (use `flush` to wait)."""
        self._raise_if_failed()
        self._q.put(_Item(response, judgments, cache, None, None))

    def flush(self, timeout: float | None = 60) -> None:
        """Block until everything queued so far is committed."""
        self._hand_over()
        barrier = _Barrier()
        self._q.put(barrier)
        barrier.event.wait(timeout)
        self._raise_if_failed()

    def close(self) -> None:
        self._hand_over()
        self._q.put(_STOP)
        self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the result writer failed: {self.error}") from self.error

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch: list[object] = []
            got = self._q.get()
            while True:
                if isinstance(got, list):
                    batch.extend(got)
                else:
                    batch.append(got)
                if len(batch) >= self.max_batch:
                    break
                try:
                    got = self._q.get_nowait()
                except queue.Empty:
                    break
            items = [i for i in batch if isinstance(i, _Item)]
            stop = any(i is _STOP for i in batch)
            if items and self.error is None:
                for i in items:
                    if i.grade is not None:
                        try:
                            i.judgments = list(i.grade())
                        except BaseException as exc:  # raised to this item's writer alone
                            i.failed = exc
                kept = [i for i in items if i.failed is None]
                try:
                    self.store.write_results(
                        self.run_id,
                        [i.response for i in kept if i.response is not None],
                        [j for i in kept for j in i.judgments],
                        [i.cache for i in kept if i.cache is not None],
                        [i.pending for i in kept if i.pending is not None],
                    )
                    self.committed_responses += sum(1 for i in kept if i.response is not None)
                    self.commits += 1
                except BaseException as exc:  # reported to the engine by the futures and on the next call
                    self.error = exc
            self._settle(items)
            for b in batch:
                if isinstance(b, _Barrier):
                    b.event.set()

    def _settle(self, items: list[_Item]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        for i in items:
            if i.done is not None and i.loop is not None:
                by_loop.setdefault(i.loop, []).append(i)
        error = self.error
        for loop, mine in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, mine, error)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                continue


def _resolve(items: list[_Item], error: BaseException | None) -> None:
    for i in items:
        f = i.done
        if f is None or f.done():
            continue
        if i.failed is not None:
            f.set_exception(i.failed)
        elif error is None:
            f.set_result(list(i.judgments))
        else:
            f.set_exception(RuntimeError(f"the result writer failed: {error}"))
