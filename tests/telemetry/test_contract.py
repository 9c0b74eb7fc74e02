"""What the running services emit is exactly what their catalogs declare."""

from __future__ import annotations

import json
import random
import string
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability.catalog.metrics import MetricKind
from observability.config import import_catalog
from tests.support.fleet import TrackerNames, running, running_tracker
from tests.support.polling import eventually

pytestmark = pytest.mark.stack

MODULES = {
    "position-tracker": "services.position_tracker",
    "api-gateway": "services.api_gateway",
    "position-simulator": "services.position_simulator",
}


@pytest.fixture(scope="module")
def fleet(isolation, run_id):
    names = TrackerNames.unique(isolation, "contract")
    # Queue statistics often enough that their series exist before the tests count series.
    with running_tracker(names, run_id, QUEUE_STATS_INTERVAL_SECONDS="0.5") as tracker:
        simulator_env = {
            "POSITION_QUEUE": names.queue,
            "SIMULATOR_VEHICLES": "3",
            "SIMULATOR_RATE": "4",
        }
        with running(
            "services.position_simulator", "position-simulator", simulator_env, run_id
        ) as sim:
            gateway_env = {"TRACKER_URL": tracker.url}
            with running("services.api_gateway", "api-gateway", gateway_env, run_id) as gateway:
                eventually(lambda: _assert_vehicles(gateway.url, 3), timeout=30)
                eventually(lambda: _assert_queue_reported(tracker.url), timeout=30)
                yield {
                    "position-tracker": tracker,
                    "position-simulator": sim,
                    "api-gateway": gateway,
                }


def _assert_vehicles(url: str, n: int) -> None:
    assert len(httpx.get(f"{url}/api/vehicles").json()) == n


def _assert_queue_reported(url: str) -> None:
    assert families(url)["fleet_broker_queue_messages"]


def families(url: str) -> dict[str, list]:
    text = httpx.get(f"{url}/metrics").text
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@pytest.mark.parametrize("service", sorted(MODULES))
def test_metrics_are_exactly_the_catalogs_with_the_declared_labels(fleet, service):
    catalog = import_catalog(f"{MODULES[service]}.telemetry:CATALOG")
    scraped = families(fleet[service].url)
    declared = {m.base_name: m for m in catalog.metrics}
    assert set(scraped) == set(declared)
    for name, samples in scraped.items():
        metric = declared[name]
        allowed = set(metric.label_names) | (
            {"le"} if metric.kind is MetricKind.HISTOGRAM else set()
        )
        for sample in samples:
            assert set(sample.labels) <= allowed, (sample.name, sample.labels)
            for label, value in sample.labels.items():
                values = metric.label(label).values if label != "le" else None
                assert values is None or value in values, (sample.name, label, value)


def test_a_thousand_vehicle_names_add_no_series(fleet):
    gateway = fleet["api-gateway"]
    httpx.get(f"{gateway.url}/api/vehicles/warm-up")  # the 404 series exist from here on
    before = {s: _series(fleet[s].url) for s in ("api-gateway", "position-tracker")}
    with httpx.Client(base_url=gateway.url) as client:
        for _ in range(1000):
            name = "".join(random.choices(string.ascii_letters, k=12))
            assert client.get(f"/api/vehicles/{name}").status_code == 404
    after = {s: _series(fleet[s].url) for s in ("api-gateway", "position-tracker")}
    assert after == before


def _series(url: str) -> set[str]:
    return {
        f"{s.name}{sorted(s.labels.items())}"
        for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
        for s in f.samples
    }


def test_a_log_line_written_during_a_request_carries_its_trace_id(fleet):
    gateway = fleet["api-gateway"]
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    marker = f"/api/vehicles/Nobody-{uuid.uuid4().hex[:8]}"
    assert (
        httpx.get(f"{gateway.url}{marker}", headers={"traceparent": traceparent}).status_code == 404
    )

    def logged() -> dict:
        lines = [json.loads(line) for line in gateway.log_lines() if marker in line]
        assert lines
        return lines[0]

    record = eventually(logged)
    assert record["trace.id"] == trace_id
    assert record["url.path"] == marker
    assert record["http.response.status_code"] == 404
