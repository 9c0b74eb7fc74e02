"""The tracker's app as built (no network): its routes are exactly its catalog's route label."""

from datetime import UTC, datetime, timedelta

import pytest

from observability.runtime.http import declared_routes
from services.position_tracker.app import create_app
from services.position_tracker.positions import StoredPosition
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import ROUTES
from services.positions.schemas import VehiclePosition


def test_routes_are_exactly_the_catalogs():
    app = create_app(TrackerSettings(mongodb_url="mongodb://127.0.0.1:1/"))
    assert set(declared_routes(app)) == set(ROUTES)


@pytest.mark.parametrize(
    ("reported_s_ago", "stored_s_ago", "stale"),
    [(10, 10, False), (400, 0, True), (0, 400, True), (299, 1, False)],
)
def test_a_vehicle_is_stale_when_its_latest_report_or_store_is_older_than_the_window(
    reported_s_ago, stored_s_ago, stale
):
    now = datetime.now(UTC)
    at, stored = (now - timedelta(seconds=s) for s in (reported_s_ago, stored_s_ago))
    position = StoredPosition("Van", 53.0, -1.5, at, None, None, stored)
    assert VehiclePosition.of(position, now, 300.0).stale is stale
