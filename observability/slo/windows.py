"""Multi-window multi-burn-rate alert windows: the data (Sloth's AlertWindows YAML) and the maths.

The windows are data (``data/google-30d.yaml`` and ``google-28d.yaml``); the burn-rate factor of
each window is computed, as Sloth does (``internal/alert/window.go: getBurnRateFactor``):

    factor = (error budget % consumed * period hours / 100) / long-window hours

so a 30-day period gives 14.4, 6, 3 and 1, and a 28-day one 13.44, 5.6, 2.8 and 0.933.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from observability.slo.durations import format_duration, parse_duration

_DATA = "observability.slo.data"


@dataclass(frozen=True)
class Window:
    """Alert when the budget share ``budget_percent`` would be spent within ``long``."""

    budget_percent: float
    short: str
    long: str

    def factor(self, period: str) -> float:
        """How many times faster than sustainable the budget burns when this window alerts."""
        period_hours = parse_duration(period) / 3600
        long_hours = parse_duration(self.long) / 3600
        return self.budget_percent * period_hours / 100 / long_hours


@dataclass(frozen=True)
class BurnSeverity:
    """One of Sloth's two alerts: ``page`` (critical) or ``ticket`` (warning), two windows each."""

    sloth_severity: str
    severity: str
    quick: Window
    slow: Window

    @property
    def windows(self) -> tuple[Window, Window]:
        return (self.quick, self.slow)


@dataclass(frozen=True)
class AlertWindows:
    period: str
    page: BurnSeverity
    ticket: BurnSeverity

    @property
    def severities(self) -> tuple[BurnSeverity, BurnSeverity]:
        return (self.page, self.ticket)

    @property
    def all_windows(self) -> tuple[Window, ...]:
        return (*self.page.windows, *self.ticket.windows)

    def sli_windows(self) -> tuple[str, ...]:
        """Every window an SLI is recorded over, shortest first (5m, 30m, 1h, 2h, 6h, 1d, 3d)."""
        seconds = {parse_duration(d) for w in self.all_windows for d in (w.short, w.long)}
        return tuple(format_duration(s) for s in sorted(seconds))

    def problems(self) -> list[str]:
        """What is wrong with this table (Sloth's ``Windows.Validate``), empty when it is sound."""
        found = []
        period = parse_duration(self.period)
        for w in self.all_windows:
            if not 0 < w.budget_percent <= 100:
                found.append(f"errorBudgetPercent {w.budget_percent} is not in (0, 100]")
            if not parse_duration(w.short) < parse_duration(w.long) <= period:
                found.append(f"windows {w.short}/{w.long} must be short < long <= {self.period}")
        return found


def _window(spec: dict[str, object]) -> Window:
    return Window(
        float(spec["errorBudgetPercent"]), str(spec["shortWindow"]), str(spec["longWindow"])
    )  # type: ignore[arg-type]


def parse_alert_windows(text: str) -> AlertWindows:
    """An ``AlertWindows`` document (Sloth's format) as the model."""
    doc = yaml.safe_load(text)
    if doc.get("kind") != "AlertWindows":
        raise ValueError(f"not an AlertWindows document: kind {doc.get('kind')!r}")
    spec = doc["spec"]
    page, ticket = spec["page"], spec["ticket"]
    return AlertWindows(
        period=str(spec["sloPeriod"]),
        page=BurnSeverity("page", "critical", _window(page["quick"]), _window(page["slow"])),
        ticket=BurnSeverity("ticket", "warning", _window(ticket["quick"]), _window(ticket["slow"])),
    )


@cache
def known_alert_windows() -> dict[str, AlertWindows]:
    """The packaged tables, by SLO period (``30d``, ``28d``)."""
    tables = {}
    for entry in sorted(resources.files(_DATA).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            table = parse_alert_windows(entry.read_text())
            if table.problems():
                raise ValueError(f"{entry.name}: {'; '.join(table.problems())}")
            tables[table.period] = table
    return tables


def alert_windows(period_days: int) -> AlertWindows:
    """The table for a period of ``period_days`` days; ValueError when none is packaged."""
    period = f"{period_days}d"
    tables = known_alert_windows()
    if period not in tables:
        raise ValueError(
            f"no alert windows for a {period} SLO period (known: {', '.join(sorted(tables))}); "
            "add a Sloth AlertWindows file to observability/slo/data/"
        )
    return tables[period]
