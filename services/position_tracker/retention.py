"""Bounds history: every minute, drops the hours of positions older than the retention period,
and forgets the vehicles not heard from within it (they leave the fleet list).

History lives in one collection per hour (``buckets.py``), so this is a drop of whole
collections, never a delete of positions one by one; an hour is dropped once all of it is older
than the period, and reads never serve a position older than it (``PositionStore.history``).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from pymongo.errors import PyMongoError

from services.position_tracker.store import PositionStore

log = logging.getLogger("position_tracker.retention")


class RetentionJob:
    def __init__(self, store: PositionStore, hours: float, interval_s: float = 60.0) -> None:
        self.store = store
        self.period = timedelta(hours=hours)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-retention", daemon=True)

    def start(self) -> None:
        if self.period > timedelta(0):
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def run_once(self) -> tuple[list[str], int]:
        """The hourly collections dropped, and how many vehicles were forgotten."""
        bound = datetime.now(UTC) - self.period
        return self.store.purge_before(bound), self.store.forget_vehicles_before(bound)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                dropped, forgotten = self.run_once()
            except PyMongoError as exc:
                log.warning("retention purge failed: %s", exc)
                continue
            if dropped:
                log.info(
                    "dropped %s: positions older than the retention period", ", ".join(dropped)
                )
            if forgotten:
                log.info("forgot %d vehicles not heard from within the retention period", forgotten)
