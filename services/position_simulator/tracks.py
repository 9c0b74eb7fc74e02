"""Load vehicle tracks from a folder: GPX files and the original Fleetman plain files.

* ``*.gpx``: GPX 1.0/1.1 read with ``gpxpy``. All track segments (or, without tracks, the route)
  form one vehicle's track. Points with ``<time>`` keep their timing; a file without any times is
  paced by a van model (``pacing``) with ``untimed_speed_kmh`` as top speed. The vehicle is the
  first track's ``<name>``, else the file stem.
* files without an extension (or ``.txt``): the original simulator's format, one point per line
  as ``lat="53.3906810" lon="-1.4312470"`` (LF or CRLF), no timestamps, paced like untimed GPX.
  The vehicle name is the file name with ``_`` as spaces and words capitalised
  (``city_truck`` -> "City Truck").

Other files (``README.md``, hidden files, folders) are ignored. Malformed input raises
``TrackFormatError`` naming the file and, where it can, the line.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import gpxpy
import gpxpy.gpx

from services.position_simulator.pacing import VehicleModel, paced_offsets

DEFAULT_UNTIMED_SPEED_KMH = 40.0
GPX_SUFFIXES = frozenset({".gpx"})
PLAIN_SUFFIXES = frozenset({"", ".txt"})

_PLAIN_LAT = re.compile(r'\blat\s*=\s*"([^"]*)"')
_PLAIN_LON = re.compile(r'\blon\s*=\s*"([^"]*)"')


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One point of a track; ``offset_s`` is seconds since the track's first point."""

    lat: float
    lon: float
    offset_s: float


@dataclass(frozen=True, slots=True)
class Track:
    """One vehicle's track: at least one point, offsets starting at 0 and never decreasing."""

    vehicle: str
    points: tuple[TrackPoint, ...]
    source: Path | None = None

    @property
    def duration_s(self) -> float:
        return self.points[-1].offset_s


class TrackFormatError(ValueError):
    """A track file (or folder) that cannot be used, with the file and line when known."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


def vehicle_name_from_stem(stem: str) -> str:
    """The original's rule: ``_`` becomes a space and every word is capitalised fully."""
    return " ".join(word.capitalize() for word in stem.replace("_", " ").split(" "))


def is_track_file(path: Path) -> bool:
    """Whether ``load_tracks`` would read this file."""
    if not path.is_file() or path.name.startswith("."):
        return False
    suffix = path.suffix.lower()
    return suffix in GPX_SUFFIXES or suffix in PLAIN_SUFFIXES


