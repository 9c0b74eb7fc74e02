"""Symptom alerts (declared in the catalogs) → alerting rules, and a service's whole rule file."""

from __future__ import annotations

from observability.catalog.alerts import Alert
from observability.catalog.correlation import SERVICE_LABEL
from observability.catalog.service import ServiceCatalog
from observability.config import Config
from observability.render.links import dashboard_url, runbook_url
from observability.render.provenance import of_alert, of_service
from observability.render.rules import Rule, RuleFile, RuleGroup
from observability.render.slo_rules import slo_rule_groups
from observability.slo.model import service_slo_models


def symptom_rule(alert: Alert, service: ServiceCatalog, config: Config) -> Rule:
    """The alert as declared, plus ``severity``, the owning ``job`` and the two links.

    ``job`` names the service that owns the alert even when the expression aggregates it away,
    so Alertmanager can group by service and mute a service's alerts while it is down.
    """
    return Rule.alerting(
        of_alert(alert),
        alert.name,
        alert.expr,
        for_=alert.for_,
        labels={**dict(alert.labels), "severity": str(alert.severity), SERVICE_LABEL: service.name},
        annotations={
            "summary": alert.summary,
            "description": alert.description,
            "runbook_url": runbook_url(config, alert.name),
            "dashboard_url": dashboard_url(config, alert.dashboard),
        },
    )


def symptom_group(service: ServiceCatalog, config: Config) -> RuleGroup:
    rules = tuple(symptom_rule(a, service, config) for a in service.alerts)
    return RuleGroup(f"{service.name}-symptoms", rules)


def service_rule_file(service: ServiceCatalog, config: Config) -> RuleFile | None:
    """Every rule of one service, one group per kind: per SLO its SLI recordings, meta
    recordings and alerts (as Sloth groups them), then the service's symptom alerts."""
    groups: list[RuleGroup] = []
    for model in service_slo_models(service):
        groups += slo_rule_groups(model, config)
    if service.alerts:
        groups.append(symptom_group(service, config))
    return RuleFile(service.name, of_service(service), tuple(groups)) if groups else None


def rule_files(services: tuple[ServiceCatalog, ...], config: Config) -> tuple[RuleFile, ...]:
    found = (service_rule_file(s, config) for s in services)
    return tuple(sorted((f for f in found if f is not None), key=lambda f: f.service))
