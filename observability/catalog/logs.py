"""Log schemas: the fields of a service's JSON log records (Elastic Common Schema names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from observability.catalog.source import SourceRef, caller_source


class FieldType(StrEnum):
    """Elasticsearch field types, which also fix the JSON type of a value."""

    KEYWORD = "keyword"
    TEXT = "text"
    LONG = "long"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"

    @property
    def json_types(self) -> tuple[str, ...]:
        """The JSON Schema types a value of this field may have."""
        return {
            "keyword": ("string",),
            "text": ("string",),
            "long": ("integer",),
            "double": ("number",),
            "boolean": ("boolean",),
            "date": ("string",),
        }[self.value]


@dataclass(frozen=True)
class LogField:
    """One field of a log record, by its dotted ECS name (``trace.id``, ``vehicle.name``)."""

    name: str
    type: FieldType
    description: str
    #: Present on every record (otherwise only on records where it applies).
    required: bool = False
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)


@dataclass(frozen=True)
class LogSchema:
    """The fields a service's records may carry; records carry no other field."""

    fields: tuple[LogField, ...]
    #: How the records are written: ``json`` (one object per line) or ``regex`` (a text format
    #: such as nginx's access log, parsed by ``pattern``).
    format: str = "json"
    #: For ``regex`` schemas: the Onigmo/Python pattern with one named group per field, where a
    #: field ``a.b`` is captured by the group ``a_b``.
    pattern: str = ""
    #: The strptime-style format of the time field (``TIME_FIELD``), which the parsers turn into
    #: the event's time (Fluent Bit's ``Time_Format``, the collector's ``strptime`` layout).
    time_format: str = ""

    def field(self, name: str) -> LogField:
        for log_field in self.fields:
            if log_field.name == name:
                return log_field
        raise KeyError(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def extended(self, *more: LogField) -> LogSchema:
        """This schema plus more fields (a service adds its domain fields to the common ones)."""
        return LogSchema(self.fields + more, self.format, self.pattern, self.time_format)


#: The field holding the event's time: the parsers take the record's time from it.
TIME_FIELD = "@timestamp"


def group_name(field_name: str) -> str:
    """The regex group that captures a dotted field (groups cannot contain dots)."""
    return field_name.replace(".", "_").replace("@", "")
