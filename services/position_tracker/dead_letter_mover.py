"""Moves the dead-letter queue's messages into the archive (``dead_letters.py`` says why).

Its own broker connection subscribes to the dead-letter queue with one ack per message: a
message is acknowledged only once it is archived, so a crash or a database outage leaves it in
the queue, redelivered later, never lost; a redelivered copy is archived once (same id). Every
message of that queue is moved, whoever put it there (the tracker's refusals, the broker's own
poison-message handling, another tool).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import stomp
from pymongo.errors import PyMongoError
from stomp.utils import Frame

from observability.runtime.logs import fields
from services.common.broker import BrokerConnection, BrokerUnavailable, queue_destination
from services.position_tracker.dead_letters import DeadLetter, DeadLetterArchive
from services.position_tracker.settings import TrackerSettings

log = logging.getLogger("position_tracker.dead_letters")

SUBSCRIPTION = "dead-letters"
#: Headers the broker sets on delivery of the dead-letter copy: not part of the evidence.
DELIVERY_HEADERS = frozenset(
    {"ack", "content-length", "destination", "message-id", "redelivered", "subscription"}
)
#: Dead letters in hand at once (they are a trickle; each is one insert).
PREFETCH = 100
#: After a database failure, how long before the unarchived messages are asked for again.
RETRY_AFTER_S = 2.0


class DeadLetterMover:
    def __init__(self, settings: TrackerSettings, archive: DeadLetterArchive) -> None:
        self.settings = settings
        self.archive = archive
        self.moved = 0
        self._stopping = threading.Event()
        #: A reconnect is scheduled (one for all the messages a database outage leaves in hand).
        self._retry_scheduled = threading.Lock()
        self.broker = BrokerConnection(
            settings, "position-tracker-dead-letters", on_connect=self._subscribe,
            on_message=self._on_message,
        )  # fmt: skip

    def start(self) -> None:
        self.broker.start()

    def stop(self) -> None:
        self._stopping.set()
        self.broker.stop()

    def _reconnect(self) -> None:
        """Drop the connection, so the broker delivers what is unacknowledged again."""
        try:
            self.broker.reconnect()
        finally:
            self._retry_scheduled.release()

    def _subscribe(self, conn: stomp.Connection12) -> None:
        conn.subscribe(
            destination=queue_destination(self.settings.dead_letter_queue),
            id=SUBSCRIPTION,
            ack="client-individual",
            headers={"activemq.prefetchSize": str(PREFETCH)},
        )

    def _on_message(self, frame: Frame) -> None:
        """On stomp.py's receiver thread: archive, then acknowledge this message alone."""
        headers = dict(frame.headers)
        body = frame.body if isinstance(frame.body, bytes) else frame.body.encode()
        letter = DeadLetter(
            id=headers.get("message-id", ""),
            body=body,
            headers={k: v for k, v in headers.items() if k not in DELIVERY_HEADERS},
            archived_at=datetime.now(UTC),
        )
        try:
            self.archive.add(letter)
        except PyMongoError as exc:
            # Not acknowledged: the broker keeps it. Reconnect after a pause to get it again.
            if self._retry_scheduled.acquire(blocking=False):
                log.warning("could not archive a dead letter, retrying: %s", exc)
                threading.Timer(RETRY_AFTER_S, self._reconnect).start()
            return
        try:
            self.broker.connection.ack(headers.get("ack", letter.id))
        except (BrokerUnavailable, stomp.exception.NotConnectedException):
            return  # redelivered, and recognised as archived
        self.moved += 1
        log.info(
            "archived a dead letter (%s)",
            letter.reason,
            extra=fields(**{"event.action": "dead-letter-archived", "event.reason": letter.reason}),
        )
