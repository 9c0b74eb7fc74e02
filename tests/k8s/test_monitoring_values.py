"""The kube-prometheus-stack values: the links between data sources close (exemplar -> Jaeger,
trace -> logs), the log fields are the ones the logs carry, the rules and monitors are picked
up, and Alertmanager runs the generated routing tree rather than a hand-written one."""

from __future__ import annotations

import re

import pytest
import yaml

from observability.catalog.correlation import TRACE_ID_EXEMPLAR_LABEL, TRACE_ID_FIELD
from tests.k8s.manifests import K8S, REPO

BASE = K8S / "base" / "monitoring" / "kube-prometheus-stack.values.yaml"
OVERLAY = {
    env: K8S / "overlays" / env / "monitoring" / "kube-prometheus-stack.values.yaml"
    for env in ("dev", "aws")
}


def merged(env: str) -> dict:
    """What `helm -f base -f overlay` sees: maps merged, lists replaced."""

    def merge(left: dict, right: dict) -> dict:
        out = dict(left)
        for key, value in right.items():
            both = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merge(out[key], value) if both else value
        return out

    return merge(yaml.safe_load(BASE.read_text()), yaml.safe_load(OVERLAY[env].read_text()))


DATASOURCES = K8S / "monitoring" / "grafana-datasources.yaml"


def _sources() -> dict[str, dict]:
    """The generated data-source provisioning (the only definition of the data sources)."""
    configmap = yaml.safe_load(DATASOURCES.read_text())
    (provisioning,) = configmap["data"].values()
    return {s["uid"]: s for s in yaml.safe_load(provisioning)["datasources"]}


@pytest.mark.parametrize("env", sorted(OVERLAY))
def test_data_sources_have_one_owner_the_generated_configmap(env: str) -> None:
    values = merged(env)
    assert "additionalDataSources" not in values["grafana"]
    sidecar = values["grafana"]["sidecar"]["datasources"]
    assert sidecar["enabled"] is True
    assert sidecar["defaultDatasourceEnabled"] is False  # no second `prometheus` data source
    assert sidecar["searchNamespace"] == "ALL"
    configmap = yaml.safe_load(DATASOURCES.read_text())
    assert configmap["metadata"]["labels"]["grafana_datasource"] == "1"
    assert "exemplar-storage" in values["prometheus"]["prometheusSpec"]["enableFeatures"]


def test_exemplars_open_jaeger() -> None:
    sources = _sources()
    (link,) = sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert link["name"] == TRACE_ID_EXEMPLAR_LABEL
    jaeger = sources[link["datasourceUid"]]
    assert jaeger["type"] == "jaeger"
    assert jaeger["url"].startswith("http://jaeger.default")


def test_logs_and_traces_link_both_ways() -> None:
    sources = _sources()
    logs = sources["fleet-logs"]
    assert logs["type"] == "elasticsearch"
    assert logs["url"].startswith("http://elasticsearch-logging.logging")
    assert logs["jsonData"]["timeField"] == "@timestamp"
    assert logs["jsonData"]["logMessageField"] == "message"
    assert logs["jsonData"]["logLevelField"] == "log.level"
    assert logs["jsonData"]["dataLinks"][0]["field"] == TRACE_ID_FIELD
    assert logs["jsonData"]["dataLinks"][0]["datasourceUid"] == "jaeger"
    to_logs = sources["jaeger"]["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == "fleet-logs"
    assert to_logs["query"].startswith(f'{TRACE_ID_FIELD}:"')


def test_log_index_is_what_fluent_bit_writes() -> None:
    """Grafana's index pattern matches the Logstash_Prefix of the (generated) Fluent Bit output."""
    conf = (K8S / "overlays" / "aws" / "logging" / "fluent-bit" / "fluent-bit.conf").read_text()
    prefixes = re.findall(r"^\s*Logstash_Prefix\s+(\S+)", conf, flags=re.MULTILINE)
    indices = re.findall(r"^\s*Index\s+(\S+)", conf, flags=re.MULTILINE)
    index = _sources()["fleet-logs"]["jsonData"]["index"]
    assert prefixes or indices, "the es output names no index"
    written = [f"{p}-" for p in prefixes] + indices
    assert any(
        re.fullmatch(index.replace(".", r"\.").replace("*", ".*"), w + "2030.01.01")
        or re.fullmatch(index.replace("*", ".*"), w)
        for w in written
    ), (index, written)


@pytest.mark.parametrize("env", sorted(OVERLAY))
def test_dashboards_and_rules_are_picked_up(env: str) -> None:
    values = merged(env)
    dashboards = values["grafana"]["sidecar"]["dashboards"]
    assert (dashboards["label"], dashboards["labelValue"]) == ("grafana_dashboard", "1")
    assert dashboards["searchNamespace"] == "ALL"
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is True  # release label selects


def test_alertmanager_uses_the_generated_config() -> None:
    values = merged("aws")
    spec = values["alertmanager"]["alertmanagerSpec"]
    assert spec["useExistingSecret"] is True
    assert "config" not in values["alertmanager"], "no hand-written routing tree"
    readme = (K8S / "README.md").read_text()
    command = (
        f"create secret generic {spec['configSecret']}"
        " --from-file=alertmanager.yaml=alerts/alertmanager.yml"
    )
    assert command in readme
    assert (REPO / "alerts" / "alertmanager.yml").is_file()


@pytest.mark.parametrize("env", sorted(OVERLAY))
def test_no_secret_values(env: str) -> None:
    text = BASE.read_text() + OVERLAY[env].read_text()
    assert not re.search(r"(?i)^\s*(adminPassword|password|api_key|token)\s*:", text, re.M)
