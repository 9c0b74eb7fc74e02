"""Consumes positions from ActiveMQ in batches; acknowledges each only once it is stored.

stomp.py's receiver thread only queues messages; one writer thread takes batches, decides,
dead-letters what is refused (the broker's receipt first, then the ack), writes the rest in one
database call (retrying while the database is down: the messages stay unacknowledged, so a
crash loses nothing) and then acknowledges them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import stomp
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Span, SpanKind
from pymongo.errors import PyMongoError
from stomp.utils import Frame
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from observability.runtime import Telemetry
from observability.runtime.logs import fields
from observability.runtime.messaging import extract_context, inject_headers
from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_tracker import telemetry as t
from services.position_tracker.messages import Rejection
from services.position_tracker.processing import (
    Decision,
    Incoming,
    Limits,
    PreviousPositions,
    decide,
)
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.store import PositionStore, StoredPosition

log = logging.getLogger("position_tracker.consumer")

SUBSCRIPTION = "positions"
#: Headers the broker sets on delivery; every other header of a refused message is kept.
BROKER_HEADERS = frozenset(
    {
        "ack",
        "content-length",
        "destination",
        "expires",
        "message-id",
        "persistent",
        "priority",
        "redelivered",
        "subscription",
        "timestamp",
        "transformation",
        "traceparent",
        "tracestate",
    }
)


class PositionConsumer:
    """The tracker's ingest path, from the queue to the database."""

    def __init__(
        self, settings: TrackerSettings, store: PositionStore, telemetry: Telemetry
    ) -> None:
        self.settings = settings
        self.store = store
        self.telemetry = telemetry
        self.tracer = telemetry.tracer
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self.previous = PreviousPositions(store.previous)
        self.limits = Limits(timedelta(seconds=settings.future_skew_seconds), settings.teleport_kmh)
        self.broker = BrokerConnection(
            settings, "position-tracker", on_connect=self._subscribe, on_message=self._on_message
        )
        self._connection = 0
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._run, name="tracker-writer", daemon=True)
        self._last_seen: dict[str, float] = {}
        m = telemetry.metrics
        self._received = m.counter(t.POSITIONS_RECEIVED)
        self._stored = m.counter(t.POSITIONS_STORED)
        self._dead_lettered = m.counter(t.POSITIONS_DEAD_LETTERED)
        self._store_errors = m.counter(t.STORE_ERRORS)
        self._store_duration = m.histogram(t.STORE_DURATION)
        self._delay = m.histogram(t.PUBLISH_TO_STORE_DELAY)
        self._batch_size = m.histogram(t.BATCH_SIZE)
        self._active = m.gauge(t.ACTIVE_VEHICLES)
        self._last_stored = m.gauge(t.LAST_STORED_TIMESTAMP)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        newest = self.store.newest_stored_at()
        if newest is not None:
            # Freshness survives a restart: the newest stored position is as old as it is.
            self._last_stored.set(newest.timestamp())
        self.broker.start()
        self._writer.start()

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect; unacknowledged messages are redelivered."""
        self._stopping.set()
        self._writer.join(timeout=30)
        self.broker.stop()

    @property
    def connected(self) -> bool:
        return self.broker.connected

    # -- receiving (stomp.py's thread) ---------------------------------------------------------
    def _subscribe(self, conn: stomp.Connection12) -> None:
        self._connection += 1
        conn.subscribe(
            destination=queue_destination(self.settings.position_queue),
            id=SUBSCRIPTION,
            ack="client-individual",
            headers={
                "activemq.prefetchSize": str(self.settings.prefetch),
                # MapMessages (the original Java simulator's) arrive as JSON.
                "transformation": "jms-map-json",
            },
        )

    def _on_message(self, frame: Frame) -> None:
        body = frame.body if isinstance(frame.body, str) else frame.body.decode("utf-8", "replace")
        self.inbox.put(
            Incoming(body, dict(frame.headers), time.time(), time.time_ns(), self._connection)
        )

    # -- writing (the writer thread) -----------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch()
            if batch:
                # The database client's own spans would be orphans here: we record our own.
                with suppress_instrumentation():
                    self._process(batch)

    def _take_batch(self) -> list[Incoming]:
        try:
            batch = [self.inbox.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.settings.batch_wait_ms / 1000
        while len(batch) < self.settings.batch_max:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self.inbox.get(timeout=max(remaining, 0))
                    if remaining > 0
                    else self.inbox.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Incoming]) -> None:
        current = [item for item in batch if item.connection == self._connection]
        if not current:
            return  # delivered on a connection that is gone: the broker redelivers them
        now = datetime.now(UTC)
        decisions = decide(current, self.previous, now, self.limits)
        spans = [self._start_span(d) for d in decisions]
        try:
            for decision, span in zip(decisions, spans, strict=True):
                self._received.labels(format=decision.body_format).inc()
                if isinstance(decision.outcome, Rejection):
                    with trace.use_span(span):
                        self._dead_letter(decision, decision.outcome)
            keep = [(d, s) for d, s in zip(decisions, spans, strict=True) if d.vehicle is not None]
            if keep:
                self._store_and_ack(keep)
        finally:
            for span in spans:
                span.end()

    def _start_span(self, decision: Decision) -> Span:
        item = decision.incoming
        span = self.tracer.start_span(
            f"{self.settings.position_queue} process",
            context=extract_context(item.headers),
            kind=SpanKind.CONSUMER,
            start_time=item.received_ns,
            attributes={
                "messaging.system": "activemq",
                "messaging.operation.type": "process",
                "messaging.destination.name": self.settings.position_queue,
                "messaging.message.id": item.message_id,
            },
        )
        if decision.vehicle is not None:
            span.set_attribute("fleet.vehicle.name", decision.vehicle)
        return span

    def _dead_letter(self, decision: Decision, rejection: Rejection) -> None:
        item = decision.incoming
        kept = {k: v for k, v in item.headers.items() if k not in BROKER_HEADERS}
        headers = inject_headers(
            kept
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
            log.warning("could not dead-letter a message, it will be redelivered: %s", exc)
            return
        self._ack(item)
        self._dead_lettered.labels(reason=rejection.reason.value).inc()
        trace.get_current_span().set_status(
            trace.Status(trace.StatusCode.ERROR, rejection.reason.value)
        )
        log.warning(
            "position dead-lettered: %s",
            rejection.detail,
            extra=fields(
                **{
                    "event.action": "position-dead-lettered",
                    "event.outcome": "failure",
                    "event.reason": rejection.reason.value,
                    "message.id": item.message_id,
                    "message.format": decision.body_format,
                    "fleet.queue": self.settings.dead_letter_queue,
                }
            ),
        )

    def _store_and_ack(self, keep: Sequence[tuple[Decision, Span]]) -> None:
        positions = [d.outcome for d, _ in keep]
        assert all(isinstance(p, StoredPosition) for p in positions)
        stored: list[StoredPosition] = positions  # type: ignore[assignment]
        start_ns = time.time_ns()
        started = time.perf_counter()
        duplicates = self._write(stored)
        if duplicates is None:
            return  # stopping while the database is down: nothing acknowledged, all redelivered
        elapsed = time.perf_counter() - started
        end_ns = time.time_ns()
        self.previous.commit(stored)
        with trace.use_span(keep[0][1]):  # the batch's exemplars point at its first message
            self._batch_size.observe(len(stored))
            self._store_duration.observe(elapsed)
        now = time.time()
        for (decision, span), position in zip(keep, stored, strict=True):
            self._record_write_span(span, start_ns, end_ns, len(stored))
            with trace.use_span(span):
                self._ack(decision.incoming)
                self._stored_one(decision, position, position.key in duplicates, now)
        self._last_stored.set(now)
        self._update_active(now)

    def _write(self, positions: list[StoredPosition]) -> set[str] | None:
        retrying = Retrying(
            wait=wait_exponential(multiplier=0.1, max=5),
            retry=retry_if_exception_type(PyMongoError),
            before_sleep=self._on_store_error,
        )
        for attempt in retrying:
            with attempt:
                if self._stopping.is_set() and attempt.retry_state.attempt_number > 1:
                    return None
                duplicates = self.store.insert(positions)
                self.store.update_latest(positions)
                return duplicates
        return None  # pragma: no cover - Retrying without a stop never gets here

    def _on_store_error(self, state: object) -> None:
        self._store_errors.inc()
        outcome = getattr(state, "outcome", None)
        error = outcome.exception() if outcome is not None else None
        log.error(
            "storing positions failed, retrying (messages stay unacknowledged): %s",
            error,
            extra=fields(**{"event.action": "store-failed", "event.outcome": "failure"}),
        )

    def _record_write_span(self, parent: Span, start_ns: int, end_ns: int, size: int) -> None:
        # One write serves the whole batch; each message's trace shows it, timed as it was.
        span = self.tracer.start_span(
            f"insert {self.settings.mongodb_database}.positions",
            context=trace.set_span_in_context(parent),
            kind=SpanKind.CLIENT,
            start_time=start_ns,
            attributes={
                "db.system": "mongodb",
                "db.operation.name": "insert",
                "db.namespace": self.settings.mongodb_database,
                "db.collection.name": "positions",
                "fleet.batch.size": size,
            },
        )
        span.end(end_time=end_ns)

    def _stored_one(
        self, decision: Decision, position: StoredPosition, duplicate: bool, now: float
    ) -> None:
        item = decision.incoming
        self._stored.labels(result="duplicate" if duplicate else "inserted").inc()
        if item.published_at is not None:
            self._delay.observe(max(now - item.published_at, 0.0))
        self._last_seen[position.vehicle] = now
        log.info(
            "position already stored" if duplicate else "position stored",
            extra=fields(
                **{
                    "event.action": "position-duplicate" if duplicate else "position-stored",
                    "event.outcome": "success",
                    "vehicle.name": position.vehicle,
                    "message.id": item.message_id,
                    "message.format": decision.body_format,
                }
            ),
        )

    def _ack(self, item: Incoming) -> None:
        if item.connection != self._connection:
            return  # that connection is gone; the broker redelivers and the store dedupes
        try:
            self.broker.connection.ack(item.headers.get("ack", item.message_id))
        except (BrokerUnavailable, stomp.exception.NotConnectedException):
            log.warning("could not acknowledge a stored message; it will be redelivered")

    def _update_active(self, now: float) -> None:
        window = self.settings.active_window_seconds
        self._active.set(sum(1 for seen in self._last_seen.values() if now - seen <= window))
