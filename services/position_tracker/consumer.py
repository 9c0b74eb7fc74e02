"""Consumes positions from ActiveMQ in batches; acknowledges them only once they are stored.

Three threads, so the database write of one batch overlaps the decisions on the next:

- stomp.py's receiver thread only queues messages (``inbox``, a C ``SimpleQueue``: parsing frames
  is already most of that thread's work);
- the *decider* takes a batch, decides each message (store with speed and heading, or refuse),
  sends the refused ones to the dead-letter queue (waiting for the broker's receipt) and hands
  the batch on;
- the *writer* stores the batch, together with any others decided meanwhile, in one database call
  (group commit: under load, fewer and larger writes), retrying while the database is down (the
  messages stay unacknowledged, so a crash loses nothing), then acknowledges them all with one
  cumulative ack of the last message; a batch of many vehicles is written in slices, batches of
  other vehicles passing between them (``waves``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import pymongo
import stomp
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Span
from pymongo.errors import ConnectionFailure, PyMongoError
from stomp.utils import Frame
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    wait_exponential,
)

from observability.runtime import Telemetry
from observability.runtime.messaging import inject_headers
from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_tracker.ingest_telemetry import IngestTelemetry, Kept
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import (
    Decision,
    Incoming,
    PreviousPositions,
    decide,
)
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.store import PositionStore
from services.position_tracker.waves import slices, vehicles
from services.positions.messages import Rejection

log = logging.getLogger("position_tracker.consumer")
T = TypeVar("T")

SUBSCRIPTION = "positions"
#: Headers the broker sets on delivery; every other header of a refused message is kept.
BROKER_HEADERS = frozenset(
    {
        "ack", "content-length", "destination", "expires", "message-id", "persistent",
        "priority", "redelivered", "subscription", "timestamp", "transformation",
        "traceparent", "tracestate",
    }
)  # fmt: skip


@dataclass
class _Decided:
    """A batch whose refused messages are dead-lettered, ready to be written and acknowledged."""

    last: Incoming
    spans: list[Span]
    kept: Kept
    #: How many decided batches this is (the writer groups them).
    batches: int = 1


def redelivery_wait(batch: list[Incoming], grace: float, now: float) -> float:
    """Seconds to wait before deciding ``batch``: until ``grace`` after its newest redelivered
    message arrived (0 without one).

    The broker redelivers what a consumer had unacknowledged as soon as its connection ends. If
    that consumer was another tracker, killed while writing those positions, its last command
    can still be running in the database: decided at once, the positions would be found missing
    and written a second time (53 of 400 once in the crash test, on a loaded machine)."""
    arrivals = [item.received_ns for item in batch if item.headers.get("redelivered") == "true"]
    if not arrivals:
        return 0.0
    return max(0.0, max(arrivals) / 1e9 + grace - now)


#: The longest budget an ingest attempt gets, however many timed out before it.
MAX_ATTEMPT_BUDGET_S = 30.0


def attempt_budget_s(settings: TrackerSettings, attempt: int) -> float:
    """The time budget of ingest attempt number ``attempt`` (1, 2, ...): DB_OPERATION_TIMEOUT_MS,
    doubled on each retry up to 30 s, so that a database that is slow but working (a large
    batch under load) is given time in the end instead of the same batch timing out forever."""
    base = settings.db_operation_timeout_ms / 1000
    return min(base * 2 ** (attempt - 1), max(base, MAX_ATTEMPT_BUDGET_S))


def stall_problem(waiting: int, idle_s: float, limit_s: float) -> str | None:
    """Why ingest counts as stalled (messages waiting, nothing stored for over ``limit_s``), or
    None. An idle tracker with nothing to do is not stalled."""
    if waiting > 0 and idle_s > limit_s:
        return f"ingest stalled: {waiting} messages waiting, nothing stored for {idle_s:.0f} s"
    return None


def backlog_of_mine(waiting_in_broker: int, consumers: int) -> int:
    """The part of the queue's backlog that stalls this tracker if it stores nothing: all of it
    when it is the queue's only consumer; none when others share the queue, since the backlog
    may be theirs (message groups keep each vehicle on its consumer, and an idle tracker with
    no group is not stalled). A tracker then counts as stalled only on messages in its hands;
    a queue that nobody drains is PositionQueueBacklogGrowing's and PositionsNotStored's."""
    return waiting_in_broker if consumers <= 1 else 0


class PositionConsumer:
    """The tracker's ingest path, from the queue to the database."""

    def __init__(
        self, settings: TrackerSettings, store: PositionStore, telemetry: Telemetry
    ) -> None:
        self.settings = settings
        self.store = store
        self.record = IngestTelemetry(telemetry, settings)
        self.inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        #: At most two batches decided ahead of the writer (bounded memory, ordered acks).
        self.decided: queue.Queue[_Decided] = queue.Queue(maxsize=2)
        self.previous = PreviousPositions(store.previous, store.latest_of, store.stored_times)
        self.limits = settings.limits()
        self.broker = BrokerConnection(
            settings, "position-tracker", on_connect=self._subscribe, on_message=self._on_message
        )
        self._connection = 0
        #: The last database call failed (no success since): a stop then gives up at once.
        self._database_failing = False
        #: When a batch was last stored and acknowledged (monotonic), or ingest started.
        self._progressed = time.monotonic()
        #: The connection whose messages the decider handled last.
        self._deciding_for = 0
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._decide_loop, name="tracker-decider", daemon=True),
            threading.Thread(target=self._write_loop, name="tracker-writer", daemon=True),
        ]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        newest = self.store.newest_stored_at()
        if newest is not None:
            self.record.restored(newest.timestamp())
        self.broker.start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the batches in hand, then disconnect; what is unacknowledged is redelivered."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self.broker.stop()

    @property
    def connected(self) -> bool:
        return self.broker.connected

    def stall(self, waiting_in_broker: int, limit_s: float) -> str | None:
        """For readiness: messages waiting (in the broker or in hand) and nothing stored for
        ``limit_s``; None otherwise."""
        waiting = waiting_in_broker + self.inbox.qsize() + self.decided.qsize()
        return stall_problem(waiting, time.monotonic() - self._progressed, limit_s)

    # -- receiving (stomp.py's thread) ---------------------------------------------------------
    def _subscribe(self, conn: stomp.Connection12) -> None:
        self._connection += 1
        conn.subscribe(
            destination=queue_destination(self.settings.position_queue),
            id=SUBSCRIPTION,
            ack="client",  # cumulative: one ack per batch
            headers={
                "activemq.prefetchSize": str(self.settings.prefetch),
                # MapMessages (the original Java simulator's) arrive as JSON.
                "transformation": "jms-map-json",
            },
        )

    def _on_message(self, frame: Frame) -> None:
        # The body's bytes as delivered: parsed strictly, and dead-lettered byte for byte.
        body = frame.body if isinstance(frame.body, bytes) else frame.body.encode()
        # The frame is ours alone once delivered: its headers need no copy.
        self.inbox.put(Incoming(body, frame.headers, time.time_ns(), self._connection))

    # -- deciding ------------------------------------------------------------------------------
    def _decide_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch()
            current = [item for item in batch if item.connection == self._connection]
            if not current:  # messages of a gone connection are redelivered: skip them
                continue
            if current[0].connection != self._deciding_for:
                self._wait_for_writes()
                self._deciding_for = current[0].connection
            grace = redelivery_wait(current, self.settings.redelivery_grace_ms / 1000, time.time())
            if grace > 0:
                self._stopping.wait(grace)
            with self._redelivered_on_failure():
                # Deciding may look up a vehicle's previous position: the database may be down.
                decided = self._with_database(partial(self._decide, current))
                if decided is not None:
                    self._hand_to_writer(decided)

    def _hand_to_writer(self, decided: _Decided) -> None:
        """Queue a batch for the writer; when stopping, drop it instead (unacknowledged, it is
        redelivered) rather than wait for a writer that may be gone."""
        while not self._stopping.is_set():
            try:
                self.decided.put(decided, timeout=0.5)
                return
            except queue.Full:
                continue
        self._end(decided.spans)

    def _wait_for_writes(self) -> None:
        """Before the first messages of a new connection: until every batch decided before is
        written. They are redelivered (their acks went with the old connection), and a
        redelivered position is only recognised as stored once its first copy is."""
        done = self.decided.all_tasks_done
        with done:
            while self.decided.unfinished_tasks and not self._stopping.is_set():
                done.wait(0.5)

    def _take_batch(self) -> list[Incoming]:
        try:
            batch = [self.inbox.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.settings.batch_wait_ms / 1000
        while len(batch) < self.settings.batch_max:
            try:
                remaining = deadline - time.monotonic()
                batch.append(
                    self.inbox.get(timeout=remaining) if remaining > 0 else self.inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _decide(self, batch: list[Incoming]) -> _Decided | None:
        decisions = decide(batch, self.previous, datetime.now(UTC), self.limits)
        spans = [self.record.start_span(d) for d in decisions]
        self.record.received(decisions)
        for decision, span in zip(decisions, spans, strict=True):
            if isinstance(decision.outcome, Rejection):
                with trace.use_span(span):
                    if not self._dead_letter(decision, decision.outcome):
                        self._end(spans)
                        return None
        kept = [(d, s) for d, s in zip(decisions, spans, strict=True) if d.vehicle is not None]
        # The next batch chains its speeds to these; the writer stores them before it is acked.
        self.previous.commit([d.outcome for d, _ in kept])  # type: ignore[misc]
        return _Decided(batch[-1], spans, kept)

    def _dead_letter(self, decision: Decision, rejection: Rejection) -> bool:
        item = decision.incoming
        headers = inject_headers(
            {k: v for k, v in item.headers.items() if k not in BROKER_HEADERS}
            | {
                "dlq-reason": rejection.reason.value,
                "dlq-detail": rejection.detail,
                "dlq-original-destination": self.settings.position_queue,
                "dlq-original-message-id": item.message_id,
                "content-type": item.headers.get("content-type", "text/plain"),
            }
        )
        try:
            self.broker.send(queue_destination(self.settings.dead_letter_queue), item.body, headers)
        except (BrokerUnavailable, TimeoutError) as exc:
            # A later cumulative ack would cover this message: drop the connection instead, so
            # everything unacknowledged comes back.
            log.warning("could not dead-letter a message; reconnecting to get it again: %s", exc)
            self.broker.reconnect()
            return False
        self.record.dead_lettered(decision, rejection)
        return True

    # -- writing -------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        # The database client's own spans would be orphans here: we record our own.
        with suppress_instrumentation():
            while not (self._stopping.is_set() and self.decided.empty()):
                try:
                    taken = [self._group(self.decided.get(timeout=0.5))]
                except queue.Empty:
                    continue
                with self._redelivered_on_failure():
                    try:
                        self._write_and_ack(taken)
                    finally:
                        for decided in taken:
                            self._end(decided.spans)
                            for _ in range(decided.batches):
                                self.decided.task_done()

    def _group(self, first: _Decided) -> _Decided:
        """``first`` and every batch decided meanwhile, as one write: the per-write costs (the
        latest-position updates, the database round trip, the ack) are paid once for them all."""
        group = [first]
        while True:
            try:
                group.append(self.decided.get_nowait())
            except queue.Empty:
                break
        if len(group) == 1:
            return first
        return _Decided(
            group[-1].last,
            [span for batch in group for span in batch.spans],
            [kept for batch in group for kept in batch.kept],
            batches=len(group),
        )

    def _write_and_ack(self, taken: list[_Decided]) -> None:
        """Write ``taken[0]`` (slice by slice when it is a wave, with the batches decided
        meanwhile passing between the slices and appended to ``taken``: ``waves``), then
        acknowledge everything up to the last message written."""
        if not self._write_passing(taken):
            return  # stopping while the database is down: all of it is redelivered
        # Everything up to the last batch's last message is stored or dead-lettered by now.
        if not self._ack(taken[-1].last):
            return
        self._progressed = time.monotonic()
        for decided in taken:
            if decided.kept:
                duplicates = {d.outcome.key for d, _ in decided.kept if d.duplicate}  # type: ignore[union-attr]
                self.record.stored(decided.kept, duplicates)

    def _write_passing(self, taken: list[_Decided]) -> bool:
        parts = slices(taken[0].kept, self.settings.write_slice_vehicles)
        held: _Decided | None = None
        for n, part in enumerate(parts):
            if not self._write(part):
                return False
            rest = vehicles(item for later in parts[n + 1 :] for item in later)
            while rest and held is None and (passing := self._decided_meanwhile()) is not None:
                taken.append(passing)
                if vehicles(passing.kept) & rest:
                    held = passing  # it follows the wave's rest, as everything decided after it
                elif not self._write(passing.kept):
                    return False
        return held is None or self._write(held.kept)

    def _decided_meanwhile(self) -> _Decided | None:
        try:
            return self.decided.get_nowait()
        except queue.Empty:
            return None

    def _write(self, kept: Kept) -> bool:
        """One database write of ``kept`` (its duplicates skipped); False when stopping while
        the database is down."""
        if not kept:
            return True
        start_ns = time.time_ns()
        positions: list[StoredPosition] = [d.outcome for d, _ in kept if not d.duplicate]  # type: ignore[misc]
        if self._with_database(partial(self._store, positions)) is None:
            return False
        self.record.written(kept, start_ns, time.time_ns())
        return True

    def _store(self, positions: list[StoredPosition]) -> bool:
        self.store.write(positions)
        return True

    def _with_database(self, work: Callable[[], T]) -> T | None:
        """``work``, retried with back-off while the database fails (the messages in hand stay
        unacknowledged); None when stopping during an outage (they are redelivered)."""
        retrying = Retrying(
            wait=wait_exponential(multiplier=0.1, max=5),
            retry=retry_if_exception_type(PyMongoError),
            # A stop ends the back-off at once, not after it (a SIGTERM during a database
            # outage used to take 29 s: attempts and sleeps went on until the joins gave up).
            stop=lambda _state: self._stopping.is_set(),
            sleep=self._stopping.wait,
            before_sleep=self._store_failed,
        )
        if self._stopping.is_set() and self._database_failing:
            return None  # no attempt of several seconds against a database that is down
        try:
            for attempt in retrying:
                number = attempt.retry_state.attempt_number
                # One budget for all the commands of an attempt (a write is several): against a
                # database that is down, each would otherwise wait the whole time on its own.
                with attempt, pymongo.timeout(attempt_budget_s(self.settings, number)):
                    if number > 1:
                        self._check_reachable()
                    result = work()
                    self._database_failing = False
                    return result
        except RetryError:
            return None  # stopping during an outage: what is in hand is redelivered
        return None  # pragma: no cover - an attempt either returns or raises

    def _check_reachable(self) -> None:
        """Before a retry: a database that does not answer a ping (1 s) is not given a whole
        attempt's budget (a stop would wait for it)."""
        reason = self.store.ping()
        if reason is not None:
            raise ConnectionFailure(reason)

    @contextmanager
    def _redelivered_on_failure(self) -> Iterator[None]:
        """An unexpected error must not stop ingestion: drop the connection, so the broker
        redelivers everything unacknowledged, and carry on."""
        try:
            yield
        except Exception:
            log.exception("ingest failed; reconnecting so the broker redelivers what is in hand")
            self.broker.reconnect()

    @property
    def running(self) -> bool:
        """Both ingest threads are alive (for readiness)."""
        return all(thread.is_alive() for thread in self._threads)

    def _store_failed(self, state: RetryCallState) -> None:
        self._database_failing = True
        self.record.store_failed(state.outcome.exception() if state.outcome else None)

    def _ack(self, item: Incoming) -> bool:
        if item.connection != self._connection:
            return False  # that connection is gone; the broker redelivers and the store dedupes
        try:
            self.broker.connection.ack(item.headers.get("ack", item.message_id))
        except (BrokerUnavailable, stomp.exception.NotConnectedException):
            log.warning("could not acknowledge stored messages; they will be redelivered")
            return False
        return True

    @staticmethod
    def _end(spans: list[Span]) -> None:
        for span in spans:
            span.end()
