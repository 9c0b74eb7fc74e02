"""The API gateway's app: the public API, the original Fleetman routes, docs, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.sdk.trace import SpanProcessor

from observability.runtime import Telemetry
from services.api_gateway import compat, routes
from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import CATALOG
from services.api_gateway.upstream import TrackerClient
from services.common.app import create_service_app
from services.common.version import VERSION

DESCRIPTION = """\
The public REST API of the Fleetman fleet tracker: where every delivery vehicle is, how fast it
goes and where it has been.

Errors are `application/problem+json` (RFC 9457): 400 for a bad vehicle name or parameter,
404 for an unknown vehicle, and 502/503/504 when the position tracker behind this gateway fails,
cannot be reached or is too slow (with the request's `trace_id`). When the tracker is saturated
(every call slot in flight) a request is shed at once: 503 with `Retry-After`; when the tracker
answers 503 itself (its database is down), so does the gateway, with the tracker's `Retry-After`.

The *fleetman* routes are those of the original Fleetman gateway, kept so that its web app works
unchanged.
"""

TAGS = [
    {"name": "vehicles", "description": "Positions, speeds and headings of the fleet."},
    {"name": "fleetman", "description": "Compatibility with the original Fleetman web app."},
]


def create_app(
    settings: GatewaySettings | None = None, span_processors: tuple[SpanProcessor, ...] = ()
) -> FastAPI:
    settings = settings or GatewaySettings()
    telemetry = Telemetry.create(CATALOG, VERSION, span_processors)
    tracker = TrackerClient(settings, telemetry.metrics, telemetry.tracer_provider)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await tracker.aclose()
            telemetry.shutdown()

    app = create_service_app(
        telemetry,
        title="Fleetman API",
        description=DESCRIPTION,
        readiness={"position-tracker": tracker.ready},
        lifespan=lifespan,
        openapi_tags=TAGS,
    )
    routes.add_routes(app, tracker, settings.list_max_age_seconds)
    compat.add_routes(app, tracker, settings.list_max_age_seconds)
    # The original gateway allowed any origin (@CrossOrigin("*")); the API is read-only.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])
    app.state.tracker = tracker
    return app
