"""The dashboard lint rules (a dashboard-linter subset, type-driven from the catalogs).

Each rule is a plain function at its level, as in grafana/dashboard-linter: ``target_*`` see
one Prometheus target (its PromQL parsed after the variables are substituted), ``panel_*`` one
panel, ``dashboard_*`` the whole dashboard. Each yields messages; ``dashboard_lint`` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import promql_parser as pp

from observability.catalog.correlation import ENVIRONMENT_LABEL, SERVICE_LABEL
from observability.catalog.metrics import Metric, MetricKind, Unit
from observability.checks.index import MetricIndex
from observability.checks.promql import matchers, selector_name

#: What ``$__rate_interval`` becomes while linting, so a literal range stands out.
RATE_SENTINEL = "99999s"
_SENTINEL = timedelta(seconds=99999)
RANGE_FUNCTIONS = ("rate", "irate", "increase")
#: Labels that name the service on recorded and external series (Sloth's records, ALERTS).
SERVICE_LABELS = (SERVICE_LABEL, "sloth_service", "sloth_id")
#: Units of "so many per second" (of things counted; of seconds: a share of one core).
PER_SECOND = {Unit.NONE: {"cps", "ops", "reqps", "short"}, Unit.SECONDS: {"percentunit", "s"}}
RATIO_UNITS = {"percentunit", "percent"}


@dataclass(frozen=True)
class Catalog:
    """What the rules know of the series: the closure checks' index and the catalog metrics."""

    index: MetricIndex
    #: Series name (``x_bucket``, ``x_total``...) → the metric family it belongs to.
    metrics: dict[str, Metric]

    @classmethod
    def of(cls, index: MetricIndex, metrics: list[Metric]) -> Catalog:
        by_series = {name: m for m in metrics for name in m.series_names()}
        return cls(index, by_series)

    def counter_like(self, name: str) -> bool:
        metric = self.metrics.get(name)
        if metric is None:
            return False
        return metric.kind is MetricKind.COUNTER or (
            metric.kind is MetricKind.HISTOGRAM and name.endswith(("_bucket", "_count", "_sum"))
        )


@dataclass(frozen=True)
class Node:
    """An AST node and the chain of its ancestors (innermost last)."""

    expr: pp.Expr
    parents: tuple[pp.Expr, ...]


def children(node: pp.Expr) -> list[pp.Expr]:
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return [node.expr]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def walk(node: pp.Expr, parents: tuple[pp.Expr, ...] = ()) -> Iterator[Node]:
    yield Node(node, parents)
    for child in children(node):
        yield from walk(child, (*parents, node))


def _calls(parents: tuple[pp.Expr, ...]) -> list[str]:
    return [p.func.name for p in parents if isinstance(p, pp.Call)]


def _in_range_function(node: Node) -> bool:
    """A selector read as ``rate(x[...])`` (its parents: the matrix, then the call)."""
    if len(node.parents) < 2 or not isinstance(node.parents[-1], pp.MatrixSelector):
        return False
    call = node.parents[-2]
    return isinstance(call, pp.Call) and call.func.name in RANGE_FUNCTIONS


# -- target rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    expr: str
    ast: pp.Expr
    format: str
    exemplar: bool


def target_matchers(target: Target, catalog: Catalog) -> Iterator[str]:
    """A selector of a scraped series names its service and environment."""
    for node in walk(target.ast):
        if not isinstance(node.expr, pp.VectorSelector):
            continue
        name = selector_name(node.expr)
        series = catalog.index.get(name)
        if series is None:
            continue
        have = {m.name for m in matchers(node.expr)}
        wanted = (SERVICE_LABEL,) if series.origin == "catalog" else SERVICE_LABELS
        if set(wanted) & series.labels and not set(wanted) & have:
            yield f"{name} has no {'/'.join(wanted)} matcher"
        scraped = series.origin == "catalog" or {"instance", ENVIRONMENT_LABEL} <= series.labels
        if scraped and ENVIRONMENT_LABEL not in have:
            yield f"{name} has no {ENVIRONMENT_LABEL} matcher"


def target_rate_interval(target: Target, catalog: Catalog) -> Iterator[str]:
    """Every range of a rate or increase is ``$__rate_interval``."""
    for node in walk(target.ast):
        if isinstance(node.expr, pp.MatrixSelector) and node.expr.range != _SENTINEL:
            yield f"{selector_name(node.expr.vector_selector)}[...] does not use $__rate_interval"


