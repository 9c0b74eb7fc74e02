"""What the ingest path records: a span per message, metrics per batch, logs that matter."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

from observability.runtime import Telemetry
from observability.runtime.conventions import Conventions, conventions
from observability.runtime.logs import fields
from observability.runtime.messaging import (
    UnsampledMessageSpan,
    extract_context,
    follows_unsampled_publishers,
    publisher_sampled,
)
from services.position_tracker import telemetry as t
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import Decision
from services.position_tracker.settings import TrackerSettings
from services.positions.messages import Rejection

log = logging.getLogger("position_tracker.ingest")

#: A batch's messages that are stored, each with its span.
Kept = Sequence[tuple[Decision, Span]]


class IngestTelemetry:
    def __init__(self, telemetry: Telemetry, settings: TrackerSettings) -> None:
        self.tracer = telemetry.tracer
        self._tracing = telemetry.tracer_provider is not None
        #: Whether a message whose publisher did not sample it can skip starting a span.
        self._follows_publishers = follows_unsampled_publishers(telemetry.tracer_provider)
        self.settings = settings
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
        self._last_seen: dict[str, float] = {}
        self._process_span_name = f"{settings.position_queue} process"
        self._process_attributes = {
            "messaging.system": "activemq",
            "messaging.operation.type": "process",
            "messaging.destination.name": settings.position_queue,
        }
        self._write_attributes = write_attributes(
            settings.mongodb_database, conventions("database")
        )

    def restored(self, newest_stored_at: float) -> None:
        """Freshness survives a restart: the newest stored position is as old as it is."""
        self._last_stored.set(newest_stored_at)

    def start_span(self, decision: Decision) -> Span:
        """The message's span, a child of its publisher's. Under a sampler that follows the
        publisher's decision (the deployed one), a message the publisher did not sample gets no
        span of its own (``UnsampledMessageSpan``). With tracing off, nothing is read."""
        if not self._tracing:
            return INVALID_SPAN
        item = decision.incoming
        if self._follows_publishers and publisher_sampled(item.headers) is False:
            return UnsampledMessageSpan(item.headers)
        attributes = {**self._process_attributes, "messaging.message.id": item.message_id}
        if decision.vehicle is not None:
            attributes["fleet.vehicle.name"] = decision.vehicle
        return self.tracer.start_span(
            self._process_span_name,
            context=extract_context(item.headers),
            kind=SpanKind.CONSUMER,
            start_time=item.received_ns,
            attributes=attributes,
        )

    def received(self, decisions: Sequence[Decision]) -> None:
        for body_format, count in Counter(d.body_format for d in decisions).items():
            self._received.labels(format=body_format).inc(count)

    def dead_lettered(self, decision: Decision, rejection: Rejection) -> None:
        """Called inside the message's span, once the dead-letter queue has it."""
        self._dead_lettered.labels(reason=rejection.reason.value).inc()
        trace.get_current_span().set_status(trace.StatusCode.ERROR, rejection.reason.value)
        log.warning(
            "position dead-lettered: %s",
            rejection.detail,
            extra=fields(
                **{
                    "event.action": "position-dead-lettered",
                    "event.outcome": "failure",
                    "event.reason": rejection.reason.value,
                    "messaging.message.id": decision.incoming.message_id,
                    "fleet.message.format": decision.body_format,
                    "fleet.queue": self.settings.dead_letter_queue,
                    # The first column of the "Dead-lettered positions" search, when known.
                    **({"vehicle.name": rejection.vehicle} if rejection.vehicle else {}),
                }
            ),
        )

    def store_failed(self, error: BaseException | None) -> None:
        self._store_errors.inc()
        log.error(
            "storing positions failed, retrying (messages stay unacknowledged): %s",
            error,
            extra=fields(**{"event.action": "store-failed", "event.outcome": "failure"}),
        )

    def written(self, kept: Kept, start_ns: int, end_ns: int) -> None:
        """One database write stored the whole batch: one span, as OpenTelemetry's messaging
        conventions model batches — a child of the first sampled message's span, linked to the
        other sampled ones (an unsampled message's span is in no trace: nothing to link to)."""
        size = len(kept)
        first = _anchor(kept)  # the batch's exemplars point at it too
        self._batch_size.observe(size, span=first)
        self._store_duration.observe((end_ns - start_ns) / 1e9, span=first)
        self.tracer.start_span(
            f"insert {self.settings.mongodb_database}.positions",
            context=trace.set_span_in_context(first),
            kind=SpanKind.CLIENT,
            start_time=start_ns,
            attributes={**self._write_attributes, "fleet.batch.size": size},
            links=[
                trace.Link(span.get_span_context())
                for _, span in kept
                if span is not first and span.is_recording()
            ],
        ).end(end_time=end_ns)

    def stored(self, kept: Kept, duplicates: set[str]) -> None:
        """After the acknowledgement: the batch is stored for good."""
        now = time.time()
        debug = log.isEnabledFor(logging.DEBUG)
        inserted = 0
        for decision, span in kept:
            position: StoredPosition = decision.outcome  # type: ignore[assignment]
            duplicate = position.key in duplicates
            inserted += not duplicate
            self._last_seen[position.vehicle] = now
            published = decision.incoming.published_at
            if published is not None:
                self._delay.observe(max(now - published, 0.0), span=_recorded(span))
            if debug:
                with trace.use_span(span):
                    _log_stored(decision, position, duplicate)
        self._stored.labels(result="inserted").inc(inserted)
        self._stored.labels(result="duplicate").inc(len(kept) - inserted)
        self._last_stored.set(now)
        window = self.settings.active_window_seconds
        self._active.set(sum(1 for seen in self._last_seen.values() if now - seen <= window))
        with trace.use_span(_anchor(kept)):
            log.info(
                "stored %d positions (%d already stored)",
                inserted,
                len(kept) - inserted,
                extra=fields(
                    **{
                        "event.action": "positions-stored",
                        "event.outcome": "success",
                        "fleet.batch.size": len(kept),
                    }
                ),
            )


