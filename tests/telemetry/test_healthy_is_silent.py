"""Healthy means silent (issue 20, item 2): the test suite's normal traffic raises no alert on
the shared local stack. It runs after every other test but those that stop or break the stack
on purpose (marked ``fault``, run after it), and reads the real Prometheus: an alert firing or
pending that became active during this session fails it, with its labels and value. On a stack
that raised alerts in the 3 days before the session (an earlier session's faults, even with the
stack down in between), it skips: the SLO windows still hold those errors, so silence cannot be
judged there; CI's stack is fresh.

What it catches: a counter that stops moving (``PositionsNotStored`` pending as positions are
published and none stored), a moment from the wrong clock (``PositionDataStale``), an error path
the suite's traffic takes (``ApiAvailabilityBudgetBurn``), a rule that is wrong on healthy data.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import httpx
import pytest

from services.stack import api

pytestmark = [pytest.mark.stack, pytest.mark.silence]
#: Prometheus evaluates the rules every 15 s: one more round sees the newest samples.
EVALUATION_S = 15


def _active_at(alert: dict) -> float:
    # RFC 3339 with nanoseconds: Python reads microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", alert["activeAt"]).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


def _shown(alert: dict) -> str:
    labels = {k: v for k, v in alert["labels"].items() if k != "alertname"}
    return f"{alert['labels']['alertname']} {alert['state']} {labels} value={alert['value']}"


def test_the_suites_normal_traffic_raised_no_alert(session_started: float, recent_alerts: set[str]):
    if recent_alerts:
        pytest.skip(
            f"the stack raised {', '.join(sorted(recent_alerts))} within the SLO windows before this session "
            "(an earlier session's faults, which the SLO windows still hold): silence can only "
            "be judged on a stack without recent faults, as CI's fresh one"
        )
    time.sleep(EVALUATION_S + 5)
    answer = httpx.get(f"{api.PROMETHEUS_URL}/api/v1/alerts", timeout=10)
    answer.raise_for_status()
    alerts = answer.json()["data"]["alerts"]
    raised = [a for a in alerts if _active_at(a) >= session_started]
    assert [_shown(a) for a in raised] == []
