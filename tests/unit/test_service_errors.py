"""Every service's error answers: problem+json for any status, relative slash redirects."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api_gateway.app import create_app
from services.api_gateway.settings import GatewaySettings
from services.common.errors import install_problem_handlers


@pytest.fixture(scope="module")
def gateway() -> TestClient:
    return TestClient(create_app(GatewaySettings()), base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/vehicles/", "/api/vehicles"),
        ("/api/vehicles/?x=1", "/api/vehicles?x=1"),
        ("/api/vehicles/City%20Truck/history/", "/api/vehicles/City%20Truck/history"),
        ("/vehicles", "/vehicles/"),
    ],
)
def test_a_trailing_slash_redirect_is_relative_and_never_reflects_the_host(gateway, path, location):
    answer = gateway.get(path, headers={"Host": "evil.example:666"}, follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == location


@pytest.mark.parametrize("path", ["/nowhere/", "/api//vehicles/", "/api/"])
def test_an_unknown_path_is_a_problem_404_not_a_redirect(gateway, path):
    answer = gateway.get(path, follow_redirects=False)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Not Found"


def test_a_method_not_allowed_is_a_problem_with_its_title(gateway):
    answer = gateway.request("TRACE", "/api/vehicles")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "Method Not Allowed",
    }


def test_an_unexpected_exception_is_a_problem_500_not_plain_text():
    app = FastAPI(redirect_slashes=False)
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Internal Server Error"
    assert "secret" not in answer.text
