"""The catalog's own rules: Prometheus naming, base units, bounded labels, coherent SLOs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from observability.catalog.alerts import Alert
from observability.catalog.logs import LogSchema
from observability.catalog.metrics import TIMESTAMP_SUFFIX, Metric, MetricKind, Unit
from observability.catalog.numbers import alert_number_problems, slo_number_problems
from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.slo import SLO, FreshnessSLI, LatencySLI, RatioSLI, Selector
from observability.diagnostics import CatalogError, Level, Problem

CHECK = "catalog/validate"
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SLO_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_RESERVED_LABELS = {"le", "quantile", "job", "instance", "env"}
#: Units that are not base units, with the base unit to use instead.
_NON_BASE_UNITS = {
    "milliseconds": "seconds",
    "ms": "seconds",
    "microseconds": "seconds",
    "minutes": "seconds",
    "hours": "seconds",
    "kilobytes": "bytes",
    "megabytes": "bytes",
    "kb": "bytes",
    "mb": "bytes",
    "percent": "ratio",
    "kilometers": "meters",
    "kmh": "meters_per_second",
}
_UNIT_SUFFIXES = {u.value for u in Unit if u.value}


def _problem(source: object, message: str) -> Problem:
    return Problem(source, CHECK, Level.BUG, message)  # type: ignore[arg-type]


def metric_problems(metric: Metric) -> Iterator[Problem]:
    name = metric.name
    say = lambda msg: _problem(metric.source, f"metric {name}: {msg}")  # noqa: E731
    if not _METRIC_NAME.match(name):
        yield say("names are lower snake_case ([a-z][a-z0-9_]*); colons are for recording rules")
    if not metric.help.strip():
        yield say("help text is empty")
    words = name.removesuffix("_total").split("_")
    for word in words:
        if word in _NON_BASE_UNITS:
            yield say(f"use the base unit {_NON_BASE_UNITS[word]!r}, not {word!r}")
    if metric.kind is MetricKind.COUNTER and not name.endswith("_total"):
        yield say("counter names end in _total")
    if metric.kind is not MetricKind.COUNTER and name.endswith("_total"):
        yield say(f"only counters end in _total, this is a {metric.kind}")
    stem = name.removesuffix("_total")
    if metric.unit is not Unit.NONE and not stem.endswith(f"_{metric.unit.value}"):
        yield say(f"unit {metric.unit.value} must be the name's suffix (…_{metric.unit.value})")
    if metric.unit is Unit.NONE and stem.rsplit("_", 1)[-1] in _UNIT_SUFFIXES:
        yield say(
            f"the name ends in a unit but the unit is not declared: unit={stem.rsplit('_', 1)[-1]!r}"
        )
    if metric.kind is MetricKind.HISTOGRAM:
        if not metric.buckets:
            yield say("histograms declare their buckets")
        elif list(metric.buckets) != sorted(set(metric.buckets)):
            yield say("buckets must be strictly increasing")
    elif metric.buckets:
        yield say(f"only histograms have buckets, this is a {metric.kind}")
    if metric.exemplars and metric.kind is MetricKind.GAUGE:
        yield say("gauges cannot carry exemplars")
    if metric.is_timestamp and metric.kind is not MetricKind.GAUGE:
        yield say(f"a moment (…{TIMESTAMP_SUFFIX}) is a gauge, this is a {metric.kind}")
    if metric.counts and metric.kind is not MetricKind.COUNTER:
        yield say(f"only counters count events ({metric.counts!r}), this is a {metric.kind}")
    seen: set[str] = set()
    for label in metric.labels:
        if not _LABEL_NAME.match(label.name):
            yield say(f"label {label.name!r} is not lower snake_case")
        if label.name in _RESERVED_LABELS:
            yield say(f"label {label.name!r} is reserved (set by Prometheus or the histogram)")
        if label.name in seen:
            yield say(f"label {label.name!r} is declared twice")
        seen.add(label.name)
        if label.values is None:
            yield say(
                f"label {label.name!r} is unbounded: declare its allowed values (a raw path, a "
                "vehicle name or an id would create a series per value)"
            )
        elif not label.values:
            yield say(f"label {label.name!r} allows no value at all")


def _selector_problems(sel: Selector, where: SLO) -> Iterator[Problem]:
    for m in sel.matchers:
        if m.label not in sel.metric.label_names and m.label not in {"job", "instance"}:
            yield _problem(
                where.source,
                f"SLO {where.name}: matcher {m.render()} uses a label {sel.metric.name} lacks",
            )


def slo_problems(slo: SLO) -> Iterator[Problem]:
    if not _SLO_NAME.match(slo.name):
        yield _problem(slo.source, f"SLO {slo.name!r}: names are lower kebab-case")
    if not 0.5 < slo.objective < 1.0:
        yield _problem(slo.source, f"SLO {slo.name}: objective {slo.objective} is not in (0.5, 1)")
    if not _ALERT_NAME.match(slo.alert_name):
        yield _problem(
            slo.source, f"SLO {slo.name}: alert_name {slo.alert_name!r} is not CamelCase"
        )
    if not slo.runbook.strip():
        yield _problem(slo.source, f"SLO {slo.name}: the runbook is empty")
    for message in slo_number_problems(slo):
        yield _problem(slo.source, message)
    sli = slo.sli
    if isinstance(sli, RatioSLI):
        for sel in (*sli.good, *sli.total, *sli.excluded):
            counts = sel.metric.kind is MetricKind.COUNTER or (
                sel.metric.kind is MetricKind.HISTOGRAM and sel.suffix == "_count"
            )
            if not counts:
                yield _problem(
                    slo.source,
                    f"SLO {slo.name}: {sel.metric.name}{sel.suffix} does not count events "
                    "(use a counter, or a histogram's _count)",
                )
            yield from _selector_problems(sel, slo)
    elif isinstance(sli, LatencySLI):
        if sli.histogram.kind is not MetricKind.HISTOGRAM:
            yield _problem(slo.source, f"SLO {slo.name}: {sli.histogram.name} is not a histogram")
        elif sli.threshold_seconds not in sli.histogram.buckets:
            yield _problem(
                slo.source,
                f"SLO {slo.name}: threshold {sli.threshold_seconds}s is not a bucket bound of "
                f"{sli.histogram.name} {sli.histogram.buckets}",
            )
        yield from _selector_problems(Selector(sli.histogram, sli.matchers), slo)
    elif isinstance(sli, FreshnessSLI) and sli.timestamp.kind is not MetricKind.GAUGE:
        yield _problem(slo.source, f"SLO {slo.name}: {sli.timestamp.name} is not a gauge")


def alert_problems(alert: Alert) -> Iterator[Problem]:
    if not _ALERT_NAME.match(alert.name):
        yield _problem(alert.source, f"alert {alert.name!r} is not CamelCase")
    for attr in ("summary", "description", "runbook"):
        if not getattr(alert, attr).strip():
            yield _problem(alert.source, f"alert {alert.name}: {attr} is empty")
    for message in alert_number_problems(alert):
        yield _problem(alert.source, message)


def log_schema_problems(schema: LogSchema, service: ServiceCatalog) -> Iterator[Problem]:
    seen: set[str] = set()
    for log_field in schema.fields:
        if log_field.name in seen:
            yield _problem(log_field.source, f"log field {log_field.name} is declared twice")
        seen.add(log_field.name)
    if schema.format == "regex" and not schema.pattern:
        yield _problem(
            service.source, f"service {service.name}: a regex log schema needs a pattern"
        )


def service_problems(service: ServiceCatalog) -> Iterator[Problem]:
    names: set[str] = set()
    for metric in service.metrics:
        if metric.name in names:
            yield _problem(metric.source, f"metric {metric.name} is declared twice")
        names.add(metric.name)
        yield from metric_problems(metric)
    yield from log_schema_problems(service.logs, service)
    for slo in service.slos:
        yield from slo_problems(slo)
    for alert in service.alerts:
        yield from alert_problems(alert)


def _shape(metric: Metric) -> tuple[object, ...]:
    """What must agree when two services emit one metric family (label values may differ)."""
    return (metric.kind, metric.unit, metric.label_names, metric.buckets, metric.exemplars)


def platform_problems(platform: Platform) -> list[Problem]:
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    for service in platform.services:
        problems.extend(service_problems(service))
        for metric in service.metrics:
            owner = owners.setdefault(metric.name, service.name)
            same = _shape(platform.service(owner).metric(metric.name)) == _shape(metric)
            if owner != service.name and not same:
                problems.append(
                    _problem(
                        metric.source,
                        f"metric {metric.name} is declared differently by {owner} and {service.name}",
                    )
                )
    for component in platform.components:
        for alert in component.alerts:
            problems.extend(alert_problems(alert))
    names = [o.name for o in platform.alert_owners]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(_problem(platform.alert_owners[0].source, f"{name} is declared twice"))
    alert_names = [a.name for o in platform.alert_owners for a in o.alerts]
    alert_names += [slo.alert_name for s in platform.services for slo in s.slos]
    for name in sorted({n for n in alert_names if alert_names.count(n) > 1}):
        problems.append(_problem(platform.services[0].source, f"alert name {name} is used twice"))
    return sorted(problems)


def ensure_valid(platform: Platform) -> Platform:
    """The platform, or a CatalogError listing every rule it breaks."""
    problems = platform_problems(platform)
    if problems:
        raise CatalogError(problems)
    return platform
