"""One route per service: how its log lines are parsed into the fields of its log schema.

Both shippers are rendered from these routes, so they parse a line the same way:

- JSON schemas (the Python services): every key of the line is a field; the event time is the
  ``@timestamp`` key, parsed with the schema's ``time_format`` and then removed (the shipper
  writes its own ``@timestamp`` from the event time: one ``@timestamp``, not two).
- regex schemas (nginx's access log): the schema's ``pattern`` (Onigmo syntax, one named group
  per field, named by ``group_name``) captures the fields; the groups are renamed back to the
  dotted ECS names; numeric fields are converted (Fluent Bit's ``Types``); the time group is
  parsed and removed.

``fluent_bit_document`` is what Fluent Bit makes of one line (given the regex captures, which
the proof tests get from Onigmo itself); the proof tests compare it with the document the
collector really wrote to Elasticsearch for the same line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from observability.catalog.correlation import SERVICE_FIELD
from observability.catalog.logs import TIME_FIELD, FieldType, LogSchema, group_name
from observability.catalog.service import Platform, ServiceCatalog
from observability.render.provenance import Origin, of_service

#: Fluent Bit's built-in ``cri`` multiline parser (src/multiline/flb_ml_parser_cri.c): the
#: container runtime's line, the app's line in ``log``. It keeps ``time`` and ``_p``.
CRI_REGEX = r"^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$"
CRI_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z"
#: The key the cri parser writes the app's line to (the kubernetes filter's Merge_Log key).
CONTENT_KEY = "log"
#: Keys of the CRI envelope nobody searches: the runtime's time (the event time is the app's)
#: and the partial-line flag; both shippers drop them.
CRI_DROPPED = ("_p", "time")
#: Where a line no parser understood keeps its text (ECS ``message``; a ``log`` key would
#: clash in Elasticsearch with ``log.level``, an object path).
UNPARSED_FIELD = "message"
#: The parser of every JSON schema (Fluent Bit's kubernetes filter has one Merge_Parser).
JSON_PARSER = "fleet_json"
#: Fields each shipper adds around the app's fields (never searched by generated artifacts).
FLUENT_BIT_ENVELOPE = ("kubernetes.", "stream")
COLLECTOR_ENVELOPE = ("Resource.", "Scope.", "SeverityNumber", "TraceFlags")

#: Fluent Bit ``Types`` names of the catalog's numeric field types.
_FLUENT_BIT_TYPES = {FieldType.LONG: "integer", FieldType.DOUBLE: "float"}
_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")


def pattern_groups(pattern: str) -> tuple[str, ...]:
    """The named groups of an Onigmo pattern, in order (look-behinds are not groups)."""
    return tuple(_NAMED_GROUP.findall(pattern))


@dataclass(frozen=True)
class LogRoute:
    """How one service's lines are parsed."""

    service: ServiceCatalog

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def schema(self) -> LogSchema:
        return self.service.logs

    @property
    def regex(self) -> bool:
        return self.schema.format == "regex"

    @property
    def origin(self) -> Origin:
        return of_service(self.service)

    @property
    def parser(self) -> str:
        """The parser's name in parsers.conf."""
        return f"{self.name.replace('-', '_')}_regex" if self.regex else JSON_PARSER

    @property
    def time_key(self) -> str:
        """The parser output key holding the event time."""
        return group_name(TIME_FIELD) if self.regex else TIME_FIELD

    @property
    def time_format(self) -> str:
        return self.schema.time_format

    @property
    def groups(self) -> tuple[str, ...]:
        return pattern_groups(self.schema.pattern) if self.regex else ()

    @property
    def renames(self) -> tuple[tuple[str, str], ...]:
        """(group, field) for every regex field whose group name differs from it."""
        if not self.regex:
            return ()
        return tuple(
            (group_name(f.name), f.name)
            for f in self.schema.fields
            if f.name != TIME_FIELD and group_name(f.name) != f.name
        )

    @property
    def types(self) -> tuple[tuple[str, str], ...]:
        """(group, Fluent Bit type) of the regex fields that are not strings."""
        if not self.regex:
            return ()
        return tuple(
            (group_name(f.name), _FLUENT_BIT_TYPES[f.type])
            for f in self.schema.fields
            if f.type in _FLUENT_BIT_TYPES
        )

    @property
    def optional_groups(self) -> tuple[str, ...]:
        """Groups that may not take part in a match (their field is then absent)."""
        return tuple(group_name(f.name) for f in self.schema.fields if not f.required)

    def produced_fields(self) -> frozenset[str]:
        """The fields the parser can produce: all of a JSON line's keys; for a regex, the
        fields whose group the pattern has (after renames)."""
        if not self.regex:
            return self.schema.names
        groups = set(self.groups)
        return frozenset(f.name for f in self.schema.fields if group_name(f.name) in groups)


