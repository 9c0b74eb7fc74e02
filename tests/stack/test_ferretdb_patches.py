"""The stack's FerretDB carries our two fixes of v1.24.2 (services/stack/components/ferretdb/
patches/): lookups and writes by _id use the _id index; an update statement ends its query
before it writes, so an update command of 100 statements or more answers instead of hanging its
database, and SQLite's WAL restarts instead of growing with every update.

Each test fails against a stock v1.24.2 (run it with `MONGODB_URL` pointing at one).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import NetworkTimeout

from services.stack import api
from services.stack.components.ferretdb import external_mongodb_url
from services.stack.paths import stack_paths

pytestmark = pytest.mark.stack

SOCKET_TIMEOUT_S = 15.0
"""How long a command may take before the test fails (instead of hanging with the server)."""


@pytest.fixture
def scratch(isolation) -> Iterator[Database]:
    """A database of this test alone (a hung command blocks its whole database), dropped after."""
    client: MongoClient = MongoClient(
        api.MONGODB_URL,
        serverSelectionTimeoutMS=5000,
        socketTimeoutMS=int(SOCKET_TIMEOUT_S * 1000),
    )
    name = f"{isolation.database}_{uuid.uuid4().hex[:6]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture
def ferretdb(scratch: Database) -> str:
    """FerretDB's version; skips when MONGODB_URL points at another server (a real MongoDB)."""
    version = scratch.client.admin.command("buildInfo").get("ferretdbVersion")
    if version is None:
        pytest.skip("not FerretDB: its SQLite query plans are what these tests read")
    return version


def sqlite_plan(db: Database, collection: str, filter_: dict) -> list[str]:
    """The plan of `find(filter_)`: FerretDB's SQLite backend runs EXPLAIN QUERY PLAN on its
    query and returns the rows in `queryPlanner.Plan`, as 'id=.. parent=.. notused=.. detail=..'."""
    answer = db.command("explain", {"find": collection, "filter": filter_})
    assert answer["filterPushdown"] is True, answer  # the filter is in the SQL query
    return answer["queryPlanner"]["Plan"]


def test_find_by_id_is_a_search_of_the_id_index(scratch, ferretdb):
    vehicles, events = scratch["vehicles"], scratch["events"]
    vehicles.insert_many([{"_id": f"V{i:04d}", "n": i} for i in range(100)])
    ids = events.insert_many([{"n": i} for i in range(100)]).inserted_ids

    for collection, filter_ in (
        ("vehicles", {"_id": "V0042"}),
        ("vehicles", {"_id": "missing"}),
        ("events", {"_id": ids[42]}),
        ("events", {"_id": ObjectId()}),
    ):
        plan = sqlite_plan(scratch, collection, filter_)
        # patched: 'detail=SEARCH <table> USING INDEX <table>__id_ (<expr>=?)';
        # stock v1.24.2: 'detail=SCAN <table>' (patch 0001)
        assert len(plan) == 1 and "USING INDEX" in plan[0] and "__id_" in plan[0], (
            f"{collection} {filter_}: {plan}"
        )
    assert vehicles.find_one({"_id": "V0042"}) == {"_id": "V0042", "n": 42}
    assert events.find_one({"_id": ids[42]})["n"] == 42


def test_updates_and_deletes_by_id_do_not_scan_the_collection(scratch, ferretdb):
    """`explain` of an update ignores its statements' filters (it plans a scan whatever they
    are), so this compares times: 20 updates (or deletes) by _id against one full scan of a
    collection of 20,000 documents. Each used to scan twice (its query and its write, patch
    0001): about 1.7 full scans for 20 of them; patched, a few hundredths of one."""
    docs = scratch["docs"]
    docs.insert_many([{"_id": f"D{i:05d}", "n": i, "pad": "x" * 200} for i in range(20_000)])

    def elapsed(action) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    full_scan = min(elapsed(lambda: docs.find_one({"absent": 1})) for _ in range(2))

    def updates() -> None:
        for i in range(20):
            assert docs.update_one({"_id": f"D{i * 997:05d}"}, {"$set": {"n": -i}}).matched_count

    def deletes() -> None:
        for i in range(20):
            assert docs.delete_one({"_id": f"D{i * 991 + 1:05d}"}).deleted_count == 1

    for name, action in (("updates", updates), ("deletes", deletes)):
        took = elapsed(action)
        assert took < full_scan / 3, (
            f"20 {name} by _id took {took * 1000:.0f} ms, a full scan {full_scan * 1000:.0f} ms"
        )
    assert docs.find_one({"_id": "D00997"})["n"] == -1
    assert docs.count_documents({}) == 20_000 - 20


def test_an_update_command_of_150_statements_answers(scratch):
    """Stock v1.24.2 keeps one pooled connection (of 100) per statement until the command
    ends: the 100th statement waited forever, and every other request to that database with it
    (patch 0002). Any server must answer this one."""
    vehicles = scratch["vehicles"]
    vehicles.insert_many([{"_id": f"V{i:03d}", "n": i} for i in range(150)])
    updates = [{"q": {"_id": f"V{i:03d}"}, "u": {"$set": {"n": 1000 + i}}} for i in range(150)]

    started = time.perf_counter()
    try:
        answer = scratch.command({"update": "vehicles", "updates": updates})
    except NetworkTimeout:
        pytest.fail(
            f"an update command of 150 statements did not answer within {SOCKET_TIMEOUT_S:.0f}s"
            " (the server hung on it)",
            pytrace=False,
        )
    took = time.perf_counter() - started

    assert (answer["n"], answer["nModified"]) == (150, 150), answer
    assert took < 5.0, f"{took:.1f}s for 150 updates"
    assert [doc["n"] for doc in vehicles.find({}, {"n": 1}).sort("_id", 1)] == [
        1000 + i for i in range(150)
    ]


#: SQLite checkpoints its WAL when it passes 1,000 pages (4 MB of 4 KiB pages), then writes
#: from its start again, unless a reader still uses it.
WAL_CHECKPOINT_BYTES = 1000 * 4096


def test_updates_do_not_grow_the_wal_without_end(scratch, ferretdb):
    """Stock v1.24.2 commits each update while that statement's query, a read transaction, is
    still open: the automatic checkpoint never finishes, the WAL never restarts and grows by
    every update (about 5 KB each here: 40 MB for these 8,000), and each commit's checkpoint
    walks all of it (patch 0002). Patched, the WAL stays near its checkpoint size."""
    if external_mongodb_url():
        pytest.skip("MONGODB_URL points at another server: the WAL read here is the stack's")
    vehicles = scratch["vehicles"]
    vehicles.insert_many([{"_id": f"V{i:04d}", "n": 0, "pad": "x" * 500} for i in range(1000)])
    for n in range(1, 9):
        answer = scratch.command(
            {
                "update": "vehicles",
                "updates": [
                    {"q": {"_id": f"V{i:04d}"}, "u": {"$set": {"n": n}}} for i in range(1000)
                ],
            }
        )
        assert answer["nModified"] == 1000, answer

    wal = stack_paths().data_dir("ferretdb") / f"{scratch.name}.sqlite-wal"
    assert wal.exists(), f"no WAL at {wal}"
    size = wal.stat().st_size
    assert size < 2 * WAL_CHECKPOINT_BYTES, (
        f"the WAL of a 1,000-document collection is {size / 1e6:.1f} MB after 8,000 updates"
        " (it never restarted: each commit's checkpoint walks all of it)"
    )
    assert vehicles.count_documents({"n": 8}) == 1000
