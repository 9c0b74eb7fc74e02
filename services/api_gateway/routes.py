"""The public API ``/api/...``: routed to the tracker's ``/vehicles...``.

The tracker validates ``since``, ``until`` and ``limit`` and owns its 4xx answers; the gateway
passes them (and the 2xx bodies) through unchanged, so there is one definition of each rule.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import FastAPI, Path, Query, Response

from services.api_gateway.models import (
    HISTORY_EXAMPLE,
    POSITION_EXAMPLE,
    POSITIONS_EXAMPLE,
    UPSTREAM_PROBLEMS,
    History,
    VehiclePosition,
    problem_responses,
)
from services.api_gateway.names import checked_name
from services.api_gateway.shared import shared_get
from services.api_gateway.upstream import TrackerClient, UpstreamResponse, segment

VehicleName = Annotated[
    str, Path(description="Vehicle name, e.g. `City Truck` (URL-encoded: `City%20Truck`).")
]


def passthrough(upstream: UpstreamResponse) -> Response:
    """The upstream's answer as ours: status, body and content type unchanged."""
    return Response(
        content=upstream.content, status_code=upstream.status_code, media_type=upstream.content_type
    )


def add_routes(app: FastAPI, tracker: TrackerClient, list_max_age: float = 0.0) -> None:
    """Add the public API to ``app`` (the fleet list shared for ``list_max_age``, ``shared``).

    Routes go on the app itself, not through ``include_router``: FastAPI >= 0.13x includes
    routers lazily and ``app.routes`` (what the catalog check reads) would not list them.
    """
    get = partial(app.get, tags=["vehicles"], response_model=None)
    fleet_list = shared_get(tracker, "/vehicles", list_max_age)

    @get(
        "/api/vehicles",
        summary="Latest position of every vehicle",
        responses={
            200: {"model": list[VehiclePosition], "content": POSITIONS_EXAMPLE},
            **UPSTREAM_PROBLEMS,
        },
    )
    async def list_vehicles() -> Response:
        """The latest position, speed and heading of every vehicle, by name."""
        return passthrough(await fleet_list())

    @get(
        "/api/vehicles/{name}",
        summary="Latest position of one vehicle",
        responses={
            200: {"model": VehiclePosition, "content": POSITION_EXAMPLE},
            **problem_responses(400, 404),
            **UPSTREAM_PROBLEMS,
        },
    )
    async def get_vehicle(name: VehicleName) -> Response:
        """One vehicle's latest position, speed and heading; 404 for an unknown vehicle."""
        checked_name(name)
        return passthrough(await tracker.get(f"/vehicles/{segment(name)}", vehicle=name))

    @get(
        "/api/vehicles/{name}/history",
        summary="Recent positions of one vehicle",
        responses={
            200: {"model": History, "content": HISTORY_EXAMPLE},
            **problem_responses(400, 404),
            **UPSTREAM_PROBLEMS,
        },
    )
    async def get_history(
        name: VehicleName,
        since: Annotated[
            str | None,
            Query(
                description="Oldest timestamp to include (ISO 8601; UTC when no offset).",
                examples=["2025-10-30T15:00:00Z"],
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        until: Annotated[
            str | None,
            Query(
                description="Newest timestamp to include (ISO 8601; UTC when no offset).",
                examples=["2025-10-30T16:00:00Z"],
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        limit: Annotated[
            str | None,
            Query(
                description="Most positions returned: a whole number from 1 to the tracker's "
                "cap (default 100, cap 1000).",
                examples=["50"],
                json_schema_extra={"pattern": "^[0-9]+$"},
            ),
        ] = None,
    ) -> Response:
        """A vehicle's positions in [since, until], newest first, at most ``limit``."""
        checked_name(name)
        params = {
            key: value
            for key, value in (("since", since), ("until", until), ("limit", limit))
            if value is not None
        }
        path = f"/vehicles/{segment(name)}/history"
        return passthrough(await tracker.get(path, params=params, vehicle=name))
