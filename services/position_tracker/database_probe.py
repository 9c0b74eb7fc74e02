"""Whether the tracker reaches its database, as a metric: a ping every few seconds sets
``fleet_tracker_database_up`` (what the ``DatabaseDown`` alert watches), whether or not any
request or message needs the database at that moment."""

from __future__ import annotations

import threading
from collections.abc import Callable

from observability.runtime.metrics import Instrument

#: Seconds between pings.
INTERVAL_S = 5.0


class DatabaseProbe:
    def __init__(
        self, ping: Callable[[], str | None], up: Instrument, interval_s: float = INTERVAL_S
    ) -> None:
        self.ping = ping
        self.up = up
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-db-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def probe_once(self) -> None:
        self.up.set(0 if self.ping() else 1)

    def _run(self) -> None:
        self.probe_once()
        while not self._stop.wait(self.interval_s):
            self.probe_once()
