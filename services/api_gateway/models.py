"""The public API's response shapes, for the OpenAPI description.

Vehicle positions are the tracker's own models (the gateway passes the tracker's JSON on
unchanged, so documenting the same classes keeps the two in step). The gateway adds the
original Fleetman web app's history points and the problem responses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.common.openapi import Problem
from services.common.openapi import problem_responses as common_problem_responses
from services.positions.schemas import FleetmanPosition, History, VehiclePosition

__all__ = [
    "FleetmanPosition",
    "History",
    "LatLng",
    "Problem",
    "VehiclePosition",
    "problem_responses",
]

_POSITION_EXAMPLE = {
    "name": "City Truck",
    "lat": 53.372802939265966,
    "lng": -1.4833488408476114,
    "longitude": -1.4833488408476114,
    "timestamp": "2025-10-30T15:35:58.364+0000",
    "speed": 24.6,
    "speed_kmh": 39.6,
    "heading": 87.5,
    "stale": False,
}
_HISTORY_POINT_EXAMPLE = {
    "lat": 53.372802939265966,
    "lng": -1.4833488408476114,
    "timestamp": "2025-10-30T15:35:58.364+0000",
    "speed_kmh": 39.6,
    "heading": 87.5,
}
POSITION_EXAMPLE: dict[str, Any] = {"application/json": {"example": _POSITION_EXAMPLE}}
POSITIONS_EXAMPLE: dict[str, Any] = {"application/json": {"example": [_POSITION_EXAMPLE]}}
HISTORY_EXAMPLE: dict[str, Any] = {
    "application/json": {
        "example": {"name": "City Truck", "positions": [_HISTORY_POINT_EXAMPLE]},
    }
}
FLEETMAN_POSITIONS_EXAMPLE: dict[str, Any] = {
    "application/json": {
        "example": [
            {
                "name": "City Truck",
                "lat": 53.372802939265966,
                "longitude": -1.4833488408476114,
                "timestamp": "2025-10-30T15:35:58.364+0000",
                "speed": 24.6,
            }
        ]
    }
}
LATLNG_EXAMPLE: dict[str, Any] = {
    "application/json": {
        "example": [{"lat": 53.3728, "lng": -1.4833}, {"lat": 53.373, "lng": -1.483}]
    }
}


class LatLng(BaseModel):
    """A point of a vehicle's trail, as the original Fleetman web app draws it."""

    lat: float = Field(examples=[53.372802939265966])
    lng: float = Field(examples=[-1.4833488408476114])


_WHY = {
    400: "Bad request: an invalid vehicle name or query parameter.",
    404: "No vehicle of that name.",
    502: "The position tracker failed.",
    503: "The position tracker cannot be reached, is saturated or its database is down; a "
    "request shed at once (the tracker saturated) and the tracker's own 503 come with "
    "`Retry-After`.",
    504: "The position tracker did not answer in time.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the gateway's problem answers with these statuses."""
    return common_problem_responses({status: _WHY[status] for status in statuses})


UPSTREAM_PROBLEMS = problem_responses(502, 503, 504)
