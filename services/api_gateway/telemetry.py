"""The API gateway's telemetry catalog: what it emits and what it promises."""

from __future__ import annotations

from observability.catalog import (
    SLO,
    Alert,
    Label,
    LatencySLI,
    Metric,
    MetricKind,
    RatioSLI,
    Selector,
    ServiceCatalog,
    Severity,
    Unit,
    ne,
    regex,
)
from observability.catalog.common import (
    HTTP_SERVICE_LOG_SCHEMA,
    LATENCY_BUCKETS,
    PROCESS_METRICS,
    http_request_duration,
    service_down_alert,
)
from observability.catalog.logs import FieldType, LogField

SERVICE = "api-gateway"
PORT = 8000
ROUTES = (
    "/",
    "/api/vehicles",
    "/api/vehicles/{name}",
    "/api/vehicles/{name}/history",
    "/vehicles/",
    "/history/{name}",
    "/openapi.json",
    "/docs",
    "/healthz",
    "/readyz",
    "/metrics",
)
#: Our public API (the SLOs cover it; health, metrics and docs are not the product).
PUBLIC_ROUTES = r"/api/.*|/vehicles/|/history/\{name\}"
#: ``shed``: not called, every slot was taken (answered 503 with Retry-After at once).
UPSTREAM_OUTCOMES = ("ok", "client_error", "server_error", "timeout", "unavailable", "shed")

HTTP_REQUEST_DURATION = http_request_duration(ROUTES)
UPSTREAM_DURATION = Metric(
    name="fleet_gateway_upstream_request_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit=Unit.SECONDS,
    help="Duration of requests from the gateway to an upstream service, by outcome.",
    labels=(
        Label("upstream", "Service called.", ("position-tracker",)),
        Label(
            "outcome",
            "ok, 4xx, 5xx, timeout, connection refused, or shed (not called: no free slot).",
            UPSTREAM_OUTCOMES,
        ),
    ),
    buckets=LATENCY_BUCKETS,
    exemplars=True,
)

LOG_SCHEMA = HTTP_SERVICE_LOG_SCHEMA.extended(
    LogField("vehicle.name", FieldType.KEYWORD, "Vehicle the request is about."),
    LogField("upstream.name", FieldType.KEYWORD, "Upstream service called."),
    LogField("upstream.outcome", FieldType.KEYWORD, "Outcome of the upstream call."),
    LogField(
        "upstream.shed_requests",
        FieldType.LONG,
        "Requests shed (503, no free slot) since the previous such record (one a second).",
    ),
)

_PUBLIC = regex("route", PUBLIC_ROUTES)

API_AVAILABILITY = SLO(
    name="api-availability",
    objective=0.999,
    sli=RatioSLI(
        good=(Selector(HTTP_REQUEST_DURATION, (_PUBLIC, ne("status_class", "5xx")), "_count"),),
        total=(Selector(HTTP_REQUEST_DURATION, (_PUBLIC,), "_count"),),
    ),
    description="99.9% of API requests succeed (no 5xx).",
    alert_name="ApiAvailabilityBudgetBurn",
    runbook=(
        "API requests fail with 5xx.\n\n"
        "1. Which routes and codes? The api-gateway dashboard's error panel, then its logs panel.\n"
        "2. 502/503/504 come from the tracker: see `GatewayUpstreamErrors` and the tracker's "
        "dashboard.\n"
        "3. Open a failing request's trace from an exemplar on the latency heatmap."
    ),
)
API_LATENCY = SLO(
    name="api-latency",
    objective=0.99,
    sli=LatencySLI(HTTP_REQUEST_DURATION, threshold_seconds=0.25, matchers=(_PUBLIC,)),
    description="99% of API requests are served within 250 ms.",
    alert_name="ApiLatencyBudgetBurn",
    runbook=(
        "API requests are slow.\n\n"
        "1. Which routes? The api-gateway dashboard's latency panel by route.\n"
        "2. Is the tracker slow? `fleet_gateway_upstream_request_duration_seconds` p99.\n"
        "3. Open a slow request's trace from an exemplar (Kibana search *Slow requests*)."
    ),
)

ALERTS = (
    service_down_alert(SERVICE, PORT),
    Alert(
        name="GatewayUpstreamErrors",
        expr=(
            'sum(rate(fleet_gateway_upstream_request_duration_seconds_count{job="api-gateway",outcome!~"ok|client_error"}[5m]))\n'
            "/\n"
            'sum(rate(fleet_gateway_upstream_request_duration_seconds_count{job="api-gateway"}[5m])) > 0.05'
        ),
        for_="5m",
        severity=Severity.CRITICAL,
        summary="The gateway's calls to the tracker fail.",
        description="{{ $value | humanizePercentage }} of upstream calls failed over 5 minutes.",
        runbook=(
            "1. Which outcome? `sum by (outcome) (rate(fleet_gateway_upstream_request_duration_seconds_count[5m]))`: "
            "`unavailable` means the tracker is down, `timeout` that it is slow, `shed` that it "
            "is saturated (all UPSTREAM_MAX_CONCURRENCY calls in flight: 503 at once).\n"
            "2. Check the tracker: `PositionTrackerDown`, its `/readyz`, its dashboard.\n"
            "3. Read the gateway's error logs with their trace ids."
        ),
        dashboard=SERVICE,
    ),
)

CATALOG = ServiceCatalog(
    name=SERVICE,
    description="The public REST API; routes to the tracker.",
    metrics=(HTTP_REQUEST_DURATION, UPSTREAM_DURATION, *PROCESS_METRICS),
    logs=LOG_SCHEMA,
    slos=(API_AVAILABILITY, API_LATENCY),
    alerts=ALERTS,
    metrics_port=PORT,
)
