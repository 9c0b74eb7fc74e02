"""The house style on grafanalib (as its ``weave.py``): what it lacks, and our defaults.

grafanalib 0.7.1 writes Prometheus targets without ``exemplar``, time series without data
links, the pre-Grafana-9 heatmap, and legacy keys (``span``, ``height``, ``style``, ``rows``,
nulls) that Grafana's current dashboard schema no longer has. This module adds the missing
features by subclassing, and ``dashboard_json`` turns a grafanalib ``Dashboard`` into the
JSON we commit: schema-clean, sorted keys, no version noise.
"""

from __future__ import annotations

import json

import attr
import grafanalib.core as G
from attr.validators import instance_of
from grafanalib._gen import DashboardEncoder

from observability.render.grafana.variables import datasource

#: The Grafana schema version our JSON is written for (Grafana 10.4 and later).
SCHEMA_VERSION = 39
#: Keys grafanalib writes on every panel that the current panel schema does not have.
_LEGACY_PANEL_KEYS = ("editable", "error", "height", "minSpan", "span", "maxPerRow")
#: Keys grafanalib writes on the dashboard that the current dashboard schema does not have.
_LEGACY_DASHBOARD_KEYS = ("__inputs", "rows", "sharedCrosshair", "style", "hideControls", "gnetId")


def link(title: str, url: str, tooltip: str = "") -> dict[str, object]:
    """A panel link (the icon in a panel's header), opening in a new tab."""
    return {
        "asDropdown": False,
        "icon": "external link",
        "includeVars": False,
        "keepTime": False,
        "tags": [],
        "targetBlank": True,
        "title": title,
        "tooltip": tooltip,
        "type": "link",
        "url": url,
    }


def data_link(title: str, url: str) -> dict[str, object]:
    """A data link (offered when a point of a series is clicked)."""
    return {"targetBlank": True, "title": title, "url": url}


@attr.s
class PromTarget(G.Target):
    """A Prometheus target with ``exemplar`` (grafanalib#683) and a data-source variable."""

    exemplar = attr.ib(default=False, validator=instance_of(bool))

    def to_json_data(self) -> dict[str, object]:
        return {
            "datasource": datasource("prometheus"),
            "editorMode": "code",
            "exemplar": self.exemplar,
            "expr": self.expr,
            "format": self.format,
            "instant": self.instant,
            "legendFormat": self.legendFormat,
            "range": not self.instant,
            "refId": self.refId,
        }


@attr.s
class LogsTarget:
    """An Elasticsearch target returning raw log lines (the ``logs`` metric), Lucene query."""

    query = attr.ib(validator=instance_of(str))
    refId = attr.ib(default="A")
    limit = attr.ib(default=100)

    def to_json_data(self) -> dict[str, object]:
        return {
            "bucketAggs": [],
            "datasource": datasource("elasticsearch"),
            "metrics": [{"id": "1", "settings": {"limit": str(self.limit)}, "type": "logs"}],
            "query": self.query,
            "refId": self.refId,
            "timeField": "@timestamp",
        }


@attr.s
class LinkedTimeSeries(G.TimeSeries):
    """A time series whose points carry data links (grafanalib has them on Graph only)."""

    dataLinks = attr.ib(factory=list)

    def to_json_data(self) -> dict[str, object]:
        data = super().to_json_data()
        data["fieldConfig"]["defaults"]["links"] = self.dataLinks
        return data


@attr.s
class ExemplarHeatmap(G.Panel):
    """Grafana 9+'s heatmap of pre-bucketed histogram data, exemplars drawn on top."""

    unit = attr.ib(default="s")
    dataLinks = attr.ib(factory=list)

    def to_json_data(self) -> dict[str, object]:
        return self.panel_json(
            {
                "fieldConfig": {"defaults": {"links": self.dataLinks}, "overrides": []},
                "options": {
                    "calculate": False,
                    "cellGap": 1,
                    "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
                    "exemplars": {"color": "rgba(255,0,255,0.7)"},
                    "filterValues": {"le": 1e-9},
                    "legend": {"show": True},
                    "rowsFrame": {"layout": "auto"},
                    "tooltip": {"mode": "single", "yHistogram": True},
                    "yAxis": {"axisPlacement": "left", "unit": self.unit},
                },
                "type": G.HEATMAP_TYPE,
            }
        )


@attr.s
class AlertTable(G.Panel):
    """A table of instant results, one row a series (the firing alerts)."""

    def to_json_data(self) -> dict[str, object]:
        return self.panel_json(
            {
                "fieldConfig": {"defaults": {"custom": {"align": "auto"}}, "overrides": []},
                "options": {"cellHeight": "sm", "showHeader": True},
                "transformations": [{"id": "labelsToFields", "options": {}}],
                "type": G.TABLE_TYPE,
            }
        )


@attr.s
class Section(G.RowPanel):
    """A row header (never collapsed, so every panel is on the dashboard's top level)."""

    def to_json_data(self) -> dict[str, object]:
        return {
            "collapsed": False,
            "gridPos": self.gridPos,
            "id": self.id,
            "panels": [],
            "title": self.title,
            "type": G.ROW_TYPE,
        }


@attr.s
class Variable(G.Template):
    """A template variable without grafanalib's legacy tag and auto-interval keys."""

    description = attr.ib(default="")

    def to_json_data(self) -> dict[str, object]:
        data = super().to_json_data()
        for key in ("useTags", "tagsQuery", "tagValuesQuery", "auto", "auto_min", "auto_count"):
            data.pop(key, None)
        current = {k: v for k, v in data["current"].items() if k != "tags"}
        if self.default == "$__all":
            current = {"selected": True, "text": "All", "value": "$__all"}
        data["current"] = current
        data["description"] = self.description
        return data


def datasource_variable(name: str, plugin: str, default: str, label: str) -> Variable:
    return Variable(
        name=name, query=plugin, type="datasource", default=default, label=label, hide=0
    )


def _strip(value: object, keep_nulls: bool = False) -> object:
    """Nulls removed, recursively (grafanalib writes ``null`` for every unset option), except
    in threshold steps, where ``null`` is the base step's value (-Infinity)."""
    if isinstance(value, dict):
        return {k: _strip(v, k == "steps") for k, v in value.items() if v is not None or keep_nulls}
    if isinstance(value, list):
        return [_strip(v, keep_nulls) for v in value]
    return value


def _panel(panel: dict[str, object]) -> dict[str, object]:
    for key in _LEGACY_PANEL_KEYS:
        panel.pop(key, None)
    if panel.get("repeat") is None:
        panel.pop("repeatDirection", None)
    return panel


def dashboard_data(dashboard: G.Dashboard) -> dict[str, object]:
    """The dashboard as Grafana's current schema has it."""
    data = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    for key in (*_LEGACY_DASHBOARD_KEYS, "id"):
        data.pop(key, None)
    data["panels"] = [_panel(p) for p in data["panels"]]
    data["timepicker"].pop("time_options", None)
    data["schemaVersion"] = SCHEMA_VERSION
    return _strip(data)  # type: ignore[return-value]


def dashboard_json(dashboard: G.Dashboard) -> str:
    """Deterministic text: sorted keys, two-space indent, a final newline."""
    return json.dumps(dashboard_data(dashboard), sort_keys=True, indent=2) + "\n"
