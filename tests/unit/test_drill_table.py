"""The drill report: one row per drill, the failures spelled out; an unknown alert named."""

from __future__ import annotations

import pytest

from services.stack.api import StackError
from services.stack.drills.catalog import DRILLS, drill_named
from services.stack.drills.runner import DrillResult, table


def test_the_table_has_a_row_per_drill_and_says_what_failed():
    good = DrillResult("DatabaseDown", 85, "pager", "'Database up': 1 → 0", 42, "615a6159", 30)
    bad = DrillResult("SimulatorBrokerDisconnected", failures=["did not fire within 420 s"])
    lines = table([good, bad]).splitlines()
    assert lines[2] == (
        "| DatabaseDown | 85 s | pager | 'Database up': 1 → 0 | 42 records | 615a6159 | 30 s | ok |"
    )
    assert lines[3].endswith("| - | FAILED: did not fire within 420 s |")


def test_every_drill_is_for_an_alert_of_the_rules_and_unknown_names_are_refused():
    from observability.config import load_platform

    platform = load_platform()
    alerts = {a.name for o in platform.alert_owners for a in o.alerts}
    alerts |= {slo.alert_name for s in platform.services for slo in s.slos}
    assert {d.alert for d in DRILLS} <= alerts
    with pytest.raises(StackError, match="no drill for alert 'Nope'"):
        drill_named("Nope")
