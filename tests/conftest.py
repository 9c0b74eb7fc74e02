"""Session fixtures for the whole suite: the real local stack and per-run isolated names.

- Tests marked `@pytest.mark.stack` get the infrastructure started (if it is not already) by
  `services.stack.api.ensure_up`; it is left running afterwards so a warm re-run is fast.
- `isolation` gives this test session its own STOMP queue names, MongoDB database and
  Elasticsearch index prefix (all derived from `run_id`), and removes the database and the
  indices at session end, and consumes what its queues still hold (the broker then drops the
  idle, empty `fleet-test.*` queues by itself).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from observability.runtime.conventions import DEPLOYED_CONVENTIONS
from observability.slo.durations import format_duration, parse_duration
from observability.slo.windows import known_alert_windows
from services.stack import api
from tests.support.stack import ensure_stack

# The services run in the tests with the semantic conventions every deployment sets; the
# instrumentations read them once per process, so before any test builds an app.
os.environ.update(DEPLOYED_CONVENTIONS)


@dataclass(frozen=True)
class RunNames:
    """Names that belong to one test session only, so runs never see each other's data."""

    run_id: str

    @property
    def queue_prefix(self) -> str:
        """STOMP/ActiveMQ queue name prefix, e.g. 'fleet-test.0815-1a2b3c.'."""
        return f"fleet-test.{self.run_id}."

    def queue(self, name: str) -> str:
        """A queue name of this run (what ActiveMQ calls it)."""
        return f"{self.queue_prefix}{name}"

    def destination(self, name: str) -> str:
        """The STOMP destination of `queue(name)`."""
        return f"/queue/{self.queue(name)}"

    @property
    def database(self) -> str:
        """The MongoDB database of this run."""
        return "fleet_test_" + self.run_id.replace("-", "_")

    @property
    def index_prefix(self) -> str:
        """The Elasticsearch index prefix of this run (lower case, as ES requires)."""
        return f"fleet-test-{self.run_id}-"

    def index(self, name: str) -> str:
        return f"{self.index_prefix}{name}"


def pytest_configure(config: pytest.Config) -> None:
    # pytest-timeout is configured in pyproject; a run id visible in `-ra` summaries helps
    config.addinivalue_line("markers", "stack: needs the real local stack")


#: When this test session started (the silence check reads alerts raised since).
SESSION_STARTED = time.time()
#: How far back an earlier fault can still raise an SLO alert: the longest window of the burn
#: rate alerts (the ticket's 3d), so errors a previous session left in the store count.
RECENT_S = max(
    parse_duration(w.long) for t in known_alert_windows().values() for w in t.all_windows
)


def alerts_before(moment: float) -> set[str]:
    """The alerts the stack raised (firing or pending) in the ``RECENT_S`` before ``moment``:
    an earlier session's faults, whose errors the SLO windows still hold. Read from the store
    when asked (``@ moment``), so a Prometheus started after ``moment`` (the stack was down
    when the session began) still sees them."""
    query = (
        f"count by (alertname) (last_over_time(ALERTS[{format_duration(RECENT_S)}] @ {moment:.3f}))"
    )
    answer = httpx.get(f"{api.PROMETHEUS_URL}/api/v1/query", params={"query": query}, timeout=10)
    answer.raise_for_status()
    return {r["metric"]["alertname"] for r in answer.json()["data"]["result"]}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Normal traffic first, then the check that it raised no alert, then the tests that
    stop or break the shared stack on purpose (their alerts are their point)."""
    order = {"silence": 1, "fault": 2}

    def rank(item: pytest.Item) -> int:
        return max((order[m.name] for m in item.iter_markers() if m.name in order), default=0)

    items.sort(key=rank)  # stable: the files' order is kept within each rank


@pytest.fixture(scope="session")
def session_started() -> float:
    """Wall-clock time at which this test session started."""
    return SESSION_STARTED


@pytest.fixture(scope="session")
def recent_alerts(stack: object) -> set[str]:
    """The alerts the stack raised in the days before this session (``alerts_before``)."""
    return alerts_before(SESSION_STARTED)


@pytest.fixture(scope="session")
def run_id() -> str:
    """A short id unique to this test session, e.g. '0815-1a2b3c' (lower case, [0-9a-z-])."""
    return f"{time.strftime('%H%M')}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def stack() -> object:
    """The infrastructure of the local stack, up and healthy (started when needed, left up).

    Returns the `services.stack.api` module: its constants say where everything listens
    (STOMP_HOST/STOMP_PORT, MONGODB_URL, ELASTICSEARCH_URL, PROMETHEUS_URL, ...).
    """
    ensure_stack(api.infrastructure_names())
    return api


@pytest.fixture(autouse=True)
def _stack_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Every test marked `stack` gets the `stack` fixture without asking for it."""
    if request.node.get_closest_marker("stack") is not None:
        request.getfixturevalue("stack")


@pytest.fixture(autouse=True, scope="module")
def _stack_for_marked_modules(request: pytest.FixtureRequest) -> None:
    """A module marked `stack` as a whole gets the stack before its module-scoped fixtures,
    which start services that need it (they run before any function-scoped fixture)."""
    if request.node.get_closest_marker("stack") is not None:
        request.getfixturevalue("stack")


@pytest.fixture(scope="session")
def isolation(run_id: str) -> Iterator[RunNames]:
    """This session's own queue names, database and index prefix; cleaned up at the end."""
    names = RunNames(run_id)
    yield names
    cleanup_run(names)


def cleanup_run(names: RunNames) -> None:
    """Drain the run's queues, drop its MongoDB database and Elasticsearch indices (best effort,
    quiet)."""
    if api.is_healthy(["activemq"]):
        from tests.support.broker import StompClient

        broker = StompClient((api.STOMP_HOST, api.STOMP_PORT))
        try:
            broker.drain(names.queue_prefix)
        finally:
            broker.close()
    if not api.is_healthy(["ferretdb", "elasticsearch"]):
        return
    from elasticsearch import Elasticsearch
    from pymongo import MongoClient

    with MongoClient(api.MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(names.database)
    es = Elasticsearch(api.ELASTICSEARCH_URL, request_timeout=10)
    es.indices.delete(index=f"{names.index_prefix}*", ignore_unavailable=True)
    es.close()


@pytest.fixture
def outside() -> Iterator[Path]:
    """An empty folder outside this repository (pytest's tmp_path may be inside it), so that
    nothing there is found in or imported from the checkout."""
    repository = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="fleetman-outside-") as folder:
        path = Path(folder).resolve()
        assert not path.is_relative_to(repository)
        yield path
