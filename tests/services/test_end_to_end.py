"""Simulator → ActiveMQ → tracker → MongoDB → gateway: what the simulator publishes comes out
of the public API with the right speed and heading."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from urllib.parse import quote

import httpx
import pytest

from tests.support.fleet import TrackerNames, running, running_tracker
from tests.support.polling import eventually
from tests.support.sphere import bearing_deg, haversine_m

pytestmark = pytest.mark.stack

PARSE = "%Y-%m-%dT%H:%M:%S.%f%z"


@pytest.fixture(scope="module")
def gateway(isolation, run_id):
    names = TrackerNames.unique(isolation, "e2e")
    with running_tracker(names, run_id) as tracker:
        sim_env = {"POSITION_QUEUE": names.queue, "SIMULATOR_VEHICLES": "2", "SIMULATOR_RATE": "2"}
        gw_env = {"TRACKER_URL": tracker.url}
        with (
            running("services.position_simulator", "position-simulator", sim_env, run_id),
            running("services.api_gateway", "api-gateway", gw_env, run_id) as gw,
        ):
            yield gw


def test_published_positions_come_out_of_the_api_with_speed_and_heading(gateway):
    def histories() -> dict[str, list[dict]]:
        vehicles = httpx.get(f"{gateway.url}/api/vehicles").json()
        assert len(vehicles) == 2
        out = {}
        for vehicle in vehicles:
            url = f"{gateway.url}/api/vehicles/{quote(vehicle['name'], safe='')}/history"
            positions = httpx.get(url, params={"limit": 50}).json()["positions"]
            assert len(positions) >= 8
            out[vehicle["name"]] = positions
        return out

    checked = 0
    for positions in eventually(histories, timeout=60).values():
        for newer, older in pairwise(positions):  # newest first
            seconds = (
                datetime.strptime(newer["timestamp"], PARSE)
                - datetime.strptime(older["timestamp"], PARSE)
            ).total_seconds()
            assert seconds > 0
            distance = haversine_m(older["lat"], older["lng"], newer["lat"], newer["lng"])
            assert newer["speed_kmh"] == pytest.approx(
                distance / seconds * 3.6, rel=0.005, abs=0.05
            )
            if distance > 1.0:  # a parked vehicle keeps its last heading
                expected = bearing_deg(older["lat"], older["lng"], newer["lat"], newer["lng"])
                assert abs((newer["heading"] - expected + 180) % 360 - 180) < 0.5
                checked += 1
    assert checked >= 4, "the vehicles did not move enough to check headings"
