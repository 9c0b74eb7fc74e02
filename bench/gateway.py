"""Gateway benchmark: request rate with telemetry on versus off, side by side in one run.

    .venv/bin/python bench/gateway.py --requests 3000 --rounds 3

One tracker (telemetry on, a few vehicles stored) serves two gateways started in turn: one with
telemetry on (traces, RED metrics with exemplars, JSON access logs) and one with
``FLEET_TELEMETRY=off`` (no traces, no metrics; access logs off as well). A closed-loop client
with ``--concurrency`` connections requests ``/api/vehicles`` and ``/api/vehicles/{name}``
alternately. Rounds alternate the order so drift on a shared machine hits both alike. Needs the
local stack (``make up``).
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


def gateway(tracker: ServiceProcess, telemetry: str, run_id: str) -> ServiceProcess:
    env = {"TRACKER_URL": tracker.url, "FLEET_TELEMETRY": telemetry}
    if telemetry == "off":
        env["LOG_LEVEL"] = "WARNING"
    return service_process("services.api_gateway", f"bench-gateway-{telemetry}", env, run_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

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
    rates: dict[str, list[float]] = {"on": [], "off": []}
    try:
        seed(queue)
        deadline = time.monotonic() + 30
        while len(httpx.get(f"{tracker.url}/vehicles").json()) < len(VEHICLES):
            if time.monotonic() > deadline:
                raise SystemExit("the tracker did not store the seed positions")
            time.sleep(0.2)
        for round_no in range(args.rounds):
            order = ["on", "off"] if round_no % 2 == 0 else ["off", "on"]
            for telemetry in order:
                process = gateway(tracker, telemetry, run_id).start()
                try:
                    rate = asyncio.run(drive(process.url, args.requests, args.concurrency))
                finally:
                    process.stop()
                rates[telemetry].append(rate)
                print(
                    f"round {round_no + 1} telemetry {telemetry:3} {rate:8.0f} requests/s",
                    flush=True,
                )
    finally:
        tracker.stop()
        from pymongo import MongoClient

        with MongoClient("mongodb://127.0.0.1:27017/") as client:
            client.drop_database(database)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(
        f"\nmedian: telemetry on {on:.0f} requests/s, off {off:.0f} requests/s, on/off {on / off:.1%}"
    )


if __name__ == "__main__":
    main()
