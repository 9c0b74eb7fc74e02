"""Prometheus instruments created from a service's catalog, never by hand.

Service code records through a definition object (``metrics.counter(POSITIONS_STORED)``), so a
metric's name lives in one place. Recording a metric or a label value the catalog does not declare
raises at once; exemplars with the active trace id are attached automatically where declared.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from opentelemetry import trace
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from observability.catalog.correlation import TRACE_ID_EXEMPLAR_LABEL
from observability.catalog.metrics import Metric, MetricKind
from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.validate import ensure_valid

_SERVICE_CODE = "service code"

# ``<name>_created`` series would be metrics the catalog does not declare, and nobody queries them.
disable_created_metrics()


class UndeclaredTelemetry(LookupError):
    """Code tried to record a metric, label or value the catalog does not declare."""


def telemetry_enabled() -> bool:
    """False when ``FLEET_TELEMETRY=off`` (used to measure the cost of instrumentation)."""
    return os.environ.get("FLEET_TELEMETRY", "on").lower() not in {"off", "0", "false"}


def current_exemplar(span: trace.Span | None = None) -> dict[str, str] | None:
    """The exemplar for ``span`` (default: the active span): its trace id, when it is sampled."""
    ctx = (span or trace.get_current_span()).get_span_context()
    if not ctx.is_valid or not ctx.trace_flags.sampled:
        return None
    return {TRACE_ID_EXEMPLAR_LABEL: format(ctx.trace_id, "032x")}


class Instrument:
    """One catalog metric (or one of its labelled children), checked against its definition."""

    def __init__(self, metric: Metric, backend: object, enabled: bool) -> None:
        self.metric = metric
        self._backend = backend
        self._enabled = enabled
        self._exemplar: Callable[[trace.Span | None], dict[str, str] | None] = (
            current_exemplar if metric.exemplars else (lambda _span: None)
        )
        #: Children already checked, by label values: a hot path (every request) checks once.
        self._children: dict[tuple[tuple[str, str], ...], Instrument] = {}

    def labels(self, **values: str) -> Instrument:
        key = tuple(sorted(values.items()))
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._checked_child(values)
        return child

    def _checked_child(self, values: dict[str, str]) -> Instrument:
        declared = self.metric.label_names
        if set(values) != set(declared):
            raise UndeclaredTelemetry(
                f"{self.metric.name} takes labels {sorted(declared)}, got {sorted(values)} "
                f"(declared at {self.metric.source})"
            )
        for name, value in values.items():
            allowed = self.metric.label(name).values
            if allowed is not None and value not in allowed:
                raise UndeclaredTelemetry(
                    f"{self.metric.name}: {name}={value!r} is not an allowed value {allowed} "
                    f"(declared at {self.metric.source})"
                )
        return Instrument(self.metric, self._backend.labels(**values), self._enabled)  # type: ignore[attr-defined]

    def inc(self, amount: float = 1.0, span: trace.Span | None = None) -> None:
        """Add ``amount``; the exemplar names ``span``'s trace (default: the active span's)."""
        if not self._enabled:
            return
        if self.metric.kind is MetricKind.COUNTER:
            self._backend.inc(amount, exemplar=self._exemplar(span))  # type: ignore[attr-defined]
        else:
            self._backend.inc(amount)  # type: ignore[attr-defined]

    def observe(self, value: float, span: trace.Span | None = None) -> None:
        """Record ``value``; the exemplar names ``span``'s trace (default: the active span's)."""
        if self._enabled:
            self._backend.observe(value, exemplar=self._exemplar(span))  # type: ignore[attr-defined]

    def set(self, value: float) -> None:
        if self._enabled:
            self._backend.set(value)  # type: ignore[attr-defined]


def _create(metric: Metric, registry: CollectorRegistry) -> object:
    common = {"documentation": metric.help, "labelnames": metric.label_names, "registry": registry}
    if metric.kind is MetricKind.COUNTER:
        return Counter(metric.base_name, **common)
    if metric.kind is MetricKind.GAUGE:
        return Gauge(metric.name, **common)
    return Histogram(metric.name, buckets=metric.buckets, **common)


def _combinations(metric: Metric) -> int:
    count = 1
    for label in metric.labels:
        count *= len(label.values or ())
    return count


class ServiceMetrics:
    """The Prometheus registry of one service, holding exactly the catalog's metrics."""

    #: Label sets up to this many are created at start, so their series exist at 0 before the
    #: first event (rules then see 0 rather than no data).
    PREINITIALISE_UP_TO = 32

    def __init__(self, catalog: ServiceCatalog, enabled: bool | None = None) -> None:
        ensure_valid(Platform((catalog,)))
        self.catalog = catalog
        self.enabled = telemetry_enabled() if enabled is None else enabled
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self._instruments: dict[str, Instrument] = {}
        for metric in catalog.metrics:
            if metric.emitted_by != _SERVICE_CODE:
                continue
            instrument = Instrument(metric, _create(metric, self.registry), self.enabled)
            self._instruments[metric.name] = instrument
            if metric.labels and metric.kind is not MetricKind.GAUGE:
                self._preinitialise(instrument)

    def _preinitialise(self, instrument: Instrument) -> None:
        metric = instrument.metric
        if _combinations(metric) > self.PREINITIALISE_UP_TO:
            return
        combos: list[dict[str, str]] = [{}]
        for label in metric.labels:
            combos = [{**c, label.name: v} for c in combos for v in label.values or ()]
        for combo in combos:
            instrument.labels(**combo)

    def _get(self, metric: Metric, kind: MetricKind) -> Instrument:
        instrument = self._instruments.get(metric.name)
        if instrument is None or instrument.metric != metric:
            raise UndeclaredTelemetry(
                f"{metric.name} is not in the catalog of {self.catalog.name} "
                f"({self.catalog.source}); declare it there first"
            )
        if metric.kind is not kind:
            raise UndeclaredTelemetry(f"{metric.name} is a {metric.kind}, not a {kind}")
        return instrument

    def counter(self, metric: Metric) -> Instrument:
        return self._get(metric, MetricKind.COUNTER)

    def gauge(self, metric: Metric) -> Instrument:
        return self._get(metric, MetricKind.GAUGE)

    def histogram(self, metric: Metric) -> Instrument:
        return self._get(metric, MetricKind.HISTOGRAM)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The ``/metrics`` body and content type: OpenMetrics (with exemplars) when asked for."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
