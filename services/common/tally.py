"""A counter for log lines that sum up frequent events."""

from __future__ import annotations

import time
from collections.abc import Callable


class Tally:
    """Counts events and says when to report them: at most once per ``interval`` seconds.

    For a log line that sums up what happens a thousand times a second (one line per event
    would flood the logs and cost more than the event itself).
    """

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._count = 0
        self._next_report = float("-inf")  # the first event is reported at once

    def add(self) -> int:
        """Count one event: how many to report now (this one included), 0 when not yet due."""
        self._count += 1
        now = self._clock()
        if now < self._next_report:
            return 0
        count, self._count = self._count, 0
        self._next_report = now + self._interval
        return count
