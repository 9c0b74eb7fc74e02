"""The scenarios generated for each SLO: each burn threshold crossed by 5% and missed by 5%, the
short window alone over its threshold (proving the AND), a clean history, and missing data."""

from __future__ import annotations

import math
from dataclasses import dataclass

from observability.catalog.slo import FreshnessSLI
from observability.slo.durations import minutes
from observability.slo.model import SLOModel, number
from observability.slo.windows import BurnSeverity, Window
from observability.testgen.expected import (
    Burst,
    clear_of_thresholds,
    firing,
    pair_fires,
    skip_run,
    window_error_ratio,
)

ABOVE, BELOW = 1.05, 0.95


class ScenarioError(ValueError):
    """No scenario can show what a case must show (e.g. an objective whose page cannot fire)."""


@dataclass(frozen=True)
class Case:
    name: str
    burst: Burst
    #: The severities expected to fire (computed by ``expected.firing``).
    fires: tuple[BurnSeverity, ...]


def _label(model: SLOModel, severity: BurnSeverity, window: Window) -> str:
    speed = "quick" if window == severity.quick else "slow"
    return (
        f"{model.slo.name}: {severity.sloth_severity} {speed} "
        f"({window.long}/{window.short}, burn rate {number(model.factor(window))})"
    )


def _events_bursts(model: SLOModel, window: Window) -> tuple[Burst, Burst]:
    threshold = model.threshold(window)
    if threshold * ABOVE >= 1:
        raise ScenarioError(
            f"SLO {model.slo.name}: threshold {number(threshold)} of the {window.long} window "
            "cannot be exceeded by 5% (an error ratio is at most 1)"
        )
    duration = minutes(window.long)
    return Burst(duration, threshold * ABOVE), Burst(duration, threshold * BELOW)


def _freshness_bursts(model: SLOModel, window: Window) -> tuple[Burst, Burst]:
    """Missed updates spread over the long window (one late slice every ``every`` minutes): the
    pattern that fires the pair with the long window closest above its threshold, and the one
    closest below."""
    assert isinstance(model.slo.sli, FreshnessSLI)
    threshold, duration = model.threshold(window), minutes(window.long)
    # One late slice every ``every`` minutes is an error ratio of about 1/every: try the
    # patterns around 1/threshold only.
    first = skip_run(model.slo.sli) + 1
    last = min(duration + 1, first + math.ceil(4 / threshold))
    patterns = [Burst(duration, every=e) for e in range(first, last + 1)]
    ratio = {b: window_error_ratio(model, b, window.long) for b in patterns}
    usable = [b for b in patterns if clear_of_thresholds(model, b)]
    over = [b for b in usable if pair_fires(model, b, window)]
    under = [b for b in usable if ratio[b] <= threshold]
    if not over or not under:
        raise ScenarioError(f"SLO {model.slo.name}: no staleness pattern brackets {window.long}")
    return min(over, key=ratio.__getitem__), max(under, key=ratio.__getitem__)


def threshold_cases(model: SLOModel) -> list[Case]:
    cases = []
    bursts = _freshness_bursts if isinstance(model.slo.sli, FreshnessSLI) else _events_bursts
    for severity in model.windows.severities:
        for window in severity.windows:
            above, below = bursts(model, window)
            label = _label(model, severity, window)
            if not (clear_of_thresholds(model, above) and clear_of_thresholds(model, below)):
                raise ScenarioError(f"{label}: a window lands on a threshold")
            for burst, how in ((above, "just above"), (below, "just below")):
                cases.append(Case(f"{label}, {how} its threshold", burst, firing(model, burst)))
            if severity not in cases[-2].fires:
                raise ScenarioError(f"{label}: 5% over the threshold should fire")
    return cases


def _shows_the_and(model: SLOModel, severity: BurnSeverity, window: Window, burst: Burst) -> bool:
    """The short window is over the threshold, the long one is not, and the severity is quiet."""
    threshold = model.threshold(window)
    return (
        window_error_ratio(model, burst, window.short)
        > threshold
        >= window_error_ratio(model, burst, window.long)
        and severity not in firing(model, burst)
        and clear_of_thresholds(model, burst)
    )


def _short_only_burst(model: SLOModel, severity: BurnSeverity, window: Window) -> Burst | None:
    """A burst just over the threshold for the short window only (so no other pair fires)."""
    short = minutes(window.short)
    if not isinstance(model.slo.sli, FreshnessSLI):
        burst = Burst(short, min(1.0, model.threshold(window) * ABOVE))
        return burst if _shows_the_and(model, severity, window, burst) else None
    candidates = [Burst(short, every=e) for e in range(short + 1, skip_run(model.slo.sli), -1)]
    candidates += [Burst(d) for d in range(short, 0, -1)]
    return next((b for b in candidates if _shows_the_and(model, severity, window, b)), None)


def short_window_cases(model: SLOModel) -> list[Case]:
    """Only the short window is over the threshold: no alert, because both windows must be."""
    cases = []
    for severity in model.windows.severities:
        for window in severity.windows:
            label = f"{_label(model, severity, window)}, only the short window over its threshold"
            burst = _short_only_burst(model, severity, window)
            if burst is None:
                raise ScenarioError(f"{label}: no burst shows it")
            cases.append(Case(label, burst, firing(model, burst)))
    return cases


def clean_case(model: SLOModel) -> Case:
    return Case(f"{model.slo.name}: no errors, nothing fires", Burst(0, 0.0), ())


def slo_cases(model: SLOModel) -> list[Case]:
    return [clean_case(model), *threshold_cases(model), *short_window_cases(model)]
