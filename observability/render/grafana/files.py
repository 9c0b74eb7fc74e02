"""The dashboards as files (JSON in ``dashboards/grafana``, ConfigMaps in ``k8s/monitoring``),
and what they read: their PromQL (for the closure checks) and their log fields."""

from __future__ import annotations

import re

from observability.catalog.correlation import SERVICE_FIELD, TRACE_ID_FIELD
from observability.catalog.service import Platform
from observability.config import Config
from observability.render.grafana.component import component_dashboard
from observability.render.grafana.dashboard import dashboard_text
from observability.render.grafana.model import LOGS, DashboardSpec
from observability.render.grafana.overview import overview_dashboard
from observability.render.grafana.service import service_dashboard
from observability.render.grafana.variables import substitute, values_for
from observability.render.kube import manifest_path, metadata
from observability.render.links import dashboard_uid
from observability.render.provenance import header
from observability.render.usage import FieldUse, Query
from observability.render.yamltext import dump

DASHBOARD_DIR = "dashboards/grafana"
_LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: The kube-prometheus-stack Grafana sidecar loads ConfigMaps carrying this label.
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
#: The fields a logs panel reads besides its query's: Grafana's ES data source settings.
LOGS_PANEL_FIELDS = ("@timestamp", "message", "log.level", TRACE_ID_FIELD)


def dashboard_specs(platform: Platform) -> list[DashboardSpec]:
    """The overview, one dashboard per scraped service, one per component with panels."""
    overview = overview_dashboard(platform)
    specs = [overview] if overview is not None else []
    specs += [service_dashboard(s) for s in platform.services if s.scraped]
    return specs + [component_dashboard(c) for c in platform.components if c.panels]


def dashboard_path(spec: DashboardSpec) -> str:
    return f"{DASHBOARD_DIR}/{dashboard_uid(spec.key)}.json"


def configmap_path(spec: DashboardSpec) -> str:
    return manifest_path(f"grafana-dashboard-{spec.key}")


def dashboard_configmap(spec: DashboardSpec, text: str) -> str:
    uid = dashboard_uid(spec.key)
    meta = metadata(f"grafana-dashboard-{spec.key}", spec.key, spec.sections[0].panels[0].origin)
    meta["labels"] = {**meta["labels"], **DASHBOARD_LABEL}  # type: ignore[dict-item]
    meta["annotations"] = {**meta["annotations"], "fleetman.dev/dashboard-uid": uid}  # type: ignore[dict-item]
    data = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {f"{uid}.json": text},
    }
    return dump(data, header=header(spec.modules))


def dashboard_files(platform: Platform, config: Config) -> dict[str, str]:
    return {dashboard_path(s): dashboard_text(s, config) for s in dashboard_specs(platform)}


def dashboard_configmaps(platform: Platform, config: Config) -> dict[str, str]:
    """The dashboards of the clusters: all but those of components that only run locally."""
    local_only = {c.name for c in platform.components if not c.kubernetes}
    return {
        configmap_path(s): dashboard_configmap(s, dashboard_text(s, config))
        for s in dashboard_specs(platform)
        if s.key not in local_only
    }


def concrete(spec: DashboardSpec, text: str) -> str:
    """A query with the dashboard's variables replaced by values (every service it shows)."""
    return substitute(text, values_for(spec.services))


def panel_user(spec: DashboardSpec, title: str, ref_id: str = "") -> str:
    target = f" ({ref_id})" if ref_id else ""
    return f"dashboard {dashboard_uid(spec.key)} panel {title!r}{target}"


def legend_template(legend: str) -> str:
    """A legend (``{{route}}``) as an alert-style template, so label closure checks it."""
    return _LEGEND_LABEL.sub(r"{{ $labels.\1 }}", legend)


def dashboard_queries(platform: Platform, _config: Config) -> list[Query]:
    found = []
    for spec in dashboard_specs(platform):
        for panel in spec.panels():
            for i, q in enumerate(panel.queries):
                found.append(
                    Query(
                        expr=concrete(spec, q.expr),
                        origin=panel.origin,
                        artifact=dashboard_path(spec),
                        user=panel_user(spec, panel.title, "ABCDEFGHIJ"[i]),
                        templates=(legend_template(q.legend),),
                    )
                )
    return found


def dashboard_field_uses(platform: Platform, _config: Config) -> list[FieldUse]:
    uses = []
    for spec in dashboard_specs(platform):
        for panel in (p for p in spec.panels() if p.kind == LOGS):
            user = panel_user(spec, panel.title)
            for name in (SERVICE_FIELD, *LOGS_PANEL_FIELDS):
                uses.append(FieldUse(name, panel.origin, dashboard_path(spec), user))
    return uses


#: What the grafana-dashboards artifact kind owns (the ConfigMaps are kubernetes-monitoring's).
OWNS = (f"{DASHBOARD_DIR}/*.json", "dashboards/provisioning/*.yaml")


def render_files(platform: Platform, config: Config) -> dict[str, str]:
    from observability.render.grafana.provisioning import provisioning_files

    return dashboard_files(platform, config) | provisioning_files(config)
