"""dashboards/lint: the dashboard-linter rules we hold our dashboards to.

Targets: ``job`` (or Sloth's service labels) and ``env`` matchers on every scraped series,
``$__rate_interval`` in every range, counters only under rate/increase, histograms only through
``histogram_quantile`` keeping ``le`` (or as heatmap buckets), exemplars only where the metric
records them. Panels: a unit consistent with the metric's unit, data sources only through the
dashboard's data-source variables, the correlation links on every rate, error and latency panel.
Dashboards: unique panel ids, every panel on the 24-column grid, none overlapping.
"""

from __future__ import annotations

from collections.abc import Iterator

from observability.checks.base import Check, Context
from observability.checks.dashboard_rules import (
    RATE_SENTINEL,
    TARGET_RULES,
    Catalog,
    Target,
    expected_units,
)
from observability.checks.dashboards import Dashboard, dashboards, panel_origin, prometheus_targets
from observability.checks.promql import parse
from observability.diagnostics import Level, Problem
from observability.render.grafana.correlation import LINK_TITLES
from observability.render.grafana.layout import COLUMNS
from observability.render.grafana.variables import DATASOURCES, substitute, used_variables

_UNIT_PANELS = ("timeseries", "stat", "heatmap")


def _target(dashboard: Dashboard, raw: dict) -> Target | str:
    expr = substitute(str(raw.get("expr", "")), {"__rate_interval": RATE_SENTINEL})
    expr = dashboard.concrete(expr)
    try:
        ast = parse(expr)
    except ValueError as exc:
        return f"target {raw.get('refId', '?')} is not PromQL: {exc}"
    return Target(expr, ast, str(raw.get("format", "time_series")), bool(raw.get("exemplar")))


def panel_unit(panel: dict) -> str:
    if panel.get("type") == "heatmap":
        return str(panel.get("options", {}).get("yAxis", {}).get("unit", ""))
    return str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", ""))


def unit_problems(panel: dict, targets: list[Target], catalog: Catalog) -> Iterator[str]:
    if panel.get("type") not in _UNIT_PANELS or not targets:
        return
    unit = panel_unit(panel)
    if not unit:
        yield "has no unit"
        return
    for target in targets:
        allowed = expected_units(target.ast, catalog, heatmap=target.format == "heatmap")
        if allowed is not None and unit not in allowed:
            yield f"unit {unit!r} does not fit {target.expr!r} (expected {' or '.join(sorted(allowed))})"


def datasource_problems(dashboard: Dashboard, panel: dict) -> Iterator[str]:
    """Data sources only as ``${var}`` of a data-source variable of this dashboard."""
    variables = {
        v for v in DATASOURCES if (dashboard.variable(v) or {}).get("type") == "datasource"
    }
    refs = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
    for ref in refs:
        if panel.get("type") == "row" and ref is None:
            continue
        uid = str((ref or {}).get("uid", "")) if isinstance(ref, dict) else str(ref or "")
        names = used_variables(uid)
        if not names or not names <= variables:
            yield f"data source {uid or 'default'!r} is not one of the variables ${', $'.join(sorted(variables))}"


def link_problems(panel: dict, targets: list[Target]) -> Iterator[str]:
    """Rate, error and latency panels link to the logs and traces of their time range."""
    if not any("rate(" in t.expr or "histogram_quantile" in t.expr for t in targets):
        return
    links = {str(link.get("title")): str(link.get("url", "")) for link in panel.get("links", [])}
    for title in LINK_TITLES:
        url = links.get(title)
        if url is None:
            yield f"has no {title!r} link"
        elif "__from" not in url or "__to" not in url or "service" not in url:
            yield f"link {title!r} carries no time range or service filter"


def grid_problems(dashboard: Dashboard) -> Iterator[tuple[dict, str]]:
    taken: dict[tuple[int, int], str] = {}
    ids: dict[object, str] = {}
    for panel in dashboard.panels():
        title = str(panel.get("title", ""))
        if panel.get("id") in ids:
            yield panel, f"id {panel.get('id')} is also panel {ids[panel.get('id')]!r}'s"
        ids.setdefault(panel.get("id"), title)
        pos = panel.get("gridPos") or {}
        x, y, w, h = (int(pos.get(k, -1)) for k in ("x", "y", "w", "h"))
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > COLUMNS:
            yield panel, f"gridPos {pos} is off the {COLUMNS}-column grid"
            continue
        for cell in ((cx, cy) for cx in range(x, x + w) for cy in range(y, y + h)):
            if cell in taken:
                yield panel, f"overlaps panel {taken[cell]!r}"
                break
            taken[cell] = title


def panel_problems(dashboard: Dashboard, panel: dict, catalog: Catalog) -> Iterator[str]:
    targets = []
    for raw in prometheus_targets(panel):
        target = _target(dashboard, raw)
        if isinstance(target, str):
            yield target
            continue
        targets.append(target)
        for rule in TARGET_RULES:
            for message in rule(target, catalog):
                yield f"target {raw.get('refId', '?')}: {message}"
    yield from unit_problems(panel, targets, catalog)
    yield from datasource_problems(dashboard, panel)
    if not dashboard.of_component:
        yield from link_problems(panel, targets)


def lint_dashboard(dashboard: Dashboard, catalog: Catalog) -> Iterator[tuple[dict, str]]:
    """(panel, message) of every finding of every rule; the panel is ``{}`` for the dashboard."""
    yield from grid_problems(dashboard)
    for panel in dashboard.panels():
        if panel.get("type") == "row":
            continue
        for message in panel_problems(dashboard, panel, catalog):
            yield panel, message


def catalog_of(ctx: Context) -> Catalog:
    return Catalog.of(ctx.index, [m for _, m in ctx.platform.all_metrics()])


def run(ctx: Context) -> Iterator[Problem]:
    catalog = catalog_of(ctx)
    for dashboard in dashboards(ctx):
        for panel, message in lint_dashboard(dashboard, catalog):
            where = f"panel {panel.get('title', '')!r}: " if panel else ""
            yield CHECK.problem(
                panel_origin(ctx, panel), Level.WARNING, f"{where}{message}", dashboard.path
            )


CHECK = Check(
    "dashboards/lint",
    "matchers, rate intervals, counters, histograms, exemplars, units, data sources, links, grid",
    run,
)
