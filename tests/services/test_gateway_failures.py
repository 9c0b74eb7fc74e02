"""The gateway when its upstream fails, stalls or is gone; encoding, validation and tracing.

The upstream is a stand-in HTTP server (``_standin.py``, a real uvicorn process) because the real
tracker cannot be made to answer 500 or stall on cue; "gone" is a port nothing listens on.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from urllib.parse import unquote

import httpx
import pytest

from services.api_gateway.telemetry import SERVICE
from tests.services._procs import StandIn, scrape, value
from tests.support.fleet import running
from tests.support.processes import ServiceProcess, free_port

PROBLEM = "application/problem+json"
UPSTREAM = "fleet_gateway_upstream_request_duration_seconds_count"
REQUESTS = "http_server_request_duration_seconds_count"
TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Iterator[StandIn]:
    server = StandIn(tmp_path_factory.mktemp("standin")).start()
    yield server
    server.stop()


def _gateway(upstream_url: str, run_id: str) -> AbstractContextManager[ServiceProcess]:
    """A gateway process; its log lines are checked against its schema when it stops."""
    env = {"TRACKER_URL": upstream_url, "UPSTREAM_TIMEOUT_SECONDS": str(TIMEOUT_S)}
    return running("services.api_gateway", SERVICE, env, run_id)


@pytest.fixture(scope="module")
def gateway(standin, run_id) -> Iterator[ServiceProcess]:
    with _gateway(standin.url, run_id) as process:
        yield process


@pytest.fixture(scope="module")
def orphan(run_id) -> Iterator[ServiceProcess]:
    """A gateway whose tracker is gone (nothing listens on its port)."""
    with _gateway(f"http://127.0.0.1:{free_port()}", run_id) as process:
        yield process


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def log_records(process: ServiceProcess) -> list[dict]:
    return [json.loads(line) for line in process.log_lines() if line.startswith("{")]


def test_a_failing_tracker_gives_502_with_its_reason_and_a_trace_id(gateway, standin):
    standin.mode("fail")
    before = scrape(gateway.url)
    body = problem(httpx.get(f"{gateway.url}/api/vehicles"), 502)
    assert "500" in body["detail"] and "database on fire" in body["detail"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["trace_id"])
    # The tracker saw the same trace, and the gateway logged the failure in it.
    [seen] = standin.requests()
    assert seen["traceparent"].split("-")[1] == body["trace_id"]
    time.sleep(0.2)  # the log line is flushed right away, but the process is another one
    [record] = [
        r
        for r in log_records(gateway)
        if r.get("event.action") == "upstream-request" and r.get("trace.id") == body["trace_id"]
    ]
    assert record["log.level"] == "warning" and record["upstream.outcome"] == "server_error"
    labels = {"upstream": "position-tracker", "outcome": "server_error"}
    assert value(scrape(gateway.url), UPSTREAM, **labels) == value(before, UPSTREAM, **labels) + 1
    # The Fleetman route answers [] only when the tracker is down, not when it fails.
    problem(httpx.get(f"{gateway.url}/vehicles/"), 502)


def test_a_tracker_without_its_database_gives_503_with_its_retry_after(gateway, standin):
    standin.mode("unavailable")
    before = scrape(gateway.url)
    response = httpx.get(f"{gateway.url}/api/vehicles/Van/history")
    body = problem(response, 503)
    assert response.headers["retry-after"] == "7"  # the tracker's, passed on
    assert "503" in body["detail"] and "the database failed" in body["detail"]
    labels = {"upstream": "position-tracker", "outcome": "unavailable"}
    assert value(scrape(gateway.url), UPSTREAM, **labels) == value(before, UPSTREAM, **labels) + 1


def test_a_tracker_answering_garbage_gives_502(gateway, standin):
    standin.mode("garbage")
    assert "proxy error" in problem(httpx.get(f"{gateway.url}/api/vehicles/Van"), 502)["detail"]


def test_a_slow_tracker_gives_504_in_time(gateway, standin):
    standin.mode("slow")
    started = time.monotonic()
    body = problem(httpx.get(f"{gateway.url}/api/vehicles/City%20Truck"), 504)
    assert time.monotonic() - started < TIMEOUT_S + 1.0
    assert f"{TIMEOUT_S:g} s" in body["detail"]
    assert httpx.get(f"{gateway.url}/vehicles/").json() == []
    assert httpx.get(f"{gateway.url}/history/City%20Truck").json() == []


def test_a_gone_tracker_gives_503_and_the_fleetman_routes_empty_lists(orphan):
    body = problem(httpx.get(f"{orphan.url}/api/vehicles"), 503)
    assert "cannot connect to the position tracker" in body["detail"]
    problem(httpx.get(f"{orphan.url}/api/vehicles/City%20Truck/history"), 503)
    assert httpx.get(f"{orphan.url}/vehicles/").json() == []
    assert httpx.get(f"{orphan.url}/history/City%20Truck").json() == []
    assert problem(httpx.get(f"{orphan.url}/readyz"), 503)["checks"]["position-tracker"]
    labels = {"upstream": "position-tracker", "outcome": "unavailable"}
    assert value(scrape(orphan.url), UPSTREAM, **labels) >= 4


def test_the_trackers_own_4xx_is_passed_on_unchanged(gateway, standin):
    standin.mode("notfound")
    response = httpx.get(f"{gateway.url}/api/vehicles/Ghost")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no such van",
    }


@pytest.mark.parametrize(
    ("name", "upstream_path"),
    [
        ("City Truck", "City%20Truck"),
        ("Van #1? 100%", "Van%20%231%3F%20100%25"),
        ("Ünïcode Van", "%C3%9Cn%C3%AFcode%20Van"),
        ("a+b&c=d", "a%2Bb%26c%3Dd"),
    ],
)
def test_vehicle_names_are_url_encoded_on_the_way(gateway, standin, name, upstream_path):
    """The gateway gets ``name`` decoded and must encode it again for the tracker."""
    assert unquote(upstream_path) == name
    standin.mode("echo")
    assert httpx.get(f"{gateway.url}/api/vehicles/{upstream_path}").status_code == 200
    history = httpx.get(
        f"{gateway.url}/api/vehicles/{upstream_path}/history",
        params={"since": "2025-01-01T00:00:00Z", "limit": "5", "sneaky": "x"},
    )
    assert history.status_code == 200
    trail = httpx.get(f"{gateway.url}/history/{upstream_path}")
    assert trail.json() == [{"lat": 1.0, "lng": 10.0}, {"lat": 2.0, "lng": 20.0}]  # oldest first
    seen = standin.requests()
    assert [r["raw_path"] for r in seen] == [
        f"/vehicles/{upstream_path}",
        f"/vehicles/{upstream_path}/history",
        f"/history/{upstream_path}",
    ]
    assert seen[1]["query"] == "since=2025-01-01T00%3A00%3A00Z&limit=5"  # only what is declared


def test_the_trace_continues_from_the_caller_through_the_gateway_to_the_tracker(gateway, standin):
    standin.mode("echo")
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    headers = {"traceparent": f"00-{trace_id}-{caller_span}-01"}
    assert httpx.get(f"{gateway.url}/api/vehicles", headers=headers).status_code == 200
    [seen] = standin.requests()
    _version, seen_trace, parent, flags = seen["traceparent"].split("-")
    assert seen_trace == trace_id  # the same trace ...
    assert parent not in {caller_span, "0" * 16}  # ... one hop further (the gateway's span)
    assert int(flags, 16) & 1  # sampled


@pytest.mark.parametrize(
    "raw_path",
    [
        "/api/vehicles/$where",
        "/api/vehicles/%24gt/history",
        "/api/vehicles/" + "x" * 101,
        "/api/vehicles/a%01b",
        "/api/vehicles/%00",
        "/api/vehicles/..",
        "/api/vehicles/%2E%2E/history",
        "/api/vehicles/.",
        "/api/vehicles/%20%20",
        "/history/$ne",
    ],
)
def test_bad_vehicle_names_get_400_and_never_reach_the_tracker(gateway, standin, raw_path):
    standin.mode("echo")
    # http.client sends the path as written (httpx would normalise "..").
    connection = http.client.HTTPConnection("127.0.0.1", int(gateway.url.rsplit(":", 1)[1]))
    connection.request("GET", raw_path)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 400, body
    assert response.getheader("content-type") == PROBLEM
    assert body["detail"]
    assert standin.requests() == []


def test_a_thousand_vehicle_names_add_no_series(gateway, standin):
    standin.mode("echo")
    httpx.get(f"{gateway.url}/api/vehicles/warm-up")
    before = scrape(gateway.url)
    with httpx.Client(base_url=gateway.url) as client:
        for number in range(1000):
            assert client.get(f"/api/vehicles/Van {number}").status_code == 200
    after = scrape(gateway.url)
    assert {name: len(samples) for name, samples in after.items()} == {
        name: len(samples) for name, samples in before.items()
    }
    labels = {"method": "GET", "route": "/api/vehicles/{name}", "status_class": "2xx"}
    assert value(after, REQUESTS, **labels) == value(before, REQUESTS, **labels) + 1000
