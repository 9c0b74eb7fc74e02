"""What the artifacts use: every PromQL expression they evaluate, with the definition behind it.

The checks (syntax, metric and label closure) and the inventory read these, whatever artifact
kind they come from: rules now, dashboard panels later (an artifact kind lists its queries).
"""

from __future__ import annotations

from dataclasses import dataclass

from observability.render.provenance import Origin
from observability.render.rules import RuleFile


@dataclass(frozen=True)
class Query:
    """One PromQL expression an artifact evaluates."""

    expr: str
    origin: Origin
    artifact: str
    #: How diagnostics name its user: ``alert PositionsNotStored``, ``record slo:...``.
    user: str
    #: Templates evaluated on its result (alert annotations): they see its labels as $labels.
    templates: tuple[str, ...] = ()
    #: For a recording rule: the series it records, and the labels the rule adds.
    records: str = ""
    static_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldUse:
    """One log field an artifact reads (a Kibana search, a Fluent Bit filter, a logs panel)."""

    field: str
    origin: Origin
    artifact: str
    user: str
    #: The services whose records it reads (empty: any service's); each must emit the field.
    services: tuple[str, ...] = ()


def rule_queries(rule_file: RuleFile) -> list[Query]:
    queries = []
    for rule in rule_file.rules:
        labels = dict(rule.labels)
        user = rule.what
        if rule.record and "sloth_id" in labels:
            user += f" ({labels['sloth_id']})"
        queries.append(
            Query(
                expr=rule.expr,
                origin=rule.origin,
                artifact=rule_file.path,
                user=user,
                templates=tuple(v for _, v in rule.annotations) + tuple(labels.values()),
                records=rule.record,
                static_labels=tuple(labels),
            )
        )
    return queries
