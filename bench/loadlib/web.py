"""The HTTP scenarios, on the running stack: the live map's browsers, a step load, a 10x burst."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

from loadlib.output import CpuWatch, Section, listening_pid, log, ms, table
from loadlib.stats import Probe, highest_sustained, percentile, recovery_time, sustained
from loadlib.vegeta import Report, Result, Vegeta
from services.stack.api import HOST, NGINX_URL
from services.stack.ports import configured_port


@dataclass(frozen=True)
class Stack:
    """Where the running stack's HTTP services answer."""

    nginx: str
    gateway: str
    tracker: str

    @classmethod
    def running(cls) -> Stack:
        gateway = configured_port("api-gateway", 8000)
        tracker = configured_port("position-tracker", 8001)
        return cls(NGINX_URL, f"http://{HOST}:{gateway}", f"http://{HOST}:{tracker}")

    def pids(self) -> dict[str, int | None]:
        """The processes to watch: these three and the database."""
        ports = {"nginx": self.nginx, "gateway": self.gateway, "tracker": self.tracker}
        found = {name: listening_pid(urlsplit(url).port or 80) for name, url in ports.items()}
        return {**found, "ferretdb": listening_pid(configured_port("ferretdb", 27017))}

    def vehicles(self) -> list[str]:
        names = [v["name"] for v in httpx.get(f"{self.nginx}/api/vehicles", timeout=10).json()]
        if not names:
            raise SystemExit("the stack's tracker knows no vehicle: is the simulator running?")
        return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    live = parser.add_argument_group("live-map")
    live.add_argument("--browsers", type=int, default=300, help="browsers on the map (300)")
    live.add_argument("--seconds", type=float, default=60, help="how long they watch (60)")
    live.add_argument("--poll", type=float, default=2, help="seconds between polls (2)")
    live.add_argument(
        "--history-every", type=float, default=30, help="seconds between history opens (30)"
    )
    live.add_argument("--trail", type=int, default=300, help="history limit the map asks (300)")
    step = parser.add_argument_group("step")
    step.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=[250, 500, 1000, 1500, 2000, 3000],
        help="requests/s of the steps (250,500,1000,1500,2000,3000)",
    )
    step.add_argument("--step-seconds", type=float, default=10, help="each step's length (10)")
    step.add_argument(
        "--paths",
        type=lambda text: text.split(","),
        default=["nginx", "gateway", "tracker"],
        help="what the steps load, interleaved: nginx,gateway,tracker (GET /api/vehicles, the "
        "tracker's GET /vehicles)",
    )
    step.add_argument("--p99-limit", type=float, default=100, help="a sustained step's p99, ms")
    step.add_argument("--compare-rate", type=float, default=200, help="gateway vs tracker, req/s")
    step.add_argument("--compare-rounds", type=int, default=5)
    step.add_argument("--compare-seconds", type=float, default=10)
    burst = parser.add_argument_group("burst")
    burst.add_argument(
        "--rate", type=float, help="burst rate (default: 10x what the gateway sustained in step)"
    )
    burst.add_argument("--burst-seconds", type=float, default=15)
    burst.add_argument(
        "--burst-workers", type=int, default=2000, help="most requests in flight (2000)"
    )
    burst.add_argument("--probe-rate", type=float, default=10, help="probes/s around bursts (10)")
    burst.add_argument("--baseline-seconds", type=float, default=10)
    burst.add_argument("--recovery-window", type=float, default=30, help="probing after (30 s)")


def _row(report: Report, asked: float | str) -> list[str]:
    return [
        f"{asked}",
        f"{report.rate:,.1f}",
        ms(report.p50_ms),
        ms(report.p99_ms),
        ms(report.max_ms),
        report.codes(),
    ]


def live_map(vegeta: Vegeta, stack: Stack, args: argparse.Namespace) -> Section:
    names = stack.vehicles()
    rng = random.Random(args.seed)
    opens = [
        f"{stack.nginx}/api/vehicles/{quote(rng.choice(names))}/history?limit={args.trail}"
        for _ in range(1000)
    ]
    polls_rate = args.browsers / args.poll
    opens_rate = args.browsers / args.history_every
    log(f"live-map: {args.browsers} browsers for {args.seconds:.0f} s ({len(names)} vehicles)")
    with CpuWatch(stack.pids()) as cpu:
        polling = vegeta.attack(
            "live-vehicles",
            [f"{stack.nginx}/api/vehicles"],
            f"{args.browsers}/{args.poll:g}s",
            args.seconds,
        )
        opening = vegeta.attack(
            "live-history", opens, f"{args.browsers}/{args.history_every:g}s", args.seconds
        )
        done = polling.wait(), opening.wait()
    polls, history = (vegeta.report(path) for path in done)
    section = Section(
        f"live map: {args.browsers} browsers through nginx for {args.seconds:.0f} s "
        f"({len(names)} vehicles)"
    )
    headers = ["endpoint", "asked/s", "sent/s", "p50 ms", "p99 ms", "max ms", "errors"]
    section.tables.append(
        table(
            headers,
            [
                ["GET /api/vehicles", *_row(polls, f"{polls_rate:g}")],
                [f"GET .../history?limit={args.trail}", *_row(history, f"{opens_rate:g}")],
            ],
        )
    )
    section.notes.append(f"CPU (% of one core): {cpu.summary()}")
    log(f"  CPU: {cpu.summary()}")
    return section


