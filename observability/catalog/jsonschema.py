"""A log schema as JSON Schema, so any JSON log line can be checked against the catalog."""

from __future__ import annotations

from typing import Any

from observability.catalog.logs import FieldType, LogSchema

_FORMATS = {FieldType.DATE: "date-time"}


def log_record_schema(schema: LogSchema, title: str) -> dict[str, Any]:
    """JSON Schema of one record: declared fields only, with their JSON types; required ones present."""
    properties: dict[str, Any] = {}
    for field in schema.fields:
        types = list(field.type.json_types)
        prop: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
        if field.type in _FORMATS:
            prop["format"] = _FORMATS[field.type]
        prop["description"] = field.description
        properties[field.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": properties,
        "required": sorted(f.name for f in schema.fields if f.required),
        "additionalProperties": False,
    }
