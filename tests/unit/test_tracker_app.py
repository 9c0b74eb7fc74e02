"""The tracker's app as built (no network): its routes are exactly its catalog's route label."""

from observability.runtime.http import declared_routes
from services.position_tracker.app import create_app
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import ROUTES


def test_routes_are_exactly_the_catalogs():
    app = create_app(TrackerSettings(mongodb_url="mongodb://127.0.0.1:1/"))
    assert set(declared_routes(app)) == set(ROUTES)
