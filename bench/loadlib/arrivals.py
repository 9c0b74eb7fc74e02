"""Writes under a day of data: the tracker's ingest rate on the full store against an identical
empty one, and a thousand new vehicles appearing at once while the others keep reporting."""

from __future__ import annotations

import argparse
import statistics
import time

import ingest
import instrumentation
import psutil
from pymongo.database import Database

from loadlib.output import CpuWatch, Section, listening_pid, log, ms
from loadlib.own import Own, pid, records, wait_for
from loadlib.stats import Tally, longest_gap, percentile, reconcile
from loadlib.tracks import Fleet, Schedule, moment, now_ms
from services.stack.ports import configured_port
from tests.support.broker import StompClient


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--ingest-positions", type=int, default=50_000, help="positions an ingest round (50000)"
    )
    group.add_argument(
        "--ingest-rounds",
        type=int,
        default=4,
        help="interleaved rounds (4: as many with either store first, the second run of a round "
        "being slower while the database settles the first's writes)",
    )
    group.add_argument(
        "--continue-span", type=int, default=60, help="seconds of the tracks a round covers (60)"
    )
    group.add_argument("--new-vehicles", type=int, default=1000, help="vehicles appearing (1000)")
    group.add_argument("--live-seconds", type=float, default=60, help="the publisher runs (60 s)")
    group.add_argument("--new-at", type=float, default=20, help="when they appear (20 s)")
    group.add_argument(
        "--live-every", type=float, help="seconds between reports of the others (5; --dense 1)"
    )
    group.add_argument("--new-every", type=float, default=5, help="the new ones' (5 s)")


