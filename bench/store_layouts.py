"""The tracker's store layouts side by side, on FerretDB 1.24.2 stock and patched (SQLite) and on
PostgreSQL (with and without the GIN indexes of FerretDB issue #4646), with a day of positions.

    .venv/bin/python bench/store_layouts.py                       # 1,000,000 positions
    .venv/bin/python bench/store_layouts.py --positions 100000    # a smoke run
    .venv/bin/python bench/store_layouts.py --dense               # also 12 vehicles at 1 Hz

Each backend runs on its own port with its data in a temporary folder (``--workdir`` to keep
it), stopped at the end (``store_backends.py``): the stock build is made once into the stack's
cache (``ferretdb-stock``), the patched one is the stack's (``fleet-stack up`` builds it),
PostgreSQL is the Debian package's (``apt-get install -y postgresql``) in a cluster of our own.
Real MongoDB is not measured: none runs on this machine (the report says what it would need).

The layouts (``store_layouts_data.py``) are written through pymongo as the tracker writes. The
day is bulk-loaded but for its last ``--live`` positions: the very documents live writes leave
behind, inserted directly (a day of live writes takes hours on the slow backends); the last ones
are written live, in batches of 1,000 in time order, each vehicle's latest by ``_id`` in
commands of 50 statements: the rate of ingest onto a day of data. A check then reads one
vehicle's last hour back. Then, per backend x layout: reads of random vehicles (history of the
last hour, newest 300, the previous position in order and out of order), the latest-position
update of 1,000 vehicles, the removal of the oldest hour, and the backend's plan for each query
(FerretDB's ``explain``: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN).

Nothing waits forever: each operation has a timeout (``--op-timeout``), each measure stops after
``--measure-budget`` seconds (the table says how many samples it got), live writes after
``--fill-budget`` seconds (the day then ends there). The report (markdown) goes to stdout,
progress to stderr.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymongo
from pymongo.errors import OperationFailure, PyMongoError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import store_backends as servers
from store_backends import Backend, log
from store_layouts_data import (
    BATCH,
    LAYOUTS,
    Dataset,
    DocumentLayout,
    Layout,
    markdown_table,
    ms,
    percentile,
    plan_kind,
    sample,
)

from services.position_tracker.buckets import partition
from services.position_tracker.store import STATEMENTS_PER_COMMAND

BACKENDS = ("sqlite-stock", "sqlite-patched", "pg", "pg-gin")
HISTORY_LIMIT = 1000  # the API's most (history_max_limit)


@dataclass
class Timings:
    """One measure: the seconds of each operation, or why it stopped."""

    seconds: list[float] = field(default_factory=list)
    planned: int = 0
    stopped: str = ""

    def cell(self, spread: bool = True) -> str:
        if not self.seconds:
            return self.stopped or "-"
        text = ms(percentile(self.seconds, 0.5))
        if spread and len(self.seconds) > 1:
            text += f" / {ms(percentile(self.seconds, 0.99))}"
        if len(self.seconds) < self.planned:
            text += f" (n={len(self.seconds)})"
        return text + (f" {self.stopped}" if self.stopped else "")


@dataclass
class Row:
    backend: str
    layout: str
    dataset: str
    fill: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


MEASURES = {
    "history": "history, last hour (ms p50 / p99)",
    "newest": "history, newest 300 (ms p50 / p99)",
    "previous": "previous, in order (ms p50 / p99)",
    "earlier": "previous, out of order (ms p50 / p99)",
    "latest": "latest of 1,000 vehicles (ms)",
    "retention": "drop the oldest hour (ms)",
    "plan": "plan (explain)",
}


def timed(
    items: Iterable[object], op: Callable[[object], object], budget_s: float, timeout_s: float
) -> Timings:
    """``op`` on each item, each under ``timeout_s``, until ``budget_s`` is spent."""
    items = list(items)
    result = Timings(planned=len(items))
    began = time.monotonic()
    for item in items:
        if time.monotonic() - began > budget_s:
            break
        start = time.perf_counter()
        try:
            with pymongo.timeout(timeout_s):
                op(item)
        except PyMongoError as exc:
            result.stopped = _failure(exc, timeout_s)
            break
        result.seconds.append(time.perf_counter() - start)
    return result


def _failure(exc: PyMongoError, timeout_s: float) -> str:
    if exc.timeout:
        return f"> {timeout_s:.0f} s (timed out)"
    # FerretDB's messages: "[file.go:95 function] [...] what went wrong, full error: {...}"
    message = str(exc).split(", full error:")[0].rsplit("] ", 1)[-1]
    return f"failed: {message[:100]}"


def fill(
    store: Layout, dataset: Dataset, args: argparse.Namespace
) -> tuple[str, Dataset, list[str]]:
    """The day: all but the last ``--live`` positions bulk-loaded, the rest written live (the
    fill rate); returns the rate's cell, the day as written, and notes."""
    live = min(dataset.positions, args.live)
    first = dataset.positions - live
    notes = []
    if first:
        log(f"    bulk-loading {first:,} positions")
        began = time.monotonic()
        store.load(dataset.batches(0, first))
        log(f"    bulk-loaded in {time.monotonic() - began:,.0f} s")
    log(f"    writing {live:,} positions live")
    written, began = 0, time.monotonic()
    for batch in dataset.batches(first):
        try:
            with pymongo.timeout(args.op_timeout):
                store.write(batch)
        except PyMongoError as exc:
            notes.append(f"a live batch {_failure(exc, args.op_timeout)}")
            break
        written += len(batch)
        if time.monotonic() - began > args.fill_budget and written < live:
            notes.append(f"live writes stopped after {args.fill_budget:.0f} s")
            break
    elapsed = time.monotonic() - began
    if written < live:  # the day ends where the writes stopped (and a failed batch, partly)
        dataset = replace(dataset, positions=first + written)
    if not written:
        return (
            f"< {BATCH / args.op_timeout:.0f} (no batch in {args.op_timeout:.0f} s)",
            dataset,
            notes,
        )
    return f"{written / elapsed:,.0f} ({written:,} live)", dataset, notes


