"""One dashboard per scraped service: RED, latency heatmap with exemplars, process CPU and
memory, every business metric the catalog declares, and the service's logs."""

from __future__ import annotations

from dataclasses import replace

from observability.catalog.common import HTTP_REQUEST_DURATION, PROCESS_CPU, PROCESS_MEMORY
from observability.catalog.metrics import Metric, MetricKind
from observability.catalog.service import ServiceCatalog
from observability.catalog.slo import eq
from observability.render.grafana import model, queries
from observability.render.grafana.correlation import service_query
from observability.render.grafana.model import DashboardSpec, PanelSpec, Section
from observability.render.grafana.queries import Scope
from observability.render.grafana.variables import SERVICE, ref
from observability.render.provenance import Origin, of_service

SCOPE = Scope()
#: Where the 5xx responses are (the error ratio's numerator).
SERVER_ERRORS = (eq("status_class", "5xx"),)
#: Up: red when no target answers.
UP_STEPS = ((None, "red"), (1.0, "green"))
#: Name prefixes that only repeat the service (``fleet_tracker_`` on the tracker's dashboard).
_PREFIXES = ("fleet_tracker_", "fleet_simulator_", "fleet_gateway_", "fleet_")
_SUFFIXES = ("_total", "_seconds", "_bytes", "_ratio")


def title_of(metric: Metric) -> str:
    """``fleet_tracker_positions_received_total`` → ``Positions received``."""
    name = metric.name
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name.removeprefix(prefix)
            break
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    if queries.is_timestamp(metric):
        name = name.removesuffix("_timestamp") + "_age"
    return name.replace("_", " ").capitalize()


def http_metric(service: ServiceCatalog) -> Metric | None:
    return next((m for m in service.metrics if m.name == HTTP_REQUEST_DURATION), None)


def red_panels(http: Metric, origin: Origin, scope: Scope, by_job: bool) -> list[PanelSpec]:
    """Rate, errors and duration of an HTTP service (or of every service, one series each)."""
    by = ("job",) if by_job else ("route",)
    common = {"origin": origin, "correlate": True, "per_series_service": by_job}
    error = queries.error_ratio(http, SERVER_ERRORS, scope, ("job",) if by_job else ())
    latency = queries.quantiles(http, scope, ("job",), (0.99,)) if by_job else None
    return [
        PanelSpec(
            "Request rate",
            model.TIMESERIES,
            "Requests served per second, by " + by[0] + ".",
            queries=(queries.counter_rate(http, scope, by),),
            **common,
        ),
        PanelSpec(
            "Error ratio (5xx)",
            model.TIMESERIES,
            "Share of requests answered with a 5xx status.",
            queries=(error,),
            minimum=0,
            **common,
        ),
        PanelSpec(
            "Latency p99" if by_job else "Latency percentiles",
            model.TIMESERIES,
            "Request duration quantiles; the dots are exemplars: click one for its trace.",
            queries=tuple(latency or queries.quantiles(http, scope)),
            **common,
        ),
    ]


def _signal_panels(metric: Metric, origin: Origin, scope: Scope) -> list[PanelSpec]:
    labels = tuple(label.name for label in metric.labels if label.bounded)
    title, panels = title_of(metric), []
    if metric.kind is MetricKind.HISTOGRAM and labels:
        panels.append(
            PanelSpec(
                f"{title} rate",
                model.TIMESERIES,
                f"{metric.help} Observations per second.",
                origin,
                (queries.counter_rate(metric, scope, labels),),
                correlate=True,
            )
        )
    signal = queries.signal(
        metric, scope, labels if metric.kind is not MetricKind.HISTOGRAM else ()
    )
    rate_like = metric.kind is not MetricKind.GAUGE
    panels.append(
        PanelSpec(title, model.TIMESERIES, metric.help, origin, tuple(signal), correlate=rate_like)
    )
    if metric.per_instance:
        panels.append(
            PanelSpec(
                f"{title} per instance",
                model.TIMESERIES,
                f"{metric.help} Per second, per replica: how the work is spread over them.",
                origin,
                (queries.counter_rate(metric, scope, ("instance",), legend="{{instance}}"),),
                correlate=True,
            )
        )
    return panels


def business_metrics(service: ServiceCatalog) -> list[Metric]:
    """The metrics our code emits, apart from the RED histogram every HTTP service has."""
    return [
        m
        for m in service.metrics
        if m.name != HTTP_REQUEST_DURATION and m.emitted_by == "service code"
    ]


def service_dashboard(service: ServiceCatalog) -> DashboardSpec:
    origin, sections = of_service(service), []
    http = http_metric(service)
    up = PanelSpec(
        "Up",
        model.STAT,
        "Scrape targets of the service that Prometheus reaches (0: the service is down).",
        origin,
        (queries.up(SCOPE),),
        width=3,
        thresholds=UP_STEPS,
    )
    red = red_panels(http, origin, SCOPE, False) if http is not None else []
    sections.append(Section("Requests", (up, *(replace(p, width=7) for p in red))))
    resources = []
    if http is not None:
        resources.append(
            PanelSpec(
                "Latency heatmap",
                model.HEATMAP,
                "Requests per latency bucket; exemplars link each dot to its trace.",
                origin,
                (queries.heatmap(http, SCOPE),),
                width=12,
                correlate=True,
            )
        )
    declared = {m.name for m in service.metrics}
    if PROCESS_CPU.name in declared:
        resources.append(
            PanelSpec(
                "Process CPU",
                model.TIMESERIES,
                "CPU time used per second (1 = one core).",
                origin,
                (queries.counter_rate(PROCESS_CPU, SCOPE, legend="cpu"),),
                width=6,
                correlate=True,
            )
        )
    if PROCESS_MEMORY.name in declared:
        resources.append(
            PanelSpec(
                "Process memory",
                model.TIMESERIES,
                "Resident memory.",
                origin,
                (queries.gauge(PROCESS_MEMORY, SCOPE, legend="resident"),),
                width=6,
            )
        )
    if resources:
        sections.append(Section("Latency and resources", tuple(resources)))
    signals = [p for m in business_metrics(service) for p in _signal_panels(m, origin, SCOPE)]
    if signals:
        sections.append(Section(f"{service.name} signals", tuple(signals)))
    logs = PanelSpec(
        "Logs",
        model.LOGS,
        f"The newest log records of {service.name}; a record's trace.id opens its trace.",
        origin,
        logs_query=service_query(ref(SERVICE)),
        width=24,
        height=12,
    )
    sections.append(Section("Logs", (logs,)))
    return DashboardSpec(
        key=service.name,
        title=f"Fleet / {service.name}",
        description=f"{service.description}",
        services=(service.name,),
        sections=tuple(sections),
        modules=frozenset({service.source.module}),
        tags=(service.name,),
    )
