"""The catalog's own rules name the definition at fault."""

from __future__ import annotations

import pytest

from observability.catalog import Label, Metric, MetricKind, Platform, ServiceCatalog, Unit
from observability.catalog.common import BASE_LOG_SCHEMA
from observability.catalog.validate import metric_problems, platform_problems
from observability.config import load_platform


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (Metric("a_b", MetricKind.COUNTER, "h"), "counter names end in _total"),
        (Metric("a_total", MetricKind.GAUGE, "h"), "only counters end in _total"),
        (Metric("a_latency_milliseconds", MetricKind.GAUGE, "h"), "base unit 'seconds'"),
        (
            Metric("a_duration", MetricKind.GAUGE, "h", unit=Unit.SECONDS),
            "must be the name's suffix",
        ),
        (Metric("a_duration_seconds", MetricKind.GAUGE, "h"), "unit is not declared"),
        (
            Metric("a_seconds", MetricKind.HISTOGRAM, "h", unit=Unit.SECONDS),
            "declare their buckets",
        ),
        (
            Metric("a_total", MetricKind.COUNTER, "h", labels=(Label("vehicle", "v"),)),
            "label 'vehicle' is unbounded",
        ),
        (
            Metric("a_total", MetricKind.COUNTER, "h", labels=(Label("le", "v", ("x",)),)),
            "reserved",
        ),
        (Metric("A-b", MetricKind.GAUGE, "h"), "lower snake_case"),
        (Metric("a_b", MetricKind.GAUGE, " "), "help text is empty"),
    ],
)
def test_metric_rules(metric, expected):
    messages = [p.message for p in metric_problems(metric)]
    assert any(expected in m for m in messages), messages
    assert all(p.source.module == __name__ for p in metric_problems(metric))


def test_good_metric_has_no_problem():
    metric = Metric(
        "a_request_duration_seconds", MetricKind.HISTOGRAM, "h", Unit.SECONDS, buckets=(1.0,)
    )
    assert list(metric_problems(metric)) == []


def test_conflicting_declarations_across_services():
    one = ServiceCatalog("one", "d", (Metric("x_total", MetricKind.COUNTER, "h"),), BASE_LOG_SCHEMA)
    two = ServiceCatalog(
        "two", "d", (Metric("x_total", MetricKind.COUNTER, "h", exemplars=True),), BASE_LOG_SCHEMA
    )
    messages = [p.message for p in platform_problems(Platform((one, two)))]
    assert any("declared differently" in m for m in messages)


def test_the_project_catalogs_are_valid():
    platform = load_platform()
    assert {s.name for s in platform.services} >= {
        "position-tracker",
        "api-gateway",
        "position-simulator",
    }
    assert platform_problems(platform) == []
