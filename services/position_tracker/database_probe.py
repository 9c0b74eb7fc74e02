"""Whether the tracker reaches its database, as a metric: a ping every few seconds sets
``fleet_tracker_database_up`` (what the ``DatabaseDown`` alert watches), whether or not any
request or message needs the database at that moment. Losing it and getting it back are logged
once each, inside one always-sampled "database outage" span: the alert's log records lead to
its trace."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from observability.runtime.logs import fields
from observability.runtime.metrics import Instrument
from observability.runtime.tracing import IncidentSpan

log = logging.getLogger(__name__)

#: Seconds between pings.
INTERVAL_S = 5.0


class DatabaseProbe:
    def __init__(
        self,
        ping: Callable[[], str | None],
        up: Instrument,
        outage: IncidentSpan,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.ping = ping
        self.up = up
        self.outage = outage
        self.interval_s = interval_s
        self._reachable = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-db-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def probe_once(self) -> None:
        problem = self.ping()
        self.up.set(0 if problem else 1)
        if problem and self._reachable:
            self.outage.begin(problem)
            with self.outage.current():
                log.warning(
                    "the database is unreachable: %s",
                    problem,
                    extra=fields(**{"event.action": "database-lost", "event.outcome": "failure"}),
                )
        elif not problem and not self._reachable:
            with self.outage.current():
                log.info(
                    "the database is reachable again",
                    extra=fields(**{"event.action": "database-back"}),
                )
            self.outage.end()
        self._reachable = not problem

    def _run(self) -> None:
        self.probe_once()
        while not self._stop.wait(self.interval_s):
            self.probe_once()
