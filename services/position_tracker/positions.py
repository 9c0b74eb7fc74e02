"""A stored position: a valid report with the speed and heading the tracker derived for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """A valid position with what the tracker derived from it."""

    vehicle: str
    lat: float
    lng: float
    timestamp: datetime
    #: km/h from the vehicle's previous position; None for its first report.
    speed_kmh: float | None
    #: Degrees clockwise from north towards this position; None when it did not move.
    heading: float | None
    stored_at: datetime

    @property
    def key(self) -> str:
        """Unique per vehicle and timestamp (milliseconds, as stored; a fixed-width prefix keeps
        it unambiguous)."""
        millis = int(self.timestamp.timestamp() * 1000)
        return f"{millis:014d}:{self.vehicle}"

    def latest_document(self) -> dict[str, object]:
        """The position as a vehicle's ``latest``: the timestamp first, so that ``$max`` keeps
        the newest (MongoDB compares embedded documents field by field, in order)."""
        return {
            "timestamp": self.timestamp,
            "lat": self.lat,
            "lng": self.lng,
            "speed_kmh": self.speed_kmh,
            "heading": self.heading,
            "stored_at": self.stored_at,
        }

    @classmethod
    def from_document(cls, vehicle: str, doc: dict[str, object]) -> StoredPosition:
        """From a ``latest`` document (or an old layout's position document)."""
        moments = {name: _utc(doc[name]) for name in ("timestamp", "stored_at")}
        return cls(
            vehicle=vehicle,
            lat=float(doc["lat"]),  # type: ignore[arg-type]
            lng=float(doc["lng"]),  # type: ignore[arg-type]
            speed_kmh=_number(doc.get("speed_kmh")),
            heading=_number(doc.get("heading")),
            **moments,
        )


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