def check(store: Layout, dataset: Dataset) -> str:
    """Whether the history of the first vehicle's last hour is what was written."""
    since = dataset.end - timedelta(hours=1)
    expected = dataset.timestamps(0, since, HISTORY_LIMIT)
    found = [
        p.timestamp for p in store.history(dataset.vehicle(0), since, None, HISTORY_LIMIT) or []
    ]
    if found == expected:
        return ""
    return f"CHECK FAILED: {dataset.vehicle(0)}'s last hour holds {len(found)} positions, expected {len(expected)}"


def measure(
    backend: Backend, layout: type[Layout], dataset: Dataset, args: argparse.Namespace
) -> Row:
    row = Row(backend.name, layout.name, dataset.name)
    database = f"{dataset.name}_{layout.name}"
    hours = [] if layout is DocumentLayout else [partition(hour) for hour in dataset.hours()]
    backend.prepare(database, list(layout.collections) + hours)
    log(f"  {backend.name} / {layout.name} / {dataset.name}")
    store = layout(backend.url, database, timeout_ms=int(args.op_timeout * 1000))
    try:
        store.prepare()
        row.fill, dataset, row.notes = fill(store, dataset, args)
        backend.settle()
        if not any(n.startswith("a live batch") for n in row.notes) and (
            problem := check(store, dataset)
        ):
            log(f"    {problem}")
            row.notes.append(problem)
        row.cells = reads(store, dataset, args)
        row.cells["retention"] = retention(store, dataset, args, row.notes)
    finally:
        store.close()
    return row


