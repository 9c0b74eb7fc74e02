"""The freshness contract of the live map: a stored position is visible in ``GET /api/vehicles``
within 1 s, through the whole public path (our nginx, the gateway, the tracker's snapshot), while
browsers poll it as the page does.

Real processes on the real broker and database: a tracker and a gateway of this module's own,
and nginx with the web app's config in front of them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pymongo import MongoClient

from services.api_gateway.telemetry import SERVICE as GATEWAY_SERVICE
from services.position_tracker import buckets
from tests.services._procs import stomp_client
from tests.support.fleet import MONGODB_URL, TrackerNames, running, running_tracker
from tests.support.processes import ServiceProcess
from tests.webapp.support import NGINX, WebappNginx

pytestmark = pytest.mark.stack

#: The contract, as the README states it.
VISIBLE_WITHIN_S = 1.0
VEHICLE = "Fresh Van"
POSITIONS = 12


@pytest.fixture(scope="module")
def names(isolation) -> TrackerNames:
    return TrackerNames.unique(isolation, "fresh")


@pytest.fixture(scope="module")
def tracker(names, run_id) -> Iterator[ServiceProcess]:
    with running_tracker(names, run_id, BATCH_WAIT_MS="20") as process:
        yield process


@pytest.fixture(scope="module")
def public_url(tracker, run_id) -> Iterator[str]:
    """nginx → gateway → tracker, as a browser reaches the API."""
    if not NGINX.exists():
        pytest.skip(f"needs nginx at {NGINX} (Debian nginx-light; `fleet-stack install`)")
    env = {"TRACKER_URL": tracker.url}
    with running("services.api_gateway", GATEWAY_SERVICE, env, run_id) as gateway:
        nginx = WebappNginx(gateway.url.removeprefix("http://")).start()
        try:
            yield nginx.url
        finally:
            nginx.stop()
            nginx.cleanup()


class Poller:
    """Polls the fleet list like a page left open (every 50 ms), noting when each timestamp of
    the vehicle was first seen."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.first_seen: dict[str, float] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(0.05):
                response = client.get(f"{self.url}/api/vehicles")
                seen = time.time()
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")
                    continue
                for vehicle in response.json():
                    if vehicle["name"] == VEHICLE:
                        self.first_seen.setdefault(vehicle["timestamp"], seen)


def stored_at(database: str) -> dict[str, float]:
    """When each of the vehicle's positions was stored (the tracker's ``stored_at``), by the
    timestamp the API shows for it."""
    found = {}
    with MongoClient(MONGODB_URL, tz_aware=True) as client:
        db = client[database]
        for name in db.list_collection_names():
            if buckets.partition_hour(name) is None:
                continue
            for doc in db[name].find({"vehicle": VEHICLE}):
                for chunk in doc["chunks"]:
                    for at, *_, stored in buckets.RECORD.iter_unpack(chunk):
                        shown = buckets.from_millis(at).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
                        found[shown + "+0000"] = stored / 1000
    return found


def test_a_stored_position_is_in_the_fleet_list_within_a_second(public_url, names):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    with Poller(public_url) as poller, stomp_client() as broker:
        time.sleep(1)  # the page has been open a while: the path is warm
        for i in range(POSITIONS):
            at = start + timedelta(seconds=5 * i)
            body = {"vehicle": VEHICLE, "lat": 53.37 + i * 1e-4, "lng": -1.5, "timestamp": at}
            broker.send(names.queue, json.dumps(body, default=datetime.isoformat))
            time.sleep(VISIBLE_WITHIN_S + 0.3)  # each is the latest for longer than the bound
        time.sleep(VISIBLE_WITHIN_S + 0.5)
    assert poller.errors == []
    stored = stored_at(names.database)
    assert len(stored) == POSITIONS
    late = {
        shown: round(poller.first_seen.get(shown, float("inf")) - moment, 3)
        for shown, moment in stored.items()
        if poller.first_seen.get(shown, float("inf")) - moment > VISIBLE_WITHIN_S
    }
    # Each position stays the latest for longer than the bound: not seen in time is late.
    assert late == {}, f"seen more than {VISIBLE_WITHIN_S} s after being stored: {late}"
