"""The gateway's app as built (no network): routes match the catalog, OpenAPI, settings."""

import pytest
from pydantic import ValidationError

from observability.runtime.http import declared_routes
from services.api_gateway.app import create_app
from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import ROUTES, UPSTREAM_OUTCOMES
from services.api_gateway.upstream import Outcome, _outcome
from services.position_simulator.app import create_app as create_simulator_app
from services.position_simulator.telemetry import ROUTES as SIMULATOR_ROUTES


@pytest.fixture(scope="module")
def app():
    return create_app(GatewaySettings())


def test_routes_are_exactly_the_catalogs(app):
    assert set(declared_routes(app)) == set(ROUTES)


def test_simulator_routes_are_exactly_the_catalogs():
    assert set(declared_routes(create_simulator_app())) == set(SIMULATOR_ROUTES)


def test_openapi_describes_the_public_api_with_models_and_problems(app):
    spec = app.openapi()
    assert set(spec["paths"]) == {
        "/api/vehicles",
        "/api/vehicles/{name}",
        "/api/vehicles/{name}/history",
        "/vehicles/",
        "/history/{name}",
    }
    one = spec["paths"]["/api/vehicles/{name}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"]["$ref"].endswith("VehiclePosition")
    assert one["200"]["content"]["application/json"]["example"]["name"] == "City Truck"
    for status in ("400", "404", "502", "503", "504"):
        assert "application/problem+json" in one[status]["content"]
    history = spec["paths"]["/api/vehicles/{name}/history"]["get"]
    assert {p["name"] for p in history["parameters"]} == {"name", "since", "until", "limit"}
    schemas = spec["components"]["schemas"]
    assert {"VehiclePosition", "History", "FleetmanPosition", "LatLng", "Problem"} <= set(schemas)


def test_openapi_says_a_shed_request_gets_503_with_retry_after(app):
    spec = app.openapi()
    for path in ("/api/vehicles", "/api/vehicles/{name}", "/api/vehicles/{name}/history"):
        unavailable = spec["paths"][path]["get"]["responses"]["503"]
        assert "Retry-After" in unavailable["description"]
        assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"
        assert "headers" not in spec["paths"][path]["get"]["responses"]["504"]


def test_upstream_outcomes_are_the_catalogs():
    assert {o.value for o in Outcome} == set(UPSTREAM_OUTCOMES)
    assert [_outcome(s) for s in (200, 304, 400, 404, 500, 503)] == [
        Outcome.OK,
        Outcome.OK,
        Outcome.CLIENT_ERROR,
        Outcome.CLIENT_ERROR,
        Outcome.SERVER_ERROR,
        Outcome.SERVER_ERROR,
    ]


def test_settings_defaults_and_validation(monkeypatch):
    for name in ("TRACKER_URL", "UPSTREAM_TIMEOUT_SECONDS", "HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings()
    assert (settings.http_port, settings.tracker_url) == (8000, "http://127.0.0.1:8001")
    assert settings.upstream_timeout_seconds == 2.0
    monkeypatch.setenv("TRACKER_URL", "http://tracker:8080/")
    monkeypatch.setenv("UPSTREAM_TIMEOUT_SECONDS", "0.5")
    settings = GatewaySettings()
    assert (settings.tracker_url, settings.upstream_timeout_seconds) == ("http://tracker:8080", 0.5)
    for bad in ("tracker:8080", "ftp://tracker"):
        monkeypatch.setenv("TRACKER_URL", bad)
        with pytest.raises(ValidationError):
            GatewaySettings()


def test_call_slots_never_outnumber_the_pools_connections(monkeypatch):
    for name in ("UPSTREAM_MAX_CONNECTIONS", "UPSTREAM_MAX_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewaySettings()
    assert settings.upstream_max_concurrency <= settings.upstream_max_connections
    assert settings.upstream_queue_timeout_seconds <= 0.05  # shed answers within 50 ms
    monkeypatch.setenv("UPSTREAM_MAX_CONNECTIONS", "8")
    with pytest.raises(ValidationError, match="UPSTREAM_MAX_CONCURRENCY"):
        GatewaySettings()
    monkeypatch.setenv("UPSTREAM_MAX_CONCURRENCY", "8")
    assert GatewaySettings().upstream_max_concurrency == 8
