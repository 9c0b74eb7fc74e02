"""The window table is data and the factors are maths: 14.4/6/3/1 for 30 days, as Sloth."""

from __future__ import annotations

import pytest

from observability.diagnostics import CatalogError
from observability.slo.durations import format_duration, minutes, parse_duration
from observability.slo.model import SLOModel, number, service_slo_models
from observability.slo.windows import alert_windows, known_alert_windows, parse_alert_windows
from tests.dashboard_gen import shop


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # (page quick, page slow, ticket quick, ticket slow): Sloth's google-30d / google-28d.
        (30, ("14.4", "6", "3", "1")),
        (28, ("13.44", "5.6", "2.8", "0.933333333333")),
    ],
)
def test_burn_rate_factors_are_computed_from_the_period(period, expected):
    table = alert_windows(period)
    factors = tuple(number(w.factor(table.period)) for w in table.all_windows)
    assert factors == expected


def test_the_windows_of_the_google_tables():
    table = alert_windows(30)
    pairs = [(w.budget_percent, w.long, w.short) for w in table.all_windows]
    assert pairs == [(2, "1h", "5m"), (5, "6h", "30m"), (10, "1d", "2h"), (10, "3d", "6h")]
    assert table.page.severity == "critical" and table.ticket.severity == "warning"
    assert table.sli_windows() == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    assert sorted(known_alert_windows()) == ["28d", "30d"]


def test_an_unknown_period_names_the_slo():
    slo = shop.AVAILABILITY.__class__(**{**shop.AVAILABILITY.__dict__, "period_days": 7})
    with pytest.raises(CatalogError) as caught:
        service_slo_models(shop.shop(slos=(slo,)))
    (problem,) = caught.value.problems
    assert "no alert windows for a 7d SLO period (known: 28d, 30d)" in problem.message
    assert problem.source == shop.AVAILABILITY.source


def test_a_broken_table_is_refused():
    text = (
        "kind: AlertWindows\nspec:\n  sloPeriod: 30d\n"
        "  page:\n    quick: {errorBudgetPercent: 2, shortWindow: 1h, longWindow: 5m}\n"
        "    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 6h}\n"
        "  ticket:\n    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}\n"
        "    slow: {errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d}\n"
    )
    assert parse_alert_windows(text).problems() == ["windows 1h/5m must be short < long <= 30d"]


@pytest.mark.parametrize(
    ("objective", "absent_for"),
    [(0.999, "1m"), (0.99, "9m"), (0.95, "43m")],  # 14.4 x budget x 1h, to the minute
)
def test_absent_alert_waits_as_long_as_a_total_outage_takes_to_page(objective, absent_for):
    slo = shop.AVAILABILITY.__class__(**{**shop.AVAILABILITY.__dict__, "objective": objective})
    model = SLOModel(shop.shop(), slo, alert_windows(30))
    assert model.absent_for() == absent_for


def test_thresholds_and_exhaustion():
    model = SLOModel(shop.shop(), shop.AVAILABILITY, alert_windows(30))
    assert model.error_budget == 0.001
    assert [number(model.threshold(w)) for w in model.windows.all_windows] == [
        "0.0144",
        "0.006",
        "0.003",
        "0.001",
    ]
    assert model.exhaustion_days(model.windows.page) == 5
    assert model.exhaustion_days(model.windows.ticket) == 30


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("3d", 259200), ("1w", 604800), ("90s", 90)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


def test_duration_errors():
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration("5 minutes")
    with pytest.raises(ValueError, match="whole number of minutes"):
        minutes("90s")
    assert format_duration(10 * 86400) == "10d"
