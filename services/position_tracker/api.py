"""The tracker's REST API: our routes and the original Fleetman tracker's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.errors import ProblemError
from services.position_tracker.messages import vehicle_name_problem
from services.position_tracker.schemas import (
    FleetmanPosition,
    History,
    HistoryPoint,
    VehiclePosition,
)
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.store import PositionStore

VehicleName = Annotated[str, Path(description="Vehicle name, e.g. `City Truck`.", max_length=200)]


def _checked(name: str) -> str:
    problem = vehicle_name_problem(name)
    if problem is not None:
        raise ProblemError(400, "Bad Request", problem)
    return name


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def create_router(store: PositionStore, settings: TrackerSettings) -> APIRouter:
    router = APIRouter()
    window = settings.active_window_seconds

    def unknown(name: str) -> ProblemError:
        return ProblemError(404, "Not Found", f"no position of a vehicle named {name!r}")

    @router.get("/vehicles", tags=["vehicles"])
    def list_vehicles() -> list[VehiclePosition]:
        """The latest position, speed and heading of every vehicle, by name."""
        now = datetime.now(UTC)
        return [VehiclePosition.of(p, now, window) for p in store.latest_all()]

    @router.get(
        "/vehicles/{name}", tags=["vehicles"], responses={404: {"description": "Unknown vehicle"}}
    )
    def get_vehicle(name: VehicleName) -> VehiclePosition:
        """One vehicle's latest position."""
        position = store.latest(_checked(name))
        if position is None:
            raise unknown(name)
        return VehiclePosition.of(position, datetime.now(UTC), window)

    @router.get(
        "/vehicles/{name}/history",
        tags=["vehicles"],
        responses={404: {"description": "Unknown vehicle"}},
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
        since, until = _utc(since), _utc(until)
        if since is not None and until is not None and since > until:
            raise ProblemError(400, "Bad Request", "since is after until")
        count = settings.history_default_limit if limit is None else limit
        if count > settings.history_max_limit:
            raise ProblemError(
                400,
                "Bad Request",
                f"limit {count} is over the maximum {settings.history_max_limit}",
            )
        if store.latest(name) is None:
            raise unknown(name)
        positions = store.history(name, since, until, count)
        return History(name=name, positions=[HistoryPoint.of(p) for p in positions])

    # -- the original Fleetman tracker's routes ---------------------------------------------
    @router.get("/vehicles/", tags=["fleetman"])
    def fleetman_vehicles() -> list[FleetmanPosition]:
        """Original Fleetman: the latest position of every vehicle."""
        return [FleetmanPosition.of(p) for p in store.latest_all()]

    @router.get("/history/{name}", tags=["fleetman"])
    def fleetman_history(name: VehicleName) -> list[FleetmanPosition]:
        """Original Fleetman: a vehicle's positions, newest first (`[]` for an unknown vehicle)."""
        _checked(name)
        return [
            FleetmanPosition.of(p)
            for p in store.history(name, None, None, settings.history_max_limit)
        ]

    return router
