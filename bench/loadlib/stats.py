"""Pure computations of ``bench/load.py``: percentiles, the highest rate a step load sustained,
the recovery time after a burst, the longest stall, positions lost or duplicated."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (as ``bench/ingest.py``); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Measured(Protocol):
    """What a step's result says (``vegeta.Report``)."""

    @property
    def rate(self) -> float: ...

    @property
    def p99_ms(self) -> float: ...

    @property
    def failed(self) -> int: ...


def sustained(asked: float, report: Measured, p99_ms: float, min_share: float) -> bool:
    """A step passes when nothing failed, its p99 is under ``p99_ms`` and the load generator
    really sent ``min_share`` of the asked rate (else the rate was not offered at all)."""
    return report.failed == 0 and report.p99_ms < p99_ms and report.rate >= min_share * asked


def highest_sustained(
    steps: Iterable[tuple[float, Measured]], p99_ms: float = 100.0, min_share: float = 0.95
) -> float | None:
    """The highest asked rate that passed with every lower rate passing too (a load that fails
    at 1,000/s and passes at 1,500/s by luck has not sustained 1,500/s); None if the lowest
    failed."""
    best = None
    for asked, report in sorted(steps, key=lambda step: step[0]):
        if not sustained(asked, report, p99_ms, min_share):
            break
        best = asked
    return best


@dataclass(frozen=True)
class Probe:
    """One probe request after a burst."""

    #: When it was sent, in seconds after the end of the burst (negative: before).
    sent: float
    code: int
    latency_ms: float


def recovery_time(probes: Iterable[Probe], normal_ms: float, run: int = 20) -> float | None:
    """Seconds from the end of the burst until answers are normal again: the sending time of the
    first of ``run`` consecutive probes answered 200 within ``normal_ms`` (the p99 before the
    burst); 0 when they were normal at once; None when that never happened."""
    start, streak = 0.0, 0
    for probe in sorted(probes, key=lambda p: p.sent):
        if probe.code == 200 and probe.latency_ms <= normal_ms:
            if streak == 0:
                start = probe.sent
            streak += 1
            if streak >= run:
                return max(0.0, start)
        else:
            streak = 0
    return None


def longest_gap(moments: Iterable[float]) -> tuple[float, float]:
    """The longest time between two consecutive moments, and the moment it began; (0, NaN) for
    fewer than two."""
    ordered = sorted(moments)
    gap, began = 0.0, math.nan
    for before, after in pairwise(ordered):
        if after - before > gap:
            gap, began = after - before, before
    return gap, began


@dataclass(frozen=True)
class Tally:
    """What was published against what was stored."""

    published: int
    #: Published and never stored.
    lost: int
    #: Extra copies of stored positions (a position stored twice counts once here).
    duplicated: int
    #: Stored and never published (a bug in the benchmark or the tracker).
    unexpected: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.published + other.published,
            self.lost + other.lost,
            self.duplicated + other.duplicated,
            self.unexpected + other.unexpected,
        )

    def __str__(self) -> str:
        text = f"{self.lost:,} lost, {self.duplicated:,} duplicated of {self.published:,}"
        return text + (f", {self.unexpected:,} unexpected" if self.unexpected else "")


def reconcile(published: Iterable[Hashable], stored: Iterable[Hashable]) -> Tally:
    """Compare the keys (vehicle, timestamp) published with every stored record's."""
    expected = set(published)
    copies = Counter(stored)
    return Tally(
        published=len(expected),
        lost=len(expected - copies.keys()),
        duplicated=sum(n - 1 for n in copies.values()),
        unexpected=len(copies.keys() - expected),
    )
