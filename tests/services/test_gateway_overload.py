"""The gateway under overload: a real gateway process in front of the stand-in tracker
(``_standin.py``, a real HTTP server) made slow, hit by more concurrent requests than it has
connections and call slots.

- The wedge: a burst of calls timing out used to leave the gateway answering 504 for good, the
  tracker being fine (httpcore's pool leaked a connection for each call cancelled while it
  waited in the pool: ``services/api_gateway/upstream.py``). After any burst, normal answers
  must come back within 5 s, with shedding (the default) and without (a long queue wait).
- The fleet list, which every open map polls: concurrent requests share one call.
- Shedding: past its call slots, the gateway answers 503 with Retry-After at once instead of
  queueing towards a 504; sheds are counted and logged at most once a second.

Timing bounds are loose (a shared 2-core CI machine): they tell seconds of wedge or queueing from
milliseconds of shedding, nothing finer.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import httpx
import pytest

from services.api_gateway.telemetry import SERVICE
from tests.services._procs import StandIn, scrape, value
from tests.support.fleet import running
from tests.support.processes import ServiceProcess

PROBLEM = "application/problem+json"
UPSTREAM = "fleet_gateway_upstream_request_duration_seconds_count"
TIMEOUT_S = 0.5
SLOTS = 4
#: After an overload ends, normal answers again within this (the requirement).
RECOVERY_S = 5.0
#: Long enough that no request is shed: only the calls' own handling is at work.
LONG_QUEUE_S = 60.0
#: The stand-in's slow mode answers after 3 s, far past TIMEOUT_S.
SLOW = "slow"
#: What the overload asks for: one vehicle, each request a call of its own (the fleet list is
#: one call shared by concurrent requests, ``services/api_gateway/shared.py``: see the last test).
ONE_VEHICLE = "/api/vehicles/Van%201"


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    headers: httpx.Headers
    body: str


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Iterator[StandIn]:
    server = StandIn(tmp_path_factory.mktemp("standin")).start()
    yield server
    server.stop()


def _gateway(
    standin: StandIn, run_id: str, queue_s: float
) -> AbstractContextManager[ServiceProcess]:
    """A gateway with as many connections as call slots, few of both, and a short timeout."""
    env = {
        "TRACKER_URL": standin.url,
        "UPSTREAM_TIMEOUT_SECONDS": str(TIMEOUT_S),
        "UPSTREAM_MAX_CONNECTIONS": str(SLOTS),
        "UPSTREAM_MAX_CONCURRENCY": str(SLOTS),
        "UPSTREAM_QUEUE_TIMEOUT_SECONDS": str(queue_s),
    }
    return running("services.api_gateway", SERVICE, env, run_id)


async def _get(client: httpx.AsyncClient) -> Answer:
    started = time.perf_counter()
    response = await client.get(ONE_VEHICLE)
    return Answer(
        response.status_code, time.perf_counter() - started, response.headers, response.text
    )


async def _burst(url: str, size: int) -> list[Answer]:
    """``size`` requests at once (the client never gives up first: no client-side timeout)."""
    limits = httpx.Limits(max_connections=size)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        return await asyncio.gather(*(_get(client) for _ in range(size)))


async def _hammer(url: str, workers: int, seconds: float) -> list[Answer]:
    """``workers`` clients each sending one request after another for ``seconds``."""
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:

        async def worker() -> list[Answer]:
            answers = []
            while time.monotonic() < deadline:
                answers.append(await _get(client))
            return answers

        per_worker = await asyncio.gather(*(worker() for _ in range(workers)))
    return [answer for answers in per_worker for answer in answers]


def _recovery_seconds(url: str) -> float:
    """Seconds until the gateway answers 200 again; fails after RECOVERY_S with what it said."""
    started = time.monotonic()
    statuses = []
    with httpx.Client(base_url=url, timeout=120) as client:
        while time.monotonic() - started < RECOVERY_S:
            status = client.get(ONE_VEHICLE).status_code
            if status == 200:
                return time.monotonic() - started
            statuses.append(status)
            time.sleep(0.05)
    pytest.fail(f"still no 200 {RECOVERY_S:g} s after the overload ended: {statuses}")


def _assert_answers_normally(url: str) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        statuses = [client.get(ONE_VEHICLE).status_code for _ in range(20)]
    assert statuses == [200] * 20


@pytest.mark.parametrize("queue_s", [0.02, LONG_QUEUE_S], ids=["shedding", "queueing"])
def test_after_a_burst_of_timed_out_calls_the_gateway_answers_again(standin, run_id, queue_s):
    """Before the fix: the pool full of connections stuck CONNECTING, every later call 504."""
    with _gateway(standin, run_id, queue_s) as gateway:
        standin.mode(SLOW)
        for _wave in range(3):
            statuses = {answer.status for answer in asyncio.run(_burst(gateway.url, 16))}
            assert statuses <= {503, 504}, statuses
        standin.mode("echo")  # the overload ends: the tracker answers at once again
        _recovery_seconds(gateway.url)
        _assert_answers_normally(gateway.url)


def test_requests_past_the_call_slots_are_shed_at_once_with_retry_after(standin, run_id):
    with _gateway(standin, run_id, queue_s=0.02) as gateway:
        before = scrape(gateway.url)
        standin.mode(SLOW)
        started = time.monotonic()
        answers = asyncio.run(_hammer(gateway.url, workers=3 * SLOTS, seconds=3.0))
        elapsed = time.monotonic() - started
        called = standin.requests()  # (switching mode clears them)
        standin.mode("echo")
        assert _recovery_seconds(gateway.url) < RECOVERY_S
        after = scrape(gateway.url)

    shed = [answer for answer in answers if answer.status == 503]
    timed_out = [answer for answer in answers if answer.status == 504]
    assert len(shed) + len(timed_out) == len(answers), {a.status for a in answers}
    assert len(shed) > 5 * len(timed_out)  # far over capacity: most are shed
    for answer in shed:
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["retry-after"] == "1"
        body = json.loads(answer.body)
        assert "saturated" in body["detail"] and re.fullmatch(r"[0-9a-f]{32}", body["trace_id"])
    # Shed at once: 20 ms of waiting for a slot plus the request's own handling.
    assert statistics.median(a.seconds for a in shed) < 0.05
    # Nothing hangs or queues towards its timeout: every 504 is a call the tracker got, and the
    # tracker never had more than SLOTS calls at once (each holds its slot >= TIMEOUT_S).
    assert max(a.seconds for a in answers) < TIMEOUT_S + 2.0
    assert len(timed_out) == len(called)
    assert len(called) <= SLOTS * (elapsed / TIMEOUT_S + 2)

    # Every shed is counted; they are logged once a second at most, with a trace id.
    labels = {"upstream": "position-tracker", "outcome": "shed"}
    assert value(after, UPSTREAM, **labels) - value(before, UPSTREAM, **labels) == len(shed)
    records = [
        record
        for line in gateway.log_lines()
        if line.startswith("{") and (record := json.loads(line)).get("upstream.outcome") == "shed"
    ]
    assert 1 <= len(records) <= elapsed + 2
    assert sum(record["upstream.shed_requests"] for record in records) <= len(shed)
    for record in records:
        assert record["log.level"] == "warning" and record["event.action"] == "upstream-request"
        assert re.fullmatch(r"[0-9a-f]{32}", record["trace.id"])


def test_concurrent_polls_of_the_fleet_list_share_calls(standin, run_id):
    """However many maps poll at once, the tracker gets one call for the fleet list at a time
    (with the stand-in slow, every poll of the wave waits for the same call)."""
    with _gateway(standin, run_id, queue_s=0.02) as gateway:
        standin.mode(SLOW)  # (switching mode clears the recorded requests)

        async def wave() -> list[int]:
            limits = httpx.Limits(max_connections=40)
            async with httpx.AsyncClient(base_url=gateway.url, limits=limits, timeout=120) as c:
                answers = await asyncio.gather(*(c.get("/api/vehicles") for _ in range(40)))
            return [a.status_code for a in answers]

        statuses = asyncio.run(wave())
        called = [r for r in standin.requests() if r["raw_path"] == "/vehicles"]
        standin.mode("echo")
    # the stand-in answers after 3 s, past the gateway's 0.5 s: one call, one 504 for all
    assert statuses == [504] * 40
    assert len(called) == 1, called
