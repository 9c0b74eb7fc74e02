"""Where the tracker's telemetry spends its CPU, phase by phase.

    .venv/bin/python bench/ingest_telemetry.py --positions 100000 --rounds 5

``bench/ingest.py`` measures what telemetry costs the running tracker; this says where. In a
process of its own per variant (telemetry as deployed, off, every position traced), it drives
the tracker's ingest telemetry (``IngestTelemetry``) batch by batch as the consumer does, over
positions decided as the tracker decides them and carrying the simulator's ``traceparent``
(``--sampling`` as in ``bench/ingest.py``), without the broker and the database, and times each
phase with the thread's CPU clock. Spans go to a real collector that drops them, as in the
other benchmarks; the exporter thread's CPU is the process's less the main thread's, the final
flush included. Deciding the positions is not timed: it is the same in every variant.

Each round runs the variants in turn, in an order rotated by one; the table gives medians over
the rounds, in µs of CPU a position. Needs no server but the collector it starts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest
import instrumentation

from observability.runtime import Telemetry
from observability.runtime.logs import configure_logging
from services.common.server import tune_garbage_collection
from services.common.version import VERSION
from services.position_tracker.ingest_telemetry import IngestTelemetry
from services.position_tracker.processing import Decision, Incoming, PreviousPositions
from services.position_tracker.processing import decide as decide_batch
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import CATALOG

#: What the consumer records, in its order (``services/position_tracker/consumer.py``), then
#: what the other threads spend.
PHASES = {
    "spans": "message spans started (decider)",
    "batch": "received counts, write span and links",
    "stored": "delay histogram, freshness, batch log line",
    "end": "message spans ended",
    "export": "exporter thread and final flush",
}
VARIANTS = ("on", "off", "all-traced")


def delivered(bodies: Sequence[tuple[str, str]], sampling: float) -> list[Incoming]:
    """The messages as the broker delivers them to the tracker: its headers and the
    simulator's ``traceparent``."""
    published_ms = str(int(time.time() * 1000))
    return [
        Incoming(
            body,
            {
                "message-id": f"ID:bench-{i}",
                "ack": f"ID:bench-{i}",
                "destination": "/queue/positionQueue",
                "subscription": "positions",
                "persistent": "true",
                "priority": "4",
                "expires": "0",
                "timestamp": published_ms,
                "content-length": str(len(body)),
                "traceparent": ingest.traceparent(i, sampling),
            },
            time.time_ns(),
        )
        for i, (_, body) in enumerate(bodies)
    ]


def decided_batches(
    messages: Sequence[Incoming], settings: TrackerSettings
) -> list[list[Decision]]:
    """The messages decided in the tracker's batches, speeds chained across batches."""
    # An empty store: no vehicle has a stored position yet.
    previous = PreviousPositions(lambda _v, _t: None, lambda _: {}, lambda _v, _a, _b: set())
    limits = settings.limits()
    now = datetime.now(UTC)
    batches = []
    size = settings.batch_max
    for start in range(0, len(messages), size):
        decisions = decide_batch(messages[start : start + size], previous, now, limits)
        previous.commit([d.outcome for d in decisions])  # type: ignore[misc]
        batches.append(decisions)
    return batches


