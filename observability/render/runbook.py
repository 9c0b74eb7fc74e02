"""Runbooks (Markdown) for every alert, from the catalog's ``runbook`` text.

``runbook_url`` of each alert opens ``alerts/runbooks/<AlertName>.md``; the page and ticket alert
of an SLO share one runbook, its absent-data alert has its own.
"""

from __future__ import annotations

from observability.catalog.alerts import Alert
from observability.catalog.component import ComponentCatalog
from observability.catalog.service import AlertOwner
from observability.config import Config
from observability.render.links import dashboard_uid, dashboard_url
from observability.render.provenance import Origin, header, of_alert, of_slo
from observability.render.slo_rules import absent_alert_name, absent_expr, sli_record
from observability.slo.model import SLOModel, number

_NOTE = "<!-- {} -->"


def _page(title: str, origin: Origin, facts: list[str], sections: dict[str, str]) -> str:
    notes = [_NOTE.format(line) for line in header({origin.module}).splitlines()]
    lines = [*notes, _NOTE.format(origin.marker), "", f"# {title}", "", *facts, ""]
    for heading, body in sections.items():
        lines += [f"## {heading}", "", body.strip(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _dashboard(config: Config, key: str) -> str:
    return f"[{dashboard_uid(key)}]({dashboard_url(config, key)})"


def symptom_runbook(alert: Alert, owner: AlertOwner, config: Config) -> str:
    kind = "Component" if isinstance(owner, ComponentCatalog) else "Service"
    facts = [
        f"- **Severity:** {alert.severity}",
        f"- **{kind}:** {owner.name}",
        f"- **Dashboard:** {_dashboard(config, alert.dashboard)}",
    ]
    return _page(
        alert.name,
        of_alert(alert),
        facts,
        {
            "Summary": alert.summary,
            "When it fires": f"When this holds for {alert.for_}:\n\n```promql\n{alert.expr}\n```",
            "What to do": alert.runbook,
        },
    )


def _percent(ratio: float) -> str:
    return f"{number(ratio * 100)}%"


def _windows_table(model: SLOModel) -> str:
    rows = [
        "| alert | severity | long window | short window | burn rate | error ratio above |",
        "|---|---|---|---|---|---|",
    ]
    for severity in model.windows.severities:
        for speed, w in zip(("quick", "slow"), severity.windows, strict=True):
            rows.append(
                f"| {severity.sloth_severity} ({speed}) | {severity.severity} | {w.long} | "
                f"{w.short} | {number(model.factor(w))} | {_percent(model.threshold(w))} |"
            )
    return "\n".join(rows)


def _slo_facts(model: SLOModel, config: Config) -> list[str]:
    return [
        f"- **SLO:** {model.slo.name} of {model.service.name} (`sloth_id={model.sloth_id}`)",
        f"- **Objective:** {model.slo.description} ({_percent(model.slo.objective)} over "
        f"{model.period}; error budget {_percent(model.error_budget)})",
        f"- **Dashboard:** {_dashboard(config, model.service.name)}",
    ]


def slo_runbook(model: SLOModel, config: Config) -> str:
    ids = f'{{sloth_id="{model.sloth_id}"}}'
    queries = (
        f"- error ratio over 5 minutes: `{sli_record('5m')}{ids}`\n"
        f"- burn rate now: `slo:current_burn_rate:ratio{ids}`\n"
        f"- error budget left this period: `slo:period_error_budget_remaining:ratio{ids}`"
    )
    return _page(
        model.slo.alert_name,
        of_slo(model.slo),
        _slo_facts(model, config),
        {
            "When it fires": (
                "Multi-window multi-burn-rate alerts (Google SRE workbook): an alert fires when "
                "the error ratio is above its threshold over both its long and its short window.\n\n"
                + _windows_table(model)
            ),
            "What to do": model.slo.runbook,
            "Queries": queries,
        },
    )


def absent_runbook(model: SLOModel, config: Config) -> str:
    service = model.service.name
    steps = (
        f"The series the {model.slo.name} SLO is computed from are missing, so its burn-rate "
        "alerts cannot fire.\n\n"
        f'1. Is {service} up and scraped? `up{{job="{service}"}}` (its down alert mutes this one).\n'
        "2. Was a metric renamed? `dashboard-gen check` and `dashboard-gen lint` name every rule "
        "that uses a metric the catalogs no longer declare.\n"
        f"3. Look at its `/metrics`: every series below must be there.\n\n"
        f"```promql\n{absent_expr(model)}\n```"
    )
    return _page(
        absent_alert_name(model),
        of_slo(model.slo),
        _slo_facts(model, config),
        {"When it fires": f"After {model.absent_for()} without data.", "What to do": steps},
    )
