"""Values written as Grafana writes them, for the panel's unit."""

from __future__ import annotations

import math

_BYTES = ("B", "KiB", "MiB", "GiB", "TiB")
_PER_SECOND = {"cps": "/s", "ops": "/s", "reqps": "/s", "Bps": "B/s"}


def _number(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def format_value(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "s":
        if abs(value) < 1:
            return f"{value * 1000:.3g} ms"
        if abs(value) < 120:
            return f"{value:.3g} s"
        if abs(value) < 7200:
            return f"{value / 60:.3g} min"
        if abs(value) < 172800:
            return f"{value / 3600:.3g} h"
        return f"{value / 86400:.3g} d"
    if unit == "bytes":
        index = 0
        while abs(value) >= 1024 and index < len(_BYTES) - 1:
            value, index = value / 1024, index + 1
        return f"{value:.3g} {_BYTES[index]}"
    if unit in _PER_SECOND:
        return f"{_number(value)}{_PER_SECOND[unit]}"
    return _number(value)
