"""The drills' time-scaled rules: durations divided, everything else untouched."""

from __future__ import annotations

import pytest

from observability.render.provenance import Origin
from observability.render.rules import Rule, RuleFile, RuleGroup
from observability.render.time_scale import duration, scale_expr, scaled, seconds, time_scaled


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5m", 300), ("1h30m", 5400), ("4m59s", 299), ("30d", 2592000), ("1d2h", 93600)],
)
def test_seconds(text: str, expected: int):
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "1.5h"])
def test_a_malformed_duration_is_refused(text: str):
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        seconds(text)


@pytest.mark.parametrize(
    ("total", "expected"), [(0, "0s"), (59, "59s"), (90, "1m30s"), (8640, "2h24m"), (86400, "1d")]
)
def test_duration(total: int, expected: str):
    assert duration(total) == expected


def test_scaling_keeps_one_second_short_windows_short():
    assert scaled("29m59s", 10, 60) == "2m59s"
    assert scaled("1h", 10, 60) == "6m"
    # floors: a rate needs a few scrapes; the floor keeps its one-second-short shape
    assert scaled("5m", 10, 60) == "1m"
    assert scaled("4m59s", 10, 60) == "59s"


def test_ranges_and_subqueries_scale_and_nothing_else_does():
    expr = (
        'sum(rate(x_total{le="0.5", w="[5m]x"}[1h])) > 14.4 * 0.001 and '
        "avg_over_time((y > bool 60)[4m59s:1m]) and max_over_time(z[30m:]) offset 5m"
    )
    assert scale_expr(expr, 10) == (
        'sum(rate(x_total{le="0.5", w="[5m]x"}[6m])) > 14.4 * 0.001 and '
        "avg_over_time((y > bool 60)[59s:15s]) and max_over_time(z[3m:]) offset 5m"
    )


def test_a_rule_file_keeps_its_names_labels_and_thresholds():
    origin = Origin("m", "kind", "name")
    alert = Rule.alerting(
        origin, "Late", "rate(a[10m]) > 0.05", for_="5m", labels={"s": "x"}, annotations={}
    )
    record = Rule.recording(origin, "slo:x:rate5m", "rate(a[5m])", labels={"w": "5m"})
    rule_file = RuleFile("svc", origin, (RuleGroup("g", (record, alert)),))
    scaled_record, scaled_alert = time_scaled(rule_file, 10).rules
    assert scaled_record == Rule.recording(origin, "slo:x:rate5m", "rate(a[1m])", {"w": "5m"})
    assert scaled_alert.expr == "rate(a[1m]) > 0.05" and scaled_alert.for_ == "30s"
    assert (scaled_alert.alert, scaled_alert.labels) == ("Late", alert.labels)