def reads(store: Layout, dataset: Dataset, args: argparse.Namespace) -> dict[str, str]:
    picks = sample(dataset, args.queries)
    vehicles = [vehicle for vehicle, _ in picks]
    last_hour = dataset.end - timedelta(hours=1)
    budget, timeout = args.measure_budget, args.op_timeout
    cells = {"plan": plans(store, *picks[0])}
    steps: dict[str, tuple[Iterable[object], Callable[[object], object]]] = {
        "history": (vehicles, lambda v: store.history(v, last_hour, None, HISTORY_LIMIT)),  # type: ignore[arg-type]
        "newest": (vehicles, lambda v: store.newest(v, 300)),  # type: ignore[arg-type]
        "previous": (vehicles, lambda v: store.previous(v, dataset.end + timedelta(seconds=1))),  # type: ignore[arg-type]
        "earlier": (picks, lambda pick: store.previous(*pick)),  # type: ignore[misc]
    }
    for name, (items, op) in steps.items():
        log(f"    {name}")
        cells[name] = timed(items, op, budget, timeout).cell()
    log("    latest")
    updates = [dataset.later(1000, timedelta(minutes=i + 1)) for i in range(5)]
    cells["latest"] = timed(updates, lambda b: store.write_latest(b), budget, timeout).cell(False)  # type: ignore[arg-type]
    return cells


def retention(store: Layout, dataset: Dataset, args: argparse.Namespace, notes: list[str]) -> str:
    log("    retention")
    oldest = dataset.hours()[0]
    result = timed([oldest], lambda hour: store.drop_hour(hour), 1, args.op_timeout)  # type: ignore[arg-type]
    if not result.stopped.startswith("failed") or not isinstance(store, DocumentLayout):
        return result.cell()
    # FerretDB on SQLite deletes the matches in one statement with a parameter per document:
    # more than 32,766 fail. The retention job then has to delete in slices.
    notes.append(f"one delete_many of the hour {result.stopped}")
    sliced = timed([oldest], lambda h: store.drop_hour(h, slices=2), 1, 2 * args.op_timeout)  # type: ignore[arg-type]
    return f"fails; 2 deletes of 30 min: {sliced.cell()}"


def plans(store: Layout, vehicle: str, moment: datetime) -> str:
    found = []
    for name, (collection, command) in store.explained(vehicle, moment).items():
        try:
            answer = store.db.command("explain", {"find": collection, **command})
            found.append(f"{name}: {plan_kind(answer.get('queryPlanner', {}))}")
        except OperationFailure as exc:
            found.append(f"{name}: explain failed ({exc.code})")
    return ", ".join(found)


