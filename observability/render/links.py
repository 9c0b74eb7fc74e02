"""Where alerts link to: dashboards (fixed UIDs) and runbooks. The one place UIDs are made."""

from __future__ import annotations

from observability.catalog.service import Platform
from observability.config import Config

#: The key of the platform-wide dashboard; every other dashboard is keyed by its service name.
OVERVIEW = "overview"
RUNBOOK_DIR = "alerts/runbooks"


def dashboard_uid(key: str) -> str:
    """The stable UID of a dashboard: ``fleet-overview``, ``fleet-position-tracker``..."""
    return f"fleet-{key}"


def dashboard_keys(platform: Platform) -> tuple[str, ...]:
    """Every dashboard the platform has: the overview, one per service, one per component
    with panels."""
    components = (c.name for c in platform.components if c.panels)
    return (OVERVIEW, *(s.name for s in platform.services), *components)


def dashboard_url(config: Config, key: str) -> str:
    return f"{config.grafana_url.rstrip('/')}/d/{dashboard_uid(key)}"


def runbook_path(alert_name: str) -> str:
    """The runbook's path in the repository, relative to its root."""
    return f"{RUNBOOK_DIR}/{alert_name}.md"


def runbook_url(config: Config, alert_name: str) -> str:
    return f"{config.runbook_url.rstrip('/')}/{alert_name}.md"
