"""Load benchmark: the platform under load, and with a day of data.

    .venv/bin/python bench/load.py all                # everything below, 25 to 35 minutes
    .venv/bin/python bench/load.py live-map           # 300 browsers on the live map for 60 s
    .venv/bin/python bench/load.py step               # step load: nginx, gateway, tracker
    .venv/bin/python bench/load.py burst              # 10x overload, then time to recover
    .venv/bin/python bench/load.py day-of-data        # 1,000 vehicles, 1,000,000 positions
    .venv/bin/python bench/load.py day-of-data --dense  # 12 vehicles at 1 position/s, 24 h

HTTP load comes from vegeta (``go install github.com/tsenart/vegeta/v12@v12.13.0``, built once
into the stack's cache), its results read from ``vegeta report -type=json``. Latencies are
vegeta's (client side); errors are every answer not 2xx plus requests with no answer.

- **live-map**: N browsers (``--browsers``) each poll ``GET /api/vehicles`` every 2 s through
  nginx and open a random known vehicle's history (``?limit=300``) every 30 s, for 60 s (two
  open-loop attacks at the browsers' combined rates). Per endpoint: p50/p99/max, errors, the
  rate achieved.
- **step**: ``GET /api/vehicles`` through nginx, on the gateway directly and the tracker's
  ``GET /vehicles`` directly, at increasing rates (``--rates``, 10 s each), the paths
  interleaved at each rate; the highest rate each sustained (p99 < 100 ms, no error, the rate
  really sent, every lower rate sustained too). Then the gateway and the tracker directly at
  200 req/s, interleaved rounds: p99 of each and their ratio (target <= 1.5).
- **burst**: 10x the rate the gateway sustained in ``step`` (run first when ``burst`` runs alone
  without ``--rate``) for 15 s on what nginx does not cache: the gateway directly
  (``/api/vehicles``) and nginx's ``/api/vehicles/{name}``. Before it, a probe at 10 req/s gives
  the normal p99; after it, the same probe measures the time until answers are normal again
  (200 within that p99, 20 in a row). What the burst got: 503 sheds (with Retry-After or not),
  504s, other statuses, no answer; how fast the sheds came.
- **day-of-data**: a tracker, a gateway, a database and queues of its own (never the stack's
  ``fleetman`` or its services), pre-filled through ``PositionStore.write`` with a day of
  positions (1,000 vehicles, one every 86.4 s each, around Sheffield; the newest 2 hours one
  position per vehicle per write, as live ingest writes them). Then: history of the last hour
  (tracker directly and through the gateway), with ``limit=300`` and ``limit=1000``; the
  previous-position lookup in process, in and out of order; the tracker's ingest rate on that
  store against an identical empty one (interleaved rounds of 50,000 positions continuing the
  tracks, pre-published, rate from ``stored_at``); 1,000 new vehicles appearing at once while
  the others keep reporting (publish → stored delays, the longest stall); positions lost or
  duplicated in every part, from the raw stored records. ``--dense``: 12 vehicles at one
  position a second instead.

Progress goes to stderr; stdout gets the command line, then markdown tables to paste into
``bench/README.md``. Everything a scenario starts (vegeta, trackers, gateways, databases,
queues, the span collector) is stopped or dropped at the end, Ctrl-C included. The HTTP
scenarios load the running stack (``make up``); this 2-core machine is shared, so compare what
one run measured side by side, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import instrumentation
from loadlib import day, web
from loadlib.output import Section, log
from loadlib.vegeta import Vegeta

from services.stack.api import ensure_tool, is_healthy

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["live-map", "step", "burst", "day-of-data"]
NEEDS = {
    "live-map": ["nginx", "api-gateway", "position-tracker", "position-simulator"],
    "step": ["nginx", "api-gateway", "position-tracker"],
    "burst": ["nginx", "api-gateway", "position-tracker"],
    "day-of-data": ["activemq", "ferretdb"],
}


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, default=7, help="random choices and tracks (7)")
    http = argparse.ArgumentParser(add_help=False)
    web.add_arguments(http)
    data = argparse.ArgumentParser(add_help=False)
    day.add_arguments(data)
    main = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    scenarios = main.add_subparsers(dest="scenario", required=True, metavar="SCENARIO")
    helps = {
        "live-map": "browsers polling the live map through nginx",
        "step": "step load through nginx, on the gateway and on the tracker",
        "burst": "10x overload on the uncached path, then the time to recover",
        "day-of-data": "a day of positions in a store of our own: reads, lookups, ingest",
        "all": "every scenario, in that order",
    }
    for name, text in helps.items():
        parents = {"day-of-data": [common, data], "all": [common, http, data]}.get(
            name, [common, http]
        )
        scenarios.add_parser(name, parents=parents, help=text, description=text)
    return main


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def header() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in psutil.getloadavg())
    return (
        f"`{shlex.join(sys.orig_argv)}`\n\n"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}"
        f"{' with uncommitted changes' if dirty else ''}, {psutil.cpu_count()} cores, "
        f"load average {load} at the start\n"
    )


def main() -> None:
    args = parser().parse_args()
    # Ctrl-C and SIGTERM stop the run and clean up (SIGINT too when started in the background,
    # where shells ignore it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    print(header(), flush=True)
    chosen = SCENARIOS if args.scenario == "all" else [args.scenario]
    needed = sorted({component for name in chosen for component in NEEDS[name]})
    if not is_healthy(needed):
        raise SystemExit(f"needs these stack components healthy: {', '.join(needed)} (make up)")
    sections: list[Section] = []
    vegeta = Vegeta(ensure_tool("vegeta"))
    try:
        failed = run(chosen, args, vegeta, sections)
    except KeyboardInterrupt:
        log("interrupted: stopping and dropping what was started")
        sys.exit(130)
    finally:
        vegeta.close()
        print("\n".join(section.markdown() for section in sections), flush=True)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (the others' results are above)")


def run(
    chosen: list[str], args: argparse.Namespace, vegeta: Vegeta, out: list[Section]
) -> list[str]:
    """The scenarios in order; one that fails is reported as such and the others still run.
    Returns the names of those that failed."""
    failed: list[str] = []
    stack = web.Stack.running()
    found: dict[str, float | None] = {"gateway": None}
    gateway_only = "burst" in chosen and "step" not in chosen and not args.rate

    def step() -> Section:
        if gateway_only:
            log("burst without --rate: first the step load on the gateway alone")
            args.paths = ["gateway"]
        section, found["gateway"] = web.step(vegeta, stack, args)
        return section

    def day_of_data() -> None:
        with instrumentation.span_sink() as sink:
            day.measure(vegeta, args, sink, uuid.uuid4().hex[:6], out)

    scenarios: dict[str, Callable[[], Section | None]] = {
        "live-map": lambda: web.live_map(vegeta, stack, args),
        "step": step,
        "burst": lambda: web.burst(vegeta, stack, args, found["gateway"]),
        "day-of-data": day_of_data,
    }
    for name in ["step", *chosen] if gateway_only else chosen:
        try:
            section = scenarios[name]()
            if section is not None:  # day-of-data adds its own as it starts (partial results)
                out.append(section)
        except (Exception, SystemExit) as exc:  # the next scenarios still run
            log(f"{name} failed: {exc!r}")
            out.append(Section(f"{name}: failed ({type(exc).__name__}: {exc})"))
            failed.append(name)
    return failed


if __name__ == "__main__":
    main()
