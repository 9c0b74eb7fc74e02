"""One trace per position and per request, across the real broker and over HTTP (in-memory export)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pymongo import MongoClient

from observability.runtime import Telemetry
from services.api_gateway.app import create_app as create_gateway
from services.api_gateway.settings import GatewaySettings
from services.common.broker import BrokerConnection
from services.common.settings import BrokerSettings
from services.position_simulator.publisher import PositionPublisher
from services.position_simulator.replay import Emission
from services.position_simulator.telemetry import CATALOG as SIMULATOR
from services.position_simulator.tracks import TrackPoint
from services.position_tracker.app import create_app as create_tracker
from services.position_tracker.settings import TrackerSettings
from services.positions.formats import BodyFormat
from tests.support.fleet import MONGODB_URL, TrackerNames
from tests.support.polling import eventually
from tests.support.processes import free_port

pytestmark = pytest.mark.stack


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def names(isolation):
    names = TrackerNames.unique(isolation, "trace")
    yield names
    with MongoClient(MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(names.database)


def tracker_settings(names: TrackerNames, **more) -> TrackerSettings:
    return TrackerSettings(
        position_queue=names.queue,
        dead_letter_queue=names.dlq,
        mongodb_database=names.database,
        **more,
    )


def by_kind(spans, kind: SpanKind):
    return [s for s in spans if s.kind is kind]


def test_one_trace_runs_from_publish_through_the_queue_to_the_database_write(exporter, names):
    processor = SimpleSpanProcessor(exporter)
    tracker = create_tracker(tracker_settings(names), span_processors=(processor,))
    with TestClient(tracker):  # runs the lifespan: the consumer subscribes to the real broker
        broker = BrokerConnection(BrokerSettings(), "trace-test")
        broker.start()
        assert broker.wait_connected(10)
        try:
            telemetry = Telemetry.create(SIMULATOR, "test", (processor,))
            publisher = PositionPublisher(broker, names.queue, BodyFormat.JSON, telemetry)
            now = datetime.now(UTC).replace(microsecond=0)
            publisher.publish(Emission("Trace Van", 0, 0, 0, TrackPoint(53.38, -1.47, 0.0), now))

            def finished():
                spans = exporter.get_finished_spans()
                assert [s for s in spans if s.name.startswith("insert ")], [s.name for s in spans]
                return spans

            spans = eventually(finished, timeout=20)
        finally:
            broker.stop()
    (publish,) = by_kind(spans, SpanKind.PRODUCER)
    (process,) = [s for s in by_kind(spans, SpanKind.CONSUMER) if s.name.endswith(" process")]
    (write,) = [s for s in spans if s.name.startswith("insert ")]
    trace_id = publish.context.trace_id
    assert process.context.trace_id == trace_id
    assert process.parent.span_id == publish.context.span_id
    assert write.context.trace_id == trace_id
    assert write.parent.span_id == process.context.span_id
    assert write.attributes["db.system.name"] == "mongodb"  # the deployed conventions
    assert publish.resource.attributes["service.name"] == "position-simulator"
    assert process.resource.attributes["service.name"] == "position-tracker"


def test_one_trace_runs_from_the_gateway_to_the_tracker(exporter, names):
    processor = SimpleSpanProcessor(exporter)
    port = free_port()
    tracker = create_tracker(tracker_settings(names), span_processors=(processor,))
    server = uvicorn.Server(uvicorn.Config(tracker, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        eventually(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").raise_for_status())
        gateway = create_gateway(
            GatewaySettings(tracker_url=f"http://127.0.0.1:{port}"), span_processors=(processor,)
        )
        with TestClient(gateway) as client:
            assert client.get("/api/vehicles").status_code == 200
            exposition = client.get(
                "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
            ).text
        spans = exporter.get_finished_spans()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    servers = {s.resource.attributes["service.name"]: s for s in by_kind(spans, SpanKind.SERVER)}
    (client_span,) = [
        s
        for s in by_kind(spans, SpanKind.CLIENT)
        if s.resource.attributes["service.name"] == "api-gateway"
    ]
    gateway_span, tracker_span = servers["api-gateway"], servers["position-tracker"]
    assert client_span.context.trace_id == gateway_span.context.trace_id
    assert tracker_span.context.trace_id == gateway_span.context.trace_id
    assert tracker_span.parent.span_id == client_span.context.span_id
    assert gateway_span.attributes["http.route"] == "/api/vehicles"
    # Server and client spans alike carry the stable HTTP names, the deployed conventions.
    for span in (gateway_span, client_span, tracker_span):
        assert span.attributes["http.request.method"] == "GET", span.name
        assert span.attributes["http.response.status_code"] == 200, span.name
        assert "http.method" not in span.attributes, span.name
    # One instrumentation: no second server span, no span per dependency or serialization (what
    # FastAPI's native telemetry would add).
    in_trace = [s for s in spans if s.context.trace_id == gateway_span.context.trace_id]
    services = [s.resource.attributes["service.name"] for s in by_kind(in_trace, SpanKind.SERVER)]
    assert sorted(services) == ["api-gateway", "position-tracker"]
    assert [s.name for s in by_kind(in_trace, SpanKind.INTERNAL)] == []
    # The request's exemplar on the RED histogram names this very trace.
    trace_id = format(gateway_span.context.trace_id, "032x")
    assert 'route="/api/vehicles",status_class="2xx"' in exposition
    assert f'# {{trace_id="{trace_id}"}}' in exposition
