"""The gateway as a real process in front of the real tracker (real ActiveMQ and FerretDB)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from services.position_simulator.telemetry import SERVICE as SIMULATOR_SERVICE
from tests.services._procs import scrape, stomp_client, value
from tests.support.fleet import TrackerNames, running_gateway, running_tracker
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, service_process

pytestmark = pytest.mark.stack

JAVA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ODD_NAME = "Van #1? 100% ünï"  # spaces, '#', '?', '%' and non-ASCII: all need encoding
UPSTREAM = "fleet_gateway_upstream_request_duration_seconds_count"
#: When the awkwardly named vehicle reported (three times, 10 s apart).
REPORTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture(scope="module")
def names(isolation) -> TrackerNames:
    return TrackerNames.unique(isolation, "gw")


@pytest.fixture(scope="module")
def tracker(names, run_id) -> Iterator[ServiceProcess]:
    with running_tracker(names, run_id) as process:
        yield process


@pytest.fixture(scope="module")
def gateway(tracker, run_id) -> Iterator[ServiceProcess]:
    with running_gateway(tracker.url, run_id) as p:
        yield p


@pytest.fixture(scope="module")
def fleet(tracker, names, run_id) -> list[str]:
    """Positions in the tracker: two simulated vehicles, and a vehicle with an awkward name."""
    env = {"POSITION_QUEUE": names.queue, "SIMULATOR_VEHICLES": "2", "SIMULATOR_RATE": "4"}
    simulator = service_process("services.position_simulator", SIMULATOR_SERVICE, env, run_id)
    simulator.start()
    with stomp_client() as client:
        for i in range(3):
            body = {
                "vehicle": ODD_NAME,
                "lat": 53.38 + i * 0.0005,
                "lng": -1.47,
                "timestamp": (REPORTED + timedelta(seconds=10 * i)).isoformat(),
            }
            client.send(names.queue, json.dumps(body))

    def three_vehicles_with_history() -> list[str]:
        vehicles = httpx.get(f"{tracker.url}/vehicles").json()
        assert len(vehicles) == 3
        for vehicle in vehicles:
            history = httpx.get(f"{tracker.url}/vehicles/{quote(vehicle['name'], safe='')}/history")
            assert len(history.json()["positions"]) >= 3
        return sorted(v["name"] for v in vehicles)

    try:
        return eventually(three_vehicles_with_history, timeout=30)
    finally:
        simulator.stop()  # a still fleet: the gateway's and the tracker's answers can be compared


def same_answer(gateway: ServiceProcess, tracker: ServiceProcess, ours: str, theirs: str) -> None:
    """The gateway answers ``ours`` exactly as the tracker answers ``theirs``."""
    mine, upstream = httpx.get(f"{gateway.url}{ours}"), httpx.get(f"{tracker.url}{theirs}")
    assert mine.status_code == upstream.status_code, mine.text
    assert mine.headers["content-type"] == upstream.headers["content-type"]
    assert _without_staleness(mine.json()) == _without_staleness(upstream.json())


def test_the_public_api_passes_the_trackers_positions_on(gateway, tracker, fleet):
    assert ODD_NAME in fleet
    # The gateway shares its list for up to 150 ms (LIST_MAX_AGE_SECONDS) and the tracker's
    # snapshot moves every 250 ms while the simulator reports: the two meet within a few tries.
    eventually(lambda: same_answer(gateway, tracker, "/api/vehicles", "/vehicles"), timeout=3.0)
    for name in fleet:
        encoded = quote(name, safe="")
        same_answer(gateway, tracker, f"/api/vehicles/{encoded}", f"/vehicles/{encoded}")
        same_answer(
            gateway,
            tracker,
            f"/api/vehicles/{encoded}/history?limit=2",
            f"/vehicles/{encoded}/history?limit=2",
        )
    since = (REPORTED + timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    history = httpx.get(
        f"{gateway.url}/api/vehicles/{quote(ODD_NAME, safe='')}/history", params={"since": since}
    ).json()
    assert [p["lat"] for p in history["positions"]] == pytest.approx([53.381, 53.3805])


@pytest.mark.parametrize(
    "path",
    [
        "/api/vehicles/Nobody%20Here",
        "/api/vehicles/Nobody%20Here/history",
        "/api/vehicles/City%20Truck/history?since=yesterday",
        "/api/vehicles/City%20Truck/history?limit=1000000",
        "/api/vehicles/City%20Truck/history?limit=-1",
        "/api/vehicles/City%20Truck/history?since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z",
    ],
)
def test_the_trackers_4xx_answers_are_passed_on_unchanged(gateway, tracker, fleet, path):
    response = httpx.get(f"{gateway.url}{path}")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"
    same_answer(gateway, tracker, path, path.removeprefix("/api"))


def test_fleetman_vehicles_have_exactly_the_original_shape(gateway, fleet):
    vehicles = httpx.get(f"{gateway.url}/vehicles/").json()
    assert sorted(v["name"] for v in vehicles) == fleet
    for vehicle in vehicles:
        assert set(vehicle) == {"name", "lat", "longitude", "timestamp", "speed"}
        assert JAVA_TIME.match(vehicle["timestamp"]), vehicle
        assert vehicle["speed"] is None or isinstance(vehicle["speed"], float)
        ours = httpx.get(f"{gateway.url}/api/vehicles/{quote(vehicle['name'], safe='')}").json()
        assert ours["speed_kmh"] is not None  # every vehicle reported more than once
        assert vehicle["speed"] == pytest.approx(ours["speed_kmh"] / 1.609344, rel=1e-3)


def test_fleetman_history_is_the_trail_oldest_first(gateway, tracker, fleet):
    for name in fleet:
        trail = httpx.get(f"{gateway.url}/history/{quote(name, safe='')}")
        assert trail.status_code == 200
        newest_first = httpx.get(f"{tracker.url}/history/{quote(name, safe='')}").json()
        assert trail.json() == [
            {"lat": p["lat"], "lng": p["longitude"]} for p in newest_first[::-1]
        ]
    assert httpx.get(f"{gateway.url}/history/Nobody%20Here").json() == []


def test_banner_docs_and_readiness(gateway):
    banner = httpx.get(f"{gateway.url}/")
    assert banner.headers["content-type"].startswith("text/html")
    assert banner.text.startswith("<p>Fleetman API Gateway at ")
    spec = httpx.get(f"{gateway.url}/openapi.json").json()
    assert {"/api/vehicles", "/api/vehicles/{name}", "/api/vehicles/{name}/history"} <= set(
        spec["paths"]
    )
    assert httpx.get(f"{gateway.url}/docs").headers["content-type"].startswith("text/html")
    assert httpx.get(f"{gateway.url}/readyz").status_code == 200


def test_upstream_calls_are_measured_by_outcome(gateway, fleet):
    before = scrape(gateway.url)
    httpx.get(f"{gateway.url}/api/vehicles")
    httpx.get(f"{gateway.url}/api/vehicles/Nobody")
    after = scrape(gateway.url)
    for outcome in ("ok", "client_error"):
        labels = {"upstream": "position-tracker", "outcome": outcome}
        assert value(after, UPSTREAM, **labels) == value(before, UPSTREAM, **labels) + 1


def _without_staleness(body: object) -> object:
    """Answers minus ``stale``, which depends on when they were asked."""
    if isinstance(body, list):
        return [_without_staleness(item) for item in body]
    if isinstance(body, dict):
        return {key: _without_staleness(v) for key, v in body.items() if key != "stale"}
    return body
