"""Traffic the saved searches need, made on the running stack, and reading back what the
collector shipped.

- nginx: an API call with a ``traceparent`` (the gateway continues the trace, the tracker
  serves it), a request for a page that does not exist (404), a request whose headers arrive
  slowly (nginx's ``$request_time`` counts from the first byte read: a slow request without
  touching any service), a bad request line (the optional fields absent), a User-Agent with
  quotes and a backslash (nginx escapes them);
- the tracker: an unparseable message on ``positionQueue`` (dead-lettered);
- an error record of each Python service, written by the services' own JSON formatter
  (``observability.runtime.logs``) with its service name into ``<service>.<run>.log``, a file
  the collector tails as another instance of that service (the running services log no error
  on demand).
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from observability.catalog.service import Platform
from observability.logs.pipeline import json_routes
from observability.render.otelcol_config import LOCAL_LOG_FILES
from observability.runtime.logs import EcsJsonFormatter
from services.stack.paths import stack_paths
from tests.support.broker import StompClient
from tests.support.polling import eventually

SLOW_SECONDS = 1.3
REPO = Path(__file__).resolve().parents[2]


def new_trace_id() -> str:
    return secrets.token_hex(16)


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"


@dataclass
class Traffic:
    started: datetime
    run_id: str
    #: What each request was for -> its trace id.
    traces: dict[str, str] = field(default_factory=dict)
    #: The files written for error records (removed at the end of the session).
    files: list[Path] = field(default_factory=list)


def log_dir() -> Path:
    return stack_paths().logs


def nginx_log() -> Path:
    return log_dir() / f"{LOCAL_LOG_FILES['webapp']}.log"


def _slow_request(host: str, port: int, trace_id: str) -> None:
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: fleet.test\r\n")
        time.sleep(SLOW_SECONDS)
        sock.sendall(f"traceparent: {traceparent(trace_id)}\r\nConnection: close\r\n\r\n".encode())
        while sock.recv(65536):
            pass


#: Request lines nginx refuses, each logged in its own way: no method at all, a protocol it does
#: not support (505, an empty protocol field), one that is not HTTP, a bad method.
ODD_REQUESTS = (
    b"NONSENSE\r\n\r\n",
    b"GET / HTTP/2.5\r\nHost: x\r\n\r\n",
    b"GET / FOO/1.1\r\nHost: x\r\n\r\n",
    b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
)


def _bad_request(host: str, port: int) -> None:
    for request in ODD_REQUESTS:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(request)
            while sock.recv(65536):
                pass


def _error_record(service: str, run_id: str, trace_id: str) -> Path:
    """One error record of ``service``, by its formatter, in a span of ``trace_id``."""
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    path = log_dir() / f"{service}.{run_id}.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(EcsJsonFormatter(service, "0.1.0"))
    logger = logging.getLogger(f"tests.logs.{service}")
    logger.propagate = False
    logger.addHandler(handler)
    context = SpanContext(int(trace_id, 16), int(secrets.token_hex(8), 16), False, TraceFlags(1))
    try:
        with trace.use_span(NonRecordingSpan(context)):
            try:
                raise RuntimeError("probe failure for the errors search")
            except RuntimeError:
                logger.error("probe error of the logs proof tests", exc_info=True)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


def make(api: Any, platform: Platform, run_id: str) -> Traffic:
    made = Traffic(datetime.now(UTC), run_id)
    base = api.NGINX_URL
    host, port = base.removeprefix("http://").split(":")
    for what, path in (("api", "/api/vehicles"), ("missing", f"/no-such-page-{run_id}")):
        made.traces[what] = new_trace_id()
        headers = {
            "traceparent": traceparent(made.traces[what]),
            "User-Agent": 'logs-proof "quoted" \\ agent',
            # what the page sends: with it the API call's line carries every declared field
            "Referer": f"{base}/",
        }
        httpx.get(f"{base}{path}?run={run_id}", headers=headers, timeout=30)
    made.traces["slow"] = new_trace_id()
    _slow_request(host, int(port), made.traces["slow"])
    _bad_request(host, int(port))
    broker = StompClient((api.STOMP_HOST, api.STOMP_PORT))
    try:
        broker.send("positionQueue", "{not json " + run_id)
    finally:
        broker.close()
    for route in json_routes(platform):
        made.traces[f"error:{route.name}"] = new_trace_id()
        made.files.append(_error_record(route.name, run_id, made.traces[f"error:{route.name}"]))
    return made


def search(
    url: str, index: str, query: dict, size: int = 50, sort: str = "@timestamp"
) -> list[dict]:
    body = {"query": query, "size": size, "sort": [{sort: "desc"}]}
    response = httpx.post(f"{url}/{index}/_search", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["hits"]["hits"]


def since(query: dict, moment: datetime) -> dict:
    """``query`` restricted to documents at or after ``moment`` (the traffic of this run)."""
    stamp = moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"bool": {"filter": [query, {"range": {"@timestamp": {"gte": stamp}}}]}}


def refresh(url: str, index: str) -> None:
    httpx.post(f"{url}/{index}/_refresh", timeout=30)


def tail_lines(path: Path, count: int = 400) -> list[str]:
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 1_000_000))
        lines = handle.read().decode(errors="replace").splitlines()
    return [line for line in lines[-count:] if line.strip()]


def json_lines(path: Path, count: int = 400) -> list[str]:
    found = []
    for line in tail_lines(path, count):
        try:
            if isinstance(json.loads(line), dict):
                found.append(line)
        except json.JSONDecodeError:
            continue
    return found


def until_found(find: Callable[[], list], timeout: float = 60.0, what: str = "") -> list:
    """``find()`` once it returns something (the collector ships within seconds)."""

    def check() -> list:
        found = find()
        assert found, f"nothing found yet{': ' + what if what else ''}"
        return found

    return eventually(check, timeout=timeout, interval=1.0)
