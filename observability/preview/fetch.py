"""Each panel's data, as Grafana would ask for it: range queries for time series and heatmaps,
the last values for stats, an instant query for tables, the newest records for logs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from observability.preview.data import Elasticsearch, Exemplar, Prometheus, Series, Window
from observability.render.grafana.variables import substitute, values_for

_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def legend(template: str, labels: dict[str, str]) -> str:
    text = _LEGEND.sub(lambda m: labels.get(m.group(1), ""), template or "").strip()
    return text or ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "value"


@dataclass
class PanelData:
    panel: dict
    #: (legend, series, target format) of each series of each target.
    series: list[tuple[str, Series, str]] = field(default_factory=list)
    exemplars: list[Exemplar] = field(default_factory=list)
    #: Log records (logs panels).
    records: list[dict] = field(default_factory=list)
    #: The time range shown (start, end), Unix seconds.
    span: tuple[float, float] = (0.0, 0.0)

    @property
    def empty(self) -> bool:
        return not (self.series or self.records)


@dataclass(frozen=True)
class Variables:
    services: tuple[str, ...]
    env: str = ".*"

    def apply(self, text: str, window: Window) -> str:
        values = values_for(self.services, self.env)
        values["__rate_interval"] = values["__interval"] = window.rate_interval
        return substitute(text, values)


def fetch_panel(
    panel: dict, variables: Variables, prometheus: Prometheus, logs: Elasticsearch, window: Window
) -> PanelData:
    data = PanelData(panel, span=(window.start, window.end))
    kind = panel.get("type")
    for target in panel.get("targets", []):
        if kind == "logs":
            data.records += logs.latest(variables.apply(target["query"], window), window)
            continue
        expr = variables.apply(target["expr"], window)
        fmt = target.get("format", "time_series")
        found = (
            prometheus.instant(expr, window.end)
            if target.get("instant")
            else prometheus.range(expr, window)
        )
        data.series += [(legend(target.get("legendFormat", ""), s.labels), s, fmt) for s in found]
        if target.get("exemplar"):
            data.exemplars += prometheus.exemplars(expr, window)
    return data
