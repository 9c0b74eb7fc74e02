"""Service level objectives and the indicators they are measured by."""

from __future__ import annotations

from dataclasses import dataclass, field

from observability.catalog.metrics import Metric
from observability.catalog.source import SourceRef, caller_source


@dataclass(frozen=True)
class Matcher:
    """A label matcher such as ``status_class!="5xx"``."""

    label: str
    op: str
    value: str

    def render(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.label}{self.op}"{escaped}"'


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def ne(label: str, value: str) -> Matcher:
    return Matcher(label, "!=", value)


def regex(label: str, value: str) -> Matcher:
    return Matcher(label, "=~", value)


@dataclass(frozen=True)
class Selector:
    """Some series of one catalog metric."""

    metric: Metric
    matchers: tuple[Matcher, ...] = ()
    #: For histograms: which series (``_count``, ``_bucket``, ``_sum``); empty for the family.
    suffix: str = ""


@dataclass(frozen=True)
class RatioSLI:
    """Events SLI: good events over valid events, from counters.

    valid events = sum of ``total`` minus sum of ``excluded`` (e.g. input we reject on purpose).
    """

    good: tuple[Selector, ...]
    total: tuple[Selector, ...]
    excluded: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class LatencySLI:
    """Share of requests faster than ``threshold_seconds``, from histogram buckets."""

    histogram: Metric
    threshold_seconds: float
    matchers: tuple[Matcher, ...] = ()


@dataclass(frozen=True)
class FreshnessSLI:
    """Share of time during which the newest event is younger than ``max_age_seconds``.

    ``timestamp`` is a gauge holding the Unix time of the newest event.
    """

    timestamp: Metric
    max_age_seconds: float
    #: Resolution of the time slices the ratio is computed from.
    step: str = "1m"


SLI = RatioSLI | LatencySLI | FreshnessSLI


@dataclass(frozen=True)
class SLO:
    """An objective over a rolling period, alerted on with multi-window multi-burn-rate rules."""

    name: str
    objective: float
    sli: SLI
    description: str
    #: Rolling period in days (the alert windows are scaled to it).
    period_days: int = 30
    #: Name of the burn-rate alert (one page rule and one ticket rule share it).
    alert_name: str = ""
    runbook: str = ""
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)

    @property
    def error_budget(self) -> float:
        return 1.0 - self.objective

    def slo_id(self, service: str) -> str:
        """Sloth's ``sloth_id``: service and SLO name."""
        return f"{service}-{self.name}"
