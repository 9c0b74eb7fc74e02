"""The replay loop: wait until the next position is due, publish it, move on; resend on failure.

One thread publishes in due order. A failed publish leaves the vehicle's cursor where it was,
so the same position (same timestamp) goes out again once the broker is back; positions that
fell due meanwhile follow in order, unless the outage lasted longer than ``max_backlog_s``, in
which case the older ones are skipped rather than flooded into the queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from observability.runtime.logs import fields
from services.position_simulator.publisher import PublishFailed
from services.position_simulator.replay import Emission
from services.position_simulator.schedule import Schedule

log = logging.getLogger(__name__)

#: Pause before resending after a receipt timed out on a live connection.
RETRY_PAUSE_S = 0.5
#: How often a wait for the broker checks whether the engine is stopping.
RECONNECT_POLL_S = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReplayEngine:
    """Runs a schedule against a publish function on a background thread."""

    def __init__(
        self,
        schedule: Schedule,
        publish: Callable[[Emission], None],
        wait_connected: Callable[[float], bool],
        *,
        max_backlog_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.schedule = schedule
        self._publish = publish
        self._wait_connected = wait_connected
        self._max_backlog = timedelta(seconds=max_backlog_s)
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="replay", daemon=True)
        #: Set when the loop died of an unexpected error (readiness then reports it).
        self.crashed: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Finish the publish in flight (its receipt included), then stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug: say so loudly and let readiness fail
            self.crashed = exc
            log.exception("the replay loop stopped on an unexpected error")

    def _loop(self) -> None:
        while not self._stop.is_set():
            emission = self.schedule.peek()
            now = self._clock()
            if emission.due > now:
                self._stop.wait((emission.due - now).total_seconds())
                continue  # re-read: stopping, or now due
            if now - emission.due > self._max_backlog:
                self._skip_backlog(now)
                continue
            if not self._wait_connected(0):
                self._wait_for_broker()  # not yet (or no longer) connected: not a failed publish
                continue
            try:
                self._publish(emission)
            except PublishFailed as failure:
                if failure.reason == "timeout":
                    self._stop.wait(RETRY_PAUSE_S)
                continue  # the cursor stays: the same emission goes out again
            self.schedule.acknowledged(emission)

    def _wait_for_broker(self) -> None:
        while not self._stop.is_set() and not self._wait_connected(RECONNECT_POLL_S):
            pass

    def _skip_backlog(self, now: datetime) -> None:
        skipped = self.schedule.skip_due_before(now - self._max_backlog)
        log.warning(
            "fell more than %.0f s behind (broker outage?): skipped %d positions",
            self._max_backlog.total_seconds(),
            skipped,
            extra=fields(**{"event.action": "backlog-skipped", "event.outcome": "failure"}),
        )
