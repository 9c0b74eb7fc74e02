"""Our own spans name their attributes as the instrumentations do for the same opt-in."""

from __future__ import annotations

import pytest
from opentelemetry.instrumentation._semconv import (
    _OpenTelemetrySemanticConventionStability,
    _OpenTelemetryStabilitySignalType,
    _StabilityMode,
)

from observability.runtime.conventions import DEPLOYED_CONVENTIONS, OPT_IN_VARIABLE, conventions
from services.position_tracker.ingest_telemetry import write_attributes

OLD = {
    "db.system": "mongodb",
    "db.name": "fleetman",
    "db.operation": "insert",
    "db.mongodb.collection": "positions",
}
STABLE = {
    "db.system.name": "mongodb",
    "db.namespace": "fleetman",
    "db.operation.name": "insert",
    "db.collection.name": "positions",
}
OPT_INS = ["", "http", "database", "database/dup", " http , database ", "http/dup,database/dup"]


@pytest.mark.parametrize("opt_in", OPT_INS)
@pytest.mark.parametrize("signal", ["http", "database"])
def test_the_opt_in_reads_as_the_instrumentations_read_it(
    monkeypatch: pytest.MonkeyPatch, signal: str, opt_in: str
) -> None:
    """The instrumentations' own reading (private, so checked here rather than relied on)."""
    monkeypatch.setenv(OPT_IN_VARIABLE, opt_in)
    monkeypatch.setattr(_OpenTelemetrySemanticConventionStability, "_initialized", False)
    monkeypatch.setattr(
        _OpenTelemetrySemanticConventionStability, "_OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING", {}
    )
    _OpenTelemetrySemanticConventionStability._initialize()
    mode = _OpenTelemetrySemanticConventionStability._get_opentelemetry_stability_opt_in_mode(
        _OpenTelemetryStabilitySignalType(signal)
    )
    ours = conventions(signal)
    assert ours.stable == (mode is not _StabilityMode.DEFAULT)
    assert ours.old == (mode not in {_StabilityMode.HTTP, _StabilityMode.DATABASE})


@pytest.mark.parametrize(
    ("opt_in", "expected"),
    [
        ("", OLD),
        ("http", OLD),
        ("database", STABLE),
        ("http,database", STABLE),
        ("database/dup", {**OLD, **STABLE}),
    ],
)
def test_the_batch_write_span_follows_the_database_opt_in(opt_in: str, expected: dict) -> None:
    assert write_attributes("fleetman", conventions("database", opt_in)) == expected


def test_deployments_get_the_stable_http_and_database_conventions() -> None:
    deployed = DEPLOYED_CONVENTIONS[OPT_IN_VARIABLE]
    assert conventions("http", deployed) == conventions("database", deployed)
    assert conventions("http", deployed).stable and not conventions("http", deployed).old
