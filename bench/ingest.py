"""Ingest benchmark: the tracker against a bare stomp.py consumer, on the real broker and database.

    .venv/bin/python bench/ingest.py --positions 20000 --rounds 3

Each round, side by side on the same machine:

1. *bare*: a stomp.py consumer that only acknowledges (client-individual, same prefetch as the
   tracker) drains N pre-published positions;
2. *tracker*: the tracker (a real process) drains the same N into the database, with telemetry as
   deployed: metrics, logs, traces sampled as every deployment sets them (``deployed_sampling``)
   and exported over OTLP to a real collector that drops them (``instrumentation.py``);
3. with ``--telemetry``, the tracker again with ``FLEET_TELEMETRY=off``;
4. with ``--all-traced``, the tracker again tracing every position (``always_on``: whatever the
   publisher decided).

The positions are published as the simulator publishes them, each with a ``traceparent``, one in
a hundred sampled as the simulator is deployed; the tracker follows that decision (its own ratio
only applies to traces it starts, none here). ``--sampling 0.1`` publishes one in ten sampled
instead, to measure what another deployed ratio would cost.

Each round runs them in an order rotated by one, so none is favoured by always running first.
Rates are N over the time between the first and the last message handled (the tracker's from
the ``stored_at`` of what it stored), so start-up is not counted. Ratios are the median of each
round's ratio (variants of one round share the machine's state of those minutes). Then a paced
run publishes at ``--paced-rate`` and reports p50/p99 of publish → stored (``stored_at`` minus
the time the broker confirmed the publish). Needs the local stack (``make up``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import stomp
from pymongo import MongoClient
from pymongo.collection import Collection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instrumentation

from observability.runtime.tracing import deployed_sampling
from services.stack.api import ensure_up
from tests.support.broker import StompClient
from tests.support.history import stored_records
from tests.support.processes import service_process

MONGODB_URL = "mongodb://127.0.0.1:27017/"
PREFETCH = 1000
#: Extra tracker settings to try (``--env BATCH_MAX=500``).
EXTRA_ENV: dict[str, str] = {}
#: The tracker's variants and their telemetry setting (``instrumentation.VARIANTS``).
TRACKER_VARIANTS = {
    "tracker": "on",
    "tracker-telemetry-off": "off",
    "tracker-all-traced": "all-traced",
}


def positions(n: int, vehicles: int, start: datetime) -> list[tuple[str, str]]:
    """N valid position bodies (vehicle, body) driving slowly north, 1 s apart per vehicle."""
    out = []
    for i in range(n):
        vehicle = f"Bench {i % vehicles:02d}"
        step = i // vehicles
        body = {
            "vehicle": vehicle,
            "lat": 53.3 + step * 0.0001,
            "lng": -1.5 + (i % vehicles) * 0.01,
            "timestamp": (start + timedelta(seconds=step)).isoformat(),
        }
        out.append((vehicle, json.dumps(body)))
    return out


#: The share of positions the simulator samples as deployed (``--sampling`` tries another).
DEPLOYED_RATIO = float(deployed_sampling("position-simulator")["OTEL_TRACES_SAMPLER_ARG"])


def traceparent(i: int, sampling: float) -> str:
    """The context the simulator would publish message ``i`` in: every message carries one, and
    one in ``1 / sampling`` is sampled, so the tracker decides as it does in production."""
    sampled = "01" if i % round(1 / sampling) == 0 else "00"
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-{sampled}"


def fill(queue: str, bodies: list[tuple[str, str]], sampling: float = DEPLOYED_RATIO) -> None:
    """Publish persistent messages; one receipt at the end proves the broker has them all."""
    client = StompClient()
    for i, (_, body) in enumerate(bodies[:-1]):
        headers = {"persistent": "true", "traceparent": traceparent(i, sampling)}
        client.conn.send(f"/queue/{queue}", body, headers=headers)
    last = traceparent(len(bodies) - 1, sampling)
    client.send(queue, bodies[-1][1], headers={"traceparent": last})
    client.close()


def sampling_ratio(text: str) -> float:
    """``--sampling``: a ratio in (0, 1]."""
    ratio = float(text)
    if not 0 < ratio <= 1:
        raise argparse.ArgumentTypeError(f"a sampling ratio is in (0, 1], not {text}")
    return ratio


class _Acker(stomp.ConnectionListener):
    def __init__(self, conn: stomp.Connection12, n: int) -> None:
        self.conn, self.n, self.times = conn, n, []
        self.done = threading.Event()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.conn.ack(frame.headers["ack"])
        self.times.append(time.perf_counter())
        if len(self.times) >= self.n:
            self.done.set()


def bare_rate(queue: str, n: int) -> float:
    conn = stomp.Connection12([("127.0.0.1", 61613)], auto_content_length=False)
    acker = _Acker(conn, n)
    conn.set_listener("bench", acker)
    conn.connect(wait=True)
    conn.subscribe(
        f"/queue/{queue}",
        id="bench",
        ack="client-individual",
        headers={"activemq.prefetchSize": str(PREFETCH)},
    )
    if not acker.done.wait(600):
        raise SystemExit(f"bare consumer got {len(acker.times)}/{n} in 600 s")
    conn.disconnect()
    return (n - 1) / (acker.times[-1] - acker.times[0])


@dataclass
class TrackerRun:
    #: Positions per second, first to last stored.
    rate: float
    #: The tracker process's CPU time (all its threads) per position, in microseconds: less
    #: noisy than the rate on a shared machine, and what telemetry costs shows in it directly.
    cpu_us: float


def all_latest(vehicles: Collection, last: dict[str, datetime]) -> bool:
    latest = {d["_id"]: d["latest"]["timestamp"] for d in vehicles.find() if "latest" in d}
    return all(latest.get(vehicle) == moment for vehicle, moment in last.items())


def last_positions(bodies: list[tuple[str, str]]) -> dict[str, datetime]:
    return {v: datetime.fromisoformat(json.loads(b)["timestamp"]) for v, b in bodies}


def run_tracker(
    queue: str,
    database: str,
    last: dict[str, datetime],
    n: int,
    telemetry: str,
    run_id: str,
    sink: str,
) -> TrackerRun:
    """The tracker drains ``queue`` with ``telemetry`` (a variant), exporting spans to
    ``sink``."""
    env = {
        "POSITION_QUEUE": queue,
        "DEAD_LETTER_QUEUE": f"{queue}.dlq",
        "MONGODB_DATABASE": database,
        "RETENTION_HOURS": "0",
        **instrumentation.telemetry_env(telemetry, sink),
        **EXTRA_ENV,
    }
    process = service_process(
        "services.position_tracker", f"bench-tracker-{telemetry}", env, run_id
    )
    process.start()
    tracker = process.executor.process.pid  # type: ignore[union-attr]
    # From the end of start-up: the queue is drained from here.
    cpu_before = instrumentation.cpu_seconds(tracker)
    try:
        with MongoClient(MONGODB_URL, tz_aware=True) as client:
            # Done when every vehicle's latest position is its last one. (Reading the history
            # instead would compete with the tracker for the database.)
            deadline = time.monotonic() + 900
            while not all_latest(client[database]["vehicles"], last):
                if time.monotonic() > deadline:
                    raise SystemExit(f"tracker did not store all {n} positions in 900 s")
                time.sleep(0.25)
            cpu = instrumentation.cpu_seconds(tracker) - cpu_before
            records = stored_records(client[database])
            assert len(records) == n, f"{len(records)} records stored, not {n}"
            stamps = [r.stored_at for r in records]
            client.drop_database(database)
    finally:
        process.stop()
    span = (max(stamps) - min(stamps)).total_seconds()
    return TrackerRun((n - 1) / span if span > 0 else float("inf"), cpu / n * 1e6)


def paced_delays(count: int, rate: float, run_id: str, sink: str) -> list[float]:
    queue = f"bench.{run_id}.paced"
    database = f"bench_{run_id}_paced".replace("-", "_")
    env = {
        "POSITION_QUEUE": queue,
        "DEAD_LETTER_QUEUE": f"{queue}.dlq",
        "MONGODB_DATABASE": database,
        **instrumentation.telemetry_env("on", sink),
    }
    process = service_process(
        "services.position_tracker", "bench-tracker-paced", env, run_id
    ).start()
    sent: dict[str, float] = {}  # when the broker confirmed each position
    try:
        client = StompClient()
        bodies = positions(count, 12, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
        started = time.perf_counter()
        for i, (vehicle, body) in enumerate(bodies):
            time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            client.send(queue, body)
            sent[_key(vehicle, datetime.fromisoformat(json.loads(body)["timestamp"]))] = time.time()
        client.close()
        with MongoClient(MONGODB_URL, tz_aware=True) as mongo:
            deadline = time.monotonic() + 120
            while not all_latest(mongo[database]["vehicles"], last_positions(bodies)):
                if time.monotonic() > deadline:
                    raise SystemExit("the paced run did not finish in 120 s")
                time.sleep(0.2)
            delays = [
                r.stored_at.timestamp() - sent[_key(r.vehicle, r.timestamp)]
                for r in stored_records(mongo[database])
            ]
            mongo.drop_database(database)
    finally:
        process.stop()
    return delays


def _key(vehicle: str, moment: datetime) -> str:
    return f"{vehicle}|{int(moment.timestamp() * 1000)}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def add_workload_arguments(parser: argparse.ArgumentParser) -> None:
    """The positions each round publishes: how many, over how many vehicles, how many rounds,
    and the share of them the publisher samples."""
    parser.add_argument("--positions", type=int, default=20_000)
    parser.add_argument("--vehicles", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sampling",
        type=sampling_ratio,
        default=DEPLOYED_RATIO,
        help="share of positions the publisher samples, which the tracker follows with telemetry "
        f"on (default {DEPLOYED_RATIO}, as deployed): what another ratio would cost",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_workload_arguments(parser)
    parser.add_argument(
        "--telemetry", action="store_true", help="also run the tracker with telemetry off"
    )
    parser.add_argument(
        "--all-traced", action="store_true", help="also run the tracker tracing every position"
    )
    parser.add_argument(
        "--paced-rate", type=float, default=500.0, help="positions/s of the delay run"
    )
    parser.add_argument("--paced-count", type=int, default=3000)
    parser.add_argument("--env", action="append", default=[], help="tracker setting NAME=VALUE")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)
    print("starting what is not running of activemq, ferretdb...", flush=True)
    ensure_up(["activemq", "ferretdb"])
    with instrumentation.span_sink() as sink:
        measure(args, sink)


def measure(args: argparse.Namespace, sink: str) -> None:
    run_id = uuid.uuid4().hex[:6]
    results: dict[str, list[float]] = {"bare": [], **{v: [] for v in TRACKER_VARIANTS}}
    cpu: dict[str, list[float]] = {v: [] for v in TRACKER_VARIANTS}
    variants = ["bare", "tracker"]
    variants += ["tracker-telemetry-off"] if args.telemetry else []
    variants += ["tracker-all-traced"] if args.all_traced else []
    print(
        f"telemetry on: one position in {round(1 / args.sampling)} traced "
        f"({'as deployed' if args.sampling == DEPLOYED_RATIO else 'not as deployed'})",
        flush=True,
    )
    for round_no in range(args.rounds):
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        bodies = positions(args.positions, args.vehicles, start)
        for variant in instrumentation.rotated(variants, round_no):
            queue = f"bench.{run_id}.{round_no}.{variant}"
            fill(queue, bodies, args.sampling)
            if variant == "bare":
                rate, detail = bare_rate(queue, args.positions), ""
            else:
                telemetry = TRACKER_VARIANTS[variant]
                database = f"bench_{run_id}_{round_no}_{telemetry}".replace("-", "_")
                last = last_positions(bodies)
                run = run_tracker(queue, database, last, args.positions, telemetry, run_id, sink)
                rate, detail = run.rate, f"  {run.cpu_us:6.1f} µs CPU/position"
                cpu[variant].append(run.cpu_us)
            results[variant].append(rate)
            print(f"round {round_no + 1} {variant:24} {rate:10.0f} positions/s{detail}", flush=True)

    print("\nmedian over rounds:")
    medians = {k: statistics.median(v) for k, v in results.items() if v}
    cpu_medians = {k: statistics.median(v) for k, v in cpu.items() if v}
    for variant, value in medians.items():
        detail = f"  {cpu_medians[variant]:6.1f} µs CPU/position" if variant in cpu_medians else ""
        print(f"  {variant:24} {value:10.0f} positions/s{detail}")
    print("ratios (median of the rounds' ratios; ratio of the medians in brackets):")
    comparisons = [
        ("tracker / bare consumer", "tracker", "bare"),
        ("telemetry on / off", "tracker", "tracker-telemetry-off"),
        ("all traced / off", "tracker-all-traced", "tracker-telemetry-off"),
    ]
    for label, variant, reference in comparisons:
        if results[variant] and results[reference]:
            paired = instrumentation.paired_ratio(results[variant], results[reference])
            print(f"  {label:24} {paired:10.1%} ({medians[variant] / medians[reference]:.1%})")
    on, off = cpu["tracker"], cpu["tracker-telemetry-off"]
    if on and off:
        # Here the database is the bottleneck and the rate hides part of what telemetry costs:
        # a tracker bound by its own CPU (a faster database) would keep this share of its rate.
        paired = instrumentation.paired_ratio(off, on)
        of_medians = statistics.median(off) / statistics.median(on)
        print(f"  {'CPU a position, off / on':24} {paired:10.1%} ({of_medians:.1%})")

    delays = paced_delays(args.paced_count, args.paced_rate, run_id, sink)
    print(
        f"\npublish → stored at {args.paced_rate:.0f}/s over {len(delays)} positions: "
        f"p50 {percentile(delays, 50) * 1000:.1f} ms, p99 {percentile(delays, 99) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