class DropWatch(logging.Handler):
    """Notices the SDK's batch span processor dropping spans, its queue full: the exporter did
    not keep up, and the export column understates what exporting every span would cost."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.dropped = False

    def emit(self, record: logging.LogRecord) -> None:
        self.dropped |= record.getMessage().startswith("Queue full, dropping")


def record_batches(
    telemetry: Telemetry, settings: TrackerSettings, batches: Sequence[list[Decision]]
) -> dict[str, float]:
    """Record the batches as the consumer does; µs of CPU a position by phase (``PHASES``).
    The first batch warms up (the exporter's first post opens its connection) and is not
    counted, as in a tracker that has been running for a while."""
    record = IngestTelemetry(telemetry, settings)
    _record(record, batches[0], dict.fromkeys(PHASES, 0.0))
    if telemetry.tracer_provider is not None:
        telemetry.tracer_provider.force_flush()
    spent = dict.fromkeys(PHASES, 0.0)
    process_start, thread_start = time.process_time(), time.thread_time()
    for decisions in batches[1:]:
        _record(record, decisions, spent)
    main_thread = time.thread_time() - thread_start
    telemetry.shutdown()  # exports what is still queued
    spent["export"] = time.process_time() - process_start - main_thread
    positions = sum(len(decisions) for decisions in batches[1:])
    return {phase: seconds / positions * 1e6 for phase, seconds in spent.items()}


def _record(record: IngestTelemetry, decisions: list[Decision], spent: dict[str, float]) -> None:
    """One batch, as the consumer records it; adds each phase's CPU seconds to ``spent``."""
    clock = time.thread_time
    t0 = clock()
    spans = [record.start_span(d) for d in decisions]
    t1 = clock()
    record.received(decisions)
    kept = list(zip(decisions, spans, strict=True))
    write_ns = time.time_ns()
    record.written(kept, write_ns, write_ns)
    t2 = clock()
    record.stored(kept, set())
    t3 = clock()
    for span in spans:
        span.end()
    t4 = clock()
    spent["spans"] += t1 - t0
    spent["batch"] += t2 - t1
    spent["stored"] += t3 - t2
    spent["end"] += t4 - t3


def run_variant(
    variant: str, positions: int, vehicles: int, sampling: float, endpoint: str
) -> dict[str, float]:
    """One variant in a process of its own (telemetry is set up from the environment once per
    process); µs of CPU a position by phase."""
    env = {
        **os.environ,
        **instrumentation.telemetry_env(variant, endpoint),
        # With no broker and no database, spans are made faster than a tracker makes them, and
        # faster than the exporter sends them every position traced: a queue that holds them
        # all (memory, not CPU) keeps the SDK from dropping any, so every span's export counts.
        "OTEL_BSP_MAX_QUEUE_SIZE": str(2 * positions),
    }
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        command = [sys.executable, __file__, "--child", variant, "--result", result.name]
        command += ["--positions", str(positions), "--vehicles", str(vehicles)]
        command += ["--sampling", str(sampling)]
        subprocess.run(
            command,
            env=env,
            stdout=subprocess.DEVNULL,  # the tracker's JSON log lines
            check=True,
        )
        outcome = json.loads(Path(result.name).read_text())
    if outcome["dropped"]:
        print(f"  {variant}: spans dropped, the exporter did not keep up", flush=True)
    return outcome["spent"]


def child(args: argparse.Namespace) -> None:
    settings = TrackerSettings(retention_hours=0)  # a day ago is not too old: kept forever
    configure_logging(CATALOG.name, VERSION, settings.log_level)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    bodies = ingest.positions(args.positions, args.vehicles, start)
    batches = decided_batches(delivered(bodies, args.sampling), settings)
    telemetry = Telemetry.create(CATALOG, VERSION)
    # As the service does once started; here it also freezes the decided positions, all alive
    # at once, which a running tracker never has (it holds a few thousand).
    tune_garbage_collection()
    drops = DropWatch()
    logging.getLogger().addHandler(drops)
    spent = record_batches(telemetry, settings, batches)
    Path(args.result).write_text(json.dumps({"spent": spent, "dropped": drops.dropped}))


def report(results: dict[str, list[dict[str, float]]]) -> list[str]:
    """The table of medians over rounds, a column per variant, and what "on" adds to "off"."""
    medians = {
        variant: {phase: statistics.median(r[phase] for r in rounds) for phase in PHASES}
        for variant, rounds in results.items()
    }
    for values in medians.values():
        values["total"] = sum(values.values())
    header = f"{'µs of CPU a position':46}" + "".join(f"{v:>12}" for v in medians)
    lines = [header]
    for phase, label in [*PHASES.items(), ("total", "total")]:
        lines.append(f"{label:46}" + "".join(f"{m[phase]:12.2f}" for m in medians.values()))
    if "on" in medians and "off" in medians:
        added = medians["on"]["total"] - medians["off"]["total"]
        lines.append(f"telemetry on adds {added:.1f} µs of CPU a position to off")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ingest.add_workload_arguments(parser)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batch = TrackerSettings().batch_max
    if args.positions < 2 * batch:
        parser.error(f"--positions: at least {2 * batch}, a batch to warm up and one to measure")
    if args.child:
        child(args)
        return
    results: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
    with instrumentation.span_sink() as sink:
        for round_no in range(args.rounds):
            for variant in instrumentation.rotated(args.variants, round_no):
                spent = run_variant(variant, args.positions, args.vehicles, args.sampling, sink)
                results[variant].append(spent)
                total = sum(spent.values())
                print(f"round {round_no + 1} {variant:12} {total:7.2f} µs a position", flush=True)
    print(f"\none position in {round(1 / args.sampling)} sampled; medians over rounds:")
    print("\n".join(report(results)))


if __name__ == "__main__":
    main()
