"""The gateway's CLIENT span per upstream call: conventions' attributes, status, propagation."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.instrumentation import _semconv
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler
from opentelemetry.trace import SpanKind, StatusCode

from services.api_gateway.client_spans import ClientSpans

URL = "http://tracker.fleet:8001/vehicles/City%20Truck/history?limit=5"
OLD = {"http.method": "GET", "http.url": URL}
STABLE = {
    "http.request.method": "GET",
    "server.address": "tracker.fleet",
    "server.port": 8001,
    "url.full": URL,
}


def traced(sampler: Sampler | None = None) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler) if sampler else TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


Call = tuple[str, str, dict[str, str]]


def call(url: str = URL) -> Call:
    """A call as the gateway makes it: method, URL, and the headers the span fills."""
    return ("GET", url, {})


def carried(request: Call) -> tuple[int, int, bool]:
    """Trace id, parent span id and sampled flag of the call's ``traceparent``."""
    _, trace_id, span_id, flags = request[2]["traceparent"].split("-")
    return int(trace_id, 16), int(span_id, 16), bool(int(flags, 16) & 1)


def one_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def answered(status: int, opt_in: str | None) -> ReadableSpan:
    provider, exporter = traced()
    spans = ClientSpans(provider.get_tracer("test"), opt_in)
    with spans.call(*call()) as span:
        spans.answered(span, status)
    return one_span(exporter)


def test_a_call_is_a_client_span_whose_context_the_request_carries():
    provider, exporter = traced()
    tracer = provider.get_tracer("test")
    spans = ClientSpans(tracer, "")
    request = call()
    with (
        tracer.start_as_current_span("GET /api/vehicles/{name}") as server,
        spans.call(*request) as span,
    ):
        spans.answered(span, 200)
    client = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT)
    assert client.name == "GET"
    assert client.parent.span_id == server.get_span_context().span_id
    assert client.status.status_code is StatusCode.UNSET
    assert carried(request) == (client.context.trace_id, client.context.span_id, True)


@pytest.mark.parametrize(
    ("opt_in", "expected"),
    [
        ("", {**OLD, "http.status_code": 200}),
        ("database", {**OLD, "http.status_code": 200}),
        ("http", {**STABLE, "http.response.status_code": 200}),
        (
            "database, http/dup",
            {**OLD, "http.status_code": 200, **STABLE, "http.response.status_code": 200},
        ),
    ],
)
def test_attribute_names_follow_the_semconv_opt_in(opt_in: str, expected: dict):
    assert dict(answered(200, opt_in).attributes) == expected


@pytest.mark.parametrize("opt_in", ["", "http"])
def test_client_and_server_spans_of_a_trace_use_the_same_conventions(monkeypatch, opt_in: str):
    """What FastAPI's instrumentation writes for its server spans under the same setting."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    # The instrumentations read the variable once per process: make them read it again, on a
    # copy of their state that the test's end puts back.
    stability = _semconv._OpenTelemetrySemanticConventionStability
    monkeypatch.setattr(stability, "_initialized", False)
    mapping = dict(stability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING)
    monkeypatch.setattr(stability, "_OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING", mapping)
    provider, exporter = traced()
    app = FastAPI()
    app.add_api_route("/ping", lambda: {})
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
    TestClient(app).get("/ping")
    server = set(one_span(exporter).attributes)
    client = set(answered(200, None).attributes)  # the environment's setting
    method = "http.request.method" if opt_in else "http.method"
    status = "http.response.status_code" if opt_in else "http.status_code"
    assert {method, status} <= server & client


def test_the_default_port_is_the_schemes():
    provider, exporter = traced()
    spans = ClientSpans(provider.get_tracer("test"), "http")
    with spans.call(*call("https://tracker/x")):
        pass
    assert one_span(exporter).attributes["server.port"] == 443


@pytest.mark.parametrize("status", [404, 503])
def test_a_client_span_fails_on_4xx_as_on_5xx(status: int):
    span = answered(status, "http")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == str(status)
    assert span.attributes["http.response.status_code"] == status


def test_no_answer_is_a_failure_named_after_its_error():
    provider, exporter = traced()
    spans = ClientSpans(provider.get_tracer("test"), "http")
    with spans.call(*call()) as span:
        spans.failed(span, ConnectionRefusedError("connection refused"))
    span = one_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "connection refused"
    assert span.attributes["error.type"] == "ConnectionRefusedError"
    assert [e.name for e in span.events] == ["exception"]
    assert "http.response.status_code" not in span.attributes


def test_an_unsampled_call_still_carries_its_trace():
    provider, exporter = traced(ParentBased(ALWAYS_OFF))
    spans = ClientSpans(provider.get_tracer("test"))
    request = call()
    with spans.call(*request) as span:
        spans.answered(span, 200)
        context = span.get_span_context()
    assert exporter.get_finished_spans() == ()
    assert carried(request) == (context.trace_id, context.span_id, False)


def test_tracing_off_adds_nothing():
    spans = ClientSpans(None)
    request = call()
    with spans.call(*request) as span:
        spans.answered(span, 500)
    assert "traceparent" not in request[2] and not span.is_recording()