def load_tracks(
    folder: Path | str, *, untimed_speed_kmh: float = DEFAULT_UNTIMED_SPEED_KMH
) -> list[Track]:
    """Every track in ``folder``, sorted by file name. An empty folder is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TrackFormatError(folder, "tracks folder does not exist or is not a folder")
    files = sorted(path for path in folder.iterdir() if is_track_file(path))
    if not files:
        raise TrackFormatError(
            folder, "tracks folder holds no track files (*.gpx or plain lat/lon files)"
        )
    tracks: list[Track] = []
    seen: dict[str, Path] = {}
    for path in files:
        track = load_track(path, untimed_speed_kmh=untimed_speed_kmh)
        if track.vehicle in seen:
            raise TrackFormatError(
                path, f"vehicle {track.vehicle!r} is already defined by {seen[track.vehicle].name}"
            )
        seen[track.vehicle] = path
        tracks.append(track)
    return tracks


def load_track(path: Path | str, *, untimed_speed_kmh: float = DEFAULT_UNTIMED_SPEED_KMH) -> Track:
    """One track file, GPX or plain (sniffed: a plain-named file holding XML is read as GPX)."""
    if untimed_speed_kmh <= 0:
        raise ValueError(f"untimed_speed_kmh must be positive, got {untimed_speed_kmh}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrackFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise TrackFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() in GPX_SUFFIXES or text.lstrip().startswith("<"):
        return _gpx_track(path, text, untimed_speed_kmh)
    return _plain_track(path, text, untimed_speed_kmh)


# --------------------------------------------------------------------------- GPX


def _gpx_track(path: Path, text: str, speed_kmh: float) -> Track:
    try:
        gpx = gpxpy.parse(text)
    except gpxpy.gpx.GPXException as exc:
        raise TrackFormatError(path, f"not valid GPX: {exc}", _xml_error_line(exc)) from None
    raw: list[gpxpy.gpx.GPXTrackPoint | gpxpy.gpx.GPXRoutePoint] = [
        point for track in gpx.tracks for segment in track.segments for point in segment.points
    ]
    tag = "trkpt"
    if not raw:
        raw = [point for route in gpx.routes for point in route.points]
        tag = "rtept"
    if not raw:
        raise TrackFormatError(path, "GPX file has no track or route points")
    names = [track.name.strip() for track in gpx.tracks if track.name and track.name.strip()]
    if not names and not gpx.tracks:
        names = [route.name.strip() for route in gpx.routes if route.name and route.name.strip()]
    vehicle = names[0] if names else vehicle_name_from_stem(path.stem)

    for index, point in enumerate(raw):
        problem = _coordinate_problem(point.latitude, point.longitude)
        if problem:
            raise TrackFormatError(
                path, f"{tag} {index + 1}: {problem}", _nth_tag_line(text, tag, index)
            )

    times = [point.time for point in raw]
    timed = [time is not None for time in times]
    if not any(timed):
        coordinates = [(point.latitude, point.longitude) for point in raw]
        return Track(vehicle, _paced(coordinates, speed_kmh), path)
    if not all(timed):
        index = timed.index(False)
        raise TrackFormatError(
            path,
            f"{tag} {index + 1} has no <time> while other points have one",
            _nth_tag_line(text, tag, index),
        )
    moments = [_aware(time) for time in times if time is not None]
    start = moments[0]
    points: list[TrackPoint] = []
    for index, (point, moment) in enumerate(zip(raw, moments, strict=True)):
        offset = (moment - start).total_seconds()
        if points and offset < points[-1].offset_s:
            raise TrackFormatError(
                path,
                f"{tag} {index + 1}: time {moment.isoformat()} is earlier than the previous point",
                _nth_tag_line(text, tag, index),
            )
        points.append(TrackPoint(point.latitude, point.longitude, offset))
    return Track(vehicle, tuple(points), path)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _xml_error_line(exc: Exception) -> int | None:
    original = getattr(exc, "original_exception", None) or exc.__cause__ or exc.__context__
    if isinstance(original, ElementTree.ParseError):
        return original.position[0]
    match = re.search(r"line (\d+)", str(original or exc))
    return int(match.group(1)) if match else None


def _nth_tag_line(text: str, tag: str, index: int) -> int | None:
    """Line of the ``index``-th ``<tag`` in ``text`` (1-based), for error messages."""
    for number, match in enumerate(re.finditer(rf"<(?:\w+:)?{tag}\b", text)):
        if number == index:
            return text.count("\n", 0, match.start()) + 1
    return None


# --------------------------------------------------------------------------- plain


def _plain_track(path: Path, text: str, speed_kmh: float) -> Track:
    coordinates: list[tuple[float, float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        lat_match = _PLAIN_LAT.search(line)
        lon_match = _PLAIN_LON.search(line)
        if not lat_match or not lon_match:
            raise TrackFormatError(
                path, f'expected lat="..." lon="...", got {line.strip()[:60]!r}', number
            )
        try:
            lat = float(lat_match.group(1))
            lon = float(lon_match.group(1))
        except ValueError:
            raise TrackFormatError(path, f"not a number in {line.strip()[:60]!r}", number) from None
        problem = _coordinate_problem(lat, lon)
        if problem:
            raise TrackFormatError(path, problem, number)
        coordinates.append((lat, lon))
    if not coordinates:
        raise TrackFormatError(path, "track file holds no points")
    return Track(vehicle_name_from_stem(path.stem), _paced(coordinates, speed_kmh), path)


# --------------------------------------------------------------------------- shared


def _coordinate_problem(lat: float, lon: float) -> str | None:
    if math.isnan(lat) or not -90.0 <= lat <= 90.0:
        return f"latitude {lat} not in [-90, 90]"
    if math.isnan(lon) or not -180.0 <= lon <= 180.0:
        return f"longitude {lon} not in [-180, 180]"
    return None


def _paced(coordinates: list[tuple[float, float]], speed_kmh: float) -> tuple[TrackPoint, ...]:
    """Offsets for untimed points: driven by a van cruising at ``speed_kmh`` (see ``pacing``)."""
    offsets = paced_offsets(coordinates, VehicleModel(cruise_kmh=speed_kmh))
    return tuple(
        TrackPoint(lat, lon, offset)
        for (lat, lon), offset in zip(coordinates, offsets, strict=True)
    )