def settle(urls: Sequence[str], quick_ms: float = 50, run: int = 5, timeout: float = 60) -> None:
    """Wait until each URL answers 200 within ``quick_ms``, ``run`` times in a row: what an
    overloaded step left behind (requests still queued, connections closing) has drained before
    the next measurement starts. Gives up after ``timeout`` s (and says so)."""
    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for url in urls:
            streak = 0
            while streak < run:
                if time.monotonic() - started > timeout:
                    log(f"  not settled after {timeout:.0f} s: {url}")
                    return
                sent = time.perf_counter()
                try:
                    ok = client.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok and (time.perf_counter() - sent) * 1000 <= quick_ms:
                    streak += 1
                else:
                    streak = 0
                    time.sleep(0.2)
    if time.monotonic() - started > 2:
        log(f"  settled in {time.monotonic() - started:.0f} s")


def _rotated(items: Sequence[str], shift: int) -> list[str]:
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def step(vegeta: Vegeta, stack: Stack, args: argparse.Namespace) -> tuple[Section, float | None]:
    """The step load on each path, interleaved; returns the section and the highest rate the
    gateway sustained (None when it was not loaded or sustained none)."""
    urls = {
        "nginx": f"{stack.nginx}/api/vehicles",
        "gateway": f"{stack.gateway}/api/vehicles",
        "tracker": f"{stack.tracker}/vehicles",
    }
    steps: dict[str, list[tuple[float, Report]]] = {path: [] for path in args.paths}
    cpu_notes: dict[str, str] = {}
    for i, rate in enumerate(args.rates):
        for path in _rotated(args.paths, i):
            with CpuWatch(stack.pids()) as cpu:
                output = vegeta.attack(f"step-{path}", [urls[path]], rate, args.step_seconds).wait()
            report = vegeta.report(output)
            steps[path].append((rate, report))
            passed = sustained(rate, report, args.p99_limit, 0.95)
            if (not passed and path not in cpu_notes) or rate == args.rates[-1]:
                cpu_notes.setdefault(path, f"{path} at {rate:g}/s: {cpu.summary()}")
            log(
                f"step {rate:6g}/s {path:8} sent {report.rate:7.1f}/s p50 {ms(report.p50_ms)} "
                f"p99 {ms(report.p99_ms)} ms errors {report.codes()}  CPU {cpu.summary()}"
            )
            settle(list(urls.values()))
    section = Section(f"step load on GET /api/vehicles ({args.step_seconds:g} s a step)")
    headers = ["req/s", *(f"{p}: sent/s, p50 / p99 ms, errors" for p in args.paths)]
    rows = []
    for i, rate in enumerate(args.rates):
        cells = []
        for path in args.paths:
            report = steps[path][i][1]
            cells.append(
                f"{report.rate:,.0f}, {ms(report.p50_ms)} / {ms(report.p99_ms)}, {report.codes()}"
            )
        rows.append([f"{rate:g}", *cells])
    best = {p: highest_sustained(steps[p], args.p99_limit) for p in args.paths}
    rows.append(
        [
            f"**sustained** (p99 < {args.p99_limit:g} ms, no error)",
            *(f"**{best[p]:g}/s**" if best[p] else "**none**" for p in args.paths),
        ]
    )
    section.tables.append(table(headers, rows))
    section.notes.append(
        "CPU (% of one core) at the first step that missed, or the last: "
        + "; ".join(cpu_notes.values())
    )
    section.rows += compare(vegeta, stack, args)
    return section, best.get("gateway")


def compare(vegeta: Vegeta, stack: Stack, args: argparse.Namespace) -> list[tuple[str, str]]:
    """The gateway and the tracker, directly, at the same modest rate, interleaved rounds."""
    urls = {"gateway": f"{stack.gateway}/api/vehicles", "tracker": f"{stack.tracker}/vehicles"}
    p99: dict[str, list[float]] = {"gateway": [], "tracker": []}
    for round_no in range(args.compare_rounds):
        order = ["gateway", "tracker"] if round_no % 2 == 0 else ["tracker", "gateway"]
        for name in order:
            settle(list(urls.values()))
            output = vegeta.attack(
                f"compare-{name}", [urls[name]], args.compare_rate, args.compare_seconds
            ).wait()
            report = vegeta.report(output)
            p99[name].append(report.p99_ms)
            log(f"compare round {round_no + 1} {name:8} p99 {ms(report.p99_ms)} ms")
    ratios = sorted(g / t for g, t in zip(p99["gateway"], p99["tracker"], strict=True))
    median = statistics.median(ratios)
    of_medians = statistics.median(p99["gateway"]) / statistics.median(p99["tracker"])
    rounds = ", ".join(
        f"{ms(g)} / {ms(t)}" for g, t in zip(p99["gateway"], p99["tracker"], strict=True)
    )
    what = f"GET /api/vehicles at {args.compare_rate:g} req/s, gateway / tracker direct"
    return [
        (f"{what}: p99 ms by round", rounds),
        (
            f"{what}: p99 ratio (target <= 1.5)",
            f"**{median:.2f}** (median of the rounds' ratios; ratio of the medians {of_medians:.2f})",
        ),
    ]


