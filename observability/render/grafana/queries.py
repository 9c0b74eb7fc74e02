"""PromQL for panels, built from catalog metrics (kubernetes-mixin's queries apart from panels).

The rules every query follows, so the dashboard lint can hold them: a counter is only read
through ``rate(...[$__rate_interval])``; a histogram only through
``histogram_quantile(q, sum by (le, ...) (rate(..._bucket[$__rate_interval])))`` or as heatmap
buckets; every selector names the service (``job``, a literal or ``$service``) and ``env``.
The unit of each query's result comes from the metric's unit (``unit_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

from observability.catalog.correlation import ENVIRONMENT_LABEL, SERVICE_LABEL
from observability.catalog.metrics import Metric, MetricKind, Unit
from observability.catalog.slo import Matcher
from observability.render.grafana.variables import ENV, SERVICE, ref
from observability.slo.model import SLOModel, sli_record

RATE = "rate({series}[$__rate_interval])"
QUANTILES = (0.5, 0.9, 0.99)
#: Grafana units of "so many per second", by the unit of what is counted.
PER_SECOND = {Unit.NONE: "cps", Unit.SECONDS: "percentunit", Unit.BYTES: "Bps", Unit.RATIO: "cps"}
#: The unit of requests per second.
REQUESTS_PER_SECOND = "reqps"
RATIO = "percentunit"


@dataclass(frozen=True)
class Scope:
    """Whose series a dashboard selects: one service (``job="$service"``, the variable holding
    a single value) or several (``job=~"$service"``); ``env=~"$env"`` always."""

    many: bool = False
    #: A literal service name instead of the variable (an overview panel about one service).
    service: str = ""

    def labels(self, extra: tuple[Matcher, ...] = ()) -> str:
        job = self.service or ref(SERVICE)
        op = "=~" if self.many and not self.service else "="
        parts = [f'{SERVICE_LABEL}{op}"{job}"', f'{ENVIRONMENT_LABEL}=~"{ref(ENV)}"']
        parts += [m.render() for m in extra]
        return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class PanelQuery:
    """One target of a panel: its PromQL, legend and result unit, and what it reads."""

    expr: str
    legend: str
    unit: str
    metric: Metric | None = None
    exemplar: bool = False
    #: ``time_series``, ``heatmap`` (histogram buckets) or ``table`` (instant, one row a series).
    format: str = "time_series"

    @property
    def instant(self) -> bool:
        return self.format == "table"


def _sum(labels: tuple[str, ...], inner: str) -> str:
    """``sum by (labels) (inner)``, or ``sum(inner)``."""
    return f"sum by ({', '.join(labels)}) ({inner})" if labels else f"sum({inner})"


def _legend(labels: tuple[str, ...], default: str) -> str:
    return " ".join(f"{{{{{label}}}}}" for label in labels) or default


def unit_of(metric: Metric) -> str:
    """The Grafana unit of the metric's values (gauges, quantiles, heatmap buckets)."""
    return metric.unit.grafana


def rate_unit(metric: Metric) -> str:
    """The Grafana unit of the metric's per-second rate."""
    if metric.name.endswith(("_request_duration_seconds", "_requests_total")):
        return REQUESTS_PER_SECOND
    return PER_SECOND[Unit.NONE if metric.kind is MetricKind.HISTOGRAM else metric.unit]


def selector(
    metric: Metric, scope: Scope, suffix: str = "", extra: tuple[Matcher, ...] = ()
) -> str:
    return f"{metric.name}{suffix}{scope.labels(extra)}"


def counter_rate(
    metric: Metric,
    scope: Scope,
    by: tuple[str, ...] = (),
    extra: tuple[Matcher, ...] = (),
    legend: str = "rate",
) -> PanelQuery:
    """Per-second rate of a counter, or of a histogram's observations (its ``_count``)."""
    suffix = "_count" if metric.kind is MetricKind.HISTOGRAM else ""
    series = RATE.format(series=selector(metric, scope, suffix, extra))
    return PanelQuery(_sum(by, series), _legend(by, legend), rate_unit(metric), metric)


