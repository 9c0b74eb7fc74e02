"""Synthetic input series for a scenario, built from the catalog (label values it allows).

Events SLIs get counters at a constant ``VALID_PER_MINUTE`` valid events (plus
``EXCLUDED_PER_MINUTE`` excluded ones, when the SLI excludes some), with the burst's share
turned bad in its last minutes. When the good selector picks a subset of a total selector's
series (``status_class!="5xx"`` of all requests), a second, *bad* series that the total selector
matches and the good one does not carries the failures. Freshness SLIs get the newest-event
gauge, which follows the clock and stops at the burst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from observability.catalog.correlation import SERVICE_LABEL
from observability.catalog.metrics import Metric
from observability.catalog.service import ServiceCatalog
from observability.catalog.slo import FreshnessSLI, Matcher
from observability.slo.durations import minutes
from observability.slo.model import SLOModel, number
from observability.slo.sli import EventsSLI, SeriesSelector, events_sli, sli_selectors
from observability.testgen.cases import ScenarioError
from observability.testgen.expected import Burst, history_minutes, skipped

VALID_PER_MINUTE = 1000.0
EXCLUDED_PER_MINUTE = 10.0
EVENTS_INTERVAL_MINUTES = 1


@dataclass(frozen=True)
class InputSeries:
    labels: tuple[tuple[str, str], ...]
    name: str
    values: str

    def as_dict(self) -> dict[str, str]:
        body = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return {"series": f"{self.name}{{{body}}}", "values": self.values}


def matches(matcher: Matcher, value: str) -> bool:
    """Prometheus semantics: regexes are anchored at both ends."""
    if matcher.op in ("=~", "!~"):
        found = re.fullmatch(matcher.value, value) is not None
        return found if matcher.op == "=~" else not found
    return (value == matcher.value) == (matcher.op == "=")


def _family(service: ServiceCatalog, series_name: str) -> Metric:
    for metric in service.metrics:
        if series_name in metric.series_names():
            return metric
    raise ScenarioError(f"{series_name} is not a series of {service.name}'s catalog")


def _labels(
    model: SLOModel, sel: SeriesSelector, avoid: tuple[Matcher, ...] = ()
) -> dict[str, str]:
    """Labels that ``sel`` matches; given ``avoid``, labels that one of those matchers rejects."""
    service = model.service
    labels = {SERVICE_LABEL: service.name, "instance": f"127.0.0.1:{service.metrics_port or 0}"}
    labels.update({m.label: m.value for m in sel.matchers if m.op == "="})
    options: dict[str, list[str]] = {}
    for label in _family(service, sel.name).labels:
        wanted = [m for m in sel.matchers if m.label == label.name]
        options[label.name] = [v for v in label.values or () if all(matches(m, v) for m in wanted)]
        if not options[label.name]:
            raise ScenarioError(f"no allowed value of {label.name} matches {sel.render()}")
        labels[label.name] = options[label.name][0]
    if not avoid:
        return labels
    for name, values in options.items():
        unwanted = [m for m in avoid if m.label == name]
        escaping = [v for v in values if not all(matches(m, v) for m in unwanted)]
        if unwanted and escaping:
            return {**labels, name: escaping[0]}
    raise ScenarioError(f"no series of {sel.render()} escapes {[m.render() for m in avoid]}")


def counter_values(clean: float, burst: float, samples: int, burst_samples: int) -> str:
    """A counter growing by ``clean`` per sample, then by ``burst`` in the last samples."""
    before = samples - burst_samples
    text = f"0+{number(clean)}x{before}"
    if burst_samples:
        start = before * clean + burst
        text += f" {number(start)}+{number(burst)}x{burst_samples - 1}"
    return text


def gauge_values(sli: FreshnessSLI, burst: Burst, samples: int) -> str:
    """The newest-event timestamp, one sample a minute: the time itself, except where the
    burst skips updates (the value stays), written as runs (``a+60xn`` and ``vx n``)."""
    runs: list[tuple[float, float, int]] = []  # (start, increment, extra samples)
    value = 0.0
    for minute in range(samples + 1):
        fresh = not skipped(sli, burst, samples - minute)
        value = minute * 60.0 if fresh else value
        step = 60.0 if fresh else 0.0
        if runs and runs[-1][1] == step and runs[-1][0] + step * (runs[-1][2] + 1) == value:
            runs[-1] = (runs[-1][0], step, runs[-1][2] + 1)
        else:
            runs.append((value, step, 0))
    return " ".join(f"{number(start)}+{number(inc)}x{extra}" for start, inc, extra in runs)


def _events_series(model: SLOModel, events: EventsSLI, burst: Burst) -> list[InputSeries]:
    per_sample = EVENTS_INTERVAL_MINUTES
    valid = VALID_PER_MINUTE * per_sample
    excluded = EXCLUDED_PER_MINUTE * per_sample if events.excluded else 0.0
    bad = valid * burst.error_ratio
    samples = history_minutes(model) // per_sample
    burst_samples = _whole(burst.minutes, per_sample)

    def series(
        sel: SeriesSelector, clean: float, during: float, avoid: tuple[Matcher, ...] = ()
    ) -> InputSeries:
        labels = tuple(sorted(_labels(model, sel, avoid).items()))
        return InputSeries(labels, sel.name, counter_values(clean, during, samples, burst_samples))

    if max(len(events.good), len(events.total), len(events.excluded)) > 1:
        raise ScenarioError(f"SLO {model.slo.name}: tests support one selector per event kind")
    (good,), (total_sel,) = events.good, events.total
    found = [series(good, valid, valid - bad)]
    if good.name == total_sel.name:  # good is a subset of total: failures go to another series
        found.append(series(total_sel, excluded, bad + excluded, good.matchers))
    else:
        found.append(series(total_sel, valid + excluded, valid + excluded))
    found += [series(sel, excluded, excluded) for sel in events.excluded]
    return found


def _whole(duration: int, interval: int) -> int:
    if duration % interval:
        raise ScenarioError(f"a {duration}-minute burst is not a whole number of samples")
    return duration // interval


def input_interval(model: SLOModel) -> int:
    """Minutes between input samples: the freshness step (the gauge must be scraped within the
    maximum age), else 5 (windows up to 3 days then stay under promtool's 10,000-sample limit)."""
    sli = model.slo.sli
    return minutes(sli.step) if isinstance(sli, FreshnessSLI) else EVENTS_INTERVAL_MINUTES


def scenario_series(model: SLOModel, burst: Burst) -> list[InputSeries]:
    sli = model.slo.sli
    if isinstance(sli, FreshnessSLI):
        if minutes(sli.step) != 1:
            raise ScenarioError(f"SLO {model.slo.name}: tests need a 1m freshness step")
        (gauge,) = sli_selectors(sli, model.service.name)
        labels = tuple(sorted(_labels(model, gauge).items()))
        return [InputSeries(labels, gauge.name, gauge_values(sli, burst, history_minutes(model)))]
    return _events_series(model, events_sli(sli, model.service.name), burst)
