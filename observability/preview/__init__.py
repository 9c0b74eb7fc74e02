"""``dashboard-gen preview``: a dashboard as a PNG, every panel drawn from real data.

No Grafana is needed: each panel's queries run against the running Prometheus (range queries,
exemplars) and Elasticsearch (the newest log records), with the dashboard's variables
substituted as Grafana would, and matplotlib draws the panels where their ``gridPos`` puts them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from observability.preview.data import Elasticsearch, Prometheus, Unreachable, Window
from observability.preview.draw import draw_dashboard
from observability.preview.fetch import Variables, fetch_panel

__all__ = ["Preview", "Unreachable", "Window", "preview_dashboard", "window_for"]

#: About Grafana's number of points on a wide panel.
POINTS = 120


def window_for(seconds: float, end: float | None = None) -> Window:
    end = time.time() if end is None else end
    return Window(end - seconds, end, max(15.0, round(seconds / POINTS)))


@dataclass(frozen=True)
class Preview:
    path: Path
    panels: int
    empty: tuple[str, ...]


def preview_dashboard(
    dashboard: dict,
    prometheus: Prometheus,
    logs: Elasticsearch,
    window: Window,
    out: Path,
    env: str = ".*",
) -> Preview:
    services = tuple(
        s
        for v in dashboard["templating"]["list"]
        if v["name"] == "service"
        for s in str(v["query"]).split(",")
    )
    variables = Variables(services, env)
    panels = [p for p in dashboard["panels"] if p.get("type") != "row"]
    data = [fetch_panel(p, variables, prometheus, logs, window) for p in panels]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(window.end))
    span = int(window.end - window.start) // 60
    subtitle = f"preview from live data · last {span} min to {stamp} · env {env}"
    path = out / f"{dashboard['uid']}.png"
    drawn = draw_dashboard(dashboard, data, path, subtitle)
    empty = tuple(d.panel.get("title", "") for d in data if d.empty)
    return Preview(path, drawn, empty)
