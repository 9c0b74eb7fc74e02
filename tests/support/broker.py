"""A plain stomp.py client for tests: send with a receipt, read a queue until it is quiet."""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass

import stomp

from services.position_tracker.queue_stats import STATISTICS, queue_size
from services.positions.messages import map_message_fields

BROKER = ("127.0.0.1", 61613)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    #: The body as text (bytes that are not UTF-8 replaced); ``raw`` is exactly what came.
    body: str
    raw: bytes


class _Collector(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.messages: queue.Queue[Received] = queue.Queue()
        self.receipts: dict[str, threading.Event] = {}

    def on_message(self, frame: stomp.utils.Frame) -> None:
        raw = frame.body if isinstance(frame.body, bytes) else frame.body.encode()
        self.messages.put(Received(dict(frame.headers), raw.decode("utf-8", "replace"), raw))

    def on_receipt(self, frame: stomp.utils.Frame) -> None:
        event = self.receipts.get(frame.headers.get("receipt-id", ""))
        if event is not None:
            event.set()


class StompClient:
    """One connection; ``send`` returns once the broker confirmed the message."""

    def __init__(self, host_and_port: tuple[str, int] = BROKER) -> None:
        self.listener = _Collector()
        self.conn = stomp.Connection12(
            [host_and_port], auto_content_length=False, auto_decode=False
        )
        self.conn.set_listener("test", self.listener)
        self.conn.connect(wait=True)
        self._ids = itertools.count()

    def send(
        self, queue_name: str, body: str | bytes, headers: dict[str, str] | None = None
    ) -> None:
        """A ``str`` body goes as a text message; ``bytes`` with its ``content-length``, so
        that any byte arrives (a NUL would end a frame without it)."""
        headers = dict(headers or {})
        if isinstance(body, bytes):
            headers["content-length"] = str(len(body))
        receipt = f"r{next(self._ids)}"
        event = self.listener.receipts.setdefault(receipt, threading.Event())
        self.conn.send(
            f"/queue/{queue_name}",
            body,
            headers={"persistent": "true", **headers, "receipt": receipt},
        )
        assert event.wait(10), f"no receipt for a message to {queue_name}"

    def read(
        self,
        queue_name: str,
        quiet_for: float = 2.0,
        limit: int = 100_000,
        headers: dict[str, str] | None = None,
    ) -> list[Received]:
        """Consume a queue until nothing arrives for ``quiet_for`` seconds (or ``limit``)."""
        sub = f"s{next(self._ids)}"
        self.conn.subscribe(f"/queue/{queue_name}", id=sub, ack="auto", headers=headers or {})
        got: list[Received] = []
        try:
            while len(got) < limit:
                got.append(self.listener.messages.get(timeout=quiet_for))
        except queue.Empty:
            pass
        finally:
            self.conn.unsubscribe(id=sub)
        return got

    def queue_sizes(self, prefix: str, wait: float = 2.0) -> dict[str, int]:
        """How many messages each queue named ``prefix...`` holds, from the broker's statistics
        plugin (one MapMessage per matching queue, answered to a temporary queue). ``prefix``
        ends with a dot: ActiveMQ's wildcards stand for whole name segments."""
        reply_to = f"/temp-queue/sizes-{next(self._ids)}"
        sub = f"s{next(self._ids)}"
        headers = {"transformation": "jms-map-json"}
        self.conn.subscribe(reply_to, id=sub, ack="auto", headers=headers)
        try:
            self.conn.send(f"/queue/{STATISTICS}{prefix}>", "", headers={"reply-to": reply_to})
            sizes: dict[str, int] = {}
            try:
                while True:
                    reply = self.listener.messages.get(timeout=wait).body
                    sized = queue_size(map_message_fields(reply) or {})
                    if sized is not None:
                        sizes[sized[0]] = sized[1]
            except queue.Empty:
                return sizes
        finally:
            self.conn.unsubscribe(id=sub)

    def drain(self, prefix: str) -> int:
        """Consume what is left in the queues named ``prefix...``; returns how many messages.

        A message left in a queue keeps the whole journal file it sits in (KahaDB reclaims
        files, not messages): the leftovers of many test runs fill the local broker's store
        until it blocks every producer."""
        left = {name: size for name, size in self.queue_sizes(prefix).items() if size}
        return sum(len(self.read(name, quiet_for=0.5, limit=size)) for name, size in left.items())

    def close(self) -> None:
        if self.conn.is_connected():
            self.conn.disconnect()
