"""Helpers of the simulator and gateway tests: a TCP proxy that can cut the broker connection,
the stand-in upstream process, queue draining and /metrics scraping. Real sockets throughout."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from mirakuru import HTTPExecutor
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.support.broker import StompClient
from tests.support.processes import ROOT, free_port

BROKER = ("127.0.0.1", 61613)


class TcpProxy:
    """Forwards a local port to ``target``; ``drop`` cuts every connection, as a broker restart
    would, without touching the shared broker itself."""

    def __init__(self, target: tuple[str, int] = BROKER) -> None:
        self.target = target
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0
        self.port = 0
        #: While set, what the broker sends (receipts, heart-beats) is swallowed.
        self._swallow_replies = threading.Event()
        self._listen()

    def _listen(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"stomp://127.0.0.1:{self.port}"

    def swallow_replies(self) -> None:
        """Stop passing on what the broker sends until the next ``drop``: a message sent now
        reaches the broker, but its receipt never reaches the sender."""
        self._swallow_replies.set()

    def drop(self, refuse_for: float = 0.0) -> None:
        """Close every proxied connection; with ``refuse_for``, also stop listening that long
        (connections are refused, as while a broker restarts)."""
        if refuse_for:
            self._server.close()
        self._cut()
        if refuse_for:
            time.sleep(refuse_for)
            self._listen()

    def close(self) -> None:
        self._server.close()
        self._cut()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _cut(self) -> None:
        self._swallow_replies.clear()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self.connections += 1
            with self._lock:
                self._sockets |= {client, upstream}
            for src, dst, replies in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pump, args=(src, dst, replies), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, replies: bool) -> None:
        try:
            while data := src.recv(65536):
                if not (replies and self._swallow_replies.is_set()):
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class StandIn:
    """The stand-in upstream (``tests/services/_standin.py``) as a real uvicorn process."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (log_dir / f"standin-{self.port}.log").open("ab")
        self._executor = HTTPExecutor(
            [sys.executable, "-m", "tests.services._standin"],
            url=f"{self.url}/healthz",
            method="GET",
            timeout=30,
            envvars={**os.environ, "HTTP_PORT": str(self.port)},
            stdout=self._log,
            stderr=self._log,
            cwd=str(ROOT),
        )

    def start(self) -> StandIn:
        self._executor.start()
        return self

    def stop(self) -> None:
        if self._executor.running():
            self._executor.stop(stop_signal=signal.SIGTERM)
        self._log.close()

    def mode(self, mode: str) -> None:
        httpx.put(f"{self.url}/_mode/{mode}").raise_for_status()

    def requests(self) -> list[dict[str, str]]:
        return httpx.get(f"{self.url}/_requests").json()


@contextlib.contextmanager
def stomp_client() -> Iterator[StompClient]:
    client = StompClient(BROKER)
    try:
        yield client
    finally:
        client.close()


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float, str | None]]]:
    """``/metrics`` in OpenMetrics: sample name -> [(labels, value, exemplar trace id)]."""
    text = httpx.get(f"{url}/metrics", headers={"accept": "application/openmetrics-text"}).text
    samples: dict[str, list[tuple[dict[str, str], float, str | None]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            trace_id = sample.exemplar.labels.get("trace_id") if sample.exemplar else None
            samples.setdefault(sample.name, []).append((sample.labels, sample.value, trace_id))
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    """The value of the one sample ``name`` with exactly these labels (0 when absent)."""
    for sample_labels, sample_value, _ in samples.get(name, []):
        if sample_labels == labels:
            return sample_value
    return 0.0
