"""Position message bodies: parse and validate them (``formats.py`` writes them).

Three body shapes are accepted, told apart by their keys, never by a header:

1. ours: ``{"vehicle": str, "lat": number, "lng": number, "timestamp": ISO-8601 with offset}``;
2. the original Fleetman four strings: ``{"vehicle", "lat", "long", "time"}``, lat/long as
   decimal strings (up to 30 digits), time as Java ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``
   (``2025-10-30T15:35:58.364+0000``);
3. what ActiveMQ hands a STOMP subscriber with ``transformation: jms-map-json`` for a JMS
   MapMessage (XStream + Jettison "mapped" JSON of a ``java.util.HashMap``)::

       {"map": {"entry": [{"string": ["vehicle", "City Truck"]},
                          {"string": ["lat", "53.37"]}, ...]}}

   ``entry`` is an object instead of a list when the map has one entry, and a value that is
   not a string comes as its own typed key (``{"string": "lat", "double": 53.37}``). Jettison's
   default type converter also turns numeric-looking *strings* into JSON numbers
   (``{"string": ["lat", 53.37]}``), so every value is read leniently.

Parsing never raises: it returns a ``Position`` or a ``Rejection`` whose ``reason`` is a member of
a small closed enum (a bounded metric label and dead-letter header value).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from services.positions.formats import BodyFormat
from services.positions.geo import Leg, TimedPoint, leg

MAX_BODY_BYTES = 64 * 1024
MAX_VEHICLE_NAME = 100
MAX_DECIMAL_CHARS = 64  # "up to 30 digits" in the original, with room to spare
MAX_DETAIL_CHARS = 200
DEFAULT_FUTURE_SKEW = timedelta(minutes=5)
DEFAULT_TELEPORT_KMH = 300.0
_SAME_TIME_TOLERANCE_M = 1.0  # same timestamp, moved more than this: infinitely fast

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_JAVA_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}")
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle",),
    "lat": ("lat",),
    "lng": ("lng", "long"),
    "timestamp": ("timestamp", "time"),
}


class RejectReason(StrEnum):
    """Why a position message was refused. Closed set: a metric label and a DLQ header."""

    BAD_JSON = "bad_json"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"
    LATITUDE_OUT_OF_RANGE = "latitude_out_of_range"
    LONGITUDE_OUT_OF_RANGE = "longitude_out_of_range"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    BAD_VEHICLE_NAME = "bad_vehicle_name"
    TELEPORT = "teleport"


@dataclass(frozen=True, slots=True)
class Position:
    """A valid position report. ``timestamp`` is an aware UTC datetime."""

    vehicle: str
    latitude: float
    longitude: float
    timestamp: datetime
    body_format: BodyFormat = BodyFormat.JSON


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused message: a bounded ``reason`` and a one-line human ``detail``."""

    reason: RejectReason
    detail: str
    #: The vehicle the message names, when it got as far as a valid name (for the logs).
    vehicle: str | None = None


class _Reject(Exception):
    def __init__(self, reason: RejectReason, detail: str, vehicle: str | None = None) -> None:
        super().__init__(detail)
        self.rejection = Rejection(reason, _one_line(detail), vehicle)


# --------------------------------------------------------------------------- parsing


def parse_position(
    body: str | bytes,
    *,
    now: datetime | None = None,
    max_future_skew: timedelta = DEFAULT_FUTURE_SKEW,
    max_age: timedelta | None = None,
) -> Position | Rejection:
    """Parse and validate one message body of any accepted shape.

    ``now`` (aware; default: the current UTC time) is what "in the future" and "too old" are
    measured against: a timestamp more than ``max_future_skew`` ahead of it, or more than
    ``max_age`` behind it (a device whose clock was never set reports 1970), is rejected.
    """
    try:
        data, body_format = _decode(body)
        window = _Window(now or datetime.now(UTC), max_future_skew, max_age)
        return _validate(data, body_format, window)
    except _Reject as reject:
        return reject.rejection


