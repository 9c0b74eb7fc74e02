"""Elasticsearch index templates: ``fleet-logs*`` from the log schemas, ``fleet-traces*`` for
the spans the local collector writes.

Logs: every field of every service's schema with its ``FieldType`` (``trace.id`` a keyword,
``fleet.batch.size`` a long, ``@timestamp`` a date, ``message`` text); any other string (the
shippers' envelope: ``kubernetes.*``, ``Resource.*``) a keyword. The same template serves the
local index (``fleet-logs``) and Fluent Bit's daily ones (``fleet-logs-YYYY.MM.DD``).

Traces: the collector's ``raw`` span documents name the trace id ``TraceId``; aliases give
them the log names too (``trace.id``, ``span.id``, ``service.name``), so one query
``trace.id:"..."`` over ``fleet-logs*,fleet-traces*`` finds a trace's log lines and spans.

Field names must agree across services (one type each) and no field may be a prefix of another
(``message`` text and ``message.id`` cannot both exist in Elasticsearch): the ``logs/field-types``
check reports both; here the first service's type wins.
"""

from __future__ import annotations

import json
from typing import Any

from observability.catalog.correlation import (
    LOG_INDEX_PREFIX,
    SERVICE_FIELD,
    SPAN_ID_FIELD,
    TRACE_ID_FIELD,
    TRACE_INDEX_PREFIX,
)
from observability.catalog.logs import FieldType, LogField
from observability.catalog.service import Platform
from observability.render.provenance import MARKER, header, of_service

LOCAL_FOLDER = "dashboards/shipping/elasticsearch"
K8S_PATH = "k8s/overlays/aws/logging/fluent-bit/fleet-logs.index-template.json"
KEYWORD_IGNORE_ABOVE = 1024
#: The raw-mode span document's names for what the logs call trace.id, span.id, service.name.
SPAN_ALIASES = {
    TRACE_ID_FIELD: "TraceId",
    SPAN_ID_FIELD: "SpanId",
    SERVICE_FIELD: "Resource.service.name",
}


def template_path(name: str) -> str:
    return f"{LOCAL_FOLDER}/{name}.index-template.json"


def field_mapping(field_type: FieldType) -> dict[str, Any]:
    if field_type == FieldType.KEYWORD:
        return {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}
    return {"type": str(field_type)}


def log_fields(platform: Platform) -> dict[str, tuple[LogField, list[str]]]:
    """Field name -> (its first declaration, the services declaring it), sorted by name."""
    found: dict[str, tuple[LogField, list[str]]] = {}
    for service in platform.services:
        for log_field in service.logs.fields:
            found.setdefault(log_field.name, (log_field, []))[1].append(service.name)
    return dict(sorted(found.items()))


def _strings_as_keywords() -> list[dict[str, Any]]:
    return [
        {
            "strings_as_keywords": {
                "match_mapping_type": "string",
                "mapping": field_mapping(FieldType.KEYWORD),
            }
        }
    ]


def _settings() -> dict[str, Any]:
    # One node locally and on the cluster: a replica could never be assigned.
    return {"index": {"number_of_shards": 1, "number_of_replicas": 0}}


def logs_template(platform: Platform) -> dict[str, Any]:
    properties = {name: field_mapping(f.type) for name, (f, _) in log_fields(platform).items()}
    sources = sorted(f"{MARKER} {of_service(s)}" for s in platform.services)
    return {
        "index_patterns": [f"{LOG_INDEX_PREFIX}*"],
        "priority": 200,
        "_meta": {
            "description": "The fleet's log records: every field of the services' log schemas. "
            + header({s.source.module for s in platform.services}).replace("\n", " "),
            "generated_from": sources,
        },
        "template": {
            "settings": _settings(),
            "mappings": {
                "dynamic_templates": _strings_as_keywords(),
                "properties": properties,
            },
        },
    }


def traces_template() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "@timestamp": {"type": "date_nanos"},
        "EndTimestamp": {"type": "date_nanos"},
        "Duration": {"type": "long"},
        "TraceStatus": {"type": "long"},
        "Name": field_mapping(FieldType.KEYWORD),
        "Kind": field_mapping(FieldType.KEYWORD),
        "ParentSpanId": field_mapping(FieldType.KEYWORD),
    }
    for alias, path in SPAN_ALIASES.items():
        properties[path] = field_mapping(FieldType.KEYWORD)
        properties[alias] = {"type": "alias", "path": path}
    return {
        "index_patterns": [f"{TRACE_INDEX_PREFIX}*"],
        "priority": 200,
        "_meta": {
            "description": "Spans of the local collector (raw mode), with the log names as "
            "aliases: trace.id, span.id, service.name. "
            + header({"observability.catalog.correlation"}).replace("\n", " "),
            "generated_from": [f"{MARKER} observability.catalog.correlation module TRACE_ID_FIELD"],
        },
        "template": {
            "settings": _settings(),
            "mappings": {
                # Attribute names are flat keys, not object paths: OpenTelemetry's conventions
                # name both `db.system` (old) and `db.system.name` (stable), and a span may carry
                # both (OTEL_SEMCONV_STABILITY_OPT_IN=database/dup); as objects they would clash.
                "subobjects": False,
                "dynamic_templates": _strings_as_keywords(),
                "properties": dict(sorted(properties.items())),
            },
        },
    }


def templates(platform: Platform) -> dict[str, dict[str, Any]]:
    """Template name -> body (what ``PUT _index_template/<name>`` takes)."""
    return {LOG_INDEX_PREFIX: logs_template(platform), TRACE_INDEX_PREFIX: traces_template()}


def to_json(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def render_index_templates(platform: Platform) -> dict[str, str]:
    files = {template_path(name): to_json(body) for name, body in templates(platform).items()}
    files[K8S_PATH] = to_json(logs_template(platform))
    return files
