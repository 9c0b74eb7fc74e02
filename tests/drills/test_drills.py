"""Fire drills on the real local stack (issue 20, item 1): three representative faults (the
broker down, the database down, an SLO's fast burn), each alert raised with the time-scaled
rules, followed to Alertmanager's route, a dashboard panel that shows the anomaly, the fault's
log records through the logs link, a trace of one of them, and its resolution. They stop parts
of the shared stack, so they run with the other faults, after the silence check."""

from __future__ import annotations

import pytest

from services.stack.drills.catalog import drills_named
from services.stack.drills.runner import drilling, run_drill, table

pytestmark = [pytest.mark.stack, pytest.mark.fault]

#: broker down, database down, and the API availability SLO's page (the tracker stopped).
REPRESENTATIVE = ["broker-stopped", "database-stopped", "tracker-stopped"]


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_the_drill_fires_routes_shows_and_resolves(name: str):
    (drill,) = drills_named([name])
    with drilling():
        results = run_drill(drill, say=lambda _line: None)
    assert [r.alert for r in results] == list(drill.alerts)
    assert all(r.ok for r in results), table(results)
