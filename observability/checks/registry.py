"""Every check, by name. ``check`` runs the agreement checks (drift and closure), ``lint`` all."""

from __future__ import annotations

from collections.abc import Iterable

from observability.checks import (
    alert_style,
    dashboard_coverage,
    dashboard_lint,
    drift,
    grafana_schema,
    label_closure,
    link_hosts,
    log_field_closure,
    log_field_types,
    log_query_syntax,
    metric_closure,
    promql_syntax,
    test_coverage,
    trace_id_name,
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
    dashboard_lint.CHECK,
    dashboard_coverage.CHECK,
    grafana_schema.CHECK,
    log_field_closure.CHECK,
    log_field_types.CHECK,
    log_query_syntax.CHECK,
    trace_id_name.CHECK,
    link_hosts.CHECK,
)
#: What ``dashboard-gen check`` proves: the committed artifacts are current, and everything they
#: reference still exists in the code.
AGREEMENT = ("artifacts/drift", "promql/syntax", "promql/metric-closure", "promql/label-closure")
AGREEMENT += ("logs/field-closure", "logs/field-types", "logs/query-syntax", "logs/trace-id-name")


def check_named(name: str) -> Check:
    for check in CHECKS:
        if check.name == name:
            return check
    raise KeyError(f"no check named {name!r} (known: {', '.join(c.name for c in CHECKS)})")


def run_checks(ctx: Context, names: Iterable[str] | None = None) -> list[Problem]:
    selected = CHECKS if names is None else tuple(check_named(n) for n in names)
    return sorted({p for check in selected for p in check.run(ctx)})
