"""What the web app's tests run: our nginx (own prefix and port, the config the stack renders),
a small recording upstream, and headless Chromium (the system's, driven by Playwright)."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from mirakuru import HTTPExecutor
from pymongo import MongoClient

from services.stack import api
from services.webapp import nginx_config
from tests.support.fleet import TrackerNames
from tests.support.polling import eventually
from tests.support.processes import ROOT, ServiceProcess, free_port, service_process

ARTIFACTS = ROOT / "test-artifacts" / "webapp"
NGINX = Path("/usr/sbin/nginx")
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing but our page on the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class WebappNginx:
    """nginx with the web app's config, rendered by the same function as the stack's, on its own
    port and prefix (under test-artifacts/, which nginx's unprivileged workers can reach)."""

    def __init__(
        self, upstream: str, tile_url: str = "", tweak: Callable[[str], str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.prefix = Path(tempfile.mkdtemp(prefix=f"nginx-{self.port}-", dir=ARTIFACTS))
        self.prefix.chmod(0o755)
        (self.prefix / "temp").mkdir()
        self.access_log = self.prefix / "access.log"
        self.conf = self.prefix / "nginx.conf"
        text = nginx_config.render_nginx_conf(
            nginx_config.TEMPLATE.read_text(),
            listen=f"127.0.0.1:{self.port}",
            api_upstream=upstream,
            temp_dir=self.prefix / "temp",
            pid_file=self.prefix / "nginx.pid",
            access_log=str(self.access_log),
            tile_url=tile_url,
        )
        self.conf.write_text(tweak(text) if tweak else text)
        self._stderr = (self.prefix / "error.log").open("ab")
        command = [str(NGINX), "-e", "stderr", "-p", f"{self.prefix}/", "-c", str(self.conf)]
        self._executor = HTTPExecutor(
            [*command, "-g", "daemon off;"],
            url=f"{self.url}/healthz",
            method="GET",
            timeout=20,
            stdout=self._stderr,
            stderr=self._stderr,
            stop_signal=signal.SIGQUIT,
        )

    def start(self) -> WebappNginx:
        self._executor.start()
        return self

    def stop(self) -> None:
        if self._executor.running():
            self._executor.stop()
        self._stderr.close()

    def log_lines(self) -> list[str]:
        if not self.access_log.exists():
            return []
        return self.access_log.read_text(errors="replace").splitlines()

    def cleanup(self) -> None:
        """Keep the access log as an artifact; drop the rest."""
        shutil.rmtree(self.prefix / "temp", ignore_errors=True)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    #: When the upstream received it (time.time()).
    at: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What the recording upstream answers for a path instead of its 200."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    #: Seconds to wait before answering (a slow gateway).
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    #: Room for a burst of connections at once (the default backlog, 5, makes the rest retry
    #: their connect for seconds).
    request_queue_size = 256


@dataclass
class RecordingUpstream:
    """A tiny HTTP server that records what nginx forwards and answers JSON: 500 for /api/fail,
    what ``answer`` set for a path, else 200. The body says which request it answers (``n``,
    counted from 1) and when it was made (``served_at``, time.time()). ``port`` 0: any free one;
    a given port lets a closed upstream come back where nginx looks for it."""

    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        recorder = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    recorder.requests.append(
                        Recorded(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.time(),
                        )
                    )
                    count = len(recorder.requests)
                answer = recorder.answers.get(self.path) or Answer(
                    500 if self.path.startswith("/api/fail") else 200
                )
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(
                    {"path": self.path, "n": count, "served_at": time.time(), "pad": "x" * 2048}
                ).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *_: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, path: str, answer: Answer | None) -> None:
        """Answer ``path`` with ``answer`` from now on (None: the usual 200 again)."""
        if answer is None:
            self.answers.pop(path, None)
        else:
            self.answers[path] = answer

    def seen(self, path: str, since: int = 0) -> list[Recorded]:
        """The requests for ``path`` (exactly, query string included) from index ``since``."""
        return [r for r in self.requests[since:] if r.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: Seconds from sending the first of the requests to having read this answer.
    seconds: float

    def json(self) -> object:
        return json.loads(self.body)


def raw_exchange(port: int, request: bytes) -> RawAnswer:
    """One request written byte for byte (no client normalising its path, method or Host)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    return RawAnswer(response.status, headers, body, time.monotonic() - started)


def simultaneous_gets(
    port: int, path: str, count: int, headers: dict[str, str] | None = None
) -> list[RawAnswer]:
    """``count`` identical GETs at once, as many browsers polling together: every connection is
    opened first, then every request is written within a millisecond or so (a thread pool of
    HTTP clients spreads them over hundreds of ms); each answer is read by a thread of its own,
    so its ``seconds`` are its own."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(count)]
    answers: list[RawAnswer | None] = [None] * count

    def read(index: int) -> None:
        response = http.client.HTTPResponse(sockets[index])
        response.begin()
        body = response.read()
        answers[index] = RawAnswer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            body,
            time.monotonic() - started,
        )

    try:
        readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(count)]
        started = time.monotonic()
        for sock in sockets:
            sock.sendall(request.encode())
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout=20)
    finally:
        for sock in sockets:
            sock.close()
    assert all(answers), "an answer did not come"
    return answers  # type: ignore[return-value]


# --- a fleet of our own ------------------------------------------------------------------------


@dataclass
class Fleet:
    """Our tracker, simulator and gateway (on the shared broker and database, names of their
    own) behind our nginx: stopping our gateway disturbs nobody else."""

    tracker: ServiceProcess
    simulator: ServiceProcess
    gateway: ServiceProcess
    nginx: WebappNginx
    names: list[str]

    def vehicles(self) -> list[dict]:
        return httpx.get(f"{self.gateway.url}/api/vehicles", timeout=5).json()

    def moving_vehicle(self) -> str:
        return max(self.vehicles(), key=lambda v: v["speed"] or 0)["name"]


@contextmanager
def own_fleet(
    isolation: object,
    run_id: str,
    start_nginx: Callable[..., WebappNginx],
    label: str,
    tracker_env: dict[str, str] | None = None,
) -> Iterator[Fleet]:
    """Start a fleet of our own; yields once every vehicle reports (its database is dropped at
    the end)."""
    names = TrackerNames.unique(isolation, label)
    tracker = service_process(
        "services.position_tracker",
        f"{label}-tracker",
        {**names.env, **(tracker_env or {})},
        run_id,
    )
    simulator = service_process(
        "services.position_simulator",
        f"{label}-simulator",
        {"POSITION_QUEUE": names.queue, "SIMULATOR_SEED": "7"},
        run_id,
    )
    gateway = service_process(
        "services.api_gateway", f"{label}-gateway", {"TRACKER_URL": tracker.url}, run_id
    )
    started: list[ServiceProcess] = []
    try:
        for process in (tracker, simulator, gateway):
            started.append(process.start())
        nginx = start_nginx(f"127.0.0.1:{gateway.port}", tile_url="")

        def all_reporting() -> list[str]:
            vehicles = httpx.get(f"{gateway.url}/api/vehicles", timeout=5).json()
            assert len(vehicles) >= 10 and all(v["speed"] is not None for v in vehicles)
            return sorted(v["name"] for v in vehicles)

        yield Fleet(tracker, simulator, gateway, nginx, eventually(all_reporting, timeout=90))
    finally:
        for process in reversed(started):
            process.stop()
        with MongoClient(api.MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
            client.drop_database(names.database)
