"""The PromQL of each SLI kind: the error ratio over one window, and the series it needs.

Every selector is scoped to the service with ``job="<service>"``.

- ``RatioSLI`` and ``LatencySLI`` are both *events* SLIs: error ratio = 1 - good / valid, with
  valid = total - excluded (a latency SLI's good events are the ``le="<threshold>"`` bucket, its
  total the ``_count``). Three guards keep the ratio a number in [0, 1]:

  * ``(sum(...) or vector(0))`` on the good (and excluded) events: when every request fails,
    the good series may not exist at all, and ``sum`` of nothing is *no* sample, which would
    hide the outage;
  * ``(valid > 0)``: with no valid events the ratio is undefined; dropping the sample (rather
    than recording 0/0 = NaN) keeps one NaN from poisoning the 30-day ``sum_over_time`` average;
  * ``clamp_max(good / valid, 1)``: ``rate`` extrapolates each counter separately, so good can
    exceed valid by a hair at a window's edge; a negative error ratio would flatter the budget.

- ``FreshnessSLI`` is a *time-slice* SLI: the share of ``step`` slices where the newest event is
  older than ``max_age``. The first (5m) window is a subquery over the gauge,
  ``avg_over_time((time() - max(gauge) > bool max_age)[4m59s:step])`` (five slices on every
  Prometheus version); every longer window averages
  that recording over the window (as Sloth computes its 30-day period). A subquery per window
  would cost up to 4,321 steps per evaluation for the 3-day window, which promtool's sample
  limit (10,000 per query) refuses, and buys nothing: the mean of the 5-minute shares is the
  share over the window, up to the 5 minutes at its edges.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.utils import floatToGoString

from observability.catalog.correlation import SERVICE_LABEL
from observability.catalog.slo import SLI, FreshnessSLI, LatencySLI, Matcher, RatioSLI, Selector, eq
from observability.slo.durations import format_duration, parse_duration
from observability.slo.model import SLOModel, number, sli_record


@dataclass(frozen=True)
class SeriesSelector:
    """One series selector of an SLI: a stored series name and its matchers (job first)."""

    name: str
    matchers: tuple[Matcher, ...]

    def render(self) -> str:
        return f"{self.name}{{{','.join(m.render() for m in self.matchers)}}}"


@dataclass(frozen=True)
class EventsSLI:
    """The normal form of ratio and latency SLIs: sums of good, total and excluded events."""

    good: tuple[SeriesSelector, ...]
    total: tuple[SeriesSelector, ...]
    excluded: tuple[SeriesSelector, ...] = ()


def bucket_label(threshold_seconds: float) -> str:
    """The ``le`` value the client library writes for a bucket bound (``0.25``, ``1.0``)."""
    return floatToGoString(threshold_seconds)


def events_sli(sli: RatioSLI | LatencySLI, service: str) -> EventsSLI:
    job = eq(SERVICE_LABEL, service)
    if isinstance(sli, LatencySLI):
        le = eq("le", bucket_label(sli.threshold_seconds))
        name = sli.histogram.name
        return EventsSLI(
            good=(SeriesSelector(f"{name}_bucket", (job, le, *sli.matchers)),),
            total=(SeriesSelector(f"{name}_count", (job, *sli.matchers)),),
        )

    def scoped(selectors: tuple[Selector, ...]) -> tuple[SeriesSelector, ...]:
        return tuple(
            SeriesSelector(s.metric.name + s.suffix, (job, *s.matchers)) for s in selectors
        )

    return EventsSLI(scoped(sli.good), scoped(sli.total), scoped(sli.excluded))


def sli_selectors(sli: SLI, service: str) -> tuple[SeriesSelector, ...]:
    """Every series selector the SLI reads."""
    if isinstance(sli, FreshnessSLI):
        return (SeriesSelector(sli.timestamp.name, (eq(SERVICE_LABEL, service),)),)
    events = events_sli(sli, service)
    return (*events.good, *events.total, *events.excluded)


def _sum_rate(selectors: tuple[SeriesSelector, ...], window: str, zero_if_missing: bool) -> str:
    terms = [f"sum(rate({s.render()}[{window}]))" for s in selectors]
    if zero_if_missing:
        terms = [f"({t} or vector(0))" for t in terms]
    return "\n+ ".join(terms)


def _events_error_ratio(events: EventsSLI, window: str) -> str:
    # One total term stays bare: without it there are no valid events and no sample is right.
    valid = _sum_rate(events.total, window, zero_if_missing=len(events.total) > 1)
    if events.excluded:
        valid = f"{valid}\n- {_sum_rate(events.excluded, window, zero_if_missing=True)}"
    good = _sum_rate(events.good, window, zero_if_missing=True)
    return f"1 - clamp_max(\n{_indent(good)}\n  /\n  (\n{_indent(valid, 4)}\n    > 0\n  ),\n  1\n)"


def _freshness_error_ratio(model: SLOModel, window: str) -> str:
    sli = model.slo.sli
    assert isinstance(sli, FreshnessSLI)
    base = model.windows.sli_windows()[0]
    # Ranges one second short of the window: Prometheus 2 includes a range's start and 3 does
    # not, so `[5m:1m]` holds 6 slices on 2 and 5 on 3 (a 20% larger ratio for the same
    # staleness); `[4m59s:1m]` holds the same 5 on both, and `[59m59s]` the same records.
    slices = format_duration(parse_duration(window) - 1)
    if window != base:
        return f"avg_over_time({sli_record(base)}{model.selector}[{slices}])"
    (gauge,) = sli_selectors(sli, model.service.name)
    return (
        "avg_over_time(\n"
        f"  (\n"
        f"    (time() - max({gauge.render()}) > bool {number(sli.max_age_seconds)})\n"
        # a gauge still at 0 has never been set (nothing stored yet): no slice, not a late one
        f"    and max({gauge.render()}) > 0\n"
        f"  )[{slices}:{sli.step}]\n"
        ")"
    )


def error_ratio_query(model: SLOModel, window: str) -> str:
    """The SLI's error ratio over ``window``: a number in [0, 1], or no sample without events."""
    sli = model.slo.sli
    if isinstance(sli, FreshnessSLI):
        return _freshness_error_ratio(model, window)
    return _events_error_ratio(events_sli(sli, model.service.name), window)


def _indent(text: str, spaces: int = 2) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())
