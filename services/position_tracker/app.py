"""The position tracker's app: ingest from the queue in the background, REST API in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pymongo
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import SpanProcessor
from pymongo.errors import PyMongoError

from observability.runtime import Telemetry
from observability.runtime.tracing import IncidentSpan
from services.common.app import create_service_app
from services.common.errors import problem
from services.common.version import VERSION
from services.position_tracker.api import create_router, fleet_renderers
from services.position_tracker.consumer import PositionConsumer, backlog_of_mine
from services.position_tracker.database_probe import DatabaseProbe
from services.position_tracker.dead_letter_mover import DeadLetterMover
from services.position_tracker.dead_letters import DeadLetterArchive
from services.position_tracker.migration import BackgroundMigration, migrate_vehicles
from services.position_tracker.positions import StoredPosition
from services.position_tracker.queue_stats import QueueStats
from services.position_tracker.retention import RetentionJob
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.snapshot import FleetSnapshot
from services.position_tracker.store import PositionStore
from services.position_tracker.telemetry import (
    BROKER_STORE_USAGE,
    CATALOG,
    DATABASE_UP,
    QUEUE_CONSUMERS,
    QUEUE_MESSAGES,
)

#: What a client is told to wait after a database failure (the driver's reconnection is faster).
DATABASE_RETRY_AFTER_SECONDS = 1

DESCRIPTION = (
    "Consumes vehicle positions from ActiveMQ, computes speed and heading, stores every position "
    "in MongoDB and serves the fleet's latest positions and history."
)


def create_app(
    settings: TrackerSettings | None = None, span_processors: tuple[SpanProcessor, ...] = ()
) -> FastAPI:
    settings = settings or TrackerSettings()
    telemetry = Telemetry.create(CATALOG, VERSION, span_processors)
    if telemetry.tracer_provider is not None:
        PymongoInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
    kept_for = timedelta(hours=settings.retention_hours) if settings.retention_hours else None
    store = PositionStore(
        settings.mongodb_url,
        settings.mongodb_database,
        retention=kept_for,
        operation_timeout_ms=settings.db_operation_timeout_ms,
    )
    request_budget_s = settings.db_request_timeout_ms / 1000

    def read_fleet() -> list[StoredPosition]:
        with pymongo.timeout(request_budget_s):
            return store.latest_all()

    consumer = PositionConsumer(settings, store, telemetry)
    retention = RetentionJob(store, settings.retention_hours)
    migration = BackgroundMigration(store, kept_for)
    snapshot = FleetSnapshot(
        read_fleet,
        fleet_renderers(settings.active_window_seconds),
        max_age=settings.snapshot_max_age_seconds,
    )
    gauge = telemetry.metrics.gauge
    queue_stats = QueueStats(
        settings, gauge(QUEUE_MESSAGES), gauge(BROKER_STORE_USAGE), gauge(QUEUE_CONSUMERS)
    )
    database_probe = DatabaseProbe(
        store.ping,
        gauge(DATABASE_UP),
        IncidentSpan(telemetry.tracer, "database outage", {"db.system.name": "mongodb"}),
    )
    dead_letters = DeadLetterMover(settings, DeadLetterArchive(store.db))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        migrate_vehicles(store)  # before the consumer reads any vehicle's latest position
        consumer.start()
        dead_letters.start()
        migration.start()
        retention.start()
        queue_stats.start()
        database_probe.start()
        snapshot.start()
        try:
            yield
        finally:
            snapshot.stop()
            database_probe.stop()
            queue_stats.stop()
            retention.stop()
            migration.stop()
            dead_letters.stop()
            consumer.stop()
            store.close()
            telemetry.shutdown()

    def broker_ready() -> str | None:
        if not consumer.running:
            return "the ingest threads are not running"
        if not consumer.connected:
            return f"not connected to the broker at {settings.broker_url}"
        return None

    def ingest_ready() -> str | None:
        waiting = backlog_of_mine(
            queue_stats.sizes.get("positions", 0), queue_stats.consumer_counts.get("positions", 1)
        )
        return consumer.stall(waiting, settings.ingest_stall_seconds)

    app = create_service_app(
        telemetry,
        title="Position tracker",
        description=DESCRIPTION,
        readiness={"broker": broker_ready, "database": store.ping, "ingest": ingest_ready},
        lifespan=lifespan,
    )
    app.include_router(create_router(store, snapshot, settings))

    @app.exception_handler(PyMongoError)
    async def _database_failed(_: Request, exc: PyMongoError) -> JSONResponse:
        why = (
            f"the database did not answer within {settings.db_request_timeout_ms} ms"
            if exc.timeout
            else f"the database failed: {type(exc).__name__}"
        )
        return problem(
            503,
            "Service Unavailable",
            why,
            headers={"retry-after": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    app.state.consumer = consumer
    app.state.store = store
    return app
