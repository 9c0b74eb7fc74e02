"""The simulator as a real process on the real ActiveMQ: bodies, headers, metrics, resends."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from itertools import pairwise

import httpx
import pytest

from services.position_simulator.telemetry import SERVICE
from services.position_simulator.trackgen import DEFAULT_OUT
from services.position_simulator.tracks import load_tracks
from services.positions.formats import BodyFormat
from services.positions.messages import Position, parse_position
from tests.services._procs import BROKER, TcpProxy, scrape, stomp_client, value
from tests.support.broker import Received
from tests.support.fleet import running
from tests.support.polling import eventually
from tests.support.processes import ROOT, ServiceProcess

pytestmark = pytest.mark.stack

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
ISO_MS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PUBLISHED = "fleet_simulator_positions_published_total"
#: The first vehicles by name among the packaged tracks.
FIRST_TWO = sorted(track.vehicle for track in load_tracks(DEFAULT_OUT))[:2]

Start = Callable[..., ServiceProcess]


@pytest.fixture
def queue_name(isolation) -> str:
    return isolation.queue(f"sim-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def start_simulator(run_id: str, queue_name: str) -> Iterator[Start]:
    started = ExitStack()

    def start(broker_url: str = f"stomp://{BROKER[0]}:{BROKER[1]}", **env: str) -> ServiceProcess:
        settings = {
            "BROKER_URL": broker_url,
            "POSITION_QUEUE": queue_name,
            "SIMULATOR_VEHICLES": "2",
            "SIMULATOR_RATE": "20",
            "LOG_LEVEL": "DEBUG",
            **env,
        }
        # each one's log lines are checked against its schema when it stops
        return started.enter_context(
            running("services.position_simulator", SERVICE, settings, run_id)
        )

    with started:
        yield start


def by_vehicle(messages: list[Received]) -> dict[str, list[dict]]:
    bodies: dict[str, list[dict]] = defaultdict(list)
    for message in messages:
        body = json.loads(message.body)
        bodies[body["vehicle"]].append(body)
    return bodies


def millis(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)


def published(simulator: ServiceProcess) -> float:
    return value(scrape(simulator.url), PUBLISHED)


def test_publishes_persistent_json_positions_with_trace_context(start_simulator, queue_name):
    simulator = start_simulator()
    eventually(lambda: _at_least(published(simulator), 40))
    assert httpx.get(f"{simulator.url}/readyz").status_code == 200
    metrics = scrape(simulator.url)
    simulator.stop()
    with stomp_client() as client:
        messages = client.read(queue_name)

    assert len(messages) >= value(metrics, PUBLISHED) >= 40
    trace_ids = set()
    for message in messages:
        assert message.headers["persistent"] == "true"
        match = TRACEPARENT.match(message.headers.get("traceparent", ""))
        assert match, message.headers
        trace_ids.add(match.group(1))
        body = json.loads(message.body)
        assert set(body) == {"vehicle", "lat", "lng", "timestamp"}
        assert ISO_MS_UTC.match(body["timestamp"]), body
        position = parse_position(message.body)
        assert isinstance(position, Position) and position.body_format is BodyFormat.JSON
    assert len(trace_ids) == len(messages)  # one publish span (one trace) per message

    per_vehicle = by_vehicle(messages)
    assert sorted(per_vehicle) == FIRST_TWO
    for bodies in per_vehicle.values():  # 20 ticks/s: one position every 50 ms, in order
        steps = {millis(b["timestamp"]) - millis(a["timestamp"]) for a, b in pairwise(bodies)}
        assert steps == {50}

    # Metrics: the exemplar of the published counter is the trace of a message we received.
    [(_, _, exemplar)] = metrics[PUBLISHED]
    assert exemplar in trace_ids
    assert value(metrics, "fleet_simulator_broker_connected") == 1
    assert value(metrics, "fleet_simulator_vehicles") == 2
    assert value(metrics, "fleet_simulator_publish_duration_seconds_count") == value(
        metrics, PUBLISHED
    )


def test_fleetman_format_is_a_map_message_for_the_original_tracker(start_simulator, queue_name):
    simulator = start_simulator(SIMULATOR_FORMAT="fleetman")
    eventually(lambda: _at_least(published(simulator), 10))
    simulator.stop()
    with stomp_client() as client:
        # Read as the original Java tracker would see it: a MapMessage, rendered by the broker.
        messages = client.read(queue_name, headers={"transformation": "jms-map-json"})
    assert len(messages) >= 10
    for message in messages:
        assert "transformation-error" not in message.headers, message.headers
        # Jettison's compact rendering, not the text we sent: the broker holds a MapMessage.
        assert message.body.startswith('{"map":{"entry":['), message.body
        position = parse_position(message.body)
        assert isinstance(position, Position), position
        assert position.body_format is BodyFormat.JMS_MAP_JSON
        assert position.vehicle in FIRST_TWO
        assert TRACEPARENT.match(message.headers["traceparent"])
        entries = {entry["string"][0] for entry in json.loads(message.body)["map"]["entry"]}
        assert entries == {"vehicle", "lat", "long", "time"}


def test_resends_after_losing_the_broker_without_gaps_or_new_timestamps(
    start_simulator, queue_name
):
    with TcpProxy(BROKER) as proxy:
        simulator = start_simulator(broker_url=proxy.url)
        eventually(lambda: _at_least(published(simulator), 40))
        # 1. The broker goes away for 1.5 s (connections refused): ~60 positions fall due.
        before = published(simulator)
        proxy.drop(refuse_for=1.5)
        eventually(lambda: _at_least(published(simulator), before + 80))
        # 2. The connection dies while a message waits for its receipt: the broker has the
        #    message, the simulator cannot know it, so it must send that very message again.
        before = published(simulator)
        proxy.swallow_replies()
        eventually(lambda: _at_least(_no_progress_for(simulator, 0.3), before))
        proxy.drop(refuse_for=0.5)
        eventually(lambda: _at_least(published(simulator), before + 80))
        metrics = scrape(simulator.url)
        simulator.stop()
    assert proxy.connections >= 3  # it reconnected after each outage
    assert value(metrics, "fleet_simulator_publish_errors_total", reason="disconnected") >= 1
    with stomp_client() as client:
        messages = client.read(queue_name)

    assert len(messages) >= value(metrics, PUBLISHED)
    duplicates = 0
    for vehicle, bodies in by_vehicle(messages).items():
        stamps = [millis(b["timestamp"]) for b in bodies]
        unique = sorted(set(stamps))
        # No gap: every 50 ms tick from the first to the last is there, outages included.
        assert unique == list(range(unique[0], unique[-1] + 1, 50)), vehicle
        # A resent position is a byte-identical copy (same timestamp), never a new one.
        first_seen: dict[int, dict] = {}
        for body in bodies:
            assert first_seen.setdefault(millis(body["timestamp"]), body) == body
        duplicates += len(stamps) - len(unique)
    assert 1 <= duplicates <= 2  # the message cut off in outage 2 (and maybe one in outage 1)
    log = "\n".join(simulator.log_lines())
    assert '"event.action": "broker-disconnected"' in log


def test_readiness_says_when_the_broker_is_unreachable(start_simulator):
    simulator = start_simulator(broker_url="stomp://127.0.0.1:9")  # nothing listens on discard
    response = httpx.get(f"{simulator.url}/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "broker" in response.json()["checks"]
    assert value(scrape(simulator.url), "fleet_simulator_broker_connected") == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--vehicles", "0"], {}, "vehicles"),
        (["--rate", "-1"], {}, "rate"),
        ([], {"SIMULATOR_FORMAT": "xml"}, "format"),
        (["--vehicles", "500"], {}, "500 vehicles asked for"),
        (["--tracks", "/nonexistent"], {}, "does not exist"),
    ],
)
def test_bad_options_stop_the_simulator_with_a_clear_message(args, env, message):
    result = subprocess.run(
        [sys.executable, "-m", "services.position_simulator", *args],
        env={"PATH": "/usr/bin:/bin", "HTTP_PORT": "1", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def _no_progress_for(simulator: ServiceProcess, seconds: float) -> float:
    """The published count, once it stayed the same for ``seconds`` (a publish is stuck)."""
    first = published(simulator)
    time.sleep(seconds)
    assert published(simulator) == first, "still publishing"
    return first


def _at_least(actual: float, expected: float) -> float:
    assert actual >= expected, f"{actual} < {expected}"
    return actual
