"""HTTP instrumentation of a FastAPI service: RED metrics per route template, traces, /metrics."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.catalog.common import HTTP_METHODS, HTTP_REQUEST_DURATION, UNMATCHED_ROUTE
from observability.runtime.metrics import Instrument, ServiceMetrics


def _status_class(status: int) -> str:
    return f"{min(max(status // 100, 1), 5)}xx"


class RedRecorder:
    """Records a request in the RED histogram, labelled by route template (never raw path)."""

    def __init__(self, histogram: Instrument) -> None:
        self.histogram = histogram
        self._routes = set(histogram.metric.label("route").values or ())

    def record(self, scope: Scope, status: int, elapsed: float) -> None:
        # The router stores the matched route in the scope; its path is the template.
        route = getattr(scope.get("route"), "path", None)
        if route not in self._routes:
            route = UNMATCHED_ROUTE
        method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
        labels = {"method": method, "route": route, "status_class": _status_class(status)}
        self.histogram.labels(**labels).observe(elapsed)


class RedMetricsMiddleware:
    """Records every request in the RED histogram (``RedRecorder``)."""

    def __init__(self, app: ASGIApp, recorder: RedRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            self.recorder.record(scope, status, time.perf_counter() - start)


def instrument_app(
    app: FastAPI, metrics: ServiceMetrics, tracer_provider: TracerProvider | None
) -> None:
    """Add traces (OpenTelemetry), RED metrics and a ``/metrics`` endpoint to a FastAPI app.
    With telemetry off, only the endpoint (answering the process metrics): requests pass
    through no instrumentation at all."""
    if metrics.enabled:
        histogram = metrics.histogram(metrics.catalog.metric(HTTP_REQUEST_DURATION))
        recorder = RedRecorder(histogram)
        app.add_middleware(RedMetricsMiddleware, recorder=recorder)
        # What answers before the app (``services/common/admission.py``) records here too.
        app.state.red_recorder = recorder

    async def metrics_endpoint(request: Request) -> Response:
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    if tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=tracer_provider,
            excluded_urls="/metrics,/healthz,/readyz",
            # A span per ASGI send/receive triples the cost of a request and says nothing more.
            exclude_spans=["receive", "send"],
        )


def declared_routes(app: FastAPI) -> tuple[str, ...]:
    """Route templates of an app (what the catalog's ``route`` label must allow).

    Routes added on the app itself, plus every documented path (FastAPI mounts included routers
    lazily, so only the OpenAPI description lists their templates).
    """
    direct = {getattr(r, "path", "") for r in app.routes}
    documented = set(app.openapi().get("paths", {})) if app.openapi_url else set()
    return tuple(sorted((direct | documented) - {""}))