def ingest_rounds(
    own: Own,
    fleet: Fleet,
    day: Schedule,
    db: Database,
    empty: Database,
    args: argparse.Namespace,
    section: Section,
) -> dict[str, Tally]:
    """Each round, the same positions (continuing the day's tracks) pre-published to a queue
    and drained by a tracker of its own, into the full store and into the empty one (order
    alternated); rate from the first to the last ``stored_at``."""
    per_vehicle = max(1, args.ingest_positions // day.vehicles)
    spacing = args.continue_span * 1000 // per_vehicle
    stores = {"day store": db, "empty store": empty}
    rates: dict[str, list[float]] = {name: [] for name in stores}
    cpu_us: dict[str, list[float]] = {name: [] for name in stores}
    tallies = {name: Tally(0, 0, 0, 0) for name in stores}
    notes = []
    for round_no in range(args.ingest_rounds):
        start = day.end_ms + round_no * args.continue_span * 1000 + 1000
        plan = Schedule(day.vehicles, start, spacing, per_vehicle)
        reports = plan.between(plan.start_ms, plan.end_ms)
        bodies = [(fleet.names[v], fleet.body(v, at)) for v, at in reports]
        published = [(fleet.names[v], at) for v, at in reports]
        last = ingest.last_positions(bodies)
        order = list(stores) if round_no % 2 == 0 else list(stores)[::-1]
        for name in order:
            queue = own.queue(f"ingest-{round_no}-{name.split()[0]}")
            ingest.fill(queue, bodies)
            quiet(_ferretdb())
            tracker = own.tracker(stores[name], queue)
            before = instrumentation.cpu_seconds(pid(tracker))
            watched = {"tracker": pid(tracker), "ferretdb": _ferretdb()}
            with CpuWatch(watched) as cpu:
                wait_for(
                    lambda db=stores[name], last=last: ingest.all_latest(db["vehicles"], last),
                    f"ingest round {round_no + 1} ({name})",
                    900,
                )
            used = instrumentation.cpu_seconds(pid(tracker)) - before
            tracker.stop()
            found = list(records(stores[name], plan.start_ms, plan.end_ms))
            stamps = [stored for _, _, stored in found]
            span_ms = max(stamps) - min(stamps)
            if span_ms <= 0:
                raise SystemExit(
                    f"--ingest-positions {len(reports)}: stored in one batch, no rate to measure "
                    "(give several batches' worth, 5,000 or more)"
                )
            rate = (len(reports) - 1) / (span_ms / 1000)
            rates[name].append(rate)
            cpu_us[name].append(used / len(reports) * 1e6)
            tallies[name] += reconcile(published, ((v, at) for v, at, _ in found))
            log(
                f"ingest round {round_no + 1} {name:12} {rate:8,.0f} positions/s "
                f"{cpu_us[name][-1]:6.1f} µs CPU/position  CPU {cpu.summary()}"
            )
            notes.append(f"round {round_no + 1}, {name}: {cpu.summary()}")
    for name in stores:
        section.add(
            f"ingest, {name}: positions/s by round (µs of tracker CPU a position)",
            ", ".join(
                f"{r:,.0f} ({c:.0f})" for r, c in zip(rates[name], cpu_us[name], strict=True)
            ),
        )
    paired = instrumentation.paired_ratio(rates["day store"], rates["empty store"])
    medians = statistics.median(rates["day store"]) / statistics.median(rates["empty store"])
    section.add(
        f"ingest rate, day store / empty store ({args.ingest_positions:,} positions a round, "
        "target >= 90 %)",
        f"**{paired:.1%}** (median of the rounds' ratios; ratio of the medians {medians:.1%})",
    )
    section.notes.append("CPU (% of one core) during the ingest rounds: " + "; ".join(notes))
    return {f"ingest rounds, {name}": tally for name, tally in tallies.items()}


def _ferretdb() -> int | None:
    return listening_pid(configured_port("ferretdb", 27017))


def quiet(pid: int | None, below: float = 0.2, timeout: float = 30) -> None:
    """Wait until the database uses less than ``below`` of a core over a second (it has written
    out what the previous run left it), at most ``timeout`` s."""
    if pid is None:
        return
    process, deadline = psutil.Process(pid), time.monotonic() + timeout
    while process.cpu_percent(interval=1.0) / 100 >= below and time.monotonic() < deadline:
        pass


def new_vehicles(
    own: Own, fleet: Fleet, day: Schedule, db: Database, args: argparse.Namespace, section: Section
) -> Tally:
    """The day's vehicles keep reporting (every ``--live-every`` s, spread over it) for
    ``--live-seconds``; at ``--new-at`` s, ``--new-vehicles`` new ones send their first position
    together, then every ``--new-every`` s. Publish → stored delays, the longest stall."""
    every = args.live_every or (1 if args.dense else 5)
    existing = day.vehicles
    events = [
        (k * every + v * every / existing, v)
        for k in range(int(args.live_seconds / every))
        for v in range(existing)
    ]
    events += [
        (args.new_at + k * args.new_every, existing + v)
        for k in range(int((args.live_seconds - args.new_at) / args.new_every))
        for v in range(args.new_vehicles)
    ]
    events.sort(key=lambda event: event[0])
    queue = own.queue("arrivals")
    tracker = own.tracker(db, queue)
    log(
        f"new vehicles: {existing:,} reporting every {every:g} s for {args.live_seconds:g} s, "
        f"{args.new_vehicles:,} new at {args.new_at:g} s"
    )
    with CpuWatch({"tracker": pid(tracker), "ferretdb": _ferretdb()}) as cpu:
        started, sent, lag = publish(fleet, queue, events)
        last = {fleet.names[v]: moment(at) for (v, at) in sent}
        wait_for(lambda: ingest.all_latest(db["vehicles"], last), "new vehicles", 300)
    tracker.stop()
    low = min(at for _, at in sent)
    found = list(records(db, low, now_ms() + 1))
    delays = {"all": [], "existing": []}
    stored_existing = []
    index = {name: v for v, name in enumerate(fleet.names)}
    for vehicle, at, stored in found:
        key = (index[vehicle], at)
        if key not in sent:
            continue
        delay = stored / 1000 - sent[key]
        delays["all"].append(delay * 1000)
        if index[vehicle] < existing:
            delays["existing"].append(delay * 1000)
            stored_existing.append(stored / 1000 - started)
    for kind, values in delays.items():
        section.add(
            f"new vehicles: publish → stored ({kind} vehicles' positions)",
            f"p50 {ms(percentile(values, 50))} / p99 {ms(percentile(values, 99))} / "
            f"max {ms(max(values, default=float('nan')))} ms over {len(values):,}",
        )
    before = [t for t in stored_existing if t < args.new_at]
    after = [t for t in stored_existing if t >= args.new_at - 1]
    gap_before, _ = longest_gap(before)
    gap_after, began = longest_gap(after)
    section.add(
        "new vehicles: longest time no position of the existing vehicles was stored",
        f"**{gap_after * 1000:,.0f} ms** from {began:.1f} s, once the new vehicles came "
        f"(before them: {gap_before * 1000:,.0f} ms; they came at {args.new_at:g} s; the "
        f"existing vehicles report {existing / every:,.0f} positions/s)",
    )
    section.notes.append(
        f"New vehicles: the publisher ran behind its schedule by at most {max(lag) * 1000:,.0f} ms; "
        f"CPU (% of one core): {cpu.summary()}. stored_at is when the tracker decided to store "
        "a position, just before its batch's write; the decider runs at most two batches ahead "
        "of the writer, so a slow write shows as a gap after those."
    )
    published = [(fleet.names[v], at) for v, at in sent]
    return reconcile(published, ((vehicle, at) for vehicle, at, _ in found))


def publish(
    fleet: Fleet, queue: str, events: list[tuple[float, int]]
) -> tuple[float, dict[tuple[int, int], float], list[float]]:
    """Each (offset s, vehicle) at its time, timestamped then: (the start, when each (vehicle,
    ms) was published, how late each was against the schedule). Persistent messages; the last
    one waits for the broker's receipt, so the broker has them all."""
    client = StompClient()
    sent: dict[tuple[int, int], float] = {}
    lag = []
    started = time.time() + 0.5
    try:
        for i, (offset, vehicle) in enumerate(events):
            time.sleep(max(0.0, started + offset - time.time()))
            at = now_ms()
            while (vehicle, at) in sent:  # never two reports of a vehicle in one millisecond
                at += 1
            body = fleet.body(vehicle, at)
            published = time.time()
            if i < len(events) - 1:
                client.conn.send(f"/queue/{queue}", body, headers={"persistent": "true"})
            else:
                client.send(queue, body)
            sent[(vehicle, at)] = published
            lag.append(published - started - offset)
    finally:
        client.close()
    return started, sent, lag
