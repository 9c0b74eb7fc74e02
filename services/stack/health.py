"""Health probes: each answers (healthy, detail) quickly and never raises."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

TIMEOUT = 2.0


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


def http_ok(url: str, expect_json_key: str | None = None) -> Health:
    """2xx from `url` (and, optionally, a JSON body holding `expect_json_key`)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = response.read()
            if expect_json_key is not None and expect_json_key not in json.loads(body):
                return Health(False, f"{url}: no {expect_json_key!r} in the answer")
            return Health(True, f"{url} -> {response.status}")
    except urllib.error.HTTPError as exc:
        return Health(False, f"{url} -> {exc.code}")
    except (OSError, ValueError) as exc:
        return Health(False, f"{url}: {_reason(exc)}")


def elasticsearch_ok(base_url: str) -> Health:
    """`GET /_cluster/health` is green or yellow (`GET /` is absent from the integ-test zip)."""
    url = f"{base_url}/_cluster/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            status = json.loads(response.read()).get("status")
    except urllib.error.HTTPError as exc:
        return Health(False, f"{url} -> {exc.code}")
    except (OSError, ValueError) as exc:
        return Health(False, f"{url}: {_reason(exc)}")
    return Health(status in ("green", "yellow"), f"cluster {status}")


def stomp_ok(host: str, port: int) -> Health:
    """A STOMP 1.2 CONNECT answered by CONNECTED."""
    frame = b"CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\n\n\x00"
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
            sock.sendall(frame)
            answer = sock.recv(1024)
            sock.sendall(b"DISCONNECT\n\n\x00")
    except OSError as exc:
        return Health(False, f"stomp {host}:{port}: {_reason(exc)}")
    if answer.startswith(b"CONNECTED"):
        return Health(True, "STOMP CONNECTED")
    return Health(False, f"stomp answered {answer[:40]!r}")


def mongo_ok(url: str) -> Health:
    """The MongoDB `ping` command answers ok (FerretDB or a real MongoDB)."""
    try:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError
    except ImportError:  # pragma: no cover - pymongo is a dependency
        return Health(False, "pymongo is not installed")
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=int(TIMEOUT * 1000))
    try:
        answer = client.admin.command("ping")
    except PyMongoError as exc:
        return Health(False, f"mongodb ping: {_reason(exc)}")
    finally:
        client.close()
    return Health(answer.get("ok") == 1, "ping ok")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return text[:120]
