"""Symptom alerts (declared in the catalogs) → alerting rules, and a service's whole rule file."""

from __future__ import annotations

from observability.catalog.alerts import Alert
from observability.catalog.component import ComponentCatalog
from observability.catalog.correlation import SERVICE_LABEL
from observability.catalog.service import AlertOwner, Platform, ServiceCatalog
from observability.config import Config
from observability.render.links import dashboard_url, runbook_url
from observability.render.provenance import of_alert, of_owner, of_service
from observability.render.rules import Rule, RuleFile, RuleGroup
from observability.render.slo_rules import slo_rule_groups
from observability.slo.model import service_slo_models


def symptom_rule(alert: Alert, owner: AlertOwner, config: Config) -> Rule:
    """The alert as declared, plus ``severity``, the owning ``job`` and the two links.

    ``job`` names the service (or component) that owns the alert even when the expression
    aggregates it away, so Alertmanager can group by it and mute its alerts while it is down.
    """
    return Rule.alerting(
        of_alert(alert),
        alert.name,
        alert.expr,
        for_=alert.for_,
        labels={**dict(alert.labels), "severity": str(alert.severity), SERVICE_LABEL: owner.name},
        annotations={
            "summary": alert.summary,
            "description": alert.description,
            "runbook_url": runbook_url(config, alert.name),
            "dashboard_url": dashboard_url(config, alert.dashboard),
        },
    )


def symptom_group(owner: AlertOwner, config: Config) -> RuleGroup:
    rules = tuple(symptom_rule(a, owner, config) for a in owner.alerts)
    return RuleGroup(f"{owner.name}-symptoms", rules)


def service_rule_file(service: ServiceCatalog, config: Config) -> RuleFile | None:
    """Every rule of one service, one group per kind: per SLO its SLI recordings, meta
    recordings and alerts (as Sloth groups them), then the service's symptom alerts."""
    groups: list[RuleGroup] = []
    for model in service_slo_models(service):
        groups += slo_rule_groups(model, config)
    if service.alerts:
        groups.append(symptom_group(service, config))
    return RuleFile(service.name, of_service(service), tuple(groups)) if groups else None


def component_rule_file(component: ComponentCatalog, config: Config) -> RuleFile | None:
    """A component's alerts: one symptom group (it has no SLOs)."""
    if not component.alerts:
        return None
    return RuleFile(component.name, of_owner(component), (symptom_group(component, config),))


def rule_files(platform: Platform, config: Config) -> tuple[RuleFile, ...]:
    """One rule file per service and per component that has rules, sorted by name."""
    found = [service_rule_file(s, config) for s in platform.services]
    found += [component_rule_file(c, config) for c in platform.components]
    return tuple(sorted((f for f in found if f is not None), key=lambda f: f.service))