def error_ratio(
    metric: Metric, errors: tuple[Matcher, ...], scope: Scope, by: tuple[str, ...] = ()
) -> PanelQuery:
    """Share of a histogram's (or counter's) events matching ``errors``; 0, not nothing, when
    there are events and none failed."""
    suffix = "_count" if metric.kind is MetricKind.HISTOGRAM else ""
    failed = _sum(by, RATE.format(series=selector(metric, scope, suffix, errors)))
    total = _sum(by, RATE.format(series=selector(metric, scope, suffix)))
    expr = f"(\n  {failed}\n  or\n  {total} * 0\n)\n/\n{total}"
    return PanelQuery(expr, _legend(by, "error ratio"), RATIO, metric)


def quantiles(
    metric: Metric,
    scope: Scope,
    by: tuple[str, ...] = (),
    levels: tuple[float, ...] = QUANTILES,
) -> list[PanelQuery]:
    """``histogram_quantile`` at each level, buckets summed keeping ``le`` (and ``by``)."""
    buckets = RATE.format(series=selector(metric, scope, "_bucket"))
    queries = []
    for q in levels:
        name = f"p{q * 100:g}"
        expr = f"histogram_quantile({q:g}, sum by ({', '.join(('le', *by))}) ({buckets}))"
        legend = " ".join([*(f"{{{{{label}}}}}" for label in by), name])
        queries.append(PanelQuery(expr, legend, unit_of(metric), metric, metric.exemplars))
    return queries


def heatmap(metric: Metric, scope: Scope) -> PanelQuery:
    """A histogram's buckets per interval, for a heatmap (with the exemplars it records)."""
    buckets = RATE.format(series=selector(metric, scope, "_bucket"))
    return PanelQuery(
        f"sum by (le) ({buckets})", "{{le}}", unit_of(metric), metric, metric.exemplars, "heatmap"
    )


def gauge(metric: Metric, scope: Scope, by: tuple[str, ...] = (), legend: str = "") -> PanelQuery:
    """The gauge summed over instances, or their largest for a ``shared`` one (one queue seen
    by every replica is one queue, not N)."""
    if metric.shared:
        series = selector(metric, scope)
        expr = f"max by ({', '.join(by)}) ({series})" if by else f"max({series})"
    else:
        expr = _sum(by, selector(metric, scope))
    return PanelQuery(expr, _legend(by, legend or "value"), unit_of(metric), metric)


def age(metric: Metric, scope: Scope) -> PanelQuery:
    """How long ago the Unix time a gauge holds was (``..._timestamp_seconds``)."""
    expr = f"time() - max({selector(metric, scope)})"
    return PanelQuery(expr, "age", Unit.SECONDS.grafana, metric)


def up(scope: Scope) -> PanelQuery:
    """How many of the service's scrape targets Prometheus reached at the last scrape."""
    return PanelQuery(_sum((), f"up{scope.labels()}"), "up", Unit.NONE.grafana)


def is_timestamp(metric: Metric) -> bool:
    return metric.kind is MetricKind.GAUGE and metric.name.endswith("_timestamp_seconds")


def signal(metric: Metric, scope: Scope, by: tuple[str, ...] = ()) -> list[PanelQuery]:
    """The natural reading of a metric, by its kind: a counter's rate, a histogram's
    quantiles, a gauge's value (a timestamp's age)."""
    if metric.kind is MetricKind.COUNTER:
        return [counter_rate(metric, scope, by)]
    if metric.kind is MetricKind.HISTOGRAM:
        return quantiles(metric, scope, by, (0.5, 0.99))
    if is_timestamp(metric):
        return [age(metric, scope)]
    return [gauge(metric, scope, by)]


# -- SLOs (Sloth's recording rules) and alerts ------------------------------------------------


def slo_attainment(model: SLOModel) -> PanelQuery:
    """The SLI over the SLO's whole period (1 - error ratio)."""
    return PanelQuery(f"1 - {sli_record(model.period)}{model.selector}", "SLI", RATIO)


def slo_budget_remaining(model: SLOModel) -> PanelQuery:
    return PanelQuery(
        f"slo:period_error_budget_remaining:ratio{model.selector}", "error budget left", RATIO
    )


def firing_alerts() -> PanelQuery:
    """Alerts firing now, one row each. Every alert we generate carries ``job``; alerts on
    aggregates carry no ``env``, so none is asked for."""
    labels = f'alertstate="firing",{SERVICE_LABEL}=~"{ref(SERVICE)}"'
    expr = f"sum by (alertname, severity, {SERVICE_LABEL}) (ALERTS{{{labels}}})"
    return PanelQuery(expr, "{{alertname}}", "short", None, False, "table")
