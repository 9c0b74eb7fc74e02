"""Position message bodies as they are written: the body formats, and their timestamps.

The tracker accepts every :class:`BodyFormat` (``services/positions/messages.py`` parses them);
the simulator writes ``json``, or ``fleetman`` the way the original Fleetman simulator did: the
four strings in a JMS MapMessage (:func:`jms_map_json_body` sent with the STOMP header
``transformation: jms-map-json``), which a STOMP reader then receives as ``jms-map-json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from services.positions.geo import TimedPoint


class BodyFormat(StrEnum):
    """Which of the accepted shapes a body had (or which one to write)."""

    JSON = "json"  # ours
    FLEETMAN = "fleetman"  # the original four strings (as a JSON text body when parsed)
    JMS_MAP_JSON = "jms-map-json"  # a MapMessage as ActiveMQ renders it for STOMP


class Report(TimedPoint, Protocol):
    """A timed point of a named vehicle (``messages.Position`` is one)."""

    @property
    def vehicle(self) -> str: ...


def format_java_timestamp(moment: datetime) -> str:
    """Java ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` in UTC: ``2025-10-30T15:35:58.364+0000``."""
    utc = _as_utc(moment)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+0000"


def format_iso_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``: ``2025-10-30T15:35:58.364Z``."""
    utc = _as_utc(moment)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def position_body(vehicle: str, latitude: float, longitude: float, timestamp: datetime) -> str:
    """Our JSON body: ``{"vehicle", "lat", "lng", "timestamp"}``."""
    return json.dumps(
        {
            "vehicle": vehicle,
            "lat": latitude,
            "lng": longitude,
            "timestamp": format_iso_timestamp(timestamp),
        },
        ensure_ascii=False,
    )


def fleetman_fields(
    vehicle: str, latitude: float, longitude: float, timestamp: datetime
) -> dict[str, str]:
    """The original's four string entries: vehicle, lat, long, time."""
    return {
        "vehicle": vehicle,
        "lat": _decimal_string(latitude),
        "long": _decimal_string(longitude),
        "time": format_java_timestamp(timestamp),
    }


def fleetman_body(vehicle: str, latitude: float, longitude: float, timestamp: datetime) -> str:
    """The original four-key body as a JSON text message."""
    return json.dumps(fleetman_fields(vehicle, latitude, longitude, timestamp), ensure_ascii=False)


def jms_map_json_body(entries: Mapping[str, str]) -> str:
    """String entries rendered the way ActiveMQ's jms-map-json transformation renders a map.

    Sent with the STOMP header ``transformation: jms-map-json`` this makes the broker store a
    real JMS MapMessage (what the original Java tracker consumes).
    """
    rendered = [{"string": [str(key), str(value)]} for key, value in entries.items()]
    return json.dumps({"map": {"entry": rendered}}, ensure_ascii=False)


def encode_position(position: Report, body_format: BodyFormat = BodyFormat.JSON) -> str:
    """Write ``position`` in one of the body formats."""
    args = (position.vehicle, position.latitude, position.longitude, position.timestamp)
    if body_format is BodyFormat.FLEETMAN:
        return fleetman_body(*args)
    if body_format is BodyFormat.JMS_MAP_JSON:
        return jms_map_json_body(fleetman_fields(*args))
    return position_body(*args)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: a UTC offset is required")
    return moment.astimezone(UTC)


def _decimal_string(value: float) -> str:
    text = repr(float(value))
    return format(Decimal(text), "f") if "e" in text or "E" in text else text
