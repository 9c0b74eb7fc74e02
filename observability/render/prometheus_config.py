"""The local Prometheus configuration (``make up``): scrape every service, load the rules.

``env="local"`` is a target label, added at scrape time, so rules and dashboards see it (an
external label would only show on federation and alerts). Prometheus 2.42 asks targets for
OpenMetrics first in its Accept header (``scrape_protocols`` only came in 2.49), which is what
carries exemplars; ``--enable-feature=exemplar-storage`` (set by the stack) keeps them.
"""

from __future__ import annotations

import posixpath

from observability.catalog.correlation import ENVIRONMENT_LABEL
from observability.catalog.service import Platform
from observability.config import OUTPUTS, Config
from observability.render.provenance import header
from observability.render.yamltext import dump

PATH = OUTPUTS["prometheus-config"]
RULES_DIR = OUTPUTS["rules"]
HOST = "127.0.0.1"
LOCAL_ENV = "local"
#: Prometheus and Alertmanager scrape themselves too (their ``up`` is on the allow-list).
SELF_TARGETS = {"prometheus": 9090, "alertmanager": 9093}


def _job(name: str, port: int) -> dict[str, object]:
    return {
        "job_name": name,
        "metrics_path": "/metrics",
        "static_configs": [
            {"targets": [f"{HOST}:{port}"], "labels": {ENVIRONMENT_LABEL: LOCAL_ENV}}
        ],
    }


def rule_files_glob(config: Config | None) -> str:
    """The rule files as Prometheus finds them: relative to this file's folder, wherever the
    configuration puts each (``rules/*.yml`` by default)."""
    if config is None:
        return "rules/*.yml"
    rules = config.output_path(RULES_DIR)
    here = posixpath.dirname(config.output_path(PATH))
    return posixpath.join(posixpath.relpath(rules, here or "."), "*.yml")


def prometheus_config(platform: Platform, config: Config | None = None) -> dict[str, object]:
    scraped = sorted((s.name, s.metrics_port) for s in platform.alert_owners if s.metrics_port)
    jobs = [_job(name, port) for name, port in scraped if port is not None]
    jobs += [_job(name, port) for name, port in SELF_TARGETS.items()]
    return {
        "global": {"scrape_interval": "15s", "scrape_timeout": "10s", "evaluation_interval": "15s"},
        "rule_files": [rule_files_glob(config)],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"{HOST}:{SELF_TARGETS['alertmanager']}"]}]}
            ]
        },
        "scrape_configs": jobs,
    }


def render_prometheus_config(platform: Platform, config: Config | None = None) -> str:
    modules = {s.source.module for s in platform.alert_owners if s.metrics_port}
    return dump(prometheus_config(platform, config), header=header(modules))
