"""Reports how many messages wait in the position and dead-letter queues, and how full the
broker's store is.

ActiveMQ's statistics plugin answers a message sent to ``ActiveMQ.Statistics.Destination.<queue>``
with a MapMessage of that queue's counters, and one sent to ``ActiveMQ.Statistics.Broker`` with
the broker's, to the request's ``reply-to``; the tracker asks every
``queue_stats_interval_seconds`` on a connection of its own and sets
``fleet_broker_queue_messages{queue=positions|dead_letter}`` from a queue's ``size``,
``fleet_broker_queue_consumers`` from its ``consumerCount``, and
``fleet_broker_store_usage_ratio`` from the broker's ``storeUsage`` / ``storeLimit``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import stomp
from stomp.utils import Frame

from observability.runtime.metrics import Instrument
from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_tracker.settings import TrackerSettings
from services.positions.messages import map_message_fields

log = logging.getLogger("position_tracker.queue_stats")

REPLY_TO = "/temp-queue/fleet-queue-stats"
STATISTICS = "ActiveMQ.Statistics.Destination."
BROKER_STATISTICS = "ActiveMQ.Statistics.Broker"


class QueueStats:
    def __init__(
        self,
        settings: TrackerSettings,
        gauge: Instrument,
        store: Instrument,
        consumers: Instrument,
    ) -> None:
        self.settings = settings
        self.gauge = gauge
        self.store = store
        self.consumers = consumers
        self.roles = {
            settings.position_queue: "positions",
            settings.dead_letter_queue: "dead_letter",
        }
        #: The latest size the broker gave for each queue, by role (``positions``, ...).
        self.sizes: dict[str, int] = {}
        #: The latest consumer count the broker gave for each queue, by role.
        self.consumer_counts: dict[str, int] = {}
        self.broker = BrokerConnection(
            settings, "tracker-queue-stats", on_connect=self._subscribe, on_message=self._on_reply
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-queue-stats", daemon=True)

    def start(self) -> None:
        self.broker.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.broker.stop()

    def _subscribe(self, conn: stomp.Connection12) -> None:
        conn.subscribe(REPLY_TO, id="stats", ack="auto", headers={"transformation": "jms-map-json"})

    def _run(self) -> None:
        statistics = [STATISTICS + queue for queue in self.roles] + [BROKER_STATISTICS]
        while not self._stop.wait(self.settings.queue_stats_interval_seconds):
            for name in statistics:
                try:
                    destination = queue_destination(name)
                    self.broker.send(destination, "", {"reply-to": REPLY_TO}, timeout=5)
                except (BrokerUnavailable, TimeoutError) as exc:
                    log.debug("could not ask the broker for statistics: %s", exc)

    def _on_reply(self, frame: Frame) -> None:
        body = frame.body if isinstance(frame.body, str) else frame.body.decode("utf-8", "replace")
        entries = map_message_fields(body) or {}
        used, limit = entries.get("storeUsage"), entries.get("storeLimit")
        if isinstance(used, int | float) and isinstance(limit, int | float) and limit > 0:
            self.store.set(used / limit)  # the broker's statistics
            return
        sized = queue_size(entries)
        if sized is None:
            return
        queue, size = sized
        role = self.roles.get(queue)
        if role is not None:
            self.sizes[role] = size
            self.gauge.labels(queue=role).set(size)
            consumers = entries.get("consumerCount")
            if isinstance(consumers, int | float):
                self.consumer_counts[role] = int(consumers)
                self.consumers.labels(queue=role).set(consumers)


def queue_size(entries: dict[str, Any]) -> tuple[str, int] | None:
    """The queue a statistics reply is about and how many messages it holds; None when the
    reply is not a queue's (the broker's own, or malformed)."""
    size = entries.get("size")
    if not isinstance(size, int | float):
        return None
    # destinationName is "queue://<name>"
    return str(entries.get("destinationName", "")).split("://", 1)[-1], int(size)
