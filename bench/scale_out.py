"""Scale-out benchmark: aggregate ingest with 1, 2 and 3 trackers on one queue, and what
message groups add (3 trackers without them).

    .venv/bin/python bench/scale_out.py --positions 30000 --vehicles 300 --rounds 2

Each round starts N trackers (real processes, telemetry as deployed, spans to a collector that
drops them) on an empty queue of their own, then publishes the same positions to it, each in its
vehicle's message group (``JMSXGroupID``, as our simulator publishes); trackers started on a full
queue would not share it, since the first one to connect takes every group. It measures:

- the aggregate rate: N positions over the time between the first and the last ``stored_at``
  (the publisher's own rate is printed beside it: it must be well above);
- CPU per position: the trackers' CPU time (all processes, all threads) over N;
- the broker's and the database's CPU per position (ActiveMQ's and FerretDB's processes), so the
  capacity model can size them too;
- the positions whose stored speed or heading differs from what one tracker computes from the
  same input (what ordering per vehicle is worth: 0 with groups).

Counts run in an order rotated each round. Needs the local stack's broker and database
(``make up``). The figures and the capacity model derived from them are in bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instrumentation
from ingest import MONGODB_URL, all_latest, last_positions, positions, traceparent

from services.stack.api import ensure_up, pid
from tests.support.broker import StompClient
from tests.support.history import Key, Record, one_tracker, same_movement, stored_records
from tests.support.processes import service_process

#: (trackers, positions in their vehicle's message group)
VARIANTS = ((1, True), (2, True), (3, True), (3, False))


def label(count: int, grouped: bool) -> str:
    return f"{count} tracker{'s' if count > 1 else ''}" + ("" if grouped else ", no groups")


def fill(queue: str, bodies: list[tuple[str, str]], grouped: bool) -> None:
    """Persistent messages, each in its vehicle's group if ``grouped``; one receipt at the end."""
    client = StompClient()
    for i, (vehicle, body) in enumerate(bodies):
        headers = {"persistent": "true", "traceparent": traceparent(i, 0.01)}
        if grouped:
            headers["JMSXGroupID"] = vehicle
        if i == len(bodies) - 1:
            client.send(queue, body, headers=headers)
        else:
            client.conn.send(f"/queue/{queue}", body, headers=headers)
    client.close()


def cpu_seconds(process: int) -> float:
    """CPU time of a process and its children (a server may run under a launcher)."""
    parent = psutil.Process(process)
    return sum(instrumentation.cpu_seconds(p.pid) for p in [parent, *parent.children(True)])


@dataclass
class Run:
    rate: float
    published_rate: float
    tracker_cpu_us: float
    broker_cpu_us: float
    database_cpu_us: float
    #: Positions whose speed or heading is not one tracker's, in percent.
    differ_pct: float


def run(
    count: int,
    grouped: bool,
    bodies: list[tuple[str, str]],
    expected: dict[Key, tuple[float | None, ...]],
    run_id: str,
    sink: str,
    tag: str,
) -> Run:
    queue, database = f"bench.{run_id}.{tag}", f"bench_{run_id}_{tag}".replace("-", "_")
    env = {
        "POSITION_QUEUE": queue,
        "DEAD_LETTER_QUEUE": f"{queue}.dlq",
        "MONGODB_DATABASE": database,
        "RETENTION_HOURS": "0",
        **instrumentation.telemetry_env("on", sink),
    }
    servers = {"broker": pid("activemq"), "database": pid("ferretdb")}
    with ExitStack() as stack:
        trackers = []
        for i in range(count):
            process = service_process("services.position_tracker", f"scale-{tag}-{i}", env, run_id)
            stack.callback(process.stop)
            trackers.append(process.start())
        pids = [t.executor.process.pid for t in trackers]  # type: ignore[union-attr]
        before = {p: cpu_seconds(p) for p in pids + list(servers.values())}
        started = time.monotonic()
        fill(queue, bodies, grouped)
        published_rate = len(bodies) / (time.monotonic() - started)
        with MongoClient(MONGODB_URL, tz_aware=True) as client:
            deadline = time.monotonic() + 900
            records: list[Record] = []
            # the latest positions are written before the history: wait for both
            while not all_latest(client[database]["vehicles"], last_positions(bodies)) or len(
                records := stored_records(client[database])
            ) < len(bodies):
                if time.monotonic() > deadline:
                    raise SystemExit(f"{count} trackers did not store {len(bodies)} in 900 s")
                time.sleep(0.25)
            used = {p: cpu_seconds(p) - before[p] for p in before}
            time.sleep(2)  # a late copy would show up now
            records = stored_records(client[database])
            client.drop_database(database)
    if sorted(r.key for r in records) != sorted(expected):
        raise SystemExit(f"{label(count, grouped)}: {len(records)} records, not each position once")
    differ = sum(not same_movement(r, expected[r.key]) for r in records)
    stamps = [r.stored_at for r in records]
    span = (max(stamps) - min(stamps)).total_seconds()
    n = len(bodies)
    return Run(
        (n - 1) / span,
        published_rate,
        sum(used[p] for p in pids) / n * 1e6,
        used[servers["broker"]] / n * 1e6,
        used[servers["database"]] / n * 1e6,
        differ / n * 100,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--positions", type=int, default=30_000)
    parser.add_argument("--vehicles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("starting what is not running of activemq, ferretdb...", flush=True)
    ensure_up(["activemq", "ferretdb"])
    run_id = uuid.uuid4().hex[:6]
    results: dict[tuple[int, bool], list[Run]] = {v: [] for v in VARIANTS}
    with instrumentation.span_sink() as sink:
        for round_no in range(args.rounds):
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
            bodies = positions(args.positions, args.vehicles, start)
            expected = one_tracker((body for _, body in bodies), datetime.now(UTC))
            for i in instrumentation.rotated(list(range(len(VARIANTS))), round_no):
                count, grouped = VARIANTS[i]
                tag = f"{round_no}-{count}-{'g' if grouped else 'n'}"
                one = run(count, grouped, bodies, expected, run_id, sink, tag)
                results[VARIANTS[i]].append(one)
                print(
                    f"round {round_no + 1} {label(count, grouped):22} {describe(one)}", flush=True
                )
    print("\nmedian over rounds:")
    one_rate = statistics.median(r.rate for r in results[(1, True)])
    for (count, grouped), runs in results.items():
        median = Run(*(statistics.median(getattr(r, f) for r in runs) for f in FIELDS))
        print(
            f"  {label(count, grouped):22} {describe(median)} ({median.rate / one_rate:.2f}x one)"
        )


FIELDS = [f.name for f in fields(Run)]


def describe(run: Run) -> str:
    return (
        f"{run.rate:6.0f} positions/s (published at {run.published_rate:5.0f}/s)  CPU/position: "
        f"trackers {run.tracker_cpu_us:5.1f} µs, broker {run.broker_cpu_us:5.1f} µs, database "
        f"{run.database_cpu_us:5.1f} µs; not one tracker's: {run.differ_pct:4.1f} %"
    )


if __name__ == "__main__":
    main()
