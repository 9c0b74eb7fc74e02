"""Symptom alerts: conditions users would notice, written as PromQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from observability.catalog.source import SourceRef, caller_source


class Severity(StrEnum):
    """Who is woken: ``critical`` pages, ``warning`` opens a ticket, ``info`` only shows."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Alert:
    """A symptom alert. ``summary`` is a plain sentence; ``description`` may use templates."""

    name: str
    expr: str
    severity: Severity
    summary: str
    description: str
    #: What to check and do, as Markdown; rendered into the runbook that ``runbook_url`` opens.
    runbook: str
    #: How long the condition must hold before the alert fires (Prometheus duration).
    for_: str = "5m"
    #: Key of the dashboard that shows this symptom (a service name, or ``overview``).
    dashboard: str = "overview"
    labels: tuple[tuple[str, str], ...] = ()
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)
