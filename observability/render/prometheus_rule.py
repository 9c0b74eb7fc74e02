"""A service's rules wrapped as a ``monitoring.coreos.com/v1`` PrometheusRule."""

from __future__ import annotations

from observability.render.kube import manifest_path, metadata
from observability.render.provenance import header
from observability.render.rules import RuleFile
from observability.render.yamltext import dump


def prometheus_rule_name(rule_file: RuleFile) -> str:
    return f"{rule_file.service}-rules"


def prometheus_rule_path(rule_file: RuleFile) -> str:
    return manifest_path(prometheus_rule_name(rule_file))


def prometheus_rule(rule_file: RuleFile) -> dict[str, object]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata(prometheus_rule_name(rule_file), rule_file.service, rule_file.origin),
        "spec": {"groups": [g.as_data() for g in rule_file.groups]},
    }


def render_prometheus_rule(rule_file: RuleFile) -> str:
    return dump(prometheus_rule(rule_file), header=header(rule_file.modules))
