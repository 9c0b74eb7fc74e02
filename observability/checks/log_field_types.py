"""logs/field-types: the log fields of all services fit one Elasticsearch mapping.

Every service writes to the same indices (``fleet-logs*``), so a field name has one type
across services, and no field may be a prefix of another (``message`` is text, so there can
be no ``message.id``: Elasticsearch reads dotted names as object paths and refuses the
document — the tracker's first schema lost its dead-letter records that way).
"""

from __future__ import annotations

from collections.abc import Iterator

from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.render.index_template import LOCAL_FOLDER
from observability.render.provenance import of_service

ARTIFACT = f"{LOCAL_FOLDER}/fleet-logs.index-template.json"


def run(ctx: Context) -> Iterator[Problem]:
    first: dict[str, tuple[str, str]] = {}
    for service in ctx.platform.services:
        for log_field in service.logs.fields:
            seen = first.setdefault(log_field.name, (service.name, str(log_field.type)))
            if seen[1] != str(log_field.type):
                yield CHECK.problem(
                    of_service(service),
                    Level.BUG,
                    f"field {log_field.name} is {log_field.type} here but {seen[1]} in "
                    f"{seen[0]}: one index, one type",
                    ARTIFACT,
                )
    services = {s.name: s for s in ctx.platform.services}
    names = sorted(first)
    for name in names:
        for other in (n for n in names if n.startswith(name + ".")):
            owner = first[other][0]
            yield CHECK.problem(
                of_service(services[owner]),
                Level.BUG,
                f"field {other} makes {name} an object, but {first[name][0]}'s {name} is a "
                f"{first[name][1]} value: Elasticsearch refuses one of the two; rename one",
                ARTIFACT,
            )


CHECK = Check(
    "logs/field-types", "log fields have one type and no field is a prefix of another", run
)
