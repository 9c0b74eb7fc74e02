"""The tracker on the real broker and database: storage, speed, dead letters, crash safety."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pymongo import MongoClient

from services.position_tracker.dead_letters import DeadLetter, DeadLetterArchive
from services.positions.formats import jms_map_json_body
from services.positions.messages import RejectReason
from tests.services._procs import TcpProxy
from tests.support.broker import StompClient
from tests.support.fleet import MONGODB_URL, TrackerNames, running_tracker
from tests.support.history import stored_timestamps
from tests.support.polling import eventually
from tests.support.sphere import bearing_deg, haversine_m

pytestmark = pytest.mark.stack


def body(vehicle: str, lat: float, lng: float, at: datetime) -> str:
    return json.dumps({"vehicle": vehicle, "lat": lat, "lng": lng, "timestamp": at.isoformat()})


def route(start: datetime, n: int) -> list[tuple[float, float, datetime]]:
    """A vehicle driving north-east through Sheffield, one point every 5 s."""
    return [
        (53.37 + i * 0.0004, -1.50 + i * 0.0003, start + timedelta(seconds=5 * i)) for i in range(n)
    ]


def test_positions_are_stored_with_speed_and_heading(tracker, broker, names):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    points = route(start, 12)
    for lat, lng, at in points:
        broker.send(names.queue, body("Test Van", lat, lng, at))

    def stored_all() -> dict:
        history = httpx.get(f"{tracker.url}/vehicles/Test Van/history", params={"limit": 50})
        assert history.status_code == 200, history.text
        positions = history.json()["positions"]
        assert len(positions) == len(points)
        return history.json()

    history = eventually(stored_all)
    newest_first = history["positions"]
    for newer, older in itertools.pairwise(newest_first):
        expected_kmh = haversine_m(older["lat"], older["lng"], newer["lat"], newer["lng"]) / 5 * 3.6
        assert newer["speed_kmh"] == pytest.approx(expected_kmh, rel=0.005)
        expected_heading = bearing_deg(older["lat"], older["lng"], newer["lat"], newer["lng"])
        assert newer["heading"] == pytest.approx(expected_heading, abs=0.5)
    assert newest_first[-1]["speed_kmh"] is None  # the first report

    latest = httpx.get(f"{tracker.url}/vehicles/Test Van").json()
    assert latest["lat"] == pytest.approx(points[-1][0])
    assert latest["timestamp"] == points[-1][2].strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert latest["speed"] == pytest.approx(latest["speed_kmh"] / 1.609344, rel=1e-3)
    assert [v["name"] for v in httpx.get(f"{tracker.url}/vehicles").json()] == ["Test Van"]


def test_every_bad_message_is_dead_lettered_with_its_reason_and_good_ones_stored(
    tracker, broker, names, archived
):
    now = datetime.now(UTC).replace(microsecond=0)
    good = route(now - timedelta(minutes=5), 3)
    bad = {
        RejectReason.BAD_JSON: "{not json",
        RejectReason.MISSING_FIELD: json.dumps({"vehicle": "X", "lat": 53.0}),
        RejectReason.BAD_TYPE: json.dumps(
            {"vehicle": "X", "lat": "north", "lng": 1, "timestamp": now.isoformat()}
        ),
        RejectReason.LATITUDE_OUT_OF_RANGE: body("X", 91.0, -1.5, now),
        RejectReason.FUTURE_TIMESTAMP: body("X", 53.0, -1.5, now + timedelta(hours=2)),
        RejectReason.TOO_OLD: body("X", 53.0, -1.5, datetime(1970, 1, 1, tzinfo=UTC)),
        RejectReason.BAD_VEHICLE_NAME: body("$where", 53.0, -1.5, now),
        # 60 km north of the second good point, 5 s later:
        RejectReason.TELEPORT: body("Test Van", 53.9, -1.5, good[1][2] + timedelta(seconds=2)),
    }
    broker.send(names.queue, body("Test Van", *good[0]))
    broker.send(names.queue, body("Test Van", *good[1]))
    for reason, text in bad.items():
        broker.send(names.queue, text, {"test-reason": reason.value})
    broker.send(names.queue, body("Test Van", *good[2]))

    dead = eventually(lambda: _at_least(archived(), len(bad)), timeout=30)
    by_expected = {m.headers["test-reason"]: m for m in dead}
    assert set(by_expected) == {r.value for r in bad}
    for expected, message in by_expected.items():
        assert message.reason == expected
        assert message.detail
        assert message.body == bad[RejectReason(expected)].encode()  # the original body

    history = eventually(lambda: _positions(tracker, "Test Van", 3))
    assert [p["lat"] for p in history][::-1] == pytest.approx([g[0] for g in good])

    metrics = httpx.get(f"{tracker.url}/metrics").text
    for reason in bad:
        assert (
            f'fleet_tracker_positions_dead_lettered_total{{reason="{reason.value}"}} 1.0' in metrics
        )
    # The "Dead-lettered positions" search shows the vehicle where the message names a valid one.
    records = [json.loads(line) for line in tracker.log_lines() if line.startswith("{")]
    named = {
        r["event.reason"]: r.get("vehicle.name")
        for r in records
        if r.get("event.action") == "position-dead-lettered"
    }
    assert named["teleport"] == "Test Van" and named["too_old"] == "X"
    assert named["bad_json"] is None and named["bad_vehicle_name"] is None


def test_any_bytes_are_dead_lettered_once_byte_for_byte_and_ingest_goes_on(
    tracker, broker, names, archived
):
    """A NUL ends a STOMP frame sent without ``content-length``: a dead-letter copy sent so was
    cut there, the broker refused the rest as an unknown command and dropped the connection,
    and the message came back for good. Bytes that are not UTF-8 came back replaced."""
    now = datetime.now(UTC).replace(microsecond=0)
    good = route(now - timedelta(minutes=5), 2)
    valid = body("Odd Van", *good[0]).encode()
    odd = {
        "nul-inside": valid[:20] + b"\x00" + valid[20:],
        "nul-first": b"\x00" + valid,
        "latin-1": json.dumps(
            {"vehicle": "Caf\u00e9 Van", "lat": 53.0, "lng": -1.5, "timestamp": now.isoformat()},
            ensure_ascii=False,
        ).encode("latin-1"),
        "every-byte": bytes(range(256)) * 4,
    }
    broker.send(names.queue, body("Test Van", *good[0]))
    for key, raw in odd.items():
        broker.send(names.queue, raw, {"test-key": key})
    broker.send(names.queue, body("Test Van", *good[1]))

    eventually(lambda: _at_least(archived(), len(odd)), timeout=30)
    time.sleep(2)  # each once: no copy comes back
    dead = archived()
    by_key = {m.headers["test-key"]: m for m in dead}
    assert len(dead) == len(odd) and set(by_key) == set(odd)
    for key, message in by_key.items():
        assert message.body == odd[key], key  # byte for byte
        assert message.reason == RejectReason.BAD_JSON.value, key
    assert "not UTF-8" in by_key["latin-1"].detail
    # Out of the broker: nothing left to pin its journal.
    assert eventually(lambda: _drained(broker, names.dlq)) == 0

    history = eventually(lambda: _positions(tracker, "Test Van", 2))
    assert [p["lat"] for p in history][::-1] == pytest.approx([g[0] for g in good])
    metrics = httpx.get(f"{tracker.url}/metrics").text
    assert 'fleet_tracker_positions_dead_lettered_total{reason="bad_json"} 4.0' in metrics


def test_a_dead_letter_keeps_the_trace_its_publisher_did_not_sample(
    tracker, broker, names, archived
):
    """Under a sampler that follows the publisher (the default) an unsampled message gets no span
    of its own, yet what it leads to stays in its trace: the dead-lettered copy and the log."""
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    broker.send(names.queue, "{unsampled", {"traceparent": f"00-{trace_id}-{parent}-00"})

    (dead,) = eventually(lambda: _at_least(archived(), 1), timeout=30)
    version, forwarded_trace, _span, flags = dead.headers["traceparent"].split("-")
    assert (version, forwarded_trace, flags) == ("00", trace_id, "00")

    def logged() -> dict:
        records = [json.loads(line) for line in tracker.log_lines() if line.startswith("{")]
        (record,) = [r for r in records if r.get("event.action") == "position-dead-lettered"]
        return record

    assert eventually(logged)["trace.id"] == trace_id


def test_a_fleetman_map_message_and_a_plain_fleetman_body_are_both_stored(tracker, broker, names):
    at = datetime.now(UTC) - timedelta(minutes=1)
    java_time = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"
    four = {
        "vehicle": "City Truck",
        "lat": "53.3798165805637836456298828125",
        "long": "-1.46622528322041034698486328125",
        "time": java_time,
    }
    broker.send(names.queue, jms_map_json_body(four), {"transformation": "jms-map-json"})
    later = at + timedelta(seconds=10)
    four_later = {
        **four,
        "lat": "53.3800",
        "time": later.strftime("%Y-%m-%dT%H:%M:%S.") + f"{later.microsecond // 1000:03d}+0000",
    }
    broker.send(names.queue, json.dumps(four_later))
    history = eventually(lambda: _positions(tracker, "City Truck", 2))
    assert history[1]["lat"] == pytest.approx(53.37981658056378)
    assert history[0]["lat"] == pytest.approx(53.38)
    assert httpx.get(f"{tracker.url}/metrics").text.count('format="fleetman"} 1.0') >= 1


def test_a_crash_loses_nothing_and_stores_nothing_twice(tracker, broker, names, mongo):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    points = route(start, 400)
    for i, (lat, lng, at) in enumerate(points):
        broker.send(names.queue, body("Crash Van", lat, lng, at))
        if i == 150:
            tracker.kill()  # SIGKILL mid-stream: no chance to finish a batch
    tracker.start()
    db = mongo[names.database]
    eventually(
        lambda: _equal(len(stored_timestamps(db, "Crash Van")), len(points)),
        timeout=60,
    )
    time.sleep(2)  # a late redelivery would show up as an extra record now
    # Every position once: a redelivered one is recognised as stored, never written again.
    assert stored_timestamps(db, "Crash Van") == [at for _, _, at in points]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/vehicles/Nobody", {}, 404),
        ("/vehicles/Nobody/history", {}, 404),
        ("/vehicles/Test Van/history", {"since": "yesterday"}, 400),
        ("/vehicles/Test Van/history", {"limit": "100000"}, 400),
        ("/vehicles/Test Van/history", {"limit": "0"}, 400),
        (
            "/vehicles/Test Van/history",
            {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            400,
        ),
        # Extreme offsets: valid ISO 8601, but no UTC moment (before year 1, after 9999).
        ("/vehicles/Test Van/history", {"since": "0001-01-01T00:00:00+14:00"}, 400),
        ("/vehicles/Test Van/history", {"until": "9999-12-31T23:59:59-14:00"}, 400),
        ("/vehicles/$where", {}, 400),
        ("/vehicles/$gt/history", {}, 400),
        ('/vehicles/{"$ne": null}', {}, 404),
        ("/vehicles/..%2F..%2Fetc%2Fpasswd", {}, 404),
        ("/vehicles/" + "x" * 300, {}, 400),
    ],
)
def test_bad_requests_get_a_clear_json_error(tracker, path, params, status):
    response = httpx.get(f"{tracker.url}{path}", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]


def _drained(broker: StompClient, queue_name: str) -> int:
    """How many messages ``queue_name`` holds; asserts it is empty."""
    folder = queue_name.rsplit(".", 1)[0] + "."  # statistics are asked for by name segments
    left = broker.queue_sizes(folder).get(queue_name, 0)
    assert left == 0, f"{left} messages still in {queue_name}"
    return left


def _at_least(items: list, n: int) -> list:
    assert len(items) >= n, f"{len(items)} < {n}"
    return items


def _positions(tracker, name: str, n: int) -> list[dict]:
    response = httpx.get(f"{tracker.url}/vehicles/{name}/history")
    assert response.status_code == 200, response.text
    positions = response.json()["positions"]
    assert len(positions) == n
    return positions


def _equal(actual: int, expected: int) -> int:
    assert actual == expected, f"{actual} != {expected}"
    return actual


@pytest.fixture
def names(isolation) -> TrackerNames:
    return TrackerNames.unique(isolation, "ingest")


@pytest.fixture
def tracker(names, run_id):
    with running_tracker(names, run_id, BATCH_WAIT_MS="50") as process:
        yield process


@pytest.fixture
def archived(names) -> Iterator[Callable[[], list[DeadLetter]]]:
    """The tracker's dead-letter archive, read back."""
    client = MongoClient(MONGODB_URL, tz_aware=True)
    archive = DeadLetterArchive(client[names.database])
    yield lambda: archive.find(limit=0)
    client.close()


