"""``position-tracker``: consume positions, store them, serve them (flags or environment)."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.entrypoint import run_service, service_settings
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import SERVICE


def parse_args(argv: Sequence[str] | None = None) -> TrackerSettings:
    """The options given, then the environment, then the defaults; exits 2 on a bad value."""
    return service_settings(SERVICE, __doc__ or "", TrackerSettings, argv)


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_args(argv)
    from services.position_tracker.app import create_app

    run_service(SERVICE, settings, create_app)


if __name__ == "__main__":
    main()
