"""Metrics our rules and dashboards may use that no service of ours emits: an explicit allow-list."""

from __future__ import annotations

from observability.catalog.service import ExternalMetric

_TARGET = ("job", "instance", "env")

EXTERNAL_METRICS = (
    ExternalMetric("up", _TARGET, "Prometheus (one series per scrape target)"),
    ExternalMetric("scrape_duration_seconds", _TARGET, "Prometheus (one series per scrape target)"),
    ExternalMetric(
        "ALERTS",
        (
            "alertname",
            "alertstate",
            "severity",
            "job",
            "env",
            "sloth_id",
            "sloth_service",
            "sloth_slo",
            "sloth_severity",
        ),
        "Prometheus (firing and pending alerts)",
    ),
)