def _decode(body: str | bytes) -> tuple[dict[str, Any], BodyFormat]:
    if isinstance(body, bytes | bytearray):
        if len(body) > MAX_BODY_BYTES:
            raise _Reject(RejectReason.BAD_JSON, f"body of {len(body)} bytes is too large")
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Reject(RejectReason.BAD_JSON, f"body is not UTF-8: {exc}") from None
    if len(body) > MAX_BODY_BYTES:
        raise _Reject(RejectReason.BAD_JSON, f"body of {len(body)} characters is too large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _Reject(RejectReason.BAD_JSON, f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Reject(RejectReason.BAD_JSON, f"body is a JSON {_json_kind(data)}, not an object")
    if set(data) == {"map"}:
        return _jms_map_to_dict(data), BodyFormat.JMS_MAP_JSON
    if "long" in data or "time" in data:
        return data, BodyFormat.FLEETMAN
    return data, BodyFormat.JSON


def map_message_fields(body: str) -> dict[str, Any] | None:
    """The entries of a MapMessage delivered as jms-map-json, or None when it is not one."""
    try:
        data = json.loads(body)
        return _jms_map_to_dict(data) if isinstance(data, dict) and set(data) == {"map"} else None
    except (json.JSONDecodeError, RecursionError, _Reject):
        return None


def _jms_map_to_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten ActiveMQ's jms-map-json rendering of a MapMessage into a plain dict."""
    container = data.get("map")
    if isinstance(container, list):  # some XStream/Jettison versions wrap in an array
        container = container[0] if len(container) == 1 else None
    if container in (None, "", {}):
        return {}  # an empty MapMessage: every field will be reported missing
    if not isinstance(container, dict) or "entry" not in container:
        raise _Reject(RejectReason.BAD_JSON, "jms-map-json body has no map.entry")
    entries = container["entry"]
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise _Reject(RejectReason.BAD_JSON, "jms-map-json map.entry is not a list or object")
    result: dict[str, Any] = {}
    for number, entry in enumerate(entries):
        key, value = _map_entry(entry, number)
        result[key] = value
    return result


def _map_entry(entry: object, number: int) -> tuple[str, Any]:
    bad = _Reject(RejectReason.BAD_JSON, f"jms-map-json entry {number} is not a key/value pair")
    if not isinstance(entry, dict):
        raise bad
    strings = entry.get("string")
    others = [value for name, value in entry.items() if name != "string"]
    if isinstance(strings, list) and len(strings) == 2 and not others:
        key, value = strings  # {"string": ["lat", "53.37"]}, value maybe a number (Jettison)
    elif strings is not None and not isinstance(strings, list | dict) and len(others) == 1:
        key, value = strings, others[0]  # {"string": "lat", "double": 53.37}
    else:
        raise bad
    if isinstance(value, dict) and "$" in value:  # Jettison attribute form {"$": "value"}
        value = value["$"]
    return str(key), value


@dataclass(frozen=True, slots=True)
class _Window:
    """The timestamps accepted: from ``now - max_age`` (no bound when None) to ``now + skew``."""

    now: datetime
    skew: timedelta
    max_age: timedelta | None

    def check(self, timestamp: datetime) -> None:
        ahead = timestamp - self.now
        if ahead > self.skew:
            raise _Reject(
                RejectReason.FUTURE_TIMESTAMP,
                f"timestamp {timestamp.isoformat()} is {ahead.total_seconds():.0f} s ahead of "
                f"now (allowed {self.skew.total_seconds():.0f} s)",
            )
        if self.max_age is not None and -ahead > self.max_age:
            raise _Reject(
                RejectReason.TOO_OLD,
                f"timestamp {timestamp.isoformat()} is {-ahead.total_seconds():.0f} s old "
                f"(allowed {self.max_age.total_seconds():.0f} s)",
            )


def _validate(data: Mapping[str, Any], body_format: BodyFormat, window: _Window) -> Position:
    fields: dict[str, Any] = {}
    missing: list[str] = []
    for field, aliases in _FIELD_ALIASES.items():
        present = [alias for alias in aliases if alias in data and data[alias] is not None]
        if present:
            fields[field] = data[present[0]]
        else:
            missing.append("/".join(aliases))
    if missing:
        named = fields.get("vehicle")
        raise _Reject(
            RejectReason.MISSING_FIELD,
            "missing field(s): " + ", ".join(missing),
            named if vehicle_name_problem(named) is None else None,
        )

    vehicle = fields["vehicle"]
    if body_format is BodyFormat.JMS_MAP_JSON and isinstance(vehicle, int | float):
        vehicle = str(vehicle)  # Jettison turns a numeric-looking name into a number
    problem = vehicle_name_problem(vehicle)
    if problem is not None:
        raise _Reject(RejectReason.BAD_VEHICLE_NAME, problem)

    try:
        return _validated_position(fields, vehicle, body_format, window)
    except _Reject as reject:
        reject.rejection = replace(reject.rejection, vehicle=vehicle)
        raise


def _validated_position(
    fields: Mapping[str, Any], vehicle: str, body_format: BodyFormat, window: _Window
) -> Position:
    """The checks after the vehicle's name: coordinates and time."""
    # Our JSON format carries numbers; the original Fleetman formats carry decimal strings.
    text_allowed = body_format is not BodyFormat.JSON
    latitude = _coordinate(fields["lat"], "lat", text_allowed)
    longitude = _coordinate(fields["lng"], "lng", text_allowed)
    timestamp = _timestamp(fields["timestamp"])
    if not -90.0 <= latitude <= 90.0:
        raise _Reject(RejectReason.LATITUDE_OUT_OF_RANGE, f"lat {latitude!r} not in [-90, 90]")
    if not -180.0 <= longitude <= 180.0:
        raise _Reject(RejectReason.LONGITUDE_OUT_OF_RANGE, f"lng {longitude!r} not in [-180, 180]")
    window.check(timestamp)
    return Position(vehicle, latitude, longitude, timestamp, body_format)


def vehicle_name_problem(name: object) -> str | None:
    """Why ``name`` is not an acceptable vehicle name, or None when it is.

    Shared with the HTTP layer: a name must be a non-blank string of at most 100 characters,
    without control characters (NUL included), not starting with ``$`` (a Mongo operator), and
    without ``/`` or ``\\`` (it is one URL path segment).
    """
    if not isinstance(name, str):
        return f"vehicle must be a string, got {_json_kind(name)}"
    if not name.strip():
        return "vehicle name is empty"
    if len(name) > MAX_VEHICLE_NAME:
        return f"vehicle name has {len(name)} characters (max {MAX_VEHICLE_NAME})"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return f"vehicle name {name!r} contains control characters"
    if name.startswith("$"):
        return f"vehicle name {name!r} starts with '$'"
    if "/" in name or "\\" in name:
        return f"vehicle name {name!r} contains a slash"
    return None


def _coordinate(value: object, field: str, text_allowed: bool) -> float:
    if isinstance(value, bool):
        raise _Reject(RejectReason.BAD_TYPE, f"{field} is a boolean, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and not text_allowed:
        raise _Reject(RejectReason.BAD_TYPE, f"{field} is a string, not a JSON number")
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_DECIMAL_CHARS or not _DECIMAL.fullmatch(text):
            raise _Reject(RejectReason.BAD_TYPE, f"{field} {value!r} is not a decimal number")
        try:
            number = float(Decimal(text))
        except (InvalidOperation, OverflowError):
            raise _Reject(RejectReason.BAD_TYPE, f"{field} {value!r} is not a number") from None
    else:
        raise _Reject(RejectReason.BAD_TYPE, f"{field} is a {_json_kind(value)}, not a number")
    if not math.isfinite(number):
        raise _Reject(RejectReason.BAD_TYPE, f"{field} {value!r} is not finite")
    return number


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise _Reject(RejectReason.BAD_TYPE, f"timestamp is a {_json_kind(value)}, not a string")
    text = value.strip()
    try:
        if _JAVA_TIME.fullmatch(text):
            parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Reject(RejectReason.BAD_TYPE, f"timestamp {value!r} is not ISO-8601") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Reject(RejectReason.BAD_TYPE, f"timestamp {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def check_teleport(
    previous: TimedPoint, new: TimedPoint, limit_kmh: float = DEFAULT_TELEPORT_KMH
) -> Rejection | None:
    """A TELEPORT rejection when going from ``previous`` to ``new`` needs more than ``limit_kmh``.

    Elapsed time is absolute (order does not matter). Two reports with the same timestamp are a
    teleport when they are more than a metre apart (a redelivered duplicate is not).
    """
    return teleport_rejection(leg(previous, new), limit_kmh)


def teleport_rejection(movement: Leg, limit_kmh: float = DEFAULT_TELEPORT_KMH) -> Rejection | None:
    """``check_teleport`` on an already computed leg (the tracker needs the leg anyway)."""
    if movement.elapsed_s == 0:
        if movement.distance_m > _SAME_TIME_TOLERANCE_M:
            return Rejection(
                RejectReason.TELEPORT,
                f"moved {movement.distance_m:.0f} m with no time elapsed since the previous point",
            )
        return None
    if movement.speed_kmh > limit_kmh:
        return Rejection(
            RejectReason.TELEPORT,
            f"{movement.speed_kmh:.0f} km/h from the previous point "
            f"({movement.distance_m:.0f} m in {movement.elapsed_s:g} s) exceeds {limit_kmh:g} km/h",
        )
    return None


# --------------------------------------------------------------------------- helpers


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _one_line(text: str) -> str:
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    if len(cleaned) > MAX_DETAIL_CHARS:
        cleaned = cleaned[: MAX_DETAIL_CHARS - 3] + "..."
    return cleaned
