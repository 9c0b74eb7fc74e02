"""The generated promtool tests: expectations from the window table, synthetic series from the
catalog. (That promtool passes them is in test_tools.)"""

from __future__ import annotations

import pytest

from observability.catalog.service import Platform
from observability.slo.model import SLOModel, service_slo_models, slo_models
from observability.testgen.cases import ScenarioError, slo_cases
from observability.testgen.expected import Burst, firing, late, window_error_ratio
from observability.testgen.series import counter_values, gauge_values, scenario_series
from observability.testgen.slo_tests import expand
from tests.dashboard_gen import shop


def model(name: str) -> SLOModel:
    return next(m for m in service_slo_models(shop.shop()) if m.slo.name == name)


@pytest.mark.parametrize(
    ("burst", "window", "ratio"),
    [
        (Burst(60, 0.02), "5m", 0.02),
        (Burst(60, 0.02), "1h", 0.02),
        (Burst(60, 0.02), "6h", 0.02 / 6),
        (Burst(5, 0.12), "1h", 0.01),
        (Burst(0, 0.0), "3d", 0.0),
    ],
)
def test_events_window_ratio(burst, window, ratio):
    assert window_error_ratio(model("orders"), burst, window) == pytest.approx(ratio)


def test_freshness_late_slices():
    sli = model("freshness").slo.sli
    frozen = Burst(5)  # updates stop 5 minutes before T: ages 0..5 min at x = 5..0
    assert [late(sli, frozen, x) for x in range(7)] == [True] * 4 + [False] * 3
    spread = Burst(20, every=7)  # two updates missed every 7 minutes: one late slice each time
    assert [x for x in range(25) if late(sli, spread, x)] == [0, 7, 14]
    # 5 slices, not 6: the SLI's ranges stop a second short (Prometheus 2 and 3 then agree)
    assert window_error_ratio(model("freshness"), frozen, "5m") == 4 / 5


@pytest.mark.parametrize(
    ("burst", "fires"),
    [
        (Burst(60, 0.0144 * 1.05), ["page"]),  # page quick only: 6h sees a sixth of it
        (Burst(60, 0.0144 * 0.95), []),
        (Burst(5, 0.1), []),  # 5m over 0.0144, but 1h sees 0.1 / 12 = 0.0083: no page
        (Burst(4320, 0.0105), ["page", "ticket"]),  # 10.5x the budget everywhere
        (Burst(4320, 0.00105), ["ticket"]),
    ],
)
def test_which_severities_fire(burst, fires):
    assert [s.sloth_severity for s in firing(model("orders"), burst)] == fires


def test_every_slo_gets_both_sides_of_each_threshold_and_the_and(repo_platform: Platform):
    for m in slo_models(repo_platform):
        cases = slo_cases(m)
        assert len(cases) == 1 + 8 + 4
        fired = {c.name.split(": ", 1)[1]: [s.sloth_severity for s in c.fires] for c in cases}
        for name, severities in fired.items():
            if "just above" in name:
                assert severities == [name.split()[0]], name
            else:  # just below, only the short window, or no errors at all: nothing fires
                assert severities == [], name


def test_an_objective_whose_alert_cannot_fire_is_refused():
    slo = shop.AVAILABILITY.__class__(**{**shop.AVAILABILITY.__dict__, "objective": 0.9})
    (weak,) = service_slo_models(shop.shop(slos=(slo,)))
    with pytest.raises(ScenarioError, match="cannot be exceeded"):
        slo_cases(weak)


def test_series_of_an_events_slo_with_exclusions():
    series = [s.as_dict() for s in scenario_series(model("orders"), Burst(60, 0.01))]
    assert [s["series"] for s in series] == [
        'shop_orders_placed_total{instance="127.0.0.1:9000",job="shop"}',
        'shop_orders_received_total{channel="web",instance="127.0.0.1:9000",job="shop"}',
        'shop_orders_rejected_total{instance="127.0.0.1:9000",job="shop"}',
    ]
    # 1-minute samples (a 5m rate needs two on Prometheus 3): 1000 valid and 10 excluded events
    # a minute; 1% fail in the last hour.
    assert series[0]["values"] == "0+1000x4320 4320990+990x59"
    assert series[1]["values"] == "0+1010x4320 4364210+1010x59"


def test_series_where_good_is_a_subset_of_total(repo_platform: Platform):
    availability = next(m for m in slo_models(repo_platform) if m.slo.name == "api-availability")
    good, bad = (s.as_dict()["series"] for s in scenario_series(availability, Burst(60, 0.01)))
    assert 'route="/api/vehicles"' in good and 'status_class="1xx"' in good
    assert 'route="/api/vehicles"' in bad and 'status_class="5xx"' in bad


def test_latency_series_use_the_threshold_bucket():
    bucket, count = (
        s.as_dict()["series"] for s in scenario_series(model("latency"), Burst(0, 0.0))
    )
    assert bucket.startswith(
        'http_server_request_duration_seconds_bucket{instance="127.0.0.1:9000"'
    )
    assert 'le="0.25"' in bucket and 'route="/api/orders"' in bucket
    assert count.startswith("http_server_request_duration_seconds_count{") and "le=" not in count


def test_value_notation():
    assert counter_values(10, 9, samples=5, burst_samples=2) == "0+10x3 39+9x1"
    assert counter_values(10, 9, samples=5, burst_samples=0) == "0+10x5"
    sli = model("freshness").slo.sli
    assert gauge_values(sli, Burst(2), 4) == "0+60x2 120+0x1"


def test_expand_only_what_it_can_predict():
    assert expand("{{ $labels.job }} is {{$labels.x}}.", {"job": "shop"}) == "shop is ."
    with pytest.raises(ScenarioError, match="cannot predict"):
        expand("{{ $value }}", {})
