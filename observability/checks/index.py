"""Every series the artifacts may select, and where each comes from.

Three sources, as the closure checks require: a catalog metric (histograms as their ``_bucket``,
``_sum`` and ``_count`` series; labels as declared plus the target labels ``job``, ``instance``
and ``env``; ``le`` on buckets), a recording rule we generate (its labels inferred from its
expression plus the rule's own), or the allow-list of external metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import promql_parser as pp

from observability.catalog.correlation import ENVIRONMENT_LABEL, SERVICE_LABEL
from observability.catalog.service import Platform
from observability.checks.promql import Labels, LabelSet, parse, selector_name
from observability.render.usage import Query

TARGET_LABELS = frozenset({SERVICE_LABEL, "instance", ENVIRONMENT_LABEL})


@dataclass
class Series:
    name: str
    #: ``catalog``, ``record`` or ``external``.
    origin: str
    labels: set[str] = field(default_factory=set)
    #: Allowed values of bounded labels (catalog metrics; union over the emitting services).
    values: dict[str, set[str]] = field(default_factory=dict)
    #: The services (``job`` values) that emit it; empty when anyone may (external, records).
    emitters: set[str] = field(default_factory=set)
    #: The catalog metric family it belongs to.
    family: str = ""
    #: Who defines it: the services, the recording rules' users, or the external emitter.
    defined_by: set[str] = field(default_factory=set)


@dataclass
class MetricIndex:
    series: dict[str, Series] = field(default_factory=dict)

    def get(self, name: str) -> Series | None:
        return self.series.get(name)

    def labels_of(self, selector: pp.VectorSelector) -> LabelSet:
        found = self.series.get(selector_name(selector))
        return None if found is None else frozenset(found.labels)

    def families(self) -> dict[str, str]:
        """Catalog series name → metric family name."""
        return {s.name: s.family for s in self.series.values() if s.origin == "catalog"}


def _add_catalog(index: MetricIndex, platform: Platform) -> None:
    for service, metric in platform.all_metrics():
        for name in metric.series_names():
            entry = index.series.setdefault(name, Series(name, "catalog", family=metric.name))
            entry.labels |= set(metric.label_names) | TARGET_LABELS
            if name.endswith("_bucket"):
                entry.labels.add("le")
            for label in metric.labels:
                entry.values.setdefault(label.name, set()).update(label.values or ())
            entry.emitters.add(service.name)
            entry.defined_by.add(service.name)


def _add_external(index: MetricIndex, platform: Platform) -> None:
    for metric in platform.external_metrics():
        entry = index.series.setdefault(metric.name, Series(metric.name, "external"))
        entry.labels |= set(metric.labels)
        entry.defined_by.add(metric.emitted_by)


def _add_records(index: MetricIndex, queries: list[Query]) -> None:
    records = [q for q in queries if q.records]
    for q in records:
        index.series.setdefault(q.records, Series(q.records, "record")).defined_by.add(q.user)
    # Two passes, so a rule may use a record defined further down.
    for _ in range(2):
        for q in records:
            try:
                labels = Labels(index.labels_of).of(parse(q.expr))
            except ValueError:
                continue
            entry = index.series[q.records]
            entry.labels |= set(labels or ()) | set(q.static_labels)


def build_index(platform: Platform, queries: list[Query]) -> MetricIndex:
    index = MetricIndex()
    _add_catalog(index, platform)
    _add_external(index, platform)
    _add_records(index, queries)
    return index
