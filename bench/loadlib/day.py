"""day-of-data: a database of our own pre-filled with a day of positions, a tracker and a gateway
of our own on it; what reading the history and looking up a previous position cost there.
The writes under that store (ingest rate, new vehicles) are in ``arrivals.py``."""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
from pymongo.database import Database

from loadlib import arrivals
from loadlib.output import CpuWatch, Section, listening_pid, log, ms
from loadlib.own import HOUR_MS, Own, pid, records
from loadlib.stats import Tally, percentile, reconcile
from loadlib.tracks import Fleet, Schedule, moment, now_ms
from loadlib.vegeta import Vegeta
from services.position_tracker.buckets import millis
from services.position_tracker.store import PositionStore
from services.positions.formats import format_iso_timestamp
from services.stack.api import MONGODB_URL
from services.stack.ports import configured_port
from tests.support.processes import ServiceProcess


def add_arguments(parser: argparse.ArgumentParser) -> None:
    day = parser.add_argument_group("day-of-data")
    day.add_argument(
        "--dense",
        action="store_true",
        help="the other realistic day: 12 vehicles at one position a second (1,036,800)",
    )
    day.add_argument("--vehicles", type=int, help="vehicles of the day (1000; --dense 12)")
    day.add_argument("--interval", type=float, help="seconds between reports (86.4; --dense 1)")
    day.add_argument("--hours", type=float, default=24, help="hours of history (24)")
    day.add_argument(
        "--live-hours", type=float, default=2, help="newest hours written as live ingest (2)"
    )
    day.add_argument("--history-requests", type=int, default=1000, help="per measurement (1000)")
    day.add_argument(
        "--history-concurrency", type=int, default=2, help="history requests at a time (2)"
    )
    day.add_argument(
        "--limit-requests", type=int, default=300, help="per limit=300, =1000 measurement (300)"
    )
    day.add_argument("--lookups", type=int, default=1000, help="previous-position lookups (1000)")
    arrivals.add_arguments(day)


def measure(
    vegeta: Vegeta, args: argparse.Namespace, sink: str, run_id: str, out: list[Section]
) -> None:
    """The scenario; its section goes into ``out`` at once, so that an interrupted run still
    prints what it measured."""
    dense = args.dense
    vehicles = args.vehicles or (12 if dense else 1000)
    interval_ms = round((args.interval or (1 if dense else 86.4)) * 1000)
    count = round(args.hours * HOUR_MS / interval_ms)
    own = Own(run_id, sink)
    try:
        fleet = Fleet.make(vehicles + args.new_vehicles, args.seed)
        # The day ends early enough for the ingest rounds to continue it before "now".
        end = now_ms() - (args.ingest_rounds * args.continue_span + 60) * 1000
        day = Schedule(vehicles, end - count * interval_ms, interval_ms, count)
        section = Section(
            f"day of data: {vehicles:,} vehicles, {day.total:,} positions over {args.hours:g} h "
            f"(one every {interval_ms / 1000:g} s a vehicle)"
        )
        out.append(section)
        db, empty = own.database("day"), own.database("empty")
        store = PositionStore(MONGODB_URL, db.name)
        try:
            prefill(store, fleet, day, args.live_hours, section)
            tallies = {"pre-fill": verify(db, fleet, day)}
            log(f"pre-fill stored: {tallies['pre-fill']}")
            tracker = own.tracker(db, own.queue("reads"))
            gateway = own.gateway(tracker)
            history(vegeta, fleet, day, tracker, gateway, args, section)
            lookups(store, fleet, day, args, section)
            gateway.stop()
            tracker.stop()
        finally:
            store.close()
        tallies |= arrivals.ingest_rounds(own, fleet, day, db, empty, args, section)
        tallies["new vehicles"] = arrivals.new_vehicles(own, fleet, day, db, args, section)
        section.add(
            "positions lost / duplicated (raw records against what was published)",
            "; ".join(f"{part}: {tally}" for part, tally in tallies.items())
            + f"; refused (dead-lettered): {own.refused()}; {own.tracker_logs()}",
        )
    finally:
        own.close()


def prefill(
    store: PositionStore, fleet: Fleet, day: Schedule, live_hours: float, section: Section
) -> None:
    """The day through ``PositionStore.write``, in time order: an hour a write for the older
    part; for the newest ``live_hours``, one report of every vehicle a write (as the live tracker
    writes them: one chunk per position)."""
    live_from = max(day.start_ms, day.end_ms - round(live_hours * HOUR_MS))
    log(f"pre-filling {day.total:,} positions of {day.vehicles:,} vehicles")
    parts = {
        "old": day.slices(day.start_ms, live_from, HOUR_MS),
        "live": day.slices(live_from, day.end_ms, day.interval_ms),
    }
    counts, writes, took = {}, {}, {}
    written, last_log, logged = 0, time.monotonic(), 0
    for part, slices in parts.items():
        started = time.monotonic()
        counts[part] = writes[part] = 0
        for reports in slices:
            store.write(fleet.stored(reports, day.interval_ms, day.start_ms))
            counts[part] += len(reports)
            writes[part] += 1
            written += len(reports)
            if time.monotonic() - last_log > 10:
                rate = (written - logged) / (time.monotonic() - last_log)
                last_log, logged = time.monotonic(), written
                log(
                    f"  pre-fill: {written:,} / {day.total:,} ({written / day.total:.0%}), "
                    f"{rate:,.0f} positions/s now"
                )
        took[part] = max(time.monotonic() - started, 1e-6)
    section.add(
        "pre-fill through PositionStore.write",
        f"{written:,} positions in {sum(took.values()):.0f} s: {counts['old']:,} in "
        f"{writes['old']} writes of an hour ({counts['old'] / took['old']:,.0f}/s), then the "
        f"newest {live_hours:g} h as live: {counts['live']:,} in {writes['live']:,} writes of "
        f"one position a vehicle ({counts['live'] / took['live']:,.0f}/s)",
    )


