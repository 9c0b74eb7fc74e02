"""A ``monitoring.coreos.com/v1`` ServiceMonitor per scraped service.

``jobLabel: app.kubernetes.io/name`` makes the Prometheus ``job`` label the service name on
Kubernetes too, so one rule file serves both. ``env`` comes from the Service's
``fleetman.dev/env`` label (an overlay sets it), ``kubernetes`` when the label is missing.
"""

from __future__ import annotations

from observability.catalog.correlation import ENVIRONMENT_LABEL
from observability.catalog.service import ServiceCatalog
from observability.render.kube import manifest_path, metadata
from observability.render.provenance import header, of_service
from observability.render.yamltext import dump

NAME_LABEL = "app.kubernetes.io/name"
#: The Service label an overlay sets to name the environment (``dev``, ``aws``).
ENV_SERVICE_LABEL = "fleetman.dev/env"
DEFAULT_ENV = "kubernetes"
PORT_NAME = "http"
SCRAPE_INTERVAL = "15s"


def _meta_label(label: str) -> str:
    """Kubernetes service discovery's meta label for a Service label."""
    return "__meta_kubernetes_service_label_" + "".join(c if c.isalnum() else "_" for c in label)


def service_monitor_path(service: ServiceCatalog) -> str:
    return manifest_path(f"{service.name}-servicemonitor")


def service_monitor(service: ServiceCatalog) -> dict[str, object]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": metadata(service.name, service.name, of_service(service)),
        "spec": {
            "jobLabel": NAME_LABEL,
            "selector": {"matchLabels": {NAME_LABEL: service.name}},
            "endpoints": [
                {
                    "port": PORT_NAME,
                    "path": "/metrics",
                    "scheme": "http",
                    "interval": SCRAPE_INTERVAL,
                    "relabelings": [
                        {
                            "action": "replace",
                            "targetLabel": ENVIRONMENT_LABEL,
                            "replacement": DEFAULT_ENV,
                        },
                        {
                            "action": "replace",
                            "sourceLabels": [_meta_label(ENV_SERVICE_LABEL)],
                            "regex": "(.+)",
                            "targetLabel": ENVIRONMENT_LABEL,
                            "replacement": "$1",
                        },
                    ],
                }
            ],
        },
    }


def render_service_monitor(service: ServiceCatalog) -> str:
    return dump(service_monitor(service), header=header({service.source.module}))
