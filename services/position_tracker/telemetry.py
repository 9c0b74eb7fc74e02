"""The position tracker's telemetry catalog: what it emits and what it promises."""

from __future__ import annotations

from observability.catalog import (
    SLO,
    Alert,
    FieldType,
    FreshnessSLI,
    Label,
    LogField,
    Metric,
    MetricKind,
    RatioSLI,
    Selector,
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
from services.positions.formats import BodyFormat
from services.positions.messages import RejectReason

SERVICE = "position-tracker"
PORT = 8001
ROUTES = (
    "/vehicles",
    "/vehicles/",
    "/vehicles/{name}",
    "/vehicles/{name}/history",
    "/history/{name}",
    "/openapi.json",
    "/docs",
    "/healthz",
    "/readyz",
    "/metrics",
)
#: Where a vehicle's position messages came from, as far as the body tells.
FORMATS = (*(f.value for f in BodyFormat), "unknown")
#: The broker queues whose depth the tracker reports, by role (not by configurable name).
QUEUE_ROLES = ("positions", "dead_letter")

HTTP_REQUEST_DURATION = http_request_duration(ROUTES)

POSITIONS_RECEIVED = Metric(
    name="fleet_tracker_positions_received_total",
    kind=MetricKind.COUNTER,
    help="Position messages consumed from the queue, valid or not, redeliveries included.",
    labels=(Label("format", "Shape of the message body.", FORMATS),),
    exemplars=True,
    counts="position message consumed",
)
POSITIONS_STORED = Metric(
    name="fleet_tracker_positions_stored_total",
    kind=MetricKind.COUNTER,
    help="Valid positions durably stored and acknowledged (duplicates: already stored before).",
    labels=(
        Label("result", "inserted, or duplicate of a stored position.", ("inserted", "duplicate")),
    ),
    exemplars=True,
    overview=(),
    counts="valid position stored",
    per_instance=True,
)
POSITIONS_DEAD_LETTERED = Metric(
    name="fleet_tracker_positions_dead_lettered_total",
    kind=MetricKind.COUNTER,
    help="Position messages refused and sent to the dead-letter queue, by reason.",
    labels=(Label("reason", "Why the message was refused.", tuple(r.value for r in RejectReason)),),
    exemplars=True,
    overview=("reason",),
    counts="position message refused",
)
STORE_ERRORS = Metric(
    name="fleet_tracker_store_errors_total",
    kind=MetricKind.COUNTER,
    help="Batch writes to the database that failed (their messages are redelivered).",
    counts="failed batch write",
)
STORE_DURATION = Metric(
    name="fleet_tracker_store_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit=Unit.SECONDS,
    help="Duration of one batched write of positions to the database.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    exemplars=True,
)
PUBLISH_TO_STORE_DELAY = Metric(
    name="fleet_tracker_publish_to_store_delay_seconds",
    kind=MetricKind.HISTOGRAM,
    unit=Unit.SECONDS,
    help="Time from the broker accepting a position to the tracker storing it.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    exemplars=True,
    overview=(),
)
BATCH_SIZE = Metric(
    name="fleet_tracker_write_batch_positions",
    kind=MetricKind.HISTOGRAM,
    help="Positions written per batched database write.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
ACTIVE_VEHICLES = Metric(
    name="fleet_tracker_active_vehicles",
    kind=MetricKind.GAUGE,
    help="Vehicles that reported a position in the last five minutes.",
    overview=(),
)
LAST_STORED_TIMESTAMP = Metric(
    name="fleet_tracker_last_stored_position_timestamp_seconds",
    kind=MetricKind.GAUGE,
    unit=Unit.SECONDS,
    help="Unix time at which the newest position was stored.",
)
QUEUE_MESSAGES = Metric(
    name="fleet_broker_queue_messages",
    kind=MetricKind.GAUGE,
    help="Messages waiting in a broker queue, as the broker's statistics report them.",
    labels=(Label("queue", "Role of the queue.", QUEUE_ROLES),),
    shared=True,
)
QUEUE_CONSUMERS = Metric(
    name="fleet_broker_queue_consumers",
    kind=MetricKind.GAUGE,
    help="Consumers subscribed to a broker queue, as the broker's statistics report them.",
    labels=(Label("queue", "Role of the queue.", QUEUE_ROLES),),
    shared=True,
)
BROKER_STORE_USAGE = Metric(
    name="fleet_broker_store_usage_ratio",
    kind=MetricKind.GAUGE,
    unit=Unit.RATIO,
    help=(
        "Share of the broker's persistent store in use, as its statistics report it "
        "(at 1 the broker blocks every producer)."
    ),
    shared=True,
)

DATABASE_UP = Metric(
    name="fleet_tracker_database_up",
    kind=MetricKind.GAUGE,
    unit=Unit.NONE,
    help="1 when the tracker's latest ping of its database (every 5 s) was answered, else 0.",
)

LOG_SCHEMA = HTTP_SERVICE_LOG_SCHEMA.extended(
    LogField("vehicle.name", FieldType.KEYWORD, "Vehicle the record is about."),
    LogField("fleet.message.format", FieldType.KEYWORD, "Shape of a position message body."),
    LogField("messaging.message.id", FieldType.KEYWORD, "Broker message id."),
    LogField("fleet.batch.size", FieldType.LONG, "Positions in a batched write."),
    LogField("fleet.queue", FieldType.KEYWORD, "Broker queue name."),
)

_STORED = Selector(POSITIONS_STORED)
_RECEIVED = Selector(POSITIONS_RECEIVED)
_DEAD_LETTERED = Selector(POSITIONS_DEAD_LETTERED)

INGEST_AVAILABILITY = SLO(
    name="ingest-availability",
    objective=0.999,
    sli=RatioSLI(good=(_STORED,), total=(_RECEIVED,), excluded=(_DEAD_LETTERED,)),
    description="99.9% of valid positions received are stored.",
    alert_name="PositionIngestBudgetBurn",
    runbook=(
        "Valid positions are being received but not stored.\n\n"
        "1. Check `fleet_tracker_store_errors_total` and the tracker's error logs "
        "(`log.level:error and service.name:position-tracker`).\n"
        "2. Check the database is reachable: `GET /readyz` on the tracker.\n"
        "3. Messages are not lost while this fires: they stay in the queue until stored."
    ),
)
DATA_FRESHNESS = SLO(
    name="data-freshness",
    objective=0.99,
    sli=FreshnessSLI(timestamp=LAST_STORED_TIMESTAMP, max_age_seconds=60),
    description="99% of the time, the newest stored position is less than a minute old.",
    alert_name="PositionDataStale",
    runbook=(
        "The map shows old positions: nothing was stored for over a minute.\n\n"
        "1. Is the simulator publishing? `rate(fleet_simulator_positions_published_total[5m])`.\n"
        "2. Is the tracker consuming? `rate(fleet_tracker_positions_received_total[5m])` and "
        "the queue depth `fleet_broker_queue_messages`.\n"
        "3. Follow the trace of a recent publish from the simulator's logs."
    ),
)

ALERTS = (
    service_down_alert(SERVICE, PORT),
    Alert(
        name="PositionsNotStored",
        expr=(
            'sum(rate(fleet_simulator_positions_published_total{job="position-simulator"}[5m])) > 0\n'
            "and on ()\n"
            '(sum(rate(fleet_tracker_positions_stored_total{job="position-tracker"}[5m])) or vector(0)) == 0'
        ),
        for_="5m",
        severity=Severity.CRITICAL,
        summary="Positions are published but none is stored.",
        description=(
            "The simulator published {{ $value | humanize }} positions/s over 5 minutes while the "
            "tracker stored none."
        ),
        runbook=(
            '1. Is the tracker up and consuming? Check `up{job="position-tracker"}` and its logs.\n'
            "2. Is the database reachable? `GET /readyz` on the tracker.\n"
            "3. Are positions dead-lettered instead? See `PositionsDeadLetterRateHigh`."
        ),
        dashboard=SERVICE,
    ),
    Alert(
        name="PositionsDeadLetterRateHigh",
        expr=(
            'sum(rate(fleet_tracker_positions_dead_lettered_total{job="position-tracker"}[10m]))\n'
            "/\n"
            'sum(rate(fleet_tracker_positions_received_total{job="position-tracker"}[10m])) > 0.05'
        ),
        for_="10m",
        severity=Severity.WARNING,
        summary="More than 5% of position messages are dead-lettered.",
        description="{{ $value | humanizePercentage }} of position messages were refused over 10 minutes.",
        runbook=(
            "1. Which reason? `sum by (reason) (rate(fleet_tracker_positions_dead_lettered_total[10m]))`.\n"
            "2. Read the dead-lettered messages' logs (Kibana search *Dead-lettered positions*): "
            "each names the reason and the vehicle; the messages themselves, byte for byte: "
            "`fleet-dead-letters list --reason REASON` and `fleet-dead-letters show ID`.\n"
            "3. A producer sending a new format? Check `fleet_tracker_positions_received_total` by format."
        ),
        dashboard=SERVICE,
    ),
    Alert(
        name="PositionQueueBacklogGrowing",
        expr=(
            # every replica reports the one queue: its largest report, not one alert each
            'max by (job, env, queue) (fleet_broker_queue_messages{job="position-tracker",queue="positions"})'
            " > 100\nand\n"
            "max by (job, env, queue) ("
            'deriv(fleet_broker_queue_messages{job="position-tracker",queue="positions"}[10m])'
            ") > 0"
        ),
        for_="10m",
        severity=Severity.WARNING,
        summary="The position queue's backlog keeps growing.",
        description="{{ $value | humanize }} messages wait in the position queue and the backlog grows.",
        runbook=(
            "1. Is the tracker slower than the producers? Compare "
            "`rate(fleet_tracker_positions_received_total[5m])` with the simulator's publish rate.\n"
            "2. Are writes slow? `fleet_tracker_store_duration_seconds` p99.\n"
            "3. Scale the tracker or raise its batch size."
        ),
        dashboard=SERVICE,
    ),
    Alert(
        name="PositionQueueUnconsumed",
        expr=(
            'sum(rate(fleet_simulator_positions_published_total{job="position-simulator"}[5m]))'
            " > 0\nand on () (\n"
            '  max(fleet_broker_queue_consumers{job="position-tracker",queue="positions"}) == 0\n'
            "  or on ()\n"
            '  absent(fleet_broker_queue_consumers{job="position-tracker",queue="positions"})\n'
            ")"
        ),
        for_="2m",
        severity=Severity.CRITICAL,
        summary="Positions arrive and no tracker consumes the position queue.",
        description=(
            "The simulator publishes positions and the position queue has had no consumer for "
            "2 minutes (or no tracker reports it): nothing is stored, the backlog grows."
        ),
        runbook=(
            "Positions are not lost: they wait in the queue until a tracker consumes them.\n\n"
            "1. Are the trackers up? `PositionTrackerDown`; locally `fleet-stack status`, on "
            "Kubernetes the tracker pods and the ScaledObject's replicas.\n"
            "2. Up but not consuming? A tracker's `GET /readyz` names the broker's error; its "
            "logs show the subscription.\n"
            "3. Watch the backlog drain once one consumes: `fleet_broker_queue_messages`."
        ),
        dashboard=SERVICE,
    ),
    Alert(
        name="DatabaseDown",
        expr='fleet_tracker_database_up{job="position-tracker"} == 0',
        for_="1m",
        severity=Severity.CRITICAL,
        summary="The position tracker cannot reach its database.",
        description=(
            "The tracker's pings of its database have failed for a minute: no position is "
            "stored (they wait in the queue) and the API answers 503."
        ),
        runbook=(
            "Positions are not lost: unacknowledged, they wait in the broker's queue and are "
            "stored once the database is back.\n\n"
            "1. What does the tracker say? `GET /readyz` names the database's error; its logs "
            "show `storing positions failed` with the driver's reason.\n"
            "2. Is the database up? Locally `fleet-stack status` (ferretdb); on Kubernetes the "
            "MongoDB pod and its volume.\n"
            "3. Watch the backlog drain once it is back: `fleet_broker_queue_messages`."
        ),
        dashboard=SERVICE,
    ),
    Alert(
        name="BrokerStoreFillingUp",
        expr='max by (job, env) (fleet_broker_store_usage_ratio{job="position-tracker"}) > 0.8',
        for_="15m",
        severity=Severity.WARNING,
        summary="The broker's persistent store is over 80% full.",
        description=(
            "The broker's store is {{ $value | humanizePercentage }} full; when it is full the "
            "broker blocks every producer and positions stop arriving."
        ),
        runbook=(
            "The store (KahaDB) frees its journal by whole files: one message nobody reads keeps "
            "the file it landed in. The tracker moves every dead letter into its database at "
            "once, so the dead-letter queue should stay near 0.\n\n"
            "1. Which queues hold messages? `fleet_broker_queue_messages`. A dead-letter queue "
            "that grows means the archiving fails: the tracker's logs say why (its database?).\n"
            "2. A growing `positions` backlog? See `PositionQueueBacklogGrowing`.\n"
            "3. Another queue nobody consumes? Drain or delete it in the broker's console.\n"
            "4. The archived dead letters: `fleet-dead-letters list`, `show`, `replay` after a "
            "fix, `purge`."
        ),
        dashboard=SERVICE,
    ),
)

CATALOG = ServiceCatalog(
    name=SERVICE,
    description="Consumes positions, computes speed and heading, stores them, serves them.",
    metrics=(
        HTTP_REQUEST_DURATION,
        POSITIONS_RECEIVED,
        POSITIONS_STORED,
        POSITIONS_DEAD_LETTERED,
        STORE_ERRORS,
        STORE_DURATION,
        PUBLISH_TO_STORE_DELAY,
        BATCH_SIZE,
        ACTIVE_VEHICLES,
        LAST_STORED_TIMESTAMP,
        QUEUE_MESSAGES,
        QUEUE_CONSUMERS,
        BROKER_STORE_USAGE,
        DATABASE_UP,
        *PROCESS_METRICS,
    ),
    logs=LOG_SCHEMA,
    slos=(INGEST_AVAILABILITY, DATA_FRESHNESS),
    alerts=ALERTS,
    metrics_port=PORT,
)
