"""Grafana's data sources and dashboard provider, generated: the one owner of the wiring.

Three data sources whose uids the dashboards' variables default to and the links name:
Prometheus (an exemplar's ``trace_id`` opens the trace), Elasticsearch (the logs; a record's
``trace.id`` opens the trace) and Jaeger (a span opens the logs of its trace id). Written twice:
``dashboards/provisioning`` for a Grafana next to the local stack, and a ConfigMap labelled for
the kube-prometheus-stack sidecar with the in-cluster URLs.
"""

from __future__ import annotations

from observability.catalog.correlation import (
    GRAFANA_LOGS_UID,
    GRAFANA_PROMETHEUS_UID,
    GRAFANA_TRACES_UID,
    LOG_INDEX_PREFIX,
    TRACE_ID_EXEMPLAR_LABEL,
    TRACE_ID_FIELD,
)
from observability.config import Config
from observability.render.grafana.files import DASHBOARD_DIR
from observability.render.kube import manifest_path
from observability.render.provenance import ANNOTATION, header
from observability.render.yamltext import dump

DATASOURCES_PATH = "dashboards/provisioning/datasources.yaml"
PROVIDER_PATH = "dashboards/provisioning/dashboards.yaml"
DATASOURCES_CONFIGMAP = manifest_path("grafana-datasources")
#: The kube-prometheus-stack Grafana sidecar loads data sources from ConfigMaps with this label.
DATASOURCE_LABEL = {"grafana_datasource": "1"}
_HOW = "dashboard-gen generate"
#: The module declaring every uid, index and field name the data sources wire together.
_MODULES = frozenset({"observability.catalog.correlation"})


def datasources(prometheus: str, elasticsearch: str, jaeger: str, interval: str) -> list[dict]:
    """The three data sources, pointing at these URLs."""
    trace_link = {
        "datasourceUid": GRAFANA_TRACES_UID,
        "field": TRACE_ID_FIELD,
        "url": "${__value.raw}",
    }
    return [
        {
            "name": "Prometheus",
            "uid": GRAFANA_PROMETHEUS_UID,
            "type": "prometheus",
            "access": "proxy",
            "url": prometheus,
            "isDefault": True,
            "editable": False,
            "jsonData": {
                "timeInterval": interval,
                "httpMethod": "POST",
                "exemplarTraceIdDestinations": [
                    {"name": TRACE_ID_EXEMPLAR_LABEL, "datasourceUid": GRAFANA_TRACES_UID}
                ],
            },
        },
        {
            "name": "Fleet logs",
            "uid": GRAFANA_LOGS_UID,
            "type": "elasticsearch",
            "access": "proxy",
            "url": elasticsearch,
            "editable": False,
            "jsonData": {
                "index": f"{LOG_INDEX_PREFIX}*",
                "timeField": "@timestamp",
                "logMessageField": "message",
                "logLevelField": "log.level",
                "maxConcurrentShardRequests": 5,
                "dataLinks": [trace_link],
            },
        },
        {
            "name": "Jaeger",
            "uid": GRAFANA_TRACES_UID,
            "type": "jaeger",
            "access": "proxy",
            "url": jaeger,
            "editable": False,
            "jsonData": {
                "tracesToLogsV2": {
                    "datasourceUid": GRAFANA_LOGS_UID,
                    "spanStartTimeShift": "-5m",
                    "spanEndTimeShift": "5m",
                    "filterByTraceID": False,
                    "filterBySpanID": False,
                    "customQuery": True,
                    "query": f'{TRACE_ID_FIELD}:"${{__trace.traceId}}"',
                },
            },
        },
    ]


def _datasources_file(sources: list[dict]) -> dict[str, object]:
    return {"apiVersion": 1, "prune": True, "datasources": sources}


def local_datasources(config: Config) -> str:
    sources = datasources(
        config.prometheus_url, config.elasticsearch_url, config.jaeger_url, config.scrape_interval
    )
    return dump(_datasources_file(sources), header=header(_MODULES, _HOW))


def k8s_datasources(config: Config) -> str:
    sources = datasources(
        config.k8s_prometheus_url,
        config.k8s_elasticsearch_url,
        config.k8s_jaeger_url,
        config.scrape_interval,
    )
    body = dump(_datasources_file(sources))
    data = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "grafana-datasources",
            "labels": {
                "app.kubernetes.io/managed-by": "dashboard-gen",
                "app.kubernetes.io/part-of": "fleetman",
                **DATASOURCE_LABEL,
            },
            # The names they wire together are declared there.
            "annotations": {ANNOTATION: "observability.catalog.correlation module correlation"},
        },
        "data": {"fleetman-datasources.yaml": body},
    }
    return dump(data, header=header(_MODULES, _HOW))


def dashboard_provider(config: Config) -> str:
    """Grafana loads every JSON under the dashboards' folder (``dashboards/grafana`` unless the
    configuration moves it; relative to the project root: run Grafana from there, or mount the
    folder at that path)."""
    data = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "fleetman",
                "orgId": 1,
                "folder": "Fleet",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {
                    "path": config.output_path(DASHBOARD_DIR),
                    "foldersFromFilesStructure": False,
                },
            }
        ],
    }
    return dump(data, header=header(_MODULES, _HOW))


def provisioning_files(config: Config) -> dict[str, str]:
    return {DATASOURCES_PATH: local_datasources(config), PROVIDER_PATH: dashboard_provider(config)}
