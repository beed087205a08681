"""One writer per run: a lease in the store, refreshed by a heartbeat while the run goes on.

`RunLease(store, run_id).acquire()` takes the run's lease by compare-and-set (see
`Store.take_lease`) or refuses with a clear message (exit 2) while another live process
holds it. A lease whose heartbeat is older than `stale_after_s`, or whose holder is a
process of this host that no longer exists (killed with -9), is taken over. While held,
a thread refreshes the heartbeat every `stale_after_s / 6` seconds; if the lease was
taken away (the holder was presumed dead but was not), `on_lost` is called so the run
stops sending at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from assay.core.errors import InputError
from assay.store.db import Store, lease_owner_id

#: seconds without a heartbeat after which a lease is presumed dead ($ASSAY_LEASE_TIMEOUT_S)
DEFAULT_STALE_AFTER_S = 60.0


def stale_after_s() -> float:
    try:
        return max(1.0, float(os.environ.get("ASSAY_LEASE_TIMEOUT_S", DEFAULT_STALE_AFTER_S)))
    except ValueError:
        return DEFAULT_STALE_AFTER_S


class RunLease:
    def __init__(self, store: Store, run_id: str, stale_after: float | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.owner = lease_owner_id()
        self.stale_after_s = stale_after if stale_after is not None else stale_after_s()
        self.held = False
        self.took_over: str | None = None  # the stale holder this lease replaced
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_lost: Callable[[], None] | None = None

    def acquire(self) -> RunLease:
        taken, holder, age = self.store.take_lease(self.run_id, self.owner, self.stale_after_s)
        if not taken:
            since = "" if age is None else f", last heartbeat {age:.0f} s ago"
            raise InputError(
                f"run {self.run_id} is being run by another process ({holder or 'unknown'}{since}); "
                "one run has one writer. Wait for it to end; if that process was killed on another "
                f"machine, its lease expires {self.stale_after_s:.0f} s after its last heartbeat",
                where="--resume",
            )
        self.held = True
        if holder and holder != self.owner:
            self.took_over = holder
        return self

    def start_heartbeat(self, on_lost: Callable[[], None] | None = None) -> None:
        self._on_lost = on_lost
        if self._thread is None and self.held:
            self._thread = threading.Thread(target=self._beat, name="assay-lease", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        interval = max(0.2, self.stale_after_s / 6)
        while not self._stop.wait(interval):
            try:
                ours = self.store.renew_lease(self.run_id, self.owner)
            except Exception:  # a transient database error: try again at the next beat
                continue
            if not ours:
                self.held = False
                if self._on_lost is not None:
                    self._on_lost()
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.held:
            self.held = False
            self.store.release_lease(self.run_id, self.owner)

    def __enter__(self) -> RunLease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
