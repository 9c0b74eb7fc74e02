"""The position simulator's telemetry catalog."""

from __future__ import annotations

from observability.catalog import (
    Alert,
    FieldType,
    Label,
    LogField,
    Metric,
    MetricKind,
    ServiceCatalog,
    Severity,
    Unit,
)
from observability.catalog.common import (
    HTTP_SERVICE_LOG_SCHEMA,
    PROCESS_METRICS,
    http_request_duration,
    service_down_alert,
)

SERVICE = "position-simulator"
PORT = 8002
ROUTES = ("/healthz", "/readyz", "/metrics")

HTTP_REQUEST_DURATION = http_request_duration(ROUTES)
POSITIONS_PUBLISHED = Metric(
    name="fleet_simulator_positions_published_total",
    kind=MetricKind.COUNTER,
    help="Positions the broker acknowledged (receipted).",
    exemplars=True,
)
PUBLISH_ERRORS = Metric(
    name="fleet_simulator_publish_errors_total",
    kind=MetricKind.COUNTER,
    help="Publish attempts that failed and will be retried, by reason.",
    labels=(Label("reason", "Why the publish failed.", ("disconnected", "timeout")),),
)
PUBLISH_DURATION = Metric(
    name="fleet_simulator_publish_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit=Unit.SECONDS,
    help="Time from sending a position to the broker's receipt.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    exemplars=True,
)
BROKER_CONNECTED = Metric(
    name="fleet_simulator_broker_connected",
    kind=MetricKind.GAUGE,
    help="1 while connected to the broker, 0 otherwise.",
)
VEHICLES = Metric(
    name="fleet_simulator_vehicles",
    kind=MetricKind.GAUGE,
    help="Vehicles being replayed.",
)

LOG_SCHEMA = HTTP_SERVICE_LOG_SCHEMA.extended(
    LogField("vehicle.name", FieldType.KEYWORD, "Vehicle the record is about."),
    LogField("fleet.queue", FieldType.KEYWORD, "Broker queue name."),
    LogField(
        "fleet.track.loop", FieldType.LONG, "How many times the vehicle's track was replayed."
    ),
)

ALERTS = (
    service_down_alert(SERVICE, PORT),
    Alert(
        name="SimulatorBrokerDisconnected",
        expr=f'fleet_simulator_broker_connected{{job="{SERVICE}"}} == 0',
        for_="5m",
        severity=Severity.WARNING,
        summary="The simulator cannot reach the broker.",
        description="The simulator on {{ $labels.instance }} has been disconnected for 5 minutes.",
        runbook=(
            "1. Is ActiveMQ up? Locally `make status`; on Kubernetes the `fleetman-queue` pod.\n"
            "2. The simulator retries by itself and resends what the broker had not acknowledged."
        ),
        dashboard=SERVICE,
    ),
)

CATALOG = ServiceCatalog(
    name=SERVICE,
    description="Replays GPS tracks of delivery vehicles and publishes their positions.",
    metrics=(
        HTTP_REQUEST_DURATION,
        POSITIONS_PUBLISHED,
        PUBLISH_ERRORS,
        PUBLISH_DURATION,
        BROKER_CONNECTED,
        VEHICLES,
        *PROCESS_METRICS,
    ),
    logs=LOG_SCHEMA,
    alerts=ALERTS,
    metrics_port=PORT,
)
