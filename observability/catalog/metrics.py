"""Metric definitions: the one place a metric's name, type, unit and labels are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from observability.catalog.source import SourceRef, caller_source


class MetricKind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


class Unit(StrEnum):
    """Base units only (Prometheus convention); the value is the metric-name suffix."""

    SECONDS = "seconds"
    BYTES = "bytes"
    RATIO = "ratio"
    #: A count of things (positions, vehicles, messages): no suffix.
    NONE = ""

    @property
    def grafana(self) -> str:
        """The Grafana panel unit for values in this unit."""
        return {"seconds": "s", "bytes": "bytes", "ratio": "percentunit", "": "short"}[self.value]


#: The name suffix of a gauge holding a Unix time (``time.time()``, never a monotonic clock).
TIMESTAMP_SUFFIX = "_timestamp_seconds"


@dataclass(frozen=True)
class Label:
    """A label of a metric. ``values`` lists every allowed value when the label is bounded."""

    name: str
    description: str
    values: tuple[str, ...] | None = None

    @property
    def bounded(self) -> bool:
        return self.values is not None


@dataclass(frozen=True)
class Metric:
    """A Prometheus metric as the code emits it (``name`` is the full exposed family name)."""

    name: str
    kind: MetricKind
    help: str
    unit: Unit = Unit.NONE
    labels: tuple[Label, ...] = ()
    #: Histogram bucket upper bounds (``+Inf`` is implicit).
    buckets: tuple[float, ...] = ()
    #: Whether observations carry an exemplar with the active trace id.
    exemplars: bool = False
    #: Emitted by a library rather than by our code (e.g. prometheus-client's process collector).
    emitted_by: str = "service code"
    #: Shown on the fleet overview dashboard, summed by these labels (None: not shown there).
    overview: tuple[str, ...] | None = None
    #: For a counter: the one event it counts, one per event. What its values must do: a test
    #: that causes N of these events sees it move by exactly N (tests/support/metric_values.py).
    counts: str = ""
    #: A gauge of something every instance of the service sees alike (the broker's queue):
    #: each replica reports the same value, so panels and alerts take the largest, never the sum.
    shared: bool = False
    #: For a counter of work several replicas share: its dashboard also plots it per instance
    #: (how the work is spread over the replicas, and one that does none).
    per_instance: bool = False
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)

    @property
    def is_timestamp(self) -> bool:
        """A gauge holding a moment (Unix time): its values must be near the wall clock."""
        return self.name.endswith(TIMESTAMP_SUFFIX)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def label(self, name: str) -> Label:
        for label in self.labels:
            if label.name == name:
                return label
        raise KeyError(f"{self.name} has no label {name!r} (declared at {self.source})")

    def series_names(self) -> tuple[str, ...]:
        """Every series name Prometheus stores for this metric family."""
        if self.kind is MetricKind.HISTOGRAM:
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        if self.kind is MetricKind.COUNTER:
            # prometheus-client also exposes <name>_created; Prometheus does not store it by default.
            return (self.name,)
        return (self.name,)

    @property
    def base_name(self) -> str:
        """The name prometheus-client wants: counters without their ``_total`` suffix."""
        if self.kind is MetricKind.COUNTER and self.name.endswith("_total"):
            return self.name.removesuffix("_total")
        return self.name