@pytest.fixture
def mongo():
    client = MongoClient("mongodb://127.0.0.1:27017/", tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def broker():
    client = StompClient()
    yield client
    client.close()


def test_the_queues_and_the_store_are_reported_and_dead_letters_leave_the_broker(
    names, run_id, broker, archived
):
    with running_tracker(names, run_id, QUEUE_STATS_INTERVAL_SECONDS="0.5") as tracker:
        broker.send(names.queue, "{not json")  # dead-lettered, then moved to the archive

        def reported() -> str:
            assert [letter.reason for letter in archived()] == ["bad_json"]
            metrics = httpx.get(f"{tracker.url}/metrics").text
            # The dead-letter queue is empty again: nothing pins the broker's journal.
            assert 'fleet_broker_queue_messages{queue="dead_letter"} 0.0' in metrics
            assert 'fleet_broker_queue_messages{queue="positions"} 0.0' in metrics
            # the tracker itself is the position queue's one consumer
            assert 'fleet_broker_queue_consumers{queue="positions"} 1.0' in metrics
            (store,) = re.findall(r"^fleet_broker_store_usage_ratio (\S+)$", metrics, re.M)
            assert 0 <= float(store) < 1
            return metrics

        eventually(reported, timeout=20)


def test_a_database_outage_delays_ingest_but_never_stops_it(names, run_id, broker, mongo):
    """While the database is unreachable every stage (the previous-position lookup of a new
    vehicle included) waits and retries; nothing is acknowledged, everything lands after."""
    with TcpProxy(("127.0.0.1", 27017)) as proxy:
        url = f"mongodb://127.0.0.1:{proxy.port}/"
        with running_tracker(names, run_id, MONGODB_URL=url) as tracker:
            outage = threading.Thread(target=proxy.drop, kwargs={"refuse_for": 8.0})
            outage.start()
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
            points = route(start, 20)
            for lat, lng, at in points[:10]:
                broker.send(names.queue, body("Outage Van", lat, lng, at))
            # Meanwhile the API says what is wrong, in JSON, instead of failing blank.
            during = httpx.get(f"{tracker.url}/vehicles/Outage Van/history", timeout=10)
            assert during.status_code == 503, during.text
            assert during.headers["content-type"] == "application/problem+json"
            assert during.headers["retry-after"] == "1"
            assert "database" in during.json()["detail"]
            outage.join()
            for lat, lng, at in points[10:]:
                broker.send(names.queue, body("Outage Van", lat, lng, at))
            db = mongo[names.database]
            eventually(lambda: _equal(len(stored_timestamps(db)), len(points)), timeout=60)
            assert httpx.get(f"{tracker.url}/readyz").status_code == 200
