"""The simulator's app: the replay runs in the background, HTTP serves health and metrics only."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from observability.runtime import Telemetry
from observability.runtime.logs import fields
from observability.runtime.tracing import IncidentSpan
from services.common.app import create_service_app
from services.common.broker import BrokerConnection
from services.common.version import VERSION
from services.position_simulator.engine import ReplayEngine, utc_now
from services.position_simulator.publisher import PositionPublisher
from services.position_simulator.schedule import (
    Schedule,
    build_replays,
    select_tracks,
    top_speed_kmh,
)
from services.position_simulator.settings import ReplayOptions, SimulatorSettings
from services.position_simulator.telemetry import BROKER_CONNECTED, CATALOG, SERVICE, VEHICLES
from services.position_simulator.tracks import Track, load_tracks
from services.positions.messages import DEFAULT_TELEPORT_KMH

log = logging.getLogger(__name__)

DESCRIPTION = "Replays GPS tracks of delivery vehicles and publishes their positions to ActiveMQ."


def create_app(
    settings: SimulatorSettings | None = None,
    options: ReplayOptions | None = None,
    span_processors: tuple[SpanProcessor, ...] = (),
) -> FastAPI:
    """The app; raises TrackFormatError or ValueError when the tracks or options are unusable."""
    settings = settings or SimulatorSettings()
    options = options or ReplayOptions()
    tracks = select_tracks(
        load_tracks(options.tracks, untimed_speed_kmh=options.untimed_speed_kmh), options.vehicles
    )
    _warn_about_teleports(tracks, options.speedup)
    telemetry = Telemetry.create(CATALOG, VERSION, span_processors)
    broker = BrokerConnection(settings, SERVICE)
    publisher = PositionPublisher(
        broker, settings.position_queue, options.format, telemetry, options.publish_timeout_seconds
    )
    connected = telemetry.metrics.gauge(BROKER_CONNECTED)
    connected.set(0)
    telemetry.metrics.gauge(VEHICLES).set(len(tracks))
    outage = IncidentSpan(
        telemetry.tracer, "broker outage", {"messaging.destination.name": settings.position_queue}
    )

    def on_broker_state(up: bool) -> None:
        connected.set(1 if up else 0)
        extra = fields(
            **{
                "fleet.queue": settings.position_queue,
                "event.action": "broker-connected" if up else "broker-disconnected",
            }
        )
        if up:
            with outage.current():
                log.info("publishing to %s", settings.position_queue, extra=extra)
            outage.end()
        else:
            outage.begin("the broker is unreachable")
            with outage.current():
                log.warning("publishing paused until the broker is back", extra=extra)

    broker.on_state = on_broker_state
    state: dict[str, ReplayEngine] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The schedule starts now, not when the app object was made.
        replays, first = build_replays(
            tracks,
            now=utc_now(),
            rate_hz=options.rate,
            speedup=options.speedup,
            seed=options.seed,
            skip_probability=options.skip_probability,
        )
        engine = ReplayEngine(
            Schedule(replays, first),
            publisher.publish,
            broker.wait_connected,
            max_backlog_s=options.max_backlog_seconds,
        )
        state["engine"] = engine
        log.info(
            "replaying %d vehicles at %g ticks/s, speed-up %g, %s format",
            len(tracks),
            options.rate,
            options.speedup,
            options.format.value,
            extra=fields(**{"fleet.queue": settings.position_queue}),
        )
        broker.start()
        engine.start()
        try:
            yield
        finally:
            engine.stop()
            broker.stop()
            telemetry.shutdown()

    def broker_ready() -> str | None:
        return None if broker.connected else f"not connected to the broker at {settings.broker_url}"

    def replay_ready() -> str | None:
        engine = state.get("engine")
        if engine is not None and engine.crashed is not None:
            return f"the replay stopped: {engine.crashed!r}"
        return None

    app = create_service_app(
        telemetry,
        title="Position simulator",
        description=DESCRIPTION,
        readiness={"broker": broker_ready, "replay": replay_ready},
        lifespan=lifespan,
        docs_url=None,
        openapi_url=None,
    )
    app.state.broker = broker
    app.state.publisher = publisher
    app.state.tracks = tracks
    return app


def _warn_about_teleports(tracks: list[Track], speedup: float) -> None:
    """Timestamps follow the wall clock, so the tracker sees speeds ``speedup`` times the
    tracks' own; past its teleport limit it would dead-letter the positions."""
    apparent = top_speed_kmh(tracks) * speedup
    if apparent > DEFAULT_TELEPORT_KMH:
        log.warning(
            "with speed-up %g the fastest vehicle appears to drive %.0f km/h: the tracker "
            "refuses moves faster than %.0f km/h (TELEPORT_KMH) as teleports",
            speedup,
            apparent,
            DEFAULT_TELEPORT_KMH,
        )