def target_counter(target: Target, catalog: Catalog) -> Iterator[str]:
    """Counters (and histogram series) are only read through rate, irate or increase."""
    for node in walk(target.ast):
        if isinstance(node.expr, pp.VectorSelector):
            name = selector_name(node.expr)
            if catalog.counter_like(name) and not _in_range_function(node):
                yield f"counter {name} is read outside rate/irate/increase"


def _keeps_le(parents: tuple[pp.Expr, ...]) -> bool:
    for parent in reversed(parents):
        if isinstance(parent, pp.AggregateExpr):
            labels = list(parent.modifier.labels) if parent.modifier else []
            by = parent.modifier is None or parent.modifier.type == pp.AggModifierType.By
            return ("le" in labels) if by else ("le" not in labels)
    return True


def target_histogram(target: Target, catalog: Catalog) -> Iterator[str]:
    """Buckets go through histogram_quantile (or a heatmap) with ``le`` kept."""
    for node in walk(target.ast):
        if not isinstance(node.expr, pp.VectorSelector):
            continue
        name = selector_name(node.expr)
        if not name.endswith("_bucket") or name not in catalog.metrics:
            continue
        if not _keeps_le(node.parents):
            yield f"{name} is aggregated without keeping le"
        if "histogram_quantile" not in _calls(node.parents) and target.format != "heatmap":
            yield f"{name} is neither under histogram_quantile nor shown as a heatmap"


def target_exemplar(target: Target, catalog: Catalog) -> Iterator[str]:
    """``exemplar: true`` only on a histogram whose metric records exemplars."""
    if not target.exemplar:
        return
    buckets = [
        catalog.metrics[n]
        for n in (
            selector_name(x.expr) for x in walk(target.ast) if isinstance(x.expr, pp.VectorSelector)
        )
        if n.endswith("_bucket") and n in catalog.metrics
    ]
    if not buckets:
        yield "exemplar is on, but the query reads no histogram"
    for metric in buckets:
        if not metric.exemplars:
            yield f"exemplar is on, but {metric.name} records no exemplars (exemplars=False)"


TARGET_RULES: tuple[Callable[[Target, Catalog], Iterator[str]], ...] = (
    target_matchers,
    target_rate_interval,
    target_counter,
    target_histogram,
    target_exemplar,
)


# -- units -------------------------------------------------------------------------------------


def _strip_parens(node: pp.Expr) -> pp.Expr:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def expected_units(node: pp.Expr, catalog: Catalog, heatmap: bool = False) -> set[str] | None:
    """The units a panel showing ``node`` may have, from the metrics it reads (None: any)."""
    node = _strip_parens(node)
    if (isinstance(node, pp.Call) and node.func.name == "histogram_quantile") or heatmap:
        buckets = [
            catalog.metrics[selector_name(n.expr)]
            for n in walk(node)
            if isinstance(n.expr, pp.VectorSelector) and selector_name(n.expr) in catalog.metrics
        ]
        return {buckets[0].unit.grafana} if buckets else None
    if isinstance(node, pp.BinaryExpr):
        if str(node.op) == "/":
            return RATIO_UNITS
        lhs = _strip_parens(node.lhs)
        if isinstance(lhs, pp.Call) and lhs.func.name == "time":
            return {Unit.SECONDS.grafana}
        return expected_units(node.rhs if isinstance(lhs, pp.NumberLiteral) else node.lhs, catalog)
    if isinstance(node, pp.AggregateExpr):
        return expected_units(node.expr, catalog)
    if isinstance(node, pp.Call) and node.func.name in RANGE_FUNCTIONS:
        series = selector_name(node.args[0].vector_selector)
        metric = catalog.metrics.get(series)
        if metric is None:
            return None
        unit = Unit.NONE if metric.kind is MetricKind.HISTOGRAM else metric.unit
        return PER_SECOND.get(unit)
    if isinstance(node, pp.VectorSelector):
        name = selector_name(node)
        if name in catalog.metrics:
            return {catalog.metrics[name].unit.grafana}
        if name.endswith(":ratio"):
            return RATIO_UNITS
    return None
