"""The original Fleetman gateway's routes, so the original Angular web app works unchanged.

nginx strips ``/api/`` before the gateway: the web app's ``/api/vehicles/`` arrives as
``/vehicles/``. As the original, these two routes answer ``[]`` while the tracker cannot be
reached, does not answer or is saturated (the call shed), so the map stays up (the failure is
still logged and counted).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from fastapi import FastAPI, Path, Response
from fastapi.responses import HTMLResponse, JSONResponse

from services.api_gateway.models import (
    FLEETMAN_POSITIONS_EXAMPLE,
    LATLNG_EXAMPLE,
    FleetmanPosition,
    LatLng,
    problem_responses,
)
from services.api_gateway.names import checked_name
from services.api_gateway.routes import passthrough
from services.api_gateway.shared import shared_get
from services.api_gateway.upstream import Outcome, TrackerClient, UpstreamFailure, segment
from services.common.errors import ProblemError

#: Failures the original answered with ``[]`` (Feign's RetryableException: no answer at all);
#: a shed call got no answer either (the map keeps polling, no Retry-After to honour).
_TRACKER_DOWN = frozenset({Outcome.UNAVAILABLE, Outcome.TIMEOUT, Outcome.SHED})


def _empty_when_down(failure: UpstreamFailure) -> JSONResponse:
    if failure.outcome not in _TRACKER_DOWN:
        raise failure
    return JSONResponse([])


def add_routes(app: FastAPI, tracker: TrackerClient, list_max_age: float = 0.0) -> None:
    """Add the original gateway's routes to ``app`` (on the app itself, see ``routes``)."""
    get = partial(app.get, tags=["fleetman"], response_model=None)
    fleet_list = shared_get(tracker, "/vehicles/", list_max_age)

    @get("/", include_in_schema=False)
    async def banner() -> HTMLResponse:
        """The original's smoke-test page."""
        now = datetime.now(UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        return HTMLResponse(f"<p>Fleetman API Gateway at {now}</p>")

    @get(
        "/vehicles/",
        summary="Latest position of every vehicle (original Fleetman shape)",
        responses={
            200: {"model": list[FleetmanPosition], "content": FLEETMAN_POSITIONS_EXAMPLE},
            **problem_responses(502),
        },
    )
    async def fleetman_vehicles() -> Response:
        """`name`, `lat`, `longitude`, `timestamp` (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`) and `speed`
        (mph, null for a first report) of every vehicle; `[]` while the tracker is down."""
        try:
            return passthrough(await fleet_list())
        except UpstreamFailure as failure:
            return _empty_when_down(failure)

    @get(
        "/history/{name}",
        summary="Trail of one vehicle, oldest first (original Fleetman shape)",
        responses={
            200: {"model": list[LatLng], "content": LATLNG_EXAMPLE},
            **problem_responses(400, 502),
        },
    )
    async def fleetman_history(
        name: str = Path(description="Vehicle name, e.g. `City%20Truck`."),
    ) -> Response:
        """The vehicle's recent positions as `{lat, lng}`, oldest first; `[]` for an unknown
        vehicle or while the tracker is down."""
        checked_name(name)
        try:
            upstream = await tracker.get(f"/history/{segment(name)}", vehicle=name)
        except UpstreamFailure as failure:
            return _empty_when_down(failure)
        if upstream.status_code != 200:
            return passthrough(upstream)
        try:
            newest_first = upstream.json()
            trail = [{"lat": p["lat"], "lng": p["longitude"]} for p in reversed(newest_first)]
        except (ValueError, TypeError, KeyError) as exc:
            raise ProblemError(
                502,
                "Bad Gateway",
                f"the position tracker's history is not a position list: {exc!r}",
            ) from exc
        return JSONResponse(trail)