def verify(db: Database, fleet: Fleet, day: Schedule) -> Tally:
    """Every record stored against the day's reports, an hour at a time."""
    total = Tally(0, 0, 0, 0)
    for low in range(day.start_ms - day.start_ms % HOUR_MS, day.end_ms, HOUR_MS):
        published = ((fleet.names[v], at) for v, at in day.between(low, low + HOUR_MS))
        stored = ((vehicle, at) for vehicle, at, _ in records(db, low, low + HOUR_MS))
        total += reconcile(published, stored)
    return total


def history(
    vegeta: Vegeta,
    fleet: Fleet,
    day: Schedule,
    tracker: ServiceProcess,
    gateway: ServiceProcess,
    args: argparse.Namespace,
    section: Section,
) -> None:
    """Each history query over random vehicles, ``--history-concurrency`` requests at a time
    until ``--history-requests`` (``--limit-requests`` for the limits alone) are answered."""
    rng = random.Random(args.seed + 1)
    since = format_iso_timestamp(datetime.now(UTC) - timedelta(hours=1))
    names = fleet.names[: day.vehicles]
    count = max(args.history_requests, args.limit_requests)
    picks = [quote(rng.choice(names)) for _ in range(count)]
    direct, through = f"{tracker.url}/vehicles", f"{gateway.url}/api/vehicles"
    last_hour, limits = picks[: args.history_requests], picks[: args.limit_requests]
    kinds = {
        "last hour (since = now - 1 h), tracker direct": (direct, f"since={since}", last_hour),
        "last hour (since = now - 1 h), through a gateway": (through, f"since={since}", last_hour),
        "limit=300, tracker direct": (direct, "limit=300", limits),
        "limit=1000, tracker direct": (direct, "limit=1000", limits),
    }
    newest = (now_ms() - day.end_ms) / 60_000
    pids = {
        "tracker": pid(tracker),
        "gateway": pid(gateway),
        "ferretdb": listening_pid(configured_port("ferretdb", 27017)),
    }
    p99 = {}
    for what, (base, query, vehicles) in kinds.items():
        urls = [f"{base}/{name}/history?{query}" for name in vehicles]
        size = len(httpx.get(urls[0], timeout=60).json()["positions"])
        log(f"history {what}: {size} positions an answer; {len(urls):,} requests")
        with CpuWatch(pids) as cpu:
            output = vegeta.attack(
                "history", urls, 0, workers=args.history_concurrency, timeout=30
            ).wait()
        report = vegeta.report(output)
        p99[what] = report.p99_ms
        section.add(
            f"history, {what}",
            f"p50 {ms(report.p50_ms)} / p99 {ms(report.p99_ms)} / max {ms(report.max_ms)} ms over "
            f"{report.requests:,} requests ({report.throughput:,.0f}/s), errors {report.codes()}; "
            f"{size} positions an answer",
        )
        section.notes.append(f"CPU (% of one core) during history {what}: {cpu.summary()}")
    direct_p99, gateway_p99 = list(p99.values())[:2]
    section.add(
        "history, last hour: p99 through the gateway / direct", f"{gateway_p99 / direct_p99:.2f}"
    )
    section.notes.append(
        f"History requests: {args.history_concurrency} at a time, each of random vehicles; the "
        f"day's newest position was {newest:.0f} min old at the time."
    )


def lookups(
    store: PositionStore, fleet: Fleet, day: Schedule, args: argparse.Namespace, section: Section
) -> None:
    """``PositionStore.previous`` in this process: in order (after the vehicle's latest) and out
    of order (a random moment of the day), random vehicles, alternately; each answer checked."""
    rng = random.Random(args.seed + 2)
    timings: dict[str, list[float]] = {"in order": [], "out of order": []}
    wrong = 0
    for _ in range(args.lookups):
        vehicle = rng.randrange(day.vehicles)
        latest = day.at(vehicle, day.count - 1)
        k = rng.randrange(1, day.count)
        cases = {
            "in order": (latest + 1000, latest),
            "out of order": (
                day.at(vehicle, k) - rng.randrange(day.interval_ms),
                day.at(vehicle, k - 1),
            ),
        }
        for kind, (before, expected) in cases.items():
            started = time.perf_counter()
            found = store.previous(fleet.names[vehicle], moment(before))
            timings[kind].append((time.perf_counter() - started) * 1000)
            if found is None or millis(found.timestamp) != expected:
                wrong += 1
    for kind, values in timings.items():
        section.add(
            f"previous-position lookup (PositionStore.previous), {kind}",
            f"p50 {ms(percentile(values, 50))} / p99 {ms(percentile(values, 99))} ms "
            f"over {len(values):,} lookups",
        )
    if wrong:
        section.add("previous-position lookups answered wrong", f"**{wrong}**")
