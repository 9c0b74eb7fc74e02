"""What instrumenting an HTTP app adds, with telemetry on and off."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider

from observability.runtime.http import RedMetricsMiddleware, instrument_app
from observability.runtime.metrics import ServiceMetrics
from services.api_gateway.telemetry import CATALOG


def app_with(enabled: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/api/vehicles")
    def vehicles() -> list[str]:
        return []

    metrics = ServiceMetrics(CATALOG, enabled=enabled)
    instrument_app(app, metrics, TracerProvider() if enabled else None)
    return app


@pytest.mark.parametrize("enabled", [True, False])
def test_red_metrics_only_when_telemetry_is_on(enabled: bool):
    app = app_with(enabled)
    middleware = [m.cls for m in app.user_middleware]
    assert (RedMetricsMiddleware in middleware) is enabled
    client = TestClient(app)
    assert client.get("/api/vehicles").status_code == 200
    exposition = client.get("/metrics").text
    recorded = 'route="/api/vehicles"' in exposition
    assert recorded is enabled
