"""Which burn-rate alerts should fire, computed from the window table alone, not from PromQL.

A scenario is a clean history followed, in the last ``burst`` minutes before the evaluation time
``T``, by errors. The error ratio each window sees follows from the SLI's definition:

- events SLIs (counters, constant traffic): a burst of error ratio ``e`` lasting ``D`` minutes
  shows as ``e * min(D, W) / W`` over a window of ``W`` minutes;
- time-slice SLIs (freshness): the newest-event gauge is updated every minute except in the
  burst, where it skips updates: all of them (``every == 0``, the gauge freezes), or a run of
  ``max_age/1m + 1`` every ``every`` minutes (one late slice each time, so the error ratio is
  about ``1/every``). A slice is bad when its newest update is older than the maximum age. The
  base (5m) window holds its ``5/step + 1`` slices (Prometheus 2 ranges include both ends); a
  longer window is the mean of the base window's share at each evaluation in it (every
  ``EVALUATION_MINUTES``, ``W/5 + 1`` of them).

An alert of a severity fires when, for one of its window pairs, both the short and the long
window's error ratio exceed factor * error budget (Sloth's OR of ANDs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from observability.catalog.slo import FreshnessSLI
from observability.slo.durations import minutes
from observability.slo.model import SLOModel
from observability.slo.windows import BurnSeverity, Window

#: How often the generated tests of a time-slice SLO evaluate the rules, in minutes: its longer
#: windows average the 5-minute recording, so it must be recorded every 5 minutes.
EVALUATION_MINUTES = 5
#: For events SLOs, whose windows read the counters directly: hourly is exact and 12 times cheaper.
EVENTS_EVALUATION_MINUTES = 60


def evaluation_minutes(model: SLOModel) -> int:
    """How often the generated tests of ``model`` evaluate the rules (the burn alerts have no
    ``for``, so only the evaluation at the scenario's end matters)."""
    if isinstance(model.slo.sli, FreshnessSLI):
        return EVALUATION_MINUTES
    return EVENTS_EVALUATION_MINUTES


@dataclass(frozen=True)
class Burst:
    """Errors during the last ``minutes`` minutes before T: at ``error_ratio`` (events SLIs),
    or (freshness) gauge updates skipped: all of them, or a run every ``every`` minutes."""

    minutes: int
    error_ratio: float = 1.0
    every: int = 0


def skip_run(sli: FreshnessSLI) -> int:
    """How many updates in a row a gauge must miss for one slice to be late."""
    return int(sli.max_age_seconds // 60) + 1


def skipped(sli: FreshnessSLI, burst: Burst, before: int) -> bool:
    """Whether the gauge misses its update ``before`` minutes before T."""
    if before >= burst.minutes:
        return False
    return burst.every == 0 or before % burst.every < skip_run(sli)


@cache
def late_counts(sli: FreshnessSLI, burst: Burst, horizon: int) -> tuple[int, ...]:
    """Prefix sums: ``counts[x]`` late slices among those 0 .. x-1 minutes before T."""
    if minutes(sli.step) != 1:
        raise ValueError(f"generated tests need a 1m freshness step, not {sli.step}")
    updated, flags = burst.minutes, [False] * (horizon + 1)  # updated just before the burst
    for before in range(max(burst.minutes - 1, horizon), -1, -1):
        if not skipped(sli, burst, before):
            updated = before
        if before <= horizon:
            flags[before] = (updated - before) * 60 > sli.max_age_seconds
    counts = [0]
    for flag in flags:
        counts.append(counts[-1] + flag)
    return tuple(counts)


def late(sli: FreshnessSLI, burst: Burst, before: int) -> bool:
    """Whether the slice ``before`` minutes before T sees an update older than the max age."""
    counts = late_counts(sli, burst, before)
    return counts[before + 1] > counts[before]


def _late_share(counts: tuple[int, ...], before: int, width: int) -> float:
    """Share of late slices among the ``width`` ending ``before`` minutes before T (the SLI's
    ranges stop a second short of their window, so the slice at its start is not in it)."""
    return (counts[before + width] - counts[before]) / width


@cache
def window_error_ratio(model: SLOModel, burst: Burst, window: str) -> float:
    """The error ratio the SLI sees over ``window`` at the end of ``burst``."""
    width = minutes(window)
    sli = model.slo.sli
    if not isinstance(sli, FreshnessSLI):
        return burst.error_ratio * min(burst.minutes, width) / width
    base = minutes(model.windows.sli_windows()[0])
    counts = late_counts(sli, burst, history_minutes(model))
    if width == base:
        return _late_share(counts, 0, base)
    shares = [_late_share(counts, b, base) for b in range(0, width, EVALUATION_MINUTES)]
    return sum(shares) / len(shares)


def pair_fires(model: SLOModel, burst: Burst, window: Window) -> bool:
    threshold = model.threshold(window)
    return all(window_error_ratio(model, burst, w) > threshold for w in (window.short, window.long))


def severity_fires(model: SLOModel, burst: Burst, severity: BurnSeverity) -> bool:
    return any(pair_fires(model, burst, w) for w in severity.windows)


def firing(model: SLOModel, burst: Burst) -> tuple[BurnSeverity, ...]:
    """The severities (page, ticket) whose alert fires at the end of ``burst``."""
    return tuple(s for s in model.windows.severities if severity_fires(model, burst, s))


#: How far (relatively) every window's error ratio must stay from every threshold it is
#: compared with, so float rounding in Prometheus cannot turn an expectation around.
MARGIN = 0.005


def clear_of_thresholds(model: SLOModel, burst: Burst) -> bool:
    """No window's error ratio is within ``MARGIN`` of a threshold it is compared with."""
    for window in model.windows.all_windows:
        threshold = model.threshold(window)
        for width in (window.short, window.long):
            if abs(window_error_ratio(model, burst, width) - threshold) < MARGIN * threshold:
                return False
    return True


def history_minutes(model: SLOModel) -> int:
    """How long each scenario runs: the longest window plus an hour, so every window is full."""
    return max(minutes(w) for w in model.windows.sli_windows()) + 60
