"""The Prometheus rule model every rule artifact is rendered from, with each rule's origin.

Plain rule files (``alerts/rules/``) and PrometheusRule objects (``k8s/monitoring/``) are two
renderings of the same ``RuleFile``; the checks read the model, so each finding can name the
catalog definition a rule came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from observability.render.provenance import Origin
from observability.render.yamltext import Commented


def _pairs(mapping: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((mapping or {}).items()))


@dataclass(frozen=True)
class Rule:
    origin: Origin
    expr: str
    record: str = ""
    alert: str = ""
    for_: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    @classmethod
    def recording(
        cls, origin: Origin, record: str, expr: str, labels: Mapping[str, str] | None = None
    ) -> Rule:
        return cls(origin, expr, record=record, labels=_pairs(labels))

    @classmethod
    def alerting(
        cls,
        origin: Origin,
        alert: str,
        expr: str,
        *,
        for_: str = "",
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> Rule:
        return cls(
            origin,
            expr,
            alert=alert,
            for_=for_,
            labels=_pairs(labels),
            annotations=_pairs(annotations),
        )

    @property
    def name(self) -> str:
        return self.record or self.alert

    @property
    def what(self) -> str:
        """How diagnostics name the rule: ``alert PositionsNotStored``, ``record slo:...``."""
        return f"alert {self.alert}" if self.alert else f"record {self.record}"

    def label(self, name: str) -> str:
        return dict(self.labels).get(name, "")

    def annotation(self, name: str) -> str:
        return dict(self.annotations).get(name, "")

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"alert": self.alert} if self.alert else {"record": self.record}
        body["expr"] = self.expr
        if self.for_:
            body["for"] = self.for_
        if self.labels:
            body["labels"] = dict(self.labels)
        if self.annotations:
            body["annotations"] = dict(self.annotations)
        return body


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]

    def as_data(self) -> dict[str, object]:
        """The group as YAML-ready data, with each rule's provenance as a comment above it."""
        return {
            "name": self.name,
            "rules": [Commented(r.origin.marker, r.as_dict()) for r in self.rules],
        }

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "rules": [r.as_dict() for r in self.rules]}


@dataclass(frozen=True)
class RuleFile:
    """The rules of one service: the file promtool and Prometheus load, and the PrometheusRule."""

    service: str
    origin: Origin
    groups: tuple[RuleGroup, ...]

    @property
    def path(self) -> str:
        return rule_file_path(self.service)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for g in self.groups for r in g.rules)

    @property
    def alerts(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.alert)

    @property
    def modules(self) -> frozenset[str]:
        return frozenset({self.origin.module, *(r.origin.module for r in self.rules)})


def rule_file_path(service: str) -> str:
    return f"alerts/rules/{service}.yml"
