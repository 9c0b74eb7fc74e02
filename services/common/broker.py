"""A STOMP connection to ActiveMQ that reconnects by itself and confirms what it sends.

stomp.py delivers frames on its own receiver thread; this class adds what both services need:
a reconnect loop with backoff, a hook to (re)subscribe after every connect, and ``send`` that
waits for the broker's receipt, so a sender knows the broker has the message.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

import stomp
from stomp.utils import Frame
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from services.common.settings import BrokerSettings

log = logging.getLogger(__name__)

#: Heart-beats (ms) both ways, so a dead broker or a dead client is noticed within seconds.
HEARTBEATS = (5000, 5000)
#: How many beat periods without anything from the broker before the connection is given up.
#: stomp.py's default, 1.5 (7.5 s), dropped connections that were working: 1 to 3 times in
#: each tracker of a loaded benchmark run (bench/load.py), once in the stack's tracker while it
#: stored positions every 100 ms; each drop redelivers up to a prefetch (5,000) of messages.
#: ActiveMQ skips a beat when it sent anything since the last one, and under load its frames
#: can come late. 2.5: a dead broker is still noticed within 12.5 s.
HEART_BEAT_RECEIVE_SCALE = 2.5


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached, or the connection dropped before a receipt came."""


class _Listener(stomp.ConnectionListener):
    """Forwards one connection's events; events of a replaced connection are ignored."""

    def __init__(self, owner: BrokerConnection, generation: int) -> None:
        self.owner = owner
        self.generation = generation

    @property
    def current(self) -> bool:
        return self.generation == self.owner._generation

    def on_connected(self, frame: Frame) -> None:
        if self.current:
            self.owner._connected.set()

    def on_disconnected(self) -> None:
        if self.current:
            self.owner._on_disconnected()

    def on_heartbeat_timeout(self) -> None:
        log.warning("broker heart-beat timed out")

    def on_receipt(self, frame: Frame) -> None:
        self.owner._receipt(frame.headers.get("receipt-id", ""), None)

    def on_error(self, frame: Frame) -> None:
        message = frame.headers.get("message") or _text(frame.body)
        receipt = frame.headers.get("receipt-id")
        if receipt:
            self.owner._receipt(receipt, message)
        else:
            log.error("broker error: %s", message)

    def on_message(self, frame: Frame) -> None:
        if self.current and self.owner.on_message is not None:
            self.owner.on_message(frame)


