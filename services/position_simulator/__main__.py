"""``position-simulator``: replay vehicle tracks and publish their positions to ActiveMQ.

Every option can also be set by an environment variable (in brackets); the command line wins.
Health and metrics are served on HTTP_HOST:HTTP_PORT (127.0.0.1:8002); the broker is BROKER_URL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from services.position_simulator.settings import (
    PACKAGED_TRACKS,
    BodyFormat,
    ReplayOptions,
    SimulatorSettings,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="position-simulator",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,  # absent options fall back to the environment
    )
    add = parser.add_argument
    add(
        "--tracks",
        help=f"folder of GPX or original Fleetman track files [SIMULATOR_TRACKS] (default: {PACKAGED_TRACKS})",
    )
    add(
        "--vehicles",
        type=int,
        help="replay the first N vehicles by name [SIMULATOR_VEHICLES] (default: all)",
    )
    add(
        "--rate",
        type=float,
        help="ticks per second, one position per vehicle a tick [SIMULATOR_RATE] (default: 1)",
    )
    add(
        "--speedup",
        type=float,
        help="replay speed against the tracks' time [SIMULATOR_SPEEDUP] (default: 1)",
    )
    add(
        "--seed",
        type=int,
        help="start vehicles at reproducible random points of their tracks [SIMULATOR_SEED]",
    )
    add(
        "--format",
        choices=[f.value for f in BodyFormat],
        help="message body: json, or fleetman (the original's MapMessage) [SIMULATOR_FORMAT] (default: json)",
    )
    add(
        "--skip-probability",
        type=float,
        help="drop this share of positions, as the original (0.5) [SIMULATOR_SKIP_PROBABILITY] (default: 0)",
    )
    add("--queue", help="ActiveMQ queue [POSITION_QUEUE] (default: positionQueue)")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> tuple[SimulatorSettings, ReplayOptions]:
    """Settings from the environment, overridden by the options given; exits on bad values."""
    parser = _parser()
    given = vars(parser.parse_args(argv))
    queue = given.pop("queue", None)
    try:
        settings = SimulatorSettings(**({"position_queue": queue} if queue else {}))
        options = ReplayOptions(**given)
    except ValidationError as exc:
        parser.error(f"bad configuration:\n{exc}")
    return settings, options


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