def routes(platform: Platform) -> list[LogRoute]:
    return [LogRoute(service) for service in platform.services]


def json_routes(platform: Platform) -> list[LogRoute]:
    return [r for r in routes(platform) if not r.regex]


def regex_routes(platform: Platform) -> list[LogRoute]:
    return [r for r in routes(platform) if r.regex]


# --- what Fluent Bit makes of a line ------------------------------------------------------


def strptime_to_python(fmt: str) -> str:
    """A Fluent Bit strptime format for Python's ``datetime.strptime`` (``%L`` → ``%f``)."""
    return fmt.replace("%L", "%f")


def parse_time(value: str, fmt: str) -> datetime:
    """The instant ``value`` names, read with a Fluent Bit time format."""
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    return datetime.strptime(text, strptime_to_python(fmt)).astimezone(UTC)


def es_timestamp(moment: datetime) -> str:
    """``@timestamp`` as Fluent Bit's es output writes it (milliseconds, UTC, ``Z``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _typed(value: str, fluent_type: str) -> Any:
    if fluent_type == "integer":
        return int(value)
    if fluent_type == "float":
        return float(value)
    return value


Captures = Mapping[str, str | None] | None


def fluent_bit_fields(
    route: LogRoute, line: str, captures: Captures
) -> tuple[dict[str, Any], datetime | None] | None:
    """The fields Fluent Bit gives a line of ``route`` (time key removed), and the event time.

    For a regex route, ``captures`` are the named groups of the match (None: no match); empty
    and non-participating groups are skipped (the regex parser's ``Skip_Empty_Values``).
    Returns None when the parser does not take the line.
    """
    if route.regex:
        if captures is None:
            return None
        values: dict[str, Any] = {k: v for k, v in captures.items() if v}
        types = dict(route.types)
        values = {k: _typed(v, types[k]) if k in types else v for k, v in values.items()}
        when = values.pop(route.time_key, None)
        renames = dict(route.renames)
        fields = {renames.get(k, k): v for k, v in values.items()}
    else:
        try:
            fields = json.loads(line)
        except json.JSONDecodeError:
            return None
        if not isinstance(fields, dict):
            return None
        when = fields.pop(route.time_key, None)
    moment = parse_time(when, route.time_format) if isinstance(when, str) else None
    return fields, moment


def fluent_bit_document(
    route: LogRoute, line: str, captures: Captures = None
) -> dict[str, Any] | None:
    """The app part of the document Fluent Bit's es output writes for ``line``: the parsed
    fields and ``@timestamp`` (the Kubernetes envelope aside)."""
    parsed = fluent_bit_fields(route, line, captures)
    if parsed is None:
        return None
    fields, moment = parsed
    return {TIME_FIELD: es_timestamp(moment), **fields} if moment else fields


def app_part(document: Mapping[str, Any], envelope: tuple[str, ...]) -> dict[str, Any]:
    """``document`` less a shipper's envelope fields (prefixes end with a dot)."""
    return {
        k: v
        for k, v in document.items()
        if not any(k == e or (e.endswith(".") and k.startswith(e)) for e in envelope)
    }


def unparsed_condition_field() -> str:
    """The field whose absence tells a line no parser took (required in every schema)."""
    return SERVICE_FIELD