class BrokerConnection:
    """One STOMP 1.2 connection, kept up by a background thread until ``stop``."""

    def __init__(
        self,
        settings: BrokerSettings,
        client_name: str,
        on_connect: Callable[[stomp.Connection12], None] | None = None,
        on_message: Callable[[Frame], None] | None = None,
    ) -> None:
        self.settings = settings
        self.client_name = client_name
        self.on_connect = on_connect
        self.on_message = on_message
        self._conn: stomp.Connection12 | None = None
        self._connected = threading.Event()
        self._lost = threading.Event()
        self._stopping = threading.Event()
        self._pending: dict[str, tuple[threading.Event, list[str | None]]] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        #: Bumped for every new connection, so late events of an old one are recognised.
        self._generation = 0
        self._thread = threading.Thread(
            target=self._keep_connected, name=f"{client_name}-broker", daemon=True
        )
        #: Called with True/False whenever the connection comes up or goes down.
        self.on_state: Callable[[bool], None] = lambda _up: None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._lost.set()
        conn = self._conn
        if conn is not None and conn.is_connected():
            try:
                conn.disconnect()
            except Exception:  # already gone: nothing to release
                log.debug("disconnect failed", exc_info=True)
        self._thread.join(timeout=10)

    def reconnect(self) -> None:
        """Drop the current connection (the broker then redelivers what it had not been acked);
        the keep-alive thread connects again."""
        conn = self._conn
        if conn is not None and conn.is_connected():
            try:
                conn.disconnect()
            except Exception:  # already gone: the point is that it is gone
                log.debug("disconnect failed", exc_info=True)
        self._on_disconnected()

    @property
    def connected(self) -> bool:
        conn = self._conn
        return conn is not None and conn.is_connected() and self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connection(self) -> stomp.Connection12:
        if self._conn is None or not self.connected:
            raise BrokerUnavailable("not connected to the broker")
        return self._conn

    def _connect_once(self) -> None:
        conn = stomp.Connection12(
            self.settings.broker_addresses,
            heartbeats=HEARTBEATS,
            heart_beat_receive_scale=HEART_BEAT_RECEIVE_SCALE,
            reconnect_attempts_max=1,
            # No content-length unless we set it: ActiveMQ makes a frame without it a
            # TextMessage (what every consumer of positions expects), with it a BytesMessage.
            auto_content_length=False,
            # Bodies stay the bytes the broker delivered (a dead letter is their exact copy).
            auto_decode=False,
        )
        self._generation += 1
        conn.set_listener("broker", _Listener(self, self._generation))
        self._connected.clear()
        self._lost.clear()
        # Before connecting: the CONNECTED frame sets ``_connected`` on stomp.py's thread, and a
        # caller woken by ``wait_connected`` must find this connection, not the previous one.
        self._conn = conn
        try:
            conn.connect(
                self.settings.broker_user or None,
                self.settings.broker_password or None,
                wait=True,
            )
        except (stomp.exception.StompException, OSError) as exc:
            # OSError: the broker accepted the socket and closed it (starting or stopping).
            raise BrokerUnavailable(f"cannot connect to {self.settings.broker_url}: {exc}") from exc
        if self.on_connect is not None:
            self.on_connect(conn)

    def _keep_connected(self) -> None:
        retrying = Retrying(
            wait=wait_exponential(multiplier=0.2, max=5),
            retry=retry_if_exception_type(BrokerUnavailable),
            before_sleep=lambda state: log.warning(
                "broker unavailable, retrying: %s",
                state.outcome.exception() if state.outcome else "?",
            ),
        )
        while not self._stopping.is_set():
            for attempt in retrying:
                with attempt:
                    if self._stopping.is_set():
                        return
                    self._connect_once()
            log.info("connected to the broker at %s", self.settings.broker_url)
            self.on_state(True)
            self._lost.wait()
            self.on_state(False)
            if not self._stopping.is_set():
                log.warning("lost the broker connection; reconnecting")

    def _on_disconnected(self) -> None:
        self._connected.clear()
        with self._pending_lock:
            for event, result in self._pending.values():
                result.append("disconnected before the receipt")
                event.set()
        self._lost.set()

    # -- sending ---------------------------------------------------------------------------
    def _receipt(self, receipt_id: str, error: str | None) -> None:
        with self._pending_lock:
            waiter = self._pending.get(receipt_id)
        if waiter is not None:
            waiter[1].append(error)
            waiter[0].set()

    def send(
        self, destination: str, body: str | bytes, headers: dict[str, str], timeout: float = 10.0
    ) -> None:
        """Send a persistent message and return once the broker's receipt says it has it.

        A ``bytes`` body is sent with its ``content-length``, so that any byte (a NUL ends a
        frame without one) arrives as it is; a ``str`` body without, as a text message."""
        if isinstance(body, bytes):
            headers = {**headers, "content-length": str(len(body))}
        receipt = f"{self.client_name}-{next(self._ids)}"
        event: threading.Event = threading.Event()
        result: list[str | None] = []
        with self._pending_lock:
            self._pending[receipt] = (event, result)
        try:
            self.connection.send(
                destination=destination,
                body=body,
                headers={**headers, "persistent": "true", "receipt": receipt},
            )
            if not event.wait(timeout):
                raise TimeoutError(f"no receipt from the broker within {timeout}s")
            if result and result[0] is not None:
                raise BrokerUnavailable(result[0])
        except stomp.exception.NotConnectedException as exc:
            raise BrokerUnavailable("not connected to the broker") from exc
        finally:
            with self._pending_lock:
                self._pending.pop(receipt, None)


def _text(body: str | bytes | None) -> str:
    """A frame's body for a log line (its bytes are not always UTF-8)."""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body or ""


def queue_destination(name: str) -> str:
    """The STOMP destination of an ActiveMQ queue."""
    return name if name.startswith("/") else f"/queue/{name}"
