"""Gateway benchmark: request rate with telemetry on versus off, side by side in one run.

    .venv/bin/python bench/gateway.py --requests 3000 --rounds 3

One tracker (telemetry on, a few vehicles stored) serves gateways started in turn: one with
telemetry as deployed (traces sampled as every deployment samples them and exported to a real
collector, RED metrics with exemplars, JSON access logs), one with ``FLEET_TELEMETRY=off`` (no
traces, no metrics; access logs off as well) and, with ``--all-traced``, one tracing every
request. A closed-loop client with ``--concurrency`` connections requests ``/api/vehicles`` and
``/api/vehicles/{name}`` alternately. Rounds alternate the order so drift on a shared machine
hits all alike, and ratios are the median of each round's ratio. Each run also reports the
gateway's CPU time per request (steadier than rates here). Needs the local stack (``make up``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instrumentation

from services.stack.api import ensure_up
from tests.support.broker import StompClient
from tests.support.processes import ServiceProcess, service_process

VEHICLES = [f"Bench Van {i}" for i in range(12)]


async def drive(url: str, requests: int, concurrency: int) -> float:
    """Requests per second over ``requests`` requests from ``concurrency`` workers."""
    paths = ["/api/vehicles", *(f"/api/vehicles/{name}" for name in VEHICLES)]
    counter = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            response = await client.get(paths[i % len(paths)])
            response.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await client.get("/api/vehicles")  # warm the pools
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def seed(queue: str) -> None:
    client = StompClient()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    for i, name in enumerate(VEHICLES):
        body = {
            "vehicle": name,
            "lat": 53.37 + i / 1000,
            "lng": -1.47,
            "timestamp": now.isoformat(),
        }
        client.send(queue, json.dumps(body))
    client.close()


def gateway(tracker: ServiceProcess, telemetry: str, run_id: str, sink: str) -> ServiceProcess:
    env = {"TRACKER_URL": tracker.url, **instrumentation.telemetry_env(telemetry, sink)}
    return service_process("services.api_gateway", f"bench-gateway-{telemetry}", env, run_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--all-traced", action="store_true", help="also run a gateway tracing every request"
    )
    args = parser.parse_args()
    ensure_up(["activemq", "ferretdb"])
    with instrumentation.span_sink() as sink:
        measure(args, sink)


def measure(args: argparse.Namespace, sink: str) -> None:
    run_id = uuid.uuid4().hex[:6]
    queue = f"bench.{run_id}.gateway"
    database = f"bench_{run_id}_gateway"
    env = {
        "POSITION_QUEUE": queue,
        "DEAD_LETTER_QUEUE": f"{queue}.dlq",
        "MONGODB_DATABASE": database,
    }
    tracker = service_process(
        "services.position_tracker", "bench-gateway-tracker", env, run_id
    ).start()
    variants = ["on", "off"] + (["all-traced"] if args.all_traced else [])
    rates: dict[str, list[float]] = {variant: [] for variant in variants}
    cpu: dict[str, list[float]] = {variant: [] for variant in variants}
    try:
        seed(queue)
        deadline = time.monotonic() + 30
        while len(httpx.get(f"{tracker.url}/vehicles").json()) < len(VEHICLES):
            if time.monotonic() > deadline:
                raise SystemExit("the tracker did not store the seed positions")
            time.sleep(0.2)
        for round_no in range(args.rounds):
            order = variants if round_no % 2 == 0 else variants[::-1]
            for telemetry in order:
                process = gateway(tracker, telemetry, run_id, sink).start()
                served = process.executor.process.pid  # type: ignore[union-attr]
                try:
                    before = instrumentation.cpu_seconds(served)
                    rate = asyncio.run(drive(process.url, args.requests, args.concurrency))
                    used = instrumentation.cpu_seconds(served) - before
                    per_request = used / args.requests * 1e6
                finally:
                    process.stop()
                rates[telemetry].append(rate)
                cpu[telemetry].append(per_request)
                print(
                    f"round {round_no + 1} telemetry {telemetry:10} {rate:8.0f} requests/s"
                    f"  {per_request:6.0f} µs CPU/request",
                    flush=True,
                )
    finally:
        tracker.stop()
        from pymongo import MongoClient

        with MongoClient("mongodb://127.0.0.1:27017/") as client:
            client.drop_database(database)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"\nmedian: telemetry on {on:.0f} requests/s, off {off:.0f} requests/s")
    print("        ratios (median of the rounds' ratios; ratio of the medians in brackets):")
    paired = instrumentation.paired_ratio(rates["on"], rates["off"])
    print(f"        telemetry on / off {paired:.1%} ({on / off:.1%})")
    if "all-traced" in rates:
        every = statistics.median(rates["all-traced"])
        paired = instrumentation.paired_ratio(rates["all-traced"], rates["off"])
        print(f"        every request traced / off {paired:.1%} ({every / off:.1%})")
    medians = ", ".join(f"{v} {statistics.median(cpu[v]):.0f}" for v in variants)
    print(f"        gateway CPU per request (µs): {medians}")


if __name__ == "__main__":
    main()
