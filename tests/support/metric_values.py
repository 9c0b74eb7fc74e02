"""Values, not only names: a service's ``/metrics`` read as its catalog's metrics, and what
their values must look like.

- a counter declaring ``counts`` moves by exactly the number of those events a test caused;
- a histogram in seconds observes nothing longer than the test's own wall time (a duration fed
  milliseconds reads 1000 times too long);
- a ``*_timestamp_seconds`` gauge, once set, is a Unix time of the past year and not ahead of
  the wall clock (a monotonic clock reads the machine's uptime: decades off; milliseconds read
  millennia ahead); after known work, within a minute of it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from observability.catalog.metrics import Metric, MetricKind, Unit
from observability.catalog.service import ServiceCatalog

#: How far ahead of the wall clock a timestamp gauge may be, and how recent a moment of known
#: work must be.
MAX_SKEW_S = 60.0
#: How old a moment may be at all (a last event may be long past, not decades).
MAX_AGE_S = 366 * 24 * 3600.0
Labels = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Scrape:
    """One read of ``/metrics``: every sample, and the wall-clock time it was read."""

    samples: dict[tuple[str, Labels], float]
    at: float

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def bucket(self, metric: Metric, bound: float) -> float:
        """Observations at most ``bound`` (the cumulative bucket of the bound)."""
        return sum(
            v
            for (n, ls), v in self.samples.items()
            if n == f"{metric.name}_bucket" and float(dict(ls)["le"]) == bound
        )


def scrape(url: str) -> Scrape:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return Scrape(samples, time.time())


def counter_moves(
    catalog: ServiceCatalog, before: Scrape, after: Scrape, events: dict[str, int]
) -> list[str]:
    """Every counter counting one of ``events`` moved by exactly its number of them."""
    problems = []
    for metric in catalog.metrics:
        if metric.kind is not MetricKind.COUNTER or metric.counts not in events:
            continue
        moved = after.value(metric.name) - before.value(metric.name)
        if moved != events[metric.counts]:
            problems.append(
                f"{metric.name} counts {metric.counts!r}: {events[metric.counts]} happened, "
                f"it moved by {moved:g}"
            )
    return problems


def _bound_at_least(metric: Metric, seconds: float) -> float:
    return next((b for b in metric.buckets if b >= seconds), math.inf)


def durations_within(
    catalog: ServiceCatalog, before: Scrape, after: Scrape, elapsed_s: float
) -> list[str]:
    """No histogram in seconds observed, between the scrapes, anything longer than the time
    that passed between them (to the next bucket bound up)."""
    problems = []
    for metric in catalog.metrics:
        if metric.kind is not MetricKind.HISTOGRAM or metric.unit is not Unit.SECONDS:
            continue
        count = after.value(f"{metric.name}_count") - before.value(f"{metric.name}_count")
        bound = _bound_at_least(metric, elapsed_s)
        if count == 0 or math.isinf(bound):
            continue
        within = after.bucket(metric, bound) - before.bucket(metric, bound)
        total = after.value(f"{metric.name}_sum") - before.value(f"{metric.name}_sum")
        if within < count or total > count * elapsed_s:
            problems.append(
                f"{metric.name}: {count - within:g} of {count:g} observations over {bound:g} s "
                f"(sum {total:g} s) although only {elapsed_s:.1f} s passed: not seconds?"
            )
    return problems


def timestamps_near_now(
    catalog: ServiceCatalog, now: Scrape, max_age_s: float = MAX_AGE_S
) -> list[str]:
    """Every timestamp gauge that is set (not 0) is at most ``max_age_s`` old and at most
    MAX_SKEW_S ahead of the wall clock."""
    problems = []
    for metric in catalog.metrics:
        if not metric.is_timestamp:
            continue
        for (name, labels), value in now.samples.items():
            if name != metric.name or value == 0:
                continue
            if not -max_age_s <= value - now.at <= MAX_SKEW_S:
                problems.append(
                    f"{metric.name}{dict(labels) or ''} is {value:.0f}, "
                    f"{value - now.at:+.0f} s from the wall clock: not Unix time?"
                )
    return problems
