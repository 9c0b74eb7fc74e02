"""The JSON the tracker serves (and the gateway passes on)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from services.positions.formats import format_java_timestamp
from services.positions.geo import kmh_to_mph


class StoredReport(Protocol):
    """A stored position as the JSON shows it (the tracker's ``StoredPosition`` is one)."""

    @property
    def vehicle(self) -> str: ...

    @property
    def lat(self) -> float: ...

    @property
    def lng(self) -> float: ...

    @property
    def timestamp(self) -> datetime: ...

    @property
    def speed_kmh(self) -> float | None: ...

    @property
    def heading(self) -> float | None: ...

    @property
    def stored_at(self) -> datetime: ...


class VehiclePosition(BaseModel):
    """A vehicle's position; a superset of the original Fleetman position JSON."""

    name: str = Field(examples=["City Truck"])
    lat: float = Field(examples=[53.372802939265966])
    lng: float = Field(examples=[-1.4833488408476114])
    longitude: float = Field(description="Same as `lng` (the original Fleetman field name).")
    timestamp: str = Field(
        description="When the vehicle was there: ISO 8601, UTC, milliseconds (`+0000` offset, "
        "as the original Fleetman).",
        examples=["2025-10-30T15:35:58.364+0000"],
    )
    speed: float | None = Field(description="Speed in mph; null for a vehicle's first report.")
    speed_kmh: float | None = Field(description="Speed in km/h; null for a first report.")
    heading: float | None = Field(description="Degrees clockwise from north; null if never moved.")
    stale: bool = Field(
        description="The latest position is older than the active window (or was stored longer "
        "ago than that)."
    )

    @classmethod
    def of(cls, position: StoredReport, now: datetime, window_s: float) -> VehiclePosition:
        return cls(
            name=position.vehicle,
            lat=position.lat,
            lng=position.lng,
            longitude=position.lng,
            timestamp=format_java_timestamp(position.timestamp),
            speed=None if position.speed_kmh is None else kmh_to_mph(position.speed_kmh),
            speed_kmh=position.speed_kmh,
            heading=position.heading,
            # By the report's own time: a position dated long ago and stored just now is stale.
            stale=(now - min(position.timestamp, position.stored_at)).total_seconds() > window_s,
        )


class FleetmanPosition(BaseModel):
    """Exactly the original Fleetman position JSON."""

    name: str
    lat: float
    longitude: float
    timestamp: str
    speed: float | None

    @classmethod
    def of(cls, position: StoredReport) -> FleetmanPosition:
        return cls(
            name=position.vehicle,
            lat=position.lat,
            longitude=position.lng,
            timestamp=format_java_timestamp(position.timestamp),
            speed=None if position.speed_kmh is None else kmh_to_mph(position.speed_kmh),
        )


class HistoryPoint(BaseModel):
    lat: float
    lng: float
    timestamp: str = Field(examples=["2025-10-30T15:35:58.364+0000"])
    speed_kmh: float | None
    heading: float | None

    @classmethod
    def of(cls, position: StoredReport) -> HistoryPoint:
        return cls(
            lat=position.lat,
            lng=position.lng,
            timestamp=format_java_timestamp(position.timestamp),
            speed_kmh=position.speed_kmh,
            heading=position.heading,
        )


class History(BaseModel):
    """A vehicle's recent positions, newest first."""

    name: str
    positions: list[HistoryPoint]
