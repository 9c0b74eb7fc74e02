"""Definitions every service shares: RED metrics, process metrics, the common log fields."""

from __future__ import annotations

import inspect

from observability.catalog.alerts import Alert, Severity
from observability.catalog.correlation import SERVICE_FIELD, SPAN_ID_FIELD, TRACE_ID_FIELD
from observability.catalog.logs import FieldType, LogField, LogSchema
from observability.catalog.metrics import Label, Metric, MetricKind, Unit
from observability.catalog.source import SourceRef, caller_source

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
#: The route label's value for requests no route matched (404s on unknown paths).
UNMATCHED_ROUTE = "unmatched"
#: Request latency buckets, in seconds, from 5 ms to 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_DURATION = "http_server_request_duration_seconds"


def http_request_duration(routes: tuple[str, ...]) -> Metric:
    """The RED histogram of an HTTP service: rate and errors from ``_count``, duration from buckets.

    ``routes`` are the service's route templates (``/vehicles/{name}``), never raw paths.
    """
    return Metric(
        name=HTTP_REQUEST_DURATION,
        kind=MetricKind.HISTOGRAM,
        unit=Unit.SECONDS,
        help="Duration of HTTP requests served, by route template and status class.",
        labels=(
            Label("method", "HTTP method.", HTTP_METHODS),
            Label("route", "Route template that matched the request.", (*routes, UNMATCHED_ROUTE)),
            Label("status_class", "Class of the response status code.", STATUS_CLASSES),
        ),
        buckets=LATENCY_BUCKETS,
        exemplars=True,
        source=caller_source(skip=(__name__,)),
    )


def _process_metric(name: str, kind: MetricKind, help_text: str, unit: Unit = Unit.NONE) -> Metric:
    """A metric prometheus-client's ProcessCollector exposes (declared so closure holds)."""
    return Metric(
        name=name,
        kind=kind,
        unit=unit,
        help=help_text,
        emitted_by="prometheus-client ProcessCollector",
        source=_declared_here(),
    )


def _declared_here() -> SourceRef:
    """The line of this module that called the factory (diagnostics point at it)."""
    caller = inspect.stack(context=0)[2]
    return SourceRef(__name__, caller.lineno, caller.filename)


_GAUGE = MetricKind.GAUGE
PROCESS_CPU = _process_metric(
    "process_cpu_seconds_total",
    MetricKind.COUNTER,
    "Total user and system CPU time spent in seconds.",
    Unit.SECONDS,
)
PROCESS_MEMORY = _process_metric(
    "process_resident_memory_bytes", _GAUGE, "Resident memory size in bytes.", Unit.BYTES
)
PROCESS_METRICS = (
    PROCESS_CPU,
    PROCESS_MEMORY,
    _process_metric(
        "process_virtual_memory_bytes", _GAUGE, "Virtual memory size in bytes.", Unit.BYTES
    ),
    _process_metric(
        "process_start_time_seconds",
        _GAUGE,
        "Start time of the process since unix epoch in seconds.",
        Unit.SECONDS,
    ),
    _process_metric("process_open_fds", _GAUGE, "Number of open file descriptors."),
    _process_metric("process_max_fds", _GAUGE, "Maximum number of open file descriptors."),
)

K = FieldType.KEYWORD

#: Fields on every record of every Python service (Elastic Common Schema names).
BASE_LOG_FIELDS = (
    LogField("@timestamp", FieldType.DATE, "When the event happened (UTC, ISO 8601).", True),
    LogField("log.level", K, "Severity: debug, info, warning, error, critical.", True),
    LogField("log.logger", K, "Name of the Python logger.", True),
    LogField("message", FieldType.TEXT, "Human-readable message.", True),
    LogField(SERVICE_FIELD, K, "Service that wrote the record (the Prometheus job).", True),
    LogField("service.version", K, "Version of the service.", True),
    LogField("ecs.version", K, "ECS version the record follows.", True),
    LogField(TRACE_ID_FIELD, K, "Trace the record was written in (32 hex digits)."),
    LogField(SPAN_ID_FIELD, K, "Span the record was written in (16 hex digits)."),
    LogField("event.action", K, "What happened, e.g. position-stored."),
    LogField("event.outcome", K, "success, failure or unknown."),
    LogField("event.reason", K, "Why, e.g. the reason a position was dead-lettered."),
    LogField("event.duration", FieldType.LONG, "Duration of the event in nanoseconds."),
    LogField("error.type", K, "Exception class."),
    LogField("error.message", FieldType.TEXT, "Exception message."),
    LogField("error.stack_trace", FieldType.TEXT, "Exception traceback."),
)

#: Fields of access-log records (uvicorn's, through the same formatter).
HTTP_LOG_FIELDS = (
    LogField("http.request.method", K, "HTTP method."),
    LogField("url.path", K, "Request path as received."),
    LogField("http.response.status_code", FieldType.LONG, "Response status code."),
    LogField("http.version", K, "HTTP protocol version."),
    LogField("client.address", K, "Client address."),
)

#: The ``@timestamp`` the JSON formatter writes (``2025-10-30T15:35:58.123Z``), in the
#: strptime dialect Fluent Bit and the collector's ``strptime`` layout share (``%L``: milliseconds).
JSON_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z"

BASE_LOG_SCHEMA = LogSchema(BASE_LOG_FIELDS, time_format=JSON_TIME_FORMAT)
HTTP_SERVICE_LOG_SCHEMA = BASE_LOG_SCHEMA.extended(*HTTP_LOG_FIELDS)


def service_down_alert(service: str, port: int) -> Alert:
    """The alert every scraped service has: Prometheus cannot scrape it, or it is not scraped."""
    name = "".join(part.capitalize() for part in service.split("-")) + "Down"
    return Alert(
        name=name,
        expr=f'up{{job="{service}"}} == 0 or absent(up{{job="{service}"}})',
        for_="2m",
        severity=Severity.CRITICAL,
        summary=f"The {service} service is down.",
        # ``absent(...)`` has no instance label: name the instance only when there is one.
        description=(
            f"Prometheus has not scraped {service} for 2 minutes"
            "{{ with $labels.instance }} (instance {{ . }}){{ end }}."
        ),
        runbook=(
            f"1. Is the process running? Locally: `make status`; on Kubernetes: "
            f"`kubectl get pods -l app.kubernetes.io/name={service}`.\n"
            f"2. Read its last logs (Kibana: `service.name:{service}`), or locally "
            f"`.stack/logs/{service}.log`.\n"
            f"3. Does it answer? `curl -s http://127.0.0.1:{port}/healthz` locally."
        ),
        dashboard=service,
        source=caller_source(skip=(__name__,)),
    )