def burst(
    vegeta: Vegeta, stack: Stack, args: argparse.Namespace, sustained_rate: float | None
) -> Section:
    if args.rate:
        rate, why = args.rate, "--rate"
    elif sustained_rate:
        rate, why = 10 * sustained_rate, f"10x the {sustained_rate:g}/s the gateway sustained"
    else:
        lowest = min(args.rates)
        rate, why = 10 * lowest, f"the gateway sustained no step: 10x the lowest, {lowest:g}/s"
    names = stack.vehicles()
    paths = {
        "gateway GET /api/vehicles": [f"{stack.gateway}/api/vehicles"],
        "nginx GET /api/vehicles/{name} (not cached)": [
            f"{stack.nginx}/api/vehicles/{quote(name)}" for name in names
        ],
    }
    columns = {name: _burst_one(vegeta, stack, args, urls, rate) for name, urls in paths.items()}
    section = Section(f"burst: {rate:,.0f} req/s ({why}) for {args.burst_seconds:g} s")
    labels = list(next(iter(columns.values())))
    rows = [[label, *(column[label] for column in columns.values())] for label in labels]
    section.tables.append(table(["", *columns], rows))
    return section


def _burst_one(
    vegeta: Vegeta, stack: Stack, args: argparse.Namespace, urls: list[str], rate: float
) -> dict[str, str]:
    log(f"burst on {urls[0]}: baseline at {args.probe_rate:g}/s")
    settle(urls[:1])
    baseline = vegeta.report(
        vegeta.attack("baseline", urls, args.probe_rate, args.baseline_seconds).wait()
    )
    log(f"  baseline p99 {ms(baseline.p99_ms)} ms; burst {rate:,.0f}/s for {args.burst_seconds} s")
    with CpuWatch(stack.pids()) as cpu:
        started = time.monotonic()
        attack = vegeta.attack(
            "burst", urls, rate, args.burst_seconds, workers=args.burst_workers, timeout=10
        )
        time.sleep(max(0.0, started + args.burst_seconds - time.monotonic()))
        probing = vegeta.attack("probe", urls, args.probe_rate, args.recovery_window, timeout=10)
        burst_results = vegeta.results(attack.wait())
    probes = vegeta.results(probing.wait())
    end = max(r.sent for r in burst_results)
    recovered = recovery_time(
        [Probe(r.sent - end, r.code, r.latency_ms) for r in probes], baseline.p99_ms
    )
    summary = burst_summary(burst_results)
    summary["normal before (p99 at the probe rate)"] = f"{ms(baseline.p99_ms)} ms"
    summary["recovery: 20 answers in a row 200 within that p99"] = (
        f"**{recovered:.1f} s** after the burst's last request"
        if recovered is not None
        else f"**not within {args.recovery_window:g} s**"
    )
    summary["CPU (% of one core) during the burst"] = cpu.summary()
    for label, value in summary.items():
        log(f"  {label}: {value}")
    return summary


def burst_summary(results: list[Result]) -> dict[str, str]:
    """What a burst got: rates, answers by kind, how fast the sheds and the successes came."""
    sent = [r.sent for r in results]
    span = max(sent) - min(sent) if len(sent) > 1 else 0.0
    codes = Counter(r.code for r in results)
    shed = [r for r in results if r.code == 503]
    with_retry = sum(1 for r in shed if r.retry_after)
    errors = Counter(r.error for r in results if r.code == 0)
    kinds = [
        f"200: {codes[200]:,}",
        f"503 shed with Retry-After: {with_retry:,}",
        f"503 without: {len(shed) - with_retry:,}",
        f"504: {codes[504]:,}",
        f"other status: {sum(n for c, n in codes.items() if c not in (0, 200, 503, 504)):,}",
        f"no answer: {codes[0]:,}",
    ]
    top = "; ".join(f"{n:,}x {error[:80]}" for error, n in errors.most_common(2))
    ok = [r.latency_ms for r in results if r.code == 200]
    shed_ms = [r.latency_ms for r in shed]
    return {
        "requests sent, rate": f"{len(results):,}, {len(results) / span if span else 0:,.0f}/s",
        "answers": ", ".join(kinds) + (f" ({top})" if top else ""),
        "503 answers p50 / p99": f"{ms(percentile(shed_ms, 50))} / {ms(percentile(shed_ms, 99))} ms",
        "200 answers p50 / p99": f"{ms(percentile(ok, 50))} / {ms(percentile(ok, 99))} ms",
    }
