"""Text from numbers: a percentage or a millisecond threshold written in an SLO's or an alert's
free text must be one the catalog computes (the objective, the error budget, the latency
threshold, a threshold of the alert's expression). Change an objective and forget its
description, and the catalog is invalid instead of the runbook saying the old number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from observability.catalog.alerts import Alert
from observability.catalog.slo import SLO, LatencySLI

_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")
_MILLISECONDS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?ms\b")
#: A number an expression compares with (``> 0.05``, ``>= 0.8``, ``< 1``).
_COMPARED = re.compile(r"[<>]=?\s*(\d+(?:\.\d+)?(?:e-?\d+)?)")


def _key(value: float) -> float:
    return round(value, 9)


def _shown(values: set[float], unit: str) -> str:
    return ", ".join(f"{v:g}{unit}" for v in sorted(values)) or "none"


def _stray(text: str, pattern: re.Pattern[str], allowed: set[float]) -> list[float]:
    return [float(m) for m in pattern.findall(text) if _key(float(m)) not in allowed]


def slo_number_problems(slo: SLO) -> Iterator[str]:
    percents = {_key(slo.objective * 100), _key(slo.error_budget * 100)}
    millis = {_key(slo.sli.threshold_seconds * 1000)} if isinstance(slo.sli, LatencySLI) else set()
    for where, text in (("description", slo.description), ("runbook", slo.runbook)):
        for value in _stray(text, _PERCENT, percents):
            yield (
                f"SLO {slo.name}: its {where} states {value:g}% but the catalog computes "
                f"{_shown(percents, '%')} (objective, error budget)"
            )
        for value in _stray(text, _MILLISECONDS, millis):
            yield (
                f"SLO {slo.name}: its {where} states {value:g} ms but its latency threshold "
                f"is {_shown(millis, ' ms')}"
            )


def alert_number_problems(alert: Alert) -> Iterator[str]:
    thresholds = {float(v) for v in _COMPARED.findall(alert.expr)}
    percents = {_key(v * 100) for v in thresholds}
    for where in ("summary", "description", "runbook"):
        for value in _stray(getattr(alert, where), _PERCENT, percents):
            yield (
                f"alert {alert.name}: its {where} states {value:g}% but its expression compares "
                f"with {_shown(thresholds, '')} ({_shown(percents, '%')})"
            )
