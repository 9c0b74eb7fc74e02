"""The guard in front of every service's app: a bounded number of requests inside, the rest
answered 503 at once, counted under their route."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI

from services.common.admission import RequestAdmission, admitted


class Recorder:
    def __init__(self) -> None:
        self.recorded: list[tuple[str | None, int]] = []

    def record(self, scope, status: int, elapsed: float) -> None:
        self.recorded.append((getattr(scope.get("route"), "path", None), status))


def slow_app() -> tuple[FastAPI, asyncio.Event, Recorder]:
    app = FastAPI()
    release = asyncio.Event()
    recorder = Recorder()
    app.state.red_recorder = recorder

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/vehicles/{name}")
    async def vehicle(name: str) -> dict[str, str]:
        await release.wait()
        return {"name": name}

    return app, release, recorder


async def call(guard: RequestAdmission, path: str) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    await guard(scope, receive, send)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_past_the_limit_requests_get_a_503_at_once_and_are_counted_under_their_route():
    async def scenario() -> None:
        app, release, recorder = slow_app()
        guard = RequestAdmission(app, limit=3)
        inside = [asyncio.create_task(call(guard, f"/api/vehicles/v{i}")) for i in range(3)]
        await asyncio.sleep(0.05)
        assert guard.in_flight == 3
        status, headers, body = await asyncio.wait_for(call(guard, "/api/vehicles/x"), 0.05)
        assert status == 503
        assert headers["retry-after"] == "1"
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 503
        assert recorder.recorded == [("/api/vehicles/{name}", 503)]
        status, _, _ = await asyncio.wait_for(call(guard, "/healthz"), 1)
        assert status == 200  # probes always pass
        release.set()
        assert [s for s, _, _ in await asyncio.gather(*inside)] == [200, 200, 200]
        assert guard.in_flight == 0
        status, _, _ = await call(guard, "/api/vehicles/y")
        assert status == 200  # room again

    asyncio.run(scenario())


def test_no_limit_means_no_guard():
    app = FastAPI()
    assert admitted(app, 0) is app
    assert isinstance(admitted(app, 10), RequestAdmission)
