"""``dashboard-gen list``: every metric and log field, who emits it, and what uses it.

Built from the same model the checks read: the queries of every artifact (parsed, each selector
mapped to its metric family), the promtool tests' input series, and the log-field uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from observability.artifacts import all_field_uses
from observability.checks.base import Context
from observability.checks.promql import parse, selector_name, vector_selectors


@dataclass
class Entry:
    name: str
    kind: str
    emitted_by: list[str]
    description: str
    used_by: list[dict[str, str]] = field(default_factory=list)
    tested_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "emitted_by": self.emitted_by,
            "description": self.description,
            "used_by": self.used_by,
            "tested_by": self.tested_by,
        }


def _metric_entries(ctx: Context) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for service, metric in ctx.platform.all_metrics():
        entry = entries.setdefault(
            metric.name, Entry(metric.name, str(metric.kind), [], metric.help)
        )
        entry.emitted_by.append(service.name)
    for series in ctx.index.series.values():
        if series.origin == "external":
            entries[series.name] = Entry(series.name, "external", sorted(series.defined_by), "")
        elif series.origin == "record":
            entries[series.name] = Entry(series.name, "recording rule", [], "")
    return entries


def _family(ctx: Context, name: str) -> str:
    return ctx.index.families().get(name, name)


def metric_inventory(ctx: Context) -> list[Entry]:
    entries = _metric_entries(ctx)
    for query in ctx.queries:
        try:
            selectors = vector_selectors(parse(query.expr))
        except ValueError:
            continue
        for name in dict.fromkeys(_family(ctx, selector_name(s)) for s in selectors):
            use = {"user": query.user, "artifact": query.artifact, "definition": str(query.origin)}
            if name in entries and use not in entries[name].used_by:
                entries[name].used_by.append(use)
        if query.records in entries:
            entries[query.records].emitted_by.append(f"{query.origin.kind} {query.origin.name}")
    for test in ctx.tests:
        for name in {_family(ctx, m) for m in test.input_metrics}:
            if name in entries:
                entries[name].tested_by.append(test.path)
    for entry in entries.values():
        entry.emitted_by = sorted(set(entry.emitted_by))
        entry.tested_by = sorted(set(entry.tested_by))
        entry.used_by.sort(key=lambda u: (u["artifact"], u["user"]))
    return sorted(
        entries.values(), key=lambda e: (e.kind == "recording rule", e.kind == "external", e.name)
    )


def log_field_inventory(ctx: Context) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for service in ctx.platform.services:
        for log_field in service.logs.fields:
            entry = entries.setdefault(
                log_field.name,
                Entry(log_field.name, str(log_field.type), [], log_field.description),
            )
            entry.emitted_by.append(service.name)
    for use in all_field_uses(ctx.platform, ctx.config):
        if use.field in entries:
            entries[use.field].used_by.append(
                {"user": use.user, "artifact": use.artifact, "definition": str(use.origin)}
            )
    for entry in entries.values():
        entry.emitted_by.sort()
    return sorted(entries.values(), key=lambda e: e.name)


def render_text(metrics: list[Entry], log_fields: list[Entry]) -> str:
    lines: list[str] = []
    for title, entries in (("METRICS", metrics), ("LOG FIELDS", log_fields)):
        lines += [title, ""]
        for e in entries:
            emitters = ", ".join(e.emitted_by) or "-"
            lines.append(f"{e.name}  ({e.kind}; emitted by {emitters})")
            for use in e.used_by:
                lines.append(f"    used by {use['user']}  [{use['artifact']}]")
            for test in e.tested_by:
                lines.append(f"    tested by {test}")
            if not e.used_by and not e.tested_by:
                lines.append("    not used by any artifact")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
