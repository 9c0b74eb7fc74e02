"""The tracker's REST API: our routes and the original Fleetman tracker's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated

import pymongo
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import TypeAdapter

from services.common.errors import ProblemError
from services.common.openapi import problem_response
from services.position_tracker.positions import StoredPosition
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.snapshot import FleetSnapshot, Render
from services.position_tracker.store import PositionStore
from services.positions.messages import MAX_VEHICLE_NAME, vehicle_name_problem
from services.positions.schemas import FleetmanPosition, History, HistoryPoint, VehiclePosition

VehicleName = Annotated[
    str,
    Path(
        description="Vehicle name, e.g. `City Truck`: not blank, no control character or slash, "
        "not starting with `$`.",
        max_length=MAX_VEHICLE_NAME,
    ),
]


def _checked(name: str) -> str:
    problem = vehicle_name_problem(name)
    if problem is not None:
        raise ProblemError(400, "Bad Request", problem)
    return name


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """``moment`` in UTC (UTC when it has no offset); 400 when that is not a datetime at all
    (``0001-01-01T00:00:00+14:00`` is before year 1 in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ProblemError(
            400, "Bad Request", f"{name} {moment.isoformat()} is out of range in UTC"
        ) from None


UNKNOWN_VEHICLE = problem_response("No position of a vehicle of that name.")
DATABASE_DOWN = (
    "The database is down, or did not answer within `DB_REQUEST_TIMEOUT_MS` (the query is "
    "stopped), or the tracker is saturated: retry after `Retry-After` seconds."
)

#: The snapshot's renderings: the fleet list in our format and in the original Fleetman's.
FLEET = "fleet"
FLEETMAN_FLEET = "fleetman-fleet"
_FLEET_JSON = TypeAdapter(list[VehiclePosition])
_FLEETMAN_JSON = TypeAdapter(list[FleetmanPosition])


def fleet_renderers(window_s: float) -> dict[str, Render]:
    """How the snapshot renders the fleet list, once per read of the database."""

    def fleet(positions: list[StoredPosition], now: datetime) -> bytes:
        return _FLEET_JSON.dump_json([VehiclePosition.of(p, now, window_s) for p in positions])

    def fleetman(positions: list[StoredPosition], _: datetime) -> bytes:
        return _FLEETMAN_JSON.dump_json([FleetmanPosition.of(p) for p in positions])

    return {FLEET: fleet, FLEETMAN_FLEET: fleetman}


def _database_budget(milliseconds: int) -> Callable[[], AsyncIterator[None]]:
    """A dependency that gives the request's database work ``milliseconds`` in all.

    Async on purpose: it runs in the request's task, whose context the route's thread copies; a
    sync one would set the driver's deadline in a thread of its own, lost to the route.
    """

    async def budget() -> AsyncIterator[None]:
        with pymongo.timeout(milliseconds / 1000):
            yield

    return budget


def json_bytes(content: bytes) -> Response:
    return Response(content=content, media_type="application/json")


def create_router(
    store: PositionStore, snapshot: FleetSnapshot, settings: TrackerSettings
) -> APIRouter:
    # Every route's database work shares one budget, sent as maxTimeMS with each command (the
    # thread pool copies the context, so the driver sees it in the route's thread).
    router = APIRouter(
        dependencies=[Depends(_database_budget(settings.db_request_timeout_ms))],
        responses={503: problem_response(DATABASE_DOWN, retry_after=True)},
    )
    window = settings.active_window_seconds

    def unknown(name: str) -> ProblemError:
        return ProblemError(404, "Not Found", f"no position of a vehicle named {name!r}")

    def latest(name: str) -> StoredPosition | None:
        """From the snapshot; a vehicle it does not know yet is looked up (no false 404)."""
        known = snapshot.current().positions.get(name)
        return known if known is not None else store.latest(name)

    @router.get("/vehicles", tags=["vehicles"], response_model=list[VehiclePosition])
    def list_vehicles() -> Response:
        """The latest position, speed and heading of every vehicle, by name (at most
        ``SNAPSHOT_MAX_AGE_SECONDS`` old)."""
        return json_bytes(snapshot.rendered(FLEET))

    @router.get("/vehicles/{name}", tags=["vehicles"], responses={404: UNKNOWN_VEHICLE})
    def get_vehicle(name: VehicleName) -> VehiclePosition:
        """One vehicle's latest position."""
        position = latest(_checked(name))
        if position is None:
            raise unknown(name)
        return VehiclePosition.of(position, datetime.now(UTC), window)

    @router.get(
        "/vehicles/{name}/history",
        tags=["vehicles"],
        responses={404: UNKNOWN_VEHICLE},
    )
    def get_history(
        name: VehicleName,
        since: Annotated[
            datetime | None, Query(description="Oldest timestamp (ISO 8601; UTC if no offset).")
        ] = None,
        until: Annotated[
            datetime | None, Query(description="Newest timestamp (ISO 8601; UTC if no offset).")
        ] = None,
        limit: Annotated[int | None, Query(ge=1, description="Most positions returned.")] = None,
    ) -> History:
        """A vehicle's most recent positions in [since, until], newest first."""
        _checked(name)
        since, until = _utc(since, "since"), _utc(until, "until")
        if since is not None and until is not None and since > until:
            raise ProblemError(400, "Bad Request", "since is after until")
        count = settings.history_default_limit if limit is None else limit
        if count > settings.history_max_limit:
            raise ProblemError(
                400,
                "Bad Request",
                f"limit {count} is over the maximum {settings.history_max_limit}",
            )
        positions = store.history(name, since, until, count)
        if positions is None:
            raise unknown(name)
        return History(name=name, positions=[HistoryPoint.of(p) for p in positions])

    # -- the original Fleetman tracker's routes ---------------------------------------------
    @router.get("/vehicles/", tags=["fleetman"], response_model=list[FleetmanPosition])
    def fleetman_vehicles() -> Response:
        """Original Fleetman: the latest position of every vehicle."""
        return json_bytes(snapshot.rendered(FLEETMAN_FLEET))

    @router.get("/history/{name}", tags=["fleetman"])
    def fleetman_history(name: VehicleName) -> list[FleetmanPosition]:
        """Original Fleetman: a vehicle's positions, newest first (`[]` for an unknown vehicle)."""
        _checked(name)
        positions = store.history(name, None, None, settings.history_max_limit)
        return [FleetmanPosition.of(p) for p in positions or ()]

    return router
