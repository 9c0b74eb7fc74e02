"""Every check, by name. ``check`` runs the agreement checks (drift and closure), ``lint`` all."""

from __future__ import annotations

from collections.abc import Iterable

from observability.checks import (
    alert_style,
    drift,
    label_closure,
    metric_closure,
    promql_syntax,
    test_coverage,
)
from observability.checks.base import Check, Context
from observability.diagnostics import Problem

CHECKS: tuple[Check, ...] = (
    promql_syntax.CHECK,
    metric_closure.CHECK,
    label_closure.CHECK,
    alert_style.CHECK,
    test_coverage.CHECK,
    drift.CHECK,
)
#: What ``dashboard-gen check`` proves: the committed artifacts are current, and everything they
#: reference still exists in the code.
AGREEMENT = ("artifacts/drift", "promql/syntax", "promql/metric-closure", "promql/label-closure")


def check_named(name: str) -> Check:
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"no check named {name!r} (known: {', '.join(c.name for c in CHECKS)})")


def run_checks(ctx: Context, names: Iterable[str] | None = None) -> list[Problem]:
    selected = CHECKS if names is None else tuple(check_named(n) for n in names)
    return sorted({p for check in selected for p in check.run(ctx)})
