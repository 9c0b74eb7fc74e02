"""A ``DashboardSpec`` as Grafana dashboard JSON: variables, row headers, panels on the grid."""

from __future__ import annotations

import grafanalib.core as G

from observability.config import Config
from observability.render.grafana import style
from observability.render.grafana.layout import Grid
from observability.render.grafana.model import DashboardSpec
from observability.render.grafana.panels import build_panel
from observability.render.grafana.variables import DATASOURCES, ENV, SERVICE, ref
from observability.render.links import dashboard_uid
from observability.render.provenance import header

TAGS = ("fleetman", "dashboard-gen")
#: ``$env``'s values come from the data (every environment Prometheus scrapes).
ENV_QUERY = "label_values(up, env)"


def variables(spec: DashboardSpec) -> list[style.Variable]:
    found = [
        style.datasource_variable(name, plugin, uid, f"{name.capitalize()} data source")
        for name, (plugin, uid) in DATASOURCES.items()
    ]
    found.append(
        style.Variable(
            name=ENV,
            label="Environment",
            type="query",
            query=ENV_QUERY,
            dataSource={"type": "prometheus", "uid": ref("prometheus")},
            includeAll=True,
            allValue=".*",
            default="$__all",
            refresh=G.REFRESH_ON_TIME_RANGE_CHANGE,
            description="The env label Prometheus puts on every fleet series.",
        )
    )
    service = style.Variable(
        name=SERVICE,
        label="Service",
        type="custom",
        query=",".join(spec.services),
        default="$__all" if spec.many else spec.services[0],
        multi=spec.many,
        includeAll=spec.many,
        # A service's dashboard shows one service: the variable only names it for the queries.
        hide=G.SHOW if spec.many else G.HIDE_VARIABLE,
        description="The job label of the service's series, and its logs' service.name.",
    )
    found.append(service)
    return found


def build_dashboard(spec: DashboardSpec, config: Config) -> G.Dashboard:
    grid, panels, next_id = Grid(), [], 1
    for section in spec.sections:
        panels.append(style.Section(title=section.title, gridPos=grid.row(), id=next_id))
        next_id += 1
        for panel in section.panels:
            pos = grid.place(panel.width, panel.height)
            panels.append(build_panel(panel, pos, next_id, config))
            next_id += 1
    return G.Dashboard(
        title=spec.title,
        uid=dashboard_uid(spec.key),
        description=f"{spec.description} {header(spec.modules).replace(chr(10), ' ')}",
        tags=sorted({*TAGS, *spec.tags}),
        panels=panels,
        templating=G.Templating(list=variables(spec)),
        time=G.Time("now-1h", "now"),
        timezone="utc",
        refresh="30s",
        graphTooltip=G.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=False,
        version=1,
    )


def dashboard_text(spec: DashboardSpec, config: Config) -> str:
    return style.dashboard_json(build_dashboard(spec, config))
