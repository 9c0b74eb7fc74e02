"""``position-simulator``: replay vehicle tracks and publish their positions to ActiveMQ.

Health and metrics are served on HTTP_HOST:HTTP_PORT (127.0.0.1:8002); the broker is BROKER_URL.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import cast

from services.common.cli import parse_settings
from services.position_simulator.settings import ReplayOptions, SimulatorSettings

#: ``--queue``, the simulator's name for ``--position-queue`` since its first version.
SHORTCUTS = {"position-queue": "queue"}


def parse_args(argv: Sequence[str] | None = None) -> tuple[SimulatorSettings, ReplayOptions]:
    """The options given, then the environment, then the defaults; exits 2 on a bad value."""
    settings, options = parse_settings(
        "position-simulator", __doc__ or "", [SimulatorSettings, ReplayOptions], argv, SHORTCUTS
    )
    return cast(SimulatorSettings, settings), cast(ReplayOptions, options)


def main(argv: Sequence[str] | None = None) -> None:
    settings, options = parse_args(argv)
    from observability.runtime.logs import configure_logging
    from services.common.server import serve
    from services.common.version import VERSION
    from services.position_simulator.app import create_app
    from services.position_simulator.telemetry import SERVICE
    from services.position_simulator.tracks import TrackFormatError

    configure_logging(SERVICE, VERSION, settings.log_level)
    try:
        app = create_app(settings, options)
    except (TrackFormatError, ValueError) as exc:
        sys.exit(f"position-simulator: {exc}")
    serve(app, SERVICE, settings)


if __name__ == "__main__":
    main()
