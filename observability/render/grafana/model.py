"""What a dashboard shows, before any Grafana JSON: sections of panels, each with its queries,
its unit and the catalog definition it comes from (its provenance)."""

from __future__ import annotations

from dataclasses import dataclass, field

from observability.render.grafana.queries import PanelQuery
from observability.render.provenance import Origin

TIMESERIES, STAT, HEATMAP, LOGS, TABLE = "timeseries", "stat", "heatmap", "logs", "table"


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: str
    description: str
    origin: Origin
    queries: tuple[PanelQuery, ...] = ()
    #: For a logs panel: the Lucene query of its records.
    logs_query: str = ""
    width: int = 8
    height: int = 8
    #: Whether the panel carries the correlation links (every rate, error and latency panel).
    correlate: bool = False
    #: Whether its series are one per service (data links then follow the clicked series).
    per_series_service: bool = False
    #: Threshold steps (value, color), the first value None (the base).
    thresholds: tuple[tuple[float | None, str], ...] = ()
    #: A minimum for the value axis (ratios start at 0).
    minimum: float | None = None

    @property
    def unit(self) -> str:
        units = {q.unit for q in self.queries}
        if len(units) > 1:
            raise ValueError(f"panel {self.title!r} mixes units {sorted(units)}")
        return units.pop() if units else ""


@dataclass(frozen=True)
class Section:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    """One dashboard: its key (``overview`` or a service name), what it is, its sections."""

    key: str
    title: str
    description: str
    #: The services ``$service`` may be: one (a service's dashboard) or every scraped one.
    services: tuple[str, ...]
    sections: tuple[Section, ...]
    #: The catalog modules it is made from (its provenance header).
    modules: frozenset[str] = field(default_factory=frozenset)
    tags: tuple[str, ...] = ()

    @property
    def many(self) -> bool:
        return len(self.services) > 1

    def panels(self) -> list[PanelSpec]:
        return [p for s in self.sections for p in s.panels]
