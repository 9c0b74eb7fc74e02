"""The dashboards' template variables, and their substitution (for checks, tests and previews).

Every dashboard has the same five: the three data sources (``$prometheus``, ``$logs``,
``$traces``), the environment (``$env``, a Prometheus label) and the service (``$service``, the
``job`` label and the logs' ``service.name``). Grafana's own ``$__rate_interval`` is
substituted too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from observability.catalog.correlation import (
    GRAFANA_LOGS_UID,
    GRAFANA_PROMETHEUS_UID,
    GRAFANA_TRACES_UID,
)

PROMETHEUS = "prometheus"
LOGS = "logs"
TRACES = "traces"
ENV = "env"
SERVICE = "service"
#: What ``$__rate_interval`` is replaced by outside Grafana (four 15 s scrapes).
RATE_INTERVAL = "1m"

_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")


def ref(name: str) -> str:
    """How a variable is written in a query or a data-source reference: ``${name}``."""
    return f"${{{name}}}"


#: Each data-source variable: the plugin it lists, and the provisioned uid it defaults to.
DATASOURCES = {
    PROMETHEUS: ("prometheus", GRAFANA_PROMETHEUS_UID),
    LOGS: ("elasticsearch", GRAFANA_LOGS_UID),
    TRACES: ("jaeger", GRAFANA_TRACES_UID),
}


def datasource(plugin: str) -> dict[str, str]:
    """A panel's or target's data source: always a variable, never a hard-coded uid."""
    variable = next(name for name, (p, _) in DATASOURCES.items() if p == plugin)
    return {"type": plugin, "uid": ref(variable)}


def used_variables(text: str) -> set[str]:
    return {a or b or c for a, b, c in _VARIABLE.findall(text)}


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every known variable replaced (unknown ones are left as they are)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return values.get(name, match.group(0))

    return _VARIABLE.sub(replace, text)


def values_for(services: tuple[str, ...], env: str = ".*") -> dict[str, str]:
    """Values that make every query concrete: ``services`` joined as a regex when several."""
    return {
        "__rate_interval": RATE_INTERVAL,
        "__interval": RATE_INTERVAL,
        ENV: env,
        SERVICE: "|".join(services),
        **{name: uid for name, (_, uid) in DATASOURCES.items()},
    }
