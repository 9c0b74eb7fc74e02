"""SLO → Sloth-compatible rule groups: SLI recordings, meta recordings, burn-rate alerts.

Record names, labels and group names are Sloth's (``slo:sli_error:ratio_rate5m``...,
``sloth_id``/``sloth_service``/``sloth_slo``, ``sloth-slo-sli-recordings-<id>``), so Sloth's
public Grafana dashboards work on these rules unchanged.
"""

from __future__ import annotations

from observability.catalog.correlation import SERVICE_LABEL
from observability.config import Config
from observability.render.links import dashboard_url, runbook_url
from observability.render.provenance import of_slo
from observability.render.rules import Rule, RuleGroup
from observability.slo.model import SLOModel, number, sli_record
from observability.slo.sli import error_ratio_query, sli_selectors
from observability.slo.windows import BurnSeverity

#: Sloth's labels for its info series (``mode`` and ``spec`` say how and from what it was made).
INFO_LABELS = {
    "sloth_mode": "cli-gen-prom",
    "sloth_spec": "prometheus/v1",
    "sloth_version": "dashboard-gen",
}


def absent_alert_name(model: SLOModel) -> str:
    return f"{model.slo.alert_name}SLIAbsent"


def sli_recordings(model: SLOModel) -> RuleGroup:
    origin = of_slo(model.slo)
    rules = [
        Rule.recording(
            origin,
            sli_record(window),
            error_ratio_query(model, window),
            {**model.labels, "sloth_window": window},
        )
        for window in model.windows.sli_windows()
    ]
    period, first = model.period, sli_record(model.windows.sli_windows()[0])
    rules.append(
        Rule.recording(
            origin,
            sli_record(period),
            f"sum_over_time({first}{model.selector}[{period}])\n"
            "/ ignoring (sloth_window)\n"
            f"count_over_time({first}{model.selector}[{period}])",
            # Sloth writes only sloth_window here; the ids too keep two SLOs' period rules from
            # being duplicates for `promtool check rules` (the values are the expression's anyway).
            {**model.labels, "sloth_window": period},
        )
    )
    return RuleGroup(f"sloth-slo-sli-recordings-{model.sloth_id}", tuple(rules))


def meta_recordings(model: SLOModel) -> RuleGroup:
    origin, ids, labels = of_slo(model.slo), model.selector, model.labels
    objective = number(model.slo.objective)

    def burn(sli_window: str) -> str:
        return (
            f"{sli_record(sli_window)}{ids}\n"
            "/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
            f"slo:error_budget:ratio{ids}"
        )

    info = {**labels, **INFO_LABELS, "sloth_objective": number(model.slo.objective * 100)}
    rules = (
        Rule.recording(origin, "slo:objective:ratio", f"vector({objective})", labels),
        Rule.recording(origin, "slo:error_budget:ratio", f"vector(1-{objective})", labels),
        Rule.recording(origin, "slo:time_period:days", f"vector({model.slo.period_days})", labels),
        Rule.recording(
            origin, "slo:current_burn_rate:ratio", burn(model.windows.sli_windows()[0]), labels
        ),
        Rule.recording(origin, "slo:period_burn_rate:ratio", burn(model.period), labels),
        Rule.recording(
            origin,
            "slo:period_error_budget_remaining:ratio",
            f"1 - slo:period_burn_rate:ratio{ids}",
            labels,
        ),
        Rule.recording(origin, "sloth_slo_info", "vector(1)", info),
    )
    return RuleGroup(f"sloth-slo-meta-recordings-{model.sloth_id}", rules)


def burn_expr(model: SLOModel, severity: BurnSeverity) -> str:
    """Sloth's alert: (short AND long over threshold) OR (the same for the slower pair)."""
    ids, budget = model.selector, number(model.error_budget)

    def over(window: str, factor: float) -> str:
        record = sli_record(window)
        return f"max({record}{ids} > ({number(factor)} * {budget})) without (sloth_window)"

    pairs = []
    for w in severity.windows:
        factor = model.factor(w)
        pairs.append(f"(\n    {over(w.short, factor)}\n    and\n    {over(w.long, factor)}\n)")
    return "\nor\n".join(pairs)


def _percent(ratio: float) -> str:
    return f"{number(ratio * 100)}%"


def burn_annotations(model: SLOModel, severity: BurnSeverity, config: Config) -> dict[str, str]:
    slo, service = model.slo, model.service.name
    conditions = ", or ".join(
        f"{number(model.factor(w))} times the {_percent(model.error_budget)} budget over both "
        f"{w.long} and {w.short}"
        for w in severity.windows
    )
    pace = "fast" if severity.sloth_severity == "page" else "steadily"
    return {
        "summary": f"The {service} {slo.name} SLO is burning its error budget {pace}.",
        "description": (
            f"{{{{ $labels.sloth_id }}}}: {slo.description} The error ratio is above "
            f"{conditions}: at that rate the {model.period} error budget is spent within "
            f"{number(model.exhaustion_days(severity))} days."
        ),
        "runbook_url": runbook_url(config, slo.alert_name),
        "dashboard_url": dashboard_url(config, service),
    }


def absent_expr(model: SLOModel) -> str:
    names: dict[str, str] = {}
    for sel in sli_selectors(model.slo.sli, model.service.name):
        names.setdefault(sel.name, f'absent({sel.name}{{{SERVICE_LABEL}="{model.service.name}"}})')
    return "\nor\n".join(names.values())


def absent_rule(model: SLOModel, config: Config) -> Rule:
    """The SLI's metrics are gone (renamed, or the target is not scraped): Pyrra's SLOMetricAbsent."""
    name, service = absent_alert_name(model), model.service.name
    metrics = ", ".join(sorted({s.name for s in sli_selectors(model.slo.sli, service)}))
    return Rule.alerting(
        of_slo(model.slo),
        name,
        absent_expr(model),
        for_=model.absent_for(),
        labels={"severity": "warning", SERVICE_LABEL: service, **model.labels},
        annotations={
            "summary": f"The {service} {model.slo.name} SLO has no data.",
            "description": (
                f"No series of {metrics} from job {{{{ $labels.job }}}} for {model.absent_for()}: "
                f"the {model.slo.name} SLO and its burn-rate alerts cannot see failures."
            ),
            "runbook_url": runbook_url(config, name),
            "dashboard_url": dashboard_url(config, service),
        },
    )


def slo_alerts(model: SLOModel, config: Config) -> RuleGroup:
    origin, service = of_slo(model.slo), model.service.name
    rules = [
        Rule.alerting(
            origin,
            model.slo.alert_name,
            burn_expr(model, severity),
            labels={
                "severity": severity.severity,
                "sloth_severity": severity.sloth_severity,
                SERVICE_LABEL: service,
            },
            annotations=burn_annotations(model, severity, config),
        )
        for severity in model.windows.severities
    ]
    rules.append(absent_rule(model, config))
    return RuleGroup(f"sloth-slo-alerts-{model.sloth_id}", tuple(rules))


def slo_rule_groups(model: SLOModel, config: Config) -> tuple[RuleGroup, ...]:
    return (sli_recordings(model), meta_recordings(model), slo_alerts(model, config))
