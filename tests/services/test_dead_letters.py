"""The dead-letter archive end to end (issue 19, item 4): refused messages leave the broker
for the tracker's database, and ``fleet-dead-letters`` lists, shows, replays and purges them,
on the real broker and database."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.support.broker import StompClient
from tests.support.fleet import MONGODB_URL, TrackerNames, running
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.stack

CLI = Path(sys.executable).with_name("fleet-dead-letters")


def tracker(names: TrackerNames, run_id: str, **env: str) -> AbstractContextManager[ServiceProcess]:
    """A tracker on ``names`` that leaves its database behind (the next one reads it)."""
    return running("services.position_tracker", "position-tracker", {**names.env, **env}, run_id)


def cli(names: TrackerNames, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {"MONGODB_DATABASE": names.database, "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, timeout=60)


def listed(names: TrackerNames, *args: str) -> list[dict]:
    run = cli(names, "list", "--json", *args)
    assert run.returncode == 0, run.stderr.decode()
    return [json.loads(line) for line in run.stdout.decode().splitlines()]


def test_a_refused_position_is_replayed_after_the_fix_and_leaves_the_archive(isolation, run_id):
    names = TrackerNames.unique(isolation, "dlq")
    now = datetime.now(UTC).replace(microsecond=0)
    first, second = (
        {"vehicle": "Strict Van", "lat": 53.3 + i * 0.001, "lng": -1.5,
         "timestamp": (now - timedelta(seconds=60 - 10 * i)).isoformat()}
        for i in range(2)
    )  # fmt: skip
    odd = b'{"vehicle": "Odd\x00Van", \xff}'
    broker = StompClient()
    try:
        # A tracker whose teleport limit is far too strict refuses the second position.
        with tracker(names, run_id, TELEPORT_KMH="1") as strict:
            broker.send(names.queue, json.dumps(first))
            broker.send(names.queue, json.dumps(second), {"producer-header": "kept"})
            broker.send(names.queue, odd)
            eventually(lambda: _count(listed(names), 2), timeout=30)
            history = httpx.get(f"{strict.url}/vehicles/Strict%20Van/history").json()
            assert len(history["positions"]) == 1  # the first; the second was refused
        (teleport,) = listed(names, "--reason", "teleport")
        (bad,) = listed(names, "--reason", "bad_json")

        shown = cli(names, "show", teleport["id"])
        assert shown.returncode == 0
        assert b"dlq-reason: teleport" in shown.stdout and b"producer-header: kept" in shown.stdout
        assert cli(names, "show", bad["id"], "--raw").stdout == odd  # the exact bytes
        missing = cli(names, "show", "no-such-id")
        assert missing.returncode == 1 and b"no dead letter" in missing.stderr

        # Fixed (the default limit): replay what it refused; it is stored and leaves the archive.
        with tracker(names, run_id) as fixed:
            replayed = cli(names, "replay", "--reason", "teleport")
            assert replayed.returncode == 0, replayed.stderr.decode()

            def both_stored() -> None:
                history = httpx.get(f"{fixed.url}/vehicles/Strict%20Van/history").json()
                assert len(history["positions"]) == 2

            eventually(both_stored, timeout=30)
            assert [d["reason"] for d in listed(names)] == ["bad_json"]

        usage = cli(names, "purge")
        assert usage.returncode == 2  # says what to purge
        purged = cli(names, "purge", "--reason", "bad_json", "--yes")
        assert purged.returncode == 0 and b"1 dead letter(s) purged" in purged.stdout
        assert listed(names) == []
    finally:
        broker.close()
        with MongoClient(MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
            client.drop_database(names.database)


def _count(letters: list[dict], n: int) -> list[dict]:
    assert len(letters) == n, letters
    return letters
