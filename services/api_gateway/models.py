"""The public API's response shapes, for the OpenAPI description.

Vehicle positions are the tracker's own models (the gateway passes the tracker's JSON on
unchanged, so documenting the same classes keeps the two in step). The gateway adds the
original Fleetman web app's history points and the problem responses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.common.errors import PROBLEM_JSON
from services.position_tracker.schemas import FleetmanPosition, History, VehiclePosition

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


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Service Unavailable"])
    status: int = Field(examples=[503])
    detail: str = Field(
        examples=["cannot connect to the position tracker at http://127.0.0.1:8001 (refused)"]
    )
    trace_id: str | None = Field(
        None,
        description="Trace of the failed request (gateway errors), to find it in Grafana/Kibana.",
        examples=["4bf92f3577b34da6a3ce929d0e0e4736"],
    )


_WHY = {
    400: "Bad request: an invalid vehicle name or query parameter.",
    404: "No vehicle of that name.",
    502: "The position tracker failed.",
    503: "The position tracker cannot be reached, or is saturated: then the request is shed at "
    "once, with `Retry-After`.",
    504: "The position tracker did not answer in time.",
}
#: Headers of some problem answers (OpenAPI Header Objects).
_HEADERS: dict[int, dict[str, Any]] = {
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying; sent when the request was shed "
            "(the position tracker saturated), not when it cannot be reached.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem answers with these statuses."""
    schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        status: {
            "model": Problem,
            "description": _WHY[status],
            "content": {PROBLEM_JSON: schema},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


UPSTREAM_PROBLEMS = problem_responses(502, 503, 504)
