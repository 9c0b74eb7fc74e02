"""Progress on stderr, markdown tables for stdout, and where the CPU went during a measurement."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil


def log(message: str) -> None:
    """Progress, on stderr (stdout holds the command line and the tables)."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class Section:
    """One scenario's results: a two-column markdown table (what, result), notes under it."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    #: Wider tables (``table()``), before the rows.
    tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, result: str) -> None:
        self.rows.append((what, result))
        log(f"  {what}: {result}")

    def markdown(self) -> str:
        parts = [f"### {self.title}\n", *(f"{wide}\n" for wide in self.tables)]
        if self.rows:
            parts.append(table(["", "result"], self.rows) + "\n")
        parts += [f"{note}\n" for note in self.notes]
        return "\n".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def ms(value: float) -> str:
    """Milliseconds, three significant digits or so."""
    if value != value:  # NaN
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:``port`` (root sees every process's sockets)."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            return conn.pid
    return None


class CpuWatch:
    """CPU time used by named processes (their children included), by this script, by the load
    generator (this script's reaped children: the vegeta attacks that ended inside the block) and
    by the whole machine, as a share of one core over the block: what was CPU-bound."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.processes = {
            name: psutil.Process(pid)
            for name, pid in pids.items()
            if pid and psutil.pid_exists(pid)
        }
        # This script without its children (the services and vegeta are counted apart).
        self.script = psutil.Process()
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        found = {}
        for name, process in self.processes.items():
            try:
                family = [process, *process.children(recursive=True)]
                found[name] = sum(sum(p.cpu_times()[:2]) for p in family)
            except psutil.Error:
                found[name] = 0.0
        found["bench"] = sum(self.script.cpu_times()[:2])
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        found["vegeta"] = children.ru_utime + children.ru_stime
        total = psutil.cpu_times()
        found["machine"] = sum(total) - total.idle - getattr(total, "iowait", 0.0)
        found["wall"] = time.monotonic()
        return found

    def __enter__(self) -> CpuWatch:
        self._before = self._sample()
        return self

    def __exit__(self, *_: object) -> None:
        after = self._sample()
        wall = after.pop("wall") - self._before["wall"]
        self.used = {name: (value - self._before[name]) / wall for name, value in after.items()}

    def summary(self) -> str:
        """``gateway 97 %, tracker 41 %, ..., machine 183 % of 200 %`` (% of one core)."""
        cores = psutil.cpu_count() or 1
        parts = [
            f"{n} {u:.0%}"
            for n, u in self.used.items()
            if n != "machine" and (n != "vegeta" or u >= 0.005)
        ]
        machine = self.used.get("machine", 0.0)
        others = machine - sum(u for n, u in self.used.items() if n != "machine")
        return ", ".join([*parts, f"others {max(0.0, others):.0%}", f"machine {machine:.0%}"]) + (
            f" of {cores * 100} %"
        )
