"""The drill catalog covers every alert, and the report says what failed."""

from __future__ import annotations

import pytest

from observability.config import load_platform
from services.stack.api import StackError
from services.stack.drills.catalog import DRILLS, NOT_DRILLED, drills_named
from services.stack.drills.runner import DrillResult, table


def test_the_table_has_a_row_per_alert_and_says_what_failed():
    good = DrillResult(
        "DatabaseDown", "database-stopped", 85, "pager", "'Database up': 1 → 0", 42,
        "615a6159aaaaaaaaaaaa", 30,
    )  # fmt: skip
    untraced = DrillResult("ApiGatewayDown", "gateway-stopped", 20, "pager", "x", 3, "n/a: why")
    bad = DrillResult("SimulatorBrokerDisconnected", "broker-stopped", failures=["did not fire"])
    lines = table([good, untraced, bad]).splitlines()
    assert lines[2] == (
        "| database-stopped | DatabaseDown | 85 s | pager | 'Database up': 1 → 0 | 42 records "
        "| 615a6159aaaaaaaa | 30 s | ok |"
    )
    assert "| 3 records | n/a: why | - | ok |" in lines[3]
    assert lines[4].endswith("| - | FAILED: did not fire |")


def _every_alert() -> set[str]:
    platform = load_platform()
    alerts = {a.name for o in platform.alert_owners for a in o.alerts}
    return alerts | {slo.alert_name for s in platform.services for slo in s.slos}


def test_every_symptom_alert_and_slo_page_is_drilled_or_says_why_not():
    drilled = [a for d in DRILLS for a in d.alerts]
    slo_absent = {a for a in drilled if a.endswith("SLIAbsent")}
    assert len(drilled) == len(set(drilled)), "an alert is in two drills"
    assert not set(drilled) & set(NOT_DRILLED)
    assert (set(drilled) - slo_absent) | set(NOT_DRILLED) == _every_alert()


def test_drills_are_chosen_by_name_or_by_alert_and_unknown_names_are_refused():
    assert [d.name for d in drills_named(["DatabaseDown", "broker-stopped"])] == [
        "database-stopped",
        "broker-stopped",
    ]
    assert drills_named([]) == list(DRILLS)
    with pytest.raises(StackError, match="no drill named Nope"):
        drills_named(["Nope"])
