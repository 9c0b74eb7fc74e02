"""Prometheus durations (``5m``, ``1h``, ``3d``) to seconds and back."""

from __future__ import annotations

import re

#: Seconds per unit, largest first (the order ``format_duration`` tries them in).
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration such as ``5m``, ``1h30m`` or ``3d``."""
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * s for n, s in zip(match.groups(), _UNITS.values(), strict=True) if n)


def format_duration(seconds: int) -> str:
    """The shortest Prometheus duration for ``seconds`` (``3600`` → ``1h``, ``5400`` → ``1h30m``)."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        if unit == "w" and seconds % size:
            continue  # weeks only when exact: 10d reads better than 1w3d
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def minutes(text: str) -> int:
    """Whole minutes in a duration (the resolution of the generated tests)."""
    seconds = parse_duration(text)
    if seconds % 60:
        raise ValueError(f"{text} is not a whole number of minutes")
    return seconds // 60
