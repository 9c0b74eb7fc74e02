"""What the dashboard checks share: the rendered dashboards, each panel's catalog definition
(from the provenance marker in its description) and its targets with variables substituted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from observability.catalog.source import SourceRef
from observability.checks.base import Context
from observability.render.grafana.component import COMPONENT_TAG
from observability.render.grafana.files import DASHBOARD_DIR
from observability.render.grafana.variables import SERVICE, substitute, values_for
from observability.render.provenance import Origin, markers_in, platform_origins


@dataclass(frozen=True)
class Dashboard:
    path: str
    data: dict

    @property
    def uid(self) -> str:
        return str(self.data.get("uid", ""))

    def variable(self, name: str) -> dict | None:
        for variable in self.data.get("templating", {}).get("list", []):
            if variable.get("name") == name:
                return variable
        return None

    @property
    def of_component(self) -> bool:
        """A third-party component's dashboard: no logs or traces of its own to link to."""
        return COMPONENT_TAG in self.data.get("tags", [])

    def services(self) -> tuple[str, ...]:
        variable = self.variable(SERVICE) or {}
        query = str(variable.get("query", ""))
        return tuple(s.strip() for s in query.split(",") if s.strip())

    def concrete(self, text: str) -> str:
        return substitute(text, values_for(self.services()))

    def panels(self) -> Iterator[dict]:
        for panel in self.data.get("panels", []):
            yield panel
            yield from panel.get("panels", [])


def dashboards(ctx: Context) -> list[Dashboard]:
    return [
        Dashboard(path, json.loads(text))
        for path, text in ctx.files.items()
        if path.startswith(f"{DASHBOARD_DIR}/") and path.endswith(".json")
    ]


def panel_origin(ctx: Context, panel: dict, fallback: SourceRef | None = None) -> Origin:
    """The catalog definition a panel comes from (its description's marker), with its line."""
    markers = markers_in(str(panel.get("description", "")))
    config = Origin("pyproject.toml", "config", "dashboard-gen", fallback or ctx.config_source())
    if not markers:
        return config
    known = platform_origins(ctx.platform)
    return known.get(markers[0], config)


def prometheus_targets(panel: dict) -> list[dict]:
    return [t for t in panel.get("targets", []) if "expr" in t]
