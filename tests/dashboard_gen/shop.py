"""A small fixture catalog: one service with an SLO of each SLI kind and one symptom alert."""

from __future__ import annotations

from observability.catalog import (
    SLO,
    Alert,
    FreshnessSLI,
    Label,
    LatencySLI,
    Metric,
    MetricKind,
    Platform,
    RatioSLI,
    Selector,
    ServiceCatalog,
    Severity,
    Unit,
    regex,
)
from observability.catalog.common import (
    BASE_LOG_SCHEMA,
    http_request_duration,
    service_down_alert,
)
from observability.catalog.external import EXTERNAL_METRICS

SERVICE = "shop"
REQUESTS = http_request_duration(("/api/orders", "/healthz"))
RECEIVED = Metric(
    name="shop_orders_received_total",
    kind=MetricKind.COUNTER,
    help="Orders received.",
    labels=(Label("channel", "Where the order came from.", ("web", "app")),),
)
PLACED = Metric("shop_orders_placed_total", MetricKind.COUNTER, "Orders placed.")
REJECTED = Metric("shop_orders_rejected_total", MetricKind.COUNTER, "Orders refused as invalid.")
LAST_ORDER = Metric(
    "shop_last_order_timestamp_seconds", MetricKind.GAUGE, "Time of the newest order.", Unit.SECONDS
)

AVAILABILITY = SLO(
    name="orders",
    objective=0.999,
    sli=RatioSLI(
        good=(Selector(PLACED),), total=(Selector(RECEIVED),), excluded=(Selector(REJECTED),)
    ),
    description="99.9% of valid orders are placed.",
    alert_name="OrdersBudgetBurn",
    runbook="Look at the order logs.",
)
LATENCY = SLO(
    name="latency",
    objective=0.99,
    sli=LatencySLI(REQUESTS, 0.25, (regex("route", "/api/.*"),)),
    description="99% of API requests within 250 ms.",
    alert_name="ShopLatencyBudgetBurn",
    runbook="Look at the latency panel.",
)
FRESHNESS = SLO(
    name="freshness",
    objective=0.99,
    sli=FreshnessSLI(LAST_ORDER, 60),
    description="99% of the time the newest order is under a minute old.",
    alert_name="ShopOrdersStale",
    runbook="Is anyone ordering?",
)
ORDERS_NOT_PLACED = Alert(
    name="OrdersNotPlaced",
    expr='sum(rate(shop_orders_placed_total{job="shop"}[5m])) == 0',
    severity=Severity.WARNING,
    summary="No order is placed.",
    description="{{ $value }} orders per second.",
    runbook="Check the database.",
    dashboard=SERVICE,
)


def shop(
    *,
    slos: tuple[SLO, ...] = (AVAILABILITY, LATENCY, FRESHNESS),
    alerts: tuple[Alert, ...] | None = None,
) -> ServiceCatalog:
    return ServiceCatalog(
        name=SERVICE,
        description="A shop.",
        metrics=(REQUESTS, RECEIVED, PLACED, REJECTED, LAST_ORDER),
        logs=BASE_LOG_SCHEMA,
        slos=slos,
        alerts=(service_down_alert(SERVICE, 9000), ORDERS_NOT_PLACED) if alerts is None else alerts,
        metrics_port=9000,
    )


def platform(**kwargs: object) -> Platform:
    return Platform((shop(**kwargs),), EXTERNAL_METRICS)  # type: ignore[arg-type]


#: For ``[tool.dashboard-gen] catalogs = ["tests.dashboard_gen.shop:CATALOG"]`` in CLI tests.
CATALOG = shop()
