"""The gateway's CLIENT span per upstream call: conventions' attributes, status, propagation."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import SpanKind, StatusCode

from services.api_gateway.client_spans import client_span, record_failure, record_response

URL = "http://tracker.fleet:8001/vehicles/City%20Truck/history?limit=5"


def traced(sampler=None) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler) if sampler else TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def carried(request: httpx.Request) -> tuple[int, int, bool]:
    """Trace id, parent span id and sampled flag of the request's ``traceparent``."""
    _, trace_id, span_id, flags = request.headers["traceparent"].split("-")
    return int(trace_id, 16), int(span_id, 16), bool(int(flags, 16) & 1)


def one_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def test_a_call_is_a_client_span_whose_context_the_request_carries():
    provider, exporter = traced()
    tracer = provider.get_tracer("test")
    request = httpx.Request("GET", URL)
    with (
        tracer.start_as_current_span("GET /api/vehicles/{name}") as server,
        client_span(tracer, request) as span,
    ):
        record_response(span, 200)
    client = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT)
    assert client.name == "GET"
    assert client.parent.span_id == server.get_span_context().span_id
    assert dict(client.attributes) == {
        "http.request.method": "GET",
        "server.address": "tracker.fleet",
        "server.port": 8001,
        "url.full": URL,
        "http.response.status_code": 200,
    }
    assert client.status.status_code is StatusCode.UNSET
    assert carried(request) == (client.context.trace_id, client.context.span_id, True)


def test_the_default_port_is_the_schemes():
    provider, exporter = traced()
    with client_span(provider.get_tracer("test"), httpx.Request("GET", "https://tracker/x")):
        pass
    assert one_span(exporter).attributes["server.port"] == 443


@pytest.mark.parametrize("status", [404, 503])
def test_a_client_span_fails_on_4xx_as_on_5xx(status: int):
    provider, exporter = traced()
    with client_span(provider.get_tracer("test"), httpx.Request("GET", URL)) as span:
        record_response(span, status)
    span = one_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == str(status)
    assert span.attributes["http.response.status_code"] == status


def test_no_answer_is_a_failure_named_after_its_error():
    provider, exporter = traced()
    with client_span(provider.get_tracer("test"), httpx.Request("GET", URL)) as span:
        record_failure(span, httpx.ConnectError("connection refused"))
    span = one_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "connection refused"
    assert span.attributes["error.type"] == "ConnectError"
    assert [e.name for e in span.events] == ["exception"]
    assert "http.response.status_code" not in span.attributes


def test_an_unsampled_call_still_carries_its_trace():
    provider, exporter = traced(ParentBased(ALWAYS_OFF))
    request = httpx.Request("GET", URL)
    with client_span(provider.get_tracer("test"), request) as span:
        record_response(span, 200)
        context = span.get_span_context()
    assert exporter.get_finished_spans() == ()
    assert carried(request) == (context.trace_id, context.span_id, False)


def test_tracing_off_adds_nothing():
    request = httpx.Request("GET", URL)
    with client_span(None, request) as span:
        record_response(span, 500)
    assert "traceparent" not in request.headers and not span.is_recording()
