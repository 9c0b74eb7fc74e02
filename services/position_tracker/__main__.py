"""``position-tracker``: consume positions, store them, serve them (configured by environment)."""

from __future__ import annotations

from services.common.entrypoint import run_service
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import SERVICE


def main() -> None:
    from services.position_tracker.app import create_app

    run_service(SERVICE, __doc__ or "", TrackerSettings, create_app)


if __name__ == "__main__":
    main()
