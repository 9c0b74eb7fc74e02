"""Time-scaled rules for the fire drills: the same expressions with every range, subquery step
and ``for:`` divided by a factor, so a drill on the local stack takes minutes, not hours.

Only durations change: metric names, label matchers, thresholds and the recording rules'
names (``slo:sli_error:ratio_rate5m`` keeps its name, so the dashboards read it unchanged) are
those of the real rules. Scaled durations have floors: a range needs a few scrapes to hold a
rate (one minute at a 15 s scrape), a subquery step one evaluation.
"""

from __future__ import annotations

import re
from dataclasses import replace

from observability.render.rules import Rule, RuleFile, RuleGroup

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_DURATION = r"(?:\d+(?:ms|s|m|h|d|w|y))+"
#: A range ``[5m]`` or a subquery ``[4m59s:1m]`` / ``[30m:]``, or a string literal (a label
#: value), which is left as it is.
_BRACKET = re.compile(
    rf"\[({_DURATION})(?::({_DURATION})?)?\]|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
)
#: The smallest scaled range (four scrapes at 15 s) and subquery step (one evaluation).
MIN_RANGE_S = 60
MIN_STEP_S = 15


def seconds(duration: str) -> float:
    """A Prometheus duration (``1h30m``) in seconds."""
    parts = _PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def duration(total: int) -> str:
    """Whole seconds as the shortest Prometheus duration (``90`` → ``1m30s``)."""
    if total <= 0:
        return "0s"
    text = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            text += f"{count}{unit}"
    return text


def scaled(text: str, factor: int, floor: int) -> str:
    """``text`` divided by ``factor``, in whole seconds, not under ``floor``. A range one
    second short of a whole minute (the left-open windows of Prometheus 3) stays one second
    short of its scaled minute."""
    total = round(seconds(text))
    short = 1 if total % 60 == 59 else 0
    return duration(max(round((total + short) / factor), floor) - short)


def scale_expr(expr: str, factor: int) -> str:
    """Every range and subquery of ``expr`` divided by ``factor``."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        window = scaled(match.group(1), factor, MIN_RANGE_S)
        if not match.group(0).endswith(":]") and match.group(2) is None:
            return f"[{window}]"
        step = match.group(2)
        return f"[{window}:{scaled(step, factor, MIN_STEP_S) if step else ''}]"

    return _BRACKET.sub(one, expr)


def scale_rule(rule: Rule, factor: int) -> Rule:
    for_ = scaled(rule.for_, factor, 0) if rule.for_ else ""
    return replace(rule, expr=scale_expr(rule.expr, factor), for_=for_)


def time_scaled(rule_file: RuleFile, factor: int) -> RuleFile:
    """The rule file with every duration divided by ``factor``."""
    groups = tuple(
        RuleGroup(g.name, tuple(scale_rule(r, factor) for r in g.rules)) for g in rule_file.groups
    )
    return replace(rule_file, groups=groups)
