"""What the day-of-data scenario starts for itself, and stops or drops at the end (even on
Ctrl-C): trackers and gateways of its own (``service_process``, free ports), databases named
``bench_load_<run>_*`` and queues named ``fleet-test.load-<run>.*`` (the broker drops those once
drained and idle: ``fleet-test.>`` in the stack's broker configuration). Never the stack's
``fleetman`` database, queues or services.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import instrumentation
from pymongo import MongoClient
from pymongo.database import Database

from loadlib.output import log
from loadlib.tracks import moment
from services.position_tracker import buckets
from services.position_tracker.dead_letters import DeadLetterArchive
from services.stack.api import MONGODB_URL
from tests.support.broker import StompClient
from tests.support.processes import ServiceProcess, service_process

HOUR_MS = 3_600_000
#: The tracker's log line for a stored batch: "stored 137 positions (65 already stored)".
ALREADY_STORED = re.compile(r"stored \d+ positions \((\d+) already stored\)")
#: The stack's own database and queue: never touched here.
FORBIDDEN = ("fleetman", "positionQueue")


class Own:
    """The run's processes, databases and queues."""

    def __init__(self, run_id: str, sink: str) -> None:
        self.run_id, self.sink = run_id, sink
        self.mongo: MongoClient = MongoClient(MONGODB_URL, tz_aware=True)
        self.prefix = f"fleet-test.load-{run_id}."
        self.databases: list[str] = []
        self.processes: list[ServiceProcess] = []

    def database(self, label: str) -> Database:
        name = f"bench_load_{self.run_id}_{label}"
        assert name not in FORBIDDEN
        self.databases.append(name)
        self.mongo.drop_database(name)
        return self.mongo[name]

    def queue(self, label: str) -> str:
        return f"{self.prefix}{label}"

    def tracker(self, database: Database, queue: str) -> ServiceProcess:
        """A tracker of our own on ``database``, consuming ``queue``: telemetry as deployed,
        spans to the benchmark's collector, history kept whatever its age."""
        assert database.name.startswith("bench_load_") and queue.startswith(self.prefix)
        env = {
            "POSITION_QUEUE": queue,
            "DEAD_LETTER_QUEUE": f"{queue}.dlq",
            "MONGODB_DATABASE": database.name,
            "RETENTION_HOURS": "0",
            **instrumentation.telemetry_env("on", self.sink),
        }
        process = service_process("services.position_tracker", "load-tracker", env, self.run_id)
        self.processes.append(process)
        return process.start()

    def gateway(self, tracker: ServiceProcess) -> ServiceProcess:
        env = {"TRACKER_URL": tracker.url, **instrumentation.telemetry_env("on", self.sink)}
        process = service_process("services.api_gateway", "load-gateway", env, self.run_id)
        self.processes.append(process)
        return process.start()

    def refused(self) -> int:
        """Messages the run's trackers dead-lettered (refused): positions lost to a refusal.
        Each tracker moves its dead letters into its database's archive."""
        return sum(
            DeadLetterArchive(self.mongo[name]).collection.count_documents({})
            for name in self.databases
        )

    def tracker_logs(self) -> str:
        """What the run's trackers logged about their broker connections: reconnects (the
        consumer's or the queue statistics' connection) and redelivered positions they found
        already stored (a redelivery whose first copy was still being written is stored twice)."""
        reconnects = already = 0
        for process in self.processes:
            if process.module != "services.position_tracker":
                continue
            for line in process.log_lines():
                reconnects += "lost the broker connection" in line
                found = ALREADY_STORED.search(line)
                already += int(found.group(1)) if found else 0
        return (
            f"the trackers lost a broker connection {reconnects} times (heart-beat timeouts) and "
            f"found {already:,} redelivered positions already stored"
        )

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        log(f"cleaning up: queues {self.prefix}*, databases {', '.join(self.databases)}")
        try:
            client = StompClient()
            try:
                client.drain(self.prefix)
            finally:
                client.close()
        finally:
            for name in self.databases:
                self.mongo.drop_database(name)
            self.mongo.close()


def pid(process: ServiceProcess) -> int:
    return process.executor.process.pid  # type: ignore[union-attr]


def records(db: Database, low_ms: int, high_ms: int) -> Iterator[tuple[str, int, int]]:
    """Every position record (vehicle, timestamp ms, stored at ms) in [low, high), read raw from
    the hourly collections that can hold them (duplicates included: ``tests/support/history.py``
    reads every collection, these only the hours asked)."""
    for hour in range(low_ms - low_ms % HOUR_MS, high_ms, HOUR_MS):
        for doc in db[buckets.partition(moment(hour))].find():
            for chunk in doc["chunks"]:
                for at, *_, stored in buckets.RECORD.iter_unpack(chunk):
                    if low_ms <= at < high_ms:
                        yield doc["vehicle"], at, stored


def wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll ``condition()`` every 0.25 s until it holds; SystemExit after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not done after {timeout:.0f} s")
        time.sleep(0.25)
