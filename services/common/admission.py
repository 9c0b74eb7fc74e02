"""At most so many requests inside a service at once; past that, 503 at once, before the app.

A service whose CPU is saturated (a burst ten times what it can serve) queues every request it
accepts: each waits for the event loop, behind all the others, until answers take seconds and
its own shedding (the gateway's call slots) comes too late to help. This guard wraps the whole
app, so a request it turns away costs a few tens of microseconds instead of the framework's and
the telemetry's millisecond: a ``503`` problem with ``Retry-After``, counted in the RED histogram
under its route (the availability SLO sees it) and logged at most once a second. Probes and
scrapes (``/healthz``, ``/readyz``, ``/metrics``) always pass: a saturated service is alive, and
its metrics are how anyone sees the saturation. (uvicorn's own ``limit_concurrency`` answers a
plain-text 503 without ``Retry-After`` and counts probes too.)
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from observability.runtime.logs import fields
from services.common.errors import problem
from services.common.tally import Tally

log = logging.getLogger(__name__)

ALWAYS_ADMITTED = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestAdmission:
    """ASGI: at most ``limit`` HTTP requests in the app at once; the others get a 503."""

    def __init__(self, app: Starlette, limit: int, retry_after_seconds: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self._retry_after = {"retry-after": str(retry_after_seconds)}
        self._sheds = Tally(interval=1.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ALWAYS_ADMITTED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await self._shed(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _shed(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = "the service is saturated: retry later"
        answer = problem(503, "Service Unavailable", detail, headers=self._retry_after)
        await answer(scope, receive, send)
        self._record(scope)
        if shed := self._sheds.add():
            log.warning(
                "%d request(s) shed (503) since the last report: %d requests in the service",
                shed,
                self.limit,
                extra=fields(**{"event.action": "request-shed", "event.outcome": "failure"}),
            )

    def _record(self, scope: Scope) -> None:
        """In the RED histogram (when the app has metrics), under the route it was for."""
        recorder = getattr(self.app.state, "red_recorder", None)
        if recorder is None:
            return
        for route in self.app.router.routes:
            if route.matches(scope)[0] is Match.FULL:
                scope = {**scope, "route": route}
                break
        recorder.record(scope, 503, 0.0)


def admitted(app: Starlette, limit: int) -> ASGIApp:
    """``app`` behind the guard (``limit`` 0: no guard)."""
    return RequestAdmission(app, limit) if limit > 0 else app
