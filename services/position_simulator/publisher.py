"""Publish one position to the queue: body, trace context, receipt, metrics and log.

Each attempt is one PRODUCER span ``<queue> publish`` whose context travels in the message's
``traceparent`` header, so the tracker's consume span continues the trace. A position counts as
published only once the broker's receipt says the broker has it.
"""

from __future__ import annotations

import logging
import time

from opentelemetry.semconv._incubating.attributes import messaging_attributes as messaging
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import SpanKind, Status, StatusCode

from observability.runtime import Telemetry
from observability.runtime.logs import fields
from observability.runtime.messaging import inject_headers
from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_simulator.replay import Emission
from services.position_simulator.telemetry import (
    POSITIONS_PUBLISHED,
    PUBLISH_DURATION,
    PUBLISH_ERRORS,
)
from services.positions.formats import (
    BodyFormat,
    fleetman_fields,
    jms_map_json_body,
    position_body,
)

log = logging.getLogger(__name__)

#: Makes ActiveMQ turn the body into a JMS MapMessage (what the original Java tracker reads).
#: The frame must carry no content-length, or ActiveMQ keeps it as bytes.
JMS_MAP_JSON_HEADERS = {"transformation": "jms-map-json"}


class PublishFailed(Exception):
    """The broker did not confirm a message; ``reason`` is a bounded metric label value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


#: The JMS message group header (ActiveMQ message groups).
GROUP_HEADER = "JMSXGroupID"


def encode(emission: Emission, body_format: BodyFormat) -> tuple[str, dict[str, str]]:
    """The message body and headers of one emission. Every position of a vehicle is in the
    message group named after it (``JMSXGroupID``): ActiveMQ hands a group to one consumer at a
    time, in order, so several trackers keep each vehicle's positions in sequence."""
    args = (emission.vehicle, emission.point.lat, emission.point.lon, emission.timestamp)
    group = {GROUP_HEADER: emission.vehicle}
    if body_format is BodyFormat.JSON:
        return position_body(*args), group
    if body_format is BodyFormat.FLEETMAN:  # a MapMessage, as the original simulator sends
        return jms_map_json_body(fleetman_fields(*args)), {**JMS_MAP_JSON_HEADERS, **group}
    raise ValueError(f"the simulator writes json or fleetman, not {body_format.value}")


class PositionPublisher:
    """Sends emissions to one queue over a shared broker connection."""

    def __init__(
        self,
        broker: BrokerConnection,
        queue: str,
        body_format: BodyFormat,
        telemetry: Telemetry,
        receipt_timeout: float = 10.0,
    ) -> None:
        self.broker = broker
        self.queue = queue
        self.destination = queue_destination(queue)
        self.body_format = body_format
        self.receipt_timeout = receipt_timeout
        self._tracer = telemetry.tracer
        self._published = telemetry.metrics.counter(POSITIONS_PUBLISHED)
        self._duration = telemetry.metrics.histogram(PUBLISH_DURATION)
        self._errors = {
            reason: telemetry.metrics.counter(PUBLISH_ERRORS).labels(reason=reason)
            for reason in PUBLISH_ERRORS.label("reason").values or ()
        }
        host, port = broker.settings.broker_addresses[0]
        self._span_attributes = {
            messaging.MESSAGING_SYSTEM: messaging.MessagingSystemValues.ACTIVEMQ.value,
            messaging.MESSAGING_DESTINATION_NAME: queue,
            messaging.MESSAGING_OPERATION_NAME: "publish",
            messaging.MESSAGING_OPERATION_TYPE: messaging.MessagingOperationTypeValues.SEND.value,
            server_attributes.SERVER_ADDRESS: host,
            server_attributes.SERVER_PORT: port,
        }

    def publish(self, emission: Emission) -> None:
        """Send ``emission`` and wait for the broker's receipt; PublishFailed if none came."""
        body, headers = encode(emission, self.body_format)
        with self._tracer.start_as_current_span(
            f"{self.queue} publish", kind=SpanKind.PRODUCER, attributes=self._span_attributes
        ) as span:
            span.set_attribute(messaging.MESSAGING_MESSAGE_BODY_SIZE, len(body.encode()))
            span.set_attribute("vehicle.name", emission.vehicle)
            inject_headers(headers)
            start = time.perf_counter()
            try:
                self.broker.send(self.destination, body, headers, timeout=self.receipt_timeout)
            except (BrokerUnavailable, TimeoutError) as exc:
                reason = "timeout" if isinstance(exc, TimeoutError) else "disconnected"
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                span.set_attribute(error_attributes.ERROR_TYPE, reason)
                self._errors[reason].inc()
                log.warning(
                    "publishing a position failed (%s); it will be sent again: %s",
                    reason,
                    exc,
                    extra=self._fields(emission, "failure", reason=reason),
                )
                raise PublishFailed(reason, str(exc)) from exc
            elapsed = time.perf_counter() - start
            self._duration.observe(elapsed)
            self._published.inc()
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "published position %d of %s",
                    emission.index,
                    emission.vehicle,
                    extra=self._fields(emission, "success", duration_ns=int(elapsed * 1e9)),
                )

    def _fields(
        self, emission: Emission, outcome: str, reason: str = "", duration_ns: int | None = None
    ) -> dict[str, object]:
        values: dict[str, object] = {
            "vehicle.name": emission.vehicle,
            "fleet.queue": self.queue,
            "fleet.track.loop": emission.loop,
            "event.action": "position-published",
            "event.outcome": outcome,
        }
        if reason:
            values["event.reason"] = reason
        if duration_ns is not None:
            values["event.duration"] = duration_ns
        return fields(**values)
