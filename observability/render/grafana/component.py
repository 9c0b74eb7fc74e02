"""A component's dashboard: the panels its catalog writes out, and its alerts firing."""

from __future__ import annotations

from observability.catalog.component import ComponentCatalog, Plot
from observability.render.grafana import model, queries
from observability.render.grafana.model import DashboardSpec, PanelSpec, Section
from observability.render.grafana.queries import PanelQuery
from observability.render.provenance import of_owner

#: Its dashboard's tag (the lint asks no logs and traces links of its panels).
COMPONENT_TAG = "component"


def _panel(component: ComponentCatalog, plot: Plot) -> PanelSpec:
    query = PanelQuery(plot.expr, plot.legend, plot.unit)
    return PanelSpec(plot.title, model.TIMESERIES, plot.description, of_owner(component), (query,))


def component_dashboard(component: ComponentCatalog) -> DashboardSpec:
    alerts = PanelSpec(
        "Firing alerts",
        model.TABLE,
        f"The alerts on {component.name} firing now.",
        of_owner(component),
        (queries.firing_alerts(),),
        width=24,
        height=5,
    )
    panels = tuple(_panel(component, plot) for plot in component.panels)
    return DashboardSpec(
        key=component.name,
        title=f"Fleet / {component.name}",
        description=component.description,
        services=(component.name,),
        sections=(Section("Alerts", (alerts,)), Section(component.name, panels)),
        modules=frozenset({component.source.module}),
        tags=(COMPONENT_TAG,),
    )
