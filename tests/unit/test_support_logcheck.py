"""The test support's log check says which record broke the schema and how."""

from __future__ import annotations

import json

from services.position_tracker.telemetry import CATALOG
from tests.support.logcheck import schema_violations

GOOD = {
    "@timestamp": "2026-12-02T10:00:00.000Z",
    "log.level": "info",
    "log.logger": "position_tracker.ingest",
    "message": "stored 1 positions (0 already stored)",
    "service.name": "position-tracker",
    "service.version": "0.1.0",
    "ecs.version": "8.11.0",
}


def test_a_conforming_record_is_fine():
    assert schema_violations(CATALOG, [json.dumps(GOOD)]) == []


def test_a_violation_names_the_line_and_the_field():
    bad = json.dumps(GOOD | {"vehicle.nmae": "typo"})
    (problem,) = schema_violations(CATALOG, [json.dumps(GOOD), bad])
    assert problem.startswith("line 2: ")
    assert "vehicle.nmae" in problem