# -- the run -----------------------------------------------------------------------------------
class Backends:
    """Starts each backend when its turn comes; ``stack`` stops them all at the end, whatever
    happens (and PostgreSQL after the FerretDB servers on it)."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.stack = stack
        self.patched = servers.patched_ferretdb()
        self.cluster: servers.Postgres | None = None

    def open(self, name: str) -> Backend:
        backend: Backend
        if name.startswith("sqlite"):
            stock = name == "sqlite-stock"
            title = "FerretDB 1.24.2 " + ("stock" if stock else "patched") + " on SQLite"
            binary = servers.stock_ferretdb() if stock else self.patched
            backend = servers.Sqlite(name, title, binary, self.folder / name)
        else:
            if self.cluster is None:
                log("starting PostgreSQL")
                cluster = servers.postgres_cluster(self.folder / "postgresql")
                self.cluster = self.stack.enter_context(cluster)
            backend = servers.PostgreSQL(name, self.patched, self.cluster, gin=name == "pg-gin")
        backend.folder.mkdir(parents=True, exist_ok=True)
        self.stack.callback(backend.stop)
        backend.start()
        return backend


MONGODB = """Real MongoDB is not measured: none can be had on this machine (Debian has no
MongoDB package, no container daemon runs). From its documentation, each layout needs:
*chunks* and *subdocuments*: nothing but the `_id` index every collection has (every read and
write is by `_id`; retention drops an hourly collection); *documents*: a `{vehicle: 1,
timestamp: -1}` index for the history and previous-position queries (an equality, then a range
and a sort on one compound index) and, for retention, a TTL index on `timestamp`
(`expireAfterSeconds`) or a `delete_many` by time served by a `{timestamp: 1}` index."""


def report(
    rows: list[Row], titles: dict[str, str], args: argparse.Namespace, findings: list[str]
) -> str:
    header = ["backend", "layout", "data", "live writes (positions/s)", *MEASURES.values()]
    table, notes = [], []
    for row in rows:
        cells = [titles[row.backend], row.layout, row.dataset, row.fill]
        cells += [row.cells.get(key, "-") for key in MEASURES]
        for note in row.notes:
            notes.append(f"{len(notes) + 1}. {titles[row.backend]}, {row.layout}: {note}")
            cells[1] += f" [{len(notes)}]"
        table.append(cells)
    live = min(args.live, args.positions)
    about = (
        f"Each row: the first {args.positions - live:,} positions bulk-loaded (the documents live"
        f" writes leave, inserted directly), the last {live:,} written live in batches of 1,000 in"
        " time order onto that day (the rate shown), then reads of"
        f" {args.queries} random vehicles (p50 / p99; n = how many ran before the measure's"
        f" {args.measure_budget:.0f} s budget ended), the latest positions of a batch of 1,000"
        " (1,000 vehicles; the dense fleet's 12) in commands of 50 updates, the oldest hour"
        " removed. Plans from FerretDB's explain"
        " (SQLite: SEARCH = an index, SCAN = the whole table; PostgreSQL: Index Scan / Seq Scan)."
    )
    return "\n".join(
        [f"`{args.command}`", "", about, "", markdown_table(header, table), "", *notes]
        + [f"- {finding}" for finding in findings]
        + ["", MONGODB]
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=1_000_000, help="default: %(default)s")
    parser.add_argument("--dense", action="store_true", help="also 12 vehicles at 1 Hz")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="default: %(default)s")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="default: %(default)s")
    parser.add_argument("--queries", type=int, default=200, help="per read measure")
    parser.add_argument("--op-timeout", type=float, default=120.0, help="seconds")
    parser.add_argument("--measure-budget", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--live", type=int, default=20_000, help="positions written live (the rest bulk-loaded)"
    )
    parser.add_argument("--fill-budget", type=float, default=300.0, help="seconds of live writes")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)
    for option, known in (("backends", BACKENDS), ("layouts", tuple(LAYOUTS))):
        chosen = getattr(args, option).split(",")
        if unknown := set(chosen) - set(known):
            parser.error(f"--{option}: unknown {', '.join(sorted(unknown))}")
        setattr(args, option, chosen)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    args.command = shlex.join(
        ["python", "bench/store_layouts.py", *(sys.argv[1:] if argv is None else argv)]
    )
    start = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    datasets = [Dataset.sparse(args.positions, start)]
    if args.dense:
        datasets.append(Dataset.dense(args.positions, start))
    rows: list[Row] = []
    titles: dict[str, str] = {}
    findings: list[str] = []
    with ExitStack() as stack:
        folder = args.workdir
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="store-layouts-")))
            folder.chmod(0o755)  # PostgreSQL's cluster inside runs as the postgres user
        opened = Backends(folder, stack)
        for name in args.backends:
            log(f"{name}:")
            backend = opened.open(name)
            titles[backend.name] = backend.title
            if name == "pg":
                findings.append(deadlock_probe(backend))
            for dataset in datasets:
                for layout in args.layouts:
                    rows.append(measure(backend, LAYOUTS[layout], dataset, args))
                    log(f"  done: {rows[-1]}")
            backend.stop()
    order = {name: i for i, name in enumerate(BACKENDS)}
    rows.sort(
        key=lambda r: (r.dataset != "sparse", order[r.backend], list(LAYOUTS).index(r.layout))
    )
    print(report(rows, titles, args, findings))
    return 0


def deadlock_probe(backend: Backend) -> str:
    """Why PostgreSQL runs the patched binary: the stock one, on the same database."""
    log("  probing the stock binary's update command on PostgreSQL")
    wait = 15.0
    hangs = servers.update_command_hangs(
        servers.stock_ferretdb(), backend, STATEMENTS_PER_COMMAND, wait
    )
    verdict = f"never answered (timed out after {wait:.0f} s)" if hangs else "answered"
    return (
        f"The stock binary on PostgreSQL: an update command of {STATEMENTS_PER_COMMAND} statements"
        f" (the tracker's) {verdict}; FerretDB's PostgreSQL pool holds 50 connections and each"
        " statement kept one until the command ended (patch 0002), so PostgreSQL rows use the"
        " patched binary, whose other patch only touches SQLite."
    )


if __name__ == "__main__":
    sys.exit(main())
