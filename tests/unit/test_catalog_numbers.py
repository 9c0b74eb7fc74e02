"""Text from numbers (issue 20, item 4): free text may only state the numbers the catalog
computes. Each case is a real edit of a project definition that used to pass silently."""

from __future__ import annotations

from dataclasses import replace

from observability.catalog.numbers import alert_number_problems, slo_number_problems
from observability.catalog.validate import platform_problems
from observability.config import load_platform
from services.api_gateway.telemetry import API_AVAILABILITY, API_LATENCY
from services.position_tracker.telemetry import CATALOG as TRACKER


def test_an_objective_changed_without_its_text_is_invalid():
    problems = list(slo_number_problems(replace(API_AVAILABILITY, objective=0.995)))
    assert problems == [
        "SLO api-availability: its description states 99.9% but the catalog computes "
        "0.5%, 99.5% (objective, error budget)"
    ]


def test_a_latency_threshold_changed_without_its_text_is_invalid():
    problems = list(
        slo_number_problems(
            replace(API_LATENCY, sli=replace(API_LATENCY.sli, threshold_seconds=0.5))
        )
    )
    assert problems == [
        "SLO api-latency: its description states 250 ms but its latency threshold is 500 ms"
    ]


def test_an_alert_threshold_changed_without_its_summary_is_invalid():
    alert = next(a for a in TRACKER.alerts if a.name == "BrokerStoreFillingUp")
    moved = replace(alert, expr=alert.expr.replace("> 0.8", "> 0.9"))
    assert list(alert_number_problems(moved)) == [
        "alert BrokerStoreFillingUp: its summary states 80% but its expression compares with "
        "0.9 (90%)"
    ]
    assert list(alert_number_problems(alert)) == []


def test_the_error_budget_may_be_stated_and_numbers_in_words_are_not_read():
    budget = replace(API_AVAILABILITY, runbook="The budget is 0.1% of requests; 3 steps.")
    assert list(slo_number_problems(budget)) == []


def test_the_project_states_only_computed_numbers():
    assert [p for p in platform_problems(load_platform()) if "states" in p.message] == []
