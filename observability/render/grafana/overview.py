"""The fleet overview: the metrics the catalogs put on it (``Metric.overview``), every SLO's
attainment and error budget, the alerts firing, and RED per service."""

from __future__ import annotations

from observability.catalog.metrics import Metric, MetricKind
from observability.catalog.service import Platform, ServiceCatalog
from observability.render.grafana import model, queries
from observability.render.grafana.model import DashboardSpec, PanelSpec, Section
from observability.render.grafana.queries import Scope
from observability.render.grafana.service import http_metric, red_panels, title_of
from observability.render.links import OVERVIEW
from observability.render.provenance import Origin, of_service, of_slo
from observability.slo.model import SLOModel, slo_models

#: Panels about the whole platform come from the configuration (its list of catalogs).
CONFIG_ORIGIN = Origin("pyproject.toml", "config", "dashboard-gen")
#: Budget left: red when spent, orange under a quarter, green above.
BUDGET_STEPS = ((None, "red"), (0.0, "orange"), (0.25, "green"))


def _overview_panel(service: ServiceCatalog, metric: Metric, by: tuple[str, ...]) -> PanelSpec:
    scope = Scope(service=service.name)
    signal = tuple(queries.signal(metric, scope, by))
    title = title_of(metric) + (f" by {', '.join(by)}" if by else "")
    if metric.kind is MetricKind.GAUGE:
        return PanelSpec(title, model.STAT, metric.help, of_service(service), signal, width=4)
    title += " /s" if metric.kind is MetricKind.COUNTER else ""
    return PanelSpec(
        title,
        model.TIMESERIES,
        f"{metric.help} ({service.name})",
        of_service(service),
        signal,
        width=7 if by or metric.kind is MetricKind.HISTOGRAM else 6,
        correlate=True,
    )


def _slo_panel(slo: SLOModel) -> PanelSpec:
    objective = f"{slo.slo.objective * 100:g}%"
    return PanelSpec(
        f"{slo.service.name} {slo.slo.name} (objective {objective})",
        model.STAT,
        f"{slo.slo.description} SLI over {slo.period} and error budget left.",
        of_slo(slo.slo),
        (queries.slo_attainment(slo), queries.slo_budget_remaining(slo)),
        width=6,
        height=5,
        thresholds=BUDGET_STEPS,
    )


def overview_dashboard(platform: Platform) -> DashboardSpec | None:
    scraped = tuple(s for s in platform.services if s.scraped)
    if not scraped:
        return None
    shown = [(s, m) for s in scraped for m in s.metrics if m.overview is not None]
    # Values first (stat panels), then rates, then distributions.
    order = (MetricKind.GAUGE, MetricKind.COUNTER, MetricKind.HISTOGRAM)
    shown.sort(key=lambda sm: order.index(sm[1].kind))
    fleet = [_overview_panel(s, m, m.overview or ()) for s, m in shown]
    sections = [Section("Fleet", tuple(fleet))] if fleet else []
    slos = slo_models(platform)
    if slos:
        sections.append(Section("Service level objectives", tuple(_slo_panel(m) for m in slos)))
    alerts = PanelSpec(
        "Firing alerts",
        model.TABLE,
        "Alerts firing now, by name, severity and service.",
        CONFIG_ORIGIN,
        (queries.firing_alerts(),),
        width=24,
        height=6,
    )
    sections.append(Section("Alerts", (alerts,)))
    http = next((m for m in map(http_metric, scraped) if m is not None), None)
    if http is not None:
        red = red_panels(http, CONFIG_ORIGIN, Scope(many=True), by_job=True)
        sections.append(Section("Services (RED)", tuple(red)))
    return DashboardSpec(
        key=OVERVIEW,
        title="Fleet / overview",
        description="The fleet at a glance: throughput, freshness, SLOs, alerts, RED per service.",
        services=tuple(s.name for s in scraped),
        sections=tuple(sections),
        modules=frozenset(s.source.module for s in scraped),
        tags=("overview",),
    )
