"""Abandoned work stops (issue 19, item 9): every command the tracker sends to the real database
carries a server-side time limit (maxTimeMS) below its caller's timeout, and an API request whose
database work runs over its budget is a 503 problem with Retry-After, not a query left running."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import pymongo
import pytest
from fastapi.testclient import TestClient
from pymongo import monitoring

from services.position_tracker import store as store_module
from services.position_tracker.app import create_app
from services.position_tracker.positions import StoredPosition
from services.position_tracker.settings import TrackerSettings
from tests.support.broker import StompClient
from tests.support.fleet import MONGODB_URL, TrackerNames, running_tracker
from tests.support.polling import eventually

pytestmark = pytest.mark.stack

#: Commands of the driver's own housekeeping, which carry no time limit by design.
HOUSEKEEPING = {"endSessions", "hello", "isMaster", "ismaster"}


class Commands(monitoring.CommandListener):
    """Every command the client sends: its name and its maxTimeMS."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.sent.append((event.command_name, event.command.get("maxTimeMS")))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def since(self, mark: int) -> list[tuple[str, int | None]]:
        with self._lock:
            return [c for c in self.sent[mark:] if c[0] not in HOUSEKEEPING]


@pytest.fixture
def commands(monkeypatch) -> Commands:
    listener = Commands()
    monkeypatch.setattr(
        store_module, "MongoClient", partial(pymongo.MongoClient, event_listeners=[listener])
    )
    return listener


@pytest.fixture
def names(isolation) -> Iterator[TrackerNames]:
    names = TrackerNames.unique(isolation, "deadline")
    yield names
    with pymongo.MongoClient(MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(names.database)


def tracker_settings(names: TrackerNames, **overrides: object) -> TrackerSettings:
    return TrackerSettings(
        position_queue=names.queue,
        dead_letter_queue=names.dlq,
        mongodb_database=names.database,
        batch_wait_ms=20,
        **overrides,
    )


def test_every_database_command_carries_a_time_limit_below_its_callers(names, commands):
    settings = tracker_settings(names)
    now = datetime.now(UTC).replace(microsecond=0)
    broker = StompClient()
    with TestClient(create_app(settings)) as api:
        app_store = api.app.state.store
        for i in range(5):
            at = now - timedelta(seconds=50 - 10 * i)
            body = {"vehicle": "Deadline Van", "lat": 53.0 + i / 1e4, "lng": -1.5, "timestamp": at}
            broker.send(names.queue, json.dumps(body, default=datetime.isoformat))
        broker.close()

        def all_stored() -> None:
            history = api.get("/vehicles/Deadline%20Van/history")
            assert history.status_code == 200 and len(history.json()["positions"]) == 5

        eventually(all_stored)
        mark = len(commands.sent)
        for path in (
            "/vehicles",
            "/vehicles/Deadline%20Van",
            "/vehicles/Deadline%20Van/history?limit=3",
            "/vehicles/Nobody%20Here/history",
            "/history/Deadline%20Van",
        ):
            assert api.get(path).status_code in (200, 404), path
        during_requests = commands.since(mark)
        app_store.purge_before(now - timedelta(days=1))
    everything = commands.since(0)
    names_sent = {name for name, _ in everything}
    assert {"find", "insert", "update", "listCollections"} <= names_sent
    assert [c for c in everything if c[1] is None] == []
    assert all(limit <= settings.db_operation_timeout_ms for _, limit in everything)
    assert during_requests, "the API read nothing from the database"
    assert all(limit <= settings.db_request_timeout_ms for _, limit in during_requests)


def test_a_request_over_its_database_budget_is_a_503_and_the_tracker_goes_on(names, commands):
    # A vehicle heard from now and 20 days ago: its history walks ~5,800 five-minute buckets,
    # one read each, far more than 10 ms of database work.
    settings = tracker_settings(names, db_request_timeout_ms=10, retention_hours=0)
    now = datetime.now(UTC).replace(microsecond=0)
    with TestClient(create_app(settings)) as api:
        old, new = (
            StoredPosition("Long Van", 53.0, -1.5, at, None, None, at)
            for at in (now - timedelta(days=20), now)
        )
        api.app.state.store.write([old])
        api.app.state.store.write([new])
        mark = len(commands.sent)
        answer = api.get("/vehicles/Long%20Van/history?limit=1000&since=2000-01-01T00:00:00Z")
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "1"
        assert "did not answer within 10 ms" in answer.json()["detail"]
        walked = len(commands.since(mark))
        assert walked < 2000, f"the abandoned walk went on for {walked} reads"
        assert api.get("/vehicles/Long%20Van").status_code == 200


def test_a_burst_of_long_history_requests_takes_neither_the_api_nor_ingest_down(names, run_id):
    # 100 history requests in 10 s, each asking for a vehicle's 20 days (thousands of reads),
    # while another vehicle reports every 100 ms: each request stops at its budget, the
    # database is not left running abandoned reads, and ingest and the fleet list go on.
    now = datetime.now(UTC).replace(microsecond=0)
    seed = store_module.PositionStore(MONGODB_URL, names.database)
    for at in (now - timedelta(days=20), now):
        seed.write([StoredPosition("Long Van", 53.0, -1.5, at, None, None, at)])
    seed.close()
    history = "/vehicles/Long%20Van/history?limit=1000&since=2000-01-01T00:00:00Z"
    with running_tracker(names, run_id, RETENTION_HOURS="0", BATCH_WAIT_MS="20") as tracker:
        answers: list[tuple[int, float]] = []
        fleet_statuses: list[int] = []
        sent: list[datetime] = []
        stop = threading.Event()

        def ask() -> None:
            started = time.monotonic()
            status = httpx.get(f"{tracker.url}{history}", timeout=30).status_code
            answers.append((status, time.monotonic() - started))

        def report_and_poll() -> None:
            broker = StompClient()
            try:
                while not stop.is_set():
                    at = datetime.now(UTC)
                    body = {"vehicle": "Busy Van", "lat": 53.1, "lng": -1.4, "timestamp": at}
                    broker.send(names.queue, json.dumps(body, default=datetime.isoformat))
                    sent.append(at)
                    fleet_statuses.append(
                        httpx.get(f"{tracker.url}/vehicles", timeout=30).status_code
                    )
                    stop.wait(0.1)
            finally:
                broker.close()

        reporter = threading.Thread(target=report_and_poll)
        reporter.start()
        askers = []
        for _ in range(100):
            askers.append(threading.Thread(target=ask))
            askers[-1].start()
            time.sleep(0.1)
        for asker in askers:
            asker.join(timeout=60)
        stop.set()
        reporter.join(timeout=60)

        assert len(answers) == 100
        assert {status for status, _ in answers} <= {200, 503}
        assert max(seconds for _, seconds in answers) < 5
        assert set(fleet_statuses) == {200}

        def every_report_stored() -> None:
            stored = httpx.get(f"{tracker.url}/vehicles/Busy%20Van/history?limit=1000").json()
            assert len(stored["positions"]) == len(sent)

        eventually(every_report_stored, timeout=10)
        calm = time.monotonic()
        assert httpx.get(f"{tracker.url}/vehicles/Busy%20Van", timeout=30).status_code == 200
        assert time.monotonic() - calm < 1
