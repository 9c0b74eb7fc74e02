"""A stand-in position tracker for the gateway's failure tests: a real HTTP server, run with
``python -m tests.services._standin`` (HTTP_PORT), that fails, stalls or echoes on demand.

Only for what the real tracker cannot be made to do on cue (answer 500, stall past a timeout).
It records every request (raw path, query, ``traceparent``) for the test to inspect.

Modes (``PUT /_mode/<mode>``): ``echo`` (200, the request as JSON), ``fail`` (500 problem),
``slow`` (answer after SLOW_SECONDS), ``notfound`` (404 problem), ``garbage`` (500, text body),
``unavailable`` (503 problem with ``Retry-After: 7``, as the tracker when its database is down).
"""

from __future__ import annotations

import asyncio
import os

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

SLOW_SECONDS = 3.0

app = FastAPI()
state: dict[str, object] = {"mode": "echo", "requests": []}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.put("/_mode/{mode}")
async def set_mode(mode: str) -> dict[str, str]:
    state["mode"] = mode
    state["requests"] = []
    return {"mode": mode}


@app.get("/_requests")
async def requests() -> list[dict[str, str]]:
    return state["requests"]  # type: ignore[return-value]


@app.get("/{path:path}")
async def anything(request: Request, path: str) -> Response:
    record = {
        "raw_path": request.scope["raw_path"].decode("latin-1"),
        "query": request.scope["query_string"].decode("latin-1"),
        "traceparent": request.headers.get("traceparent", ""),
    }
    state["requests"].append(record)  # type: ignore[union-attr]
    mode = state["mode"]
    if mode == "slow":
        await asyncio.sleep(SLOW_SECONDS)
    if mode == "fail":
        body = {"title": "Internal Server Error", "status": 500, "detail": "database on fire"}
        return JSONResponse(body, status_code=500, media_type="application/problem+json")
    if mode == "unavailable":
        body = {"title": "Service Unavailable", "status": 503, "detail": "the database failed"}
        return JSONResponse(
            body,
            status_code=503,
            media_type="application/problem+json",
            headers={"retry-after": "7"},
        )
    if mode == "garbage":
        return PlainTextResponse("<html>proxy error</html>", status_code=500)
    if mode == "notfound":
        body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such van"}
        return JSONResponse(body, status_code=404, media_type="application/problem+json")
    if path.startswith("history/"):  # newest first, as the tracker's /history/{name}
        newest_first = [
            {"name": "x", "lat": 2.0, "longitude": 20.0, "timestamp": "t2", "speed": 1.0},
            {"name": "x", "lat": 1.0, "longitude": 10.0, "timestamp": "t1", "speed": None},
        ]
        return JSONResponse(newest_first)
    return JSONResponse([record] if path.rstrip("/") in {"vehicles", ""} else record)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["HTTP_PORT"]), log_level="warning")
