"""The simulator's settings: HTTP and broker from the shared settings, the replay from SIMULATOR_*.

Every setting is a command-line flag and an environment variable (``--rate`` is
``SIMULATOR_RATE``), so ``make up`` and Kubernetes configure the simulator without arguments; a
flag given on the command line wins over the environment (services/common/cli.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import BrokerSettings, HttpPort, ServiceSettings
from services.position_simulator.replay import MAX_RATE_HZ
from services.position_simulator.tracks import DEFAULT_UNTIMED_SPEED_KMH
from services.positions.formats import BodyFormat

#: The tracks shipped with the package (made by ``trackgen``).
PACKAGED_TRACKS = Path(__file__).resolve().parent / "tracks"


#: How the simulator writes a position on the queue: ``json``, ours, a JSON text message
#: ``{"vehicle", "lat", "lng", "timestamp"}``; or ``fleetman``, the original Fleetman four
#: strings as a JMS MapMessage (for the original Java tracker).
WRITTEN_FORMATS = (BodyFormat.JSON, BodyFormat.FLEETMAN)


def _written_format(value: object) -> object:
    """The format named, refused unless the simulator writes it (in words, not enum reprs)."""
    if value not in WRITTEN_FORMATS:
        raise ValueError("Input should be " + " or ".join(f"'{f}'" for f in WRITTEN_FORMATS))
    return BodyFormat(value)


WrittenFormat = Annotated[
    Literal[BodyFormat.JSON, BodyFormat.FLEETMAN], BeforeValidator(_written_format)
]


class SimulatorSettings(ServiceSettings, BrokerSettings):
    """HTTP_HOST/HTTP_PORT/LOG_LEVEL, BROKER_URL/BROKER_USER/BROKER_PASSWORD, POSITION_QUEUE."""

    http_port: HttpPort = 8002


class ReplayOptions(BaseSettings):
    """What to replay and how fast; environment variables ``SIMULATOR_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SIMULATOR_", extra="ignore", frozen=True)

    tracks: Path = Field(PACKAGED_TRACKS, description="Folder of GPX or original Fleetman tracks.")
    vehicles: int | None = Field(
        None, ge=1, description="Replay the first N vehicles by name (None: all)."
    )
    rate: float = Field(
        1.0, gt=0, le=MAX_RATE_HZ, description="Ticks per second: one position per vehicle a tick."
    )
    speedup: float = Field(1.0, gt=0, description="Replay speed against the tracks' own time.")
    seed: int | None = Field(
        None,
        description="Start every vehicle at a reproducible random point of its track "
        "(None: each at its first point).",
    )
    format: WrittenFormat = Field(BodyFormat.JSON, description="Message body: json or fleetman.")
    skip_probability: float = Field(
        0.0, ge=0.0, lt=1.0, description="Drop this share of emissions (the original drops 0.5)."
    )
    untimed_speed_kmh: float = Field(
        DEFAULT_UNTIMED_SPEED_KMH,
        gt=0,
        description="Top speed for tracks without timestamps (a van model slows for bends, "
        "turn-rounds and stops).",
    )
    max_backlog_seconds: float = Field(
        300.0,
        ge=0,
        description="After a broker outage, resend what fell due up to this far back; older "
        "positions are skipped (and counted in the log).",
    )
    publish_timeout_seconds: float = Field(
        10.0, gt=0, description="How long to wait for the broker's receipt of a message."
    )
