"""The gateway's and the tracker's APIs fuzzed against their own OpenAPI documents (issue 19,
item 7): schemathesis (pinned in pyproject.toml) generates valid and invalid requests from each
document, on real processes in front of the real broker and database, and checks that no
answer is an undocumented status or content type, a response outside its schema, or a server
error; a method a path does not have must be a 405 with ``Allow``. Seeded and bounded in time,
so a run is reproducible (the failing case's ``curl`` is in the output)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.services._procs import stomp_client
from tests.support.fleet import TrackerNames, running_gateway, running_tracker
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.stack

ST = Path(sys.executable).with_name("st")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
)


@pytest.fixture(scope="module")
def tracker(isolation, run_id) -> Iterator[ServiceProcess]:
    names = TrackerNames.unique(isolation, "fuzz")
    with running_tracker(names, run_id) as process:
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
        with stomp_client() as client:
            for i in range(5):
                body = {
                    "vehicle": "City Truck",
                    "lat": 53.38 + i * 0.0005,
                    "lng": -1.47,
                    "timestamp": (start + timedelta(seconds=10 * i)).isoformat(),
                }
                client.send(names.queue, json.dumps(body))
        yield process


@pytest.fixture(scope="module")
def gateway(tracker, run_id) -> Iterator[ServiceProcess]:
    with running_gateway(tracker.url, run_id) as process:
        yield process


@pytest.mark.parametrize("service", ["tracker", "gateway"])
def test_every_answer_is_documented_and_none_is_a_server_error(service, request):
    process: ServiceProcess = request.getfixturevalue(service)
    command = [
        str(ST),
        "run",
        f"{process.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        "25",
        "--seed",
        "19",
        "--max-time",
        "30",
        "--request-timeout",
        "10",
        "--workers",
        "2",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
