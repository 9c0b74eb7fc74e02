"""The fleet's latest positions, kept in memory for ``GET /vehicles``: the live map's poll.

Hundreds of browsers poll the list every second or two. Each poll used to read every vehicle's
document; now one read every :attr:`FleetSnapshot.max_age` seconds serves them all, answered from
memory as JSON rendered once per read. The snapshot is read from the database, not kept from
what this tracker stores, so every replica serves what all of them stored.

Freshness: a background thread reads it again every ``max_age`` seconds while it is being asked
for, so a stored position is in the answer within ``max_age`` (plus one read). After
``idle_after`` seconds without a request the thread stops reading; the next request then reads
the database itself before answering (one request waits, the others that arrive meanwhile wait
for that read).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pymongo.errors import PyMongoError

from services.position_tracker.positions import StoredPosition

log = logging.getLogger("position_tracker.snapshot")

Render = Callable[[list[StoredPosition], datetime], bytes]


@dataclass(frozen=True)
class Snapshot:
    """The fleet as read at ``read_at`` (monotonic seconds), with its renderings."""

    read_at: float
    positions: dict[str, StoredPosition]
    rendered: dict[str, bytes] = field(default_factory=dict)


class FleetSnapshot:
    def __init__(
        self,
        read: Callable[[], list[StoredPosition]],
        renderers: dict[str, Render],
        max_age: float = 0.25,
        idle_after: float = 30.0,
    ) -> None:
        self._read = read
        self._renderers = renderers
        self.max_age = max_age
        self.idle_after = idle_after
        self._current: Snapshot | None = None
        self._last_asked = 0.0
        self._reading = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-snapshot", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def current(self) -> Snapshot:
        """A snapshot at most ``max_age`` (plus one read) old; raises PyMongoError when it must
        be read and the database fails."""
        self._last_asked = time.monotonic()
        snapshot = self._current
        # Twice max_age: the thread reads every max_age, a read takes time; past that, it is
        # idle (or failing) and this request reads for itself.
        if snapshot is None or time.monotonic() - snapshot.read_at > 2 * self.max_age:
            snapshot = self._refresh(older_than=snapshot)
            self._wake.set()
        return snapshot

    def rendered(self, name: str) -> bytes:
        return self.current().rendered[name]

    def _refresh(self, older_than: Snapshot | None) -> Snapshot:
        with self._reading:
            current = self._current
            if current is not None and current is not older_than:
                return current  # another request read it while this one waited
            started = time.monotonic()
            positions = self._read()
            now = datetime.now(UTC)
            snapshot = Snapshot(
                started,
                {p.vehicle: p for p in positions},
                {name: render(positions, now) for name, render in self._renderers.items()},
            )
            self._current = snapshot
            return snapshot

    def _run(self) -> None:
        while not self._stop.is_set():
            if time.monotonic() - self._last_asked > self.idle_after:
                self._wake.wait()  # idle: sleep until a request comes
                self._wake.clear()
                continue
            try:
                self._refresh(older_than=self._current)
            except PyMongoError as exc:
                log.warning("reading the fleet's latest positions failed: %s", exc)
            self._stop.wait(self.max_age)