#: The old database conventions' names of the write span's attributes, by their stable names.
_OLD_DATABASE_NAMES = {
    "db.system.name": "db.system",
    "db.namespace": "db.name",
    "db.operation.name": "db.operation",
    "db.collection.name": "db.mongodb.collection",
}


def write_attributes(database: str, names: Conventions) -> dict[str, str]:
    """The batch write span's attributes, named as the pymongo instrumentation names those of
    the tracker's other database calls (``OTEL_SEMCONV_STABILITY_OPT_IN``)."""
    stable = {
        "db.system.name": "mongodb",
        "db.namespace": database,
        "db.operation.name": "insert",
        "db.collection.name": "positions",
    }
    old = {_OLD_DATABASE_NAMES[name]: value for name, value in stable.items()}
    return (old if names.old else {}) | (stable if names.stable else {})


def _recorded(span: Span) -> Span:
    """``span`` when it is recorded, else the invalid span (no exemplar): an exemplar points at
    a trace one can open, and asking an unrecorded message span for its context would parse it
    for nothing."""
    return span if span.is_recording() else INVALID_SPAN


def _anchor(kept: Kept) -> Span:
    """The span a batch's write span, exemplars and log line hang on: its first recorded message
    (a trace one can open), else its first message."""
    return next((span for _, span in kept if span.is_recording()), kept[0][1])


def _log_stored(decision: Decision, position: StoredPosition, duplicate: bool) -> None:
    log.debug(
        "position already stored" if duplicate else "position stored",
        extra=fields(
            **{
                "event.action": "position-duplicate" if duplicate else "position-stored",
                "event.outcome": "success",
                "vehicle.name": position.vehicle,
                "messaging.message.id": decision.incoming.message_id,
                "fleet.message.format": decision.body_format,
            }
        ),
    )
