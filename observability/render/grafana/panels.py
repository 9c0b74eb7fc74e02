"""A ``PanelSpec`` as a grafanalib panel in the house style."""

from __future__ import annotations

import grafanalib.core as G

from observability.config import Config
from observability.render.grafana import model
from observability.render.grafana.correlation import panel_links, series_links
from observability.render.grafana.queries import PanelQuery
from observability.render.grafana.style import (
    AlertTable,
    ExemplarHeatmap,
    LinkedTimeSeries,
    LogsTarget,
    PromTarget,
)
from observability.render.grafana.variables import datasource

_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _targets(queries: tuple[PanelQuery, ...]) -> list[PromTarget]:
    return [
        PromTarget(
            expr=q.expr,
            legendFormat=q.legend,
            refId=_REF_IDS[i],
            format=q.format,
            instant=q.instant,
            exemplar=q.exemplar,
        )
        for i, q in enumerate(queries)
    ]


def _thresholds(spec: model.PanelSpec) -> list[dict[str, object]]:
    steps = spec.thresholds or ((None, "green"),)
    return [{"color": color, "value": value} for value, color in steps]


def _common(spec: model.PanelSpec, pos: G.GridPos, panel_id: int, config: Config) -> dict:
    links = panel_links(config) if spec.correlate else []
    return {
        "title": spec.title,
        "description": f"{spec.description}\n\n{spec.origin.marker}",
        "gridPos": pos,
        "id": panel_id,
        "links": links,
        "dataSource": datasource("elasticsearch" if spec.kind == model.LOGS else "prometheus"),
        "thresholds": _thresholds(spec),
    }


def build_panel(spec: model.PanelSpec, pos: G.GridPos, panel_id: int, config: Config) -> G.Panel:
    common = _common(spec, pos, panel_id, config)
    data_links = series_links(config, spec.per_series_service) if spec.correlate else []
    if spec.kind == model.TIMESERIES:
        return LinkedTimeSeries(
            targets=_targets(spec.queries),
            unit=spec.unit,
            dataLinks=data_links,
            legendDisplayMode="list",
            fillOpacity=10,
            showPoints="never",
            tooltipMode="multi",
            valueMin=None if spec.minimum is None else int(spec.minimum),
            **common,
        )
    if spec.kind == model.HEATMAP:
        return ExemplarHeatmap(
            targets=_targets(spec.queries), unit=spec.unit, dataLinks=data_links, **common
        )
    if spec.kind == model.STAT:
        return G.Stat(
            targets=_targets(spec.queries),
            format=spec.unit,
            reduceCalc="lastNotNull",
            graphMode="none",
            colorMode="background" if spec.thresholds else "value",
            textMode="value_and_name",
            noValue="no data",
            **common,
        )
    if spec.kind == model.TABLE:
        return AlertTable(targets=_targets(spec.queries), **common)
    if spec.kind == model.LOGS:
        return G.Logs(
            targets=[LogsTarget(spec.logs_query)],
            showTime=True,
            wrapLogMessages=True,
            enableLogDetails=True,
            sortOrder="Descending",
            **common,
        )
    raise ValueError(f"unknown panel kind {spec.kind!r}")
