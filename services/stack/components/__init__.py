"""The components of the local stack, in start order (infrastructure first, then services)."""

from __future__ import annotations

from services.stack.components.activemq import ActiveMQ
from services.stack.components.base import Component, Context, Program
from services.stack.components.elasticsearch import Elasticsearch
from services.stack.components.ferretdb import FerretDB
from services.stack.components.fleet import fleet_services
from services.stack.components.nginx import Nginx
from services.stack.components.otelcol import OtelCollector
from services.stack.components.prometheus import Alertmanager, Prometheus
from services.stack.paths import StackPaths

__all__ = ["Component", "Context", "Program", "all_components", "infrastructure_names"]


def all_components(paths: StackPaths | None = None) -> list[Component]:
    """Every component, declared in start order (ports are read from the env at this call;
    the number of each fleet service's instances from the stack's folder)."""
    return [
        ActiveMQ(),
        FerretDB(),
        Elasticsearch(),
        Prometheus(),
        Alertmanager(),
        OtelCollector(),
        Nginx(),
        *fleet_services(paths),
    ]


def infrastructure_names() -> list[str]:
    return [c.name for c in all_components() if c.infrastructure]
