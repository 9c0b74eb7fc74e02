"""The local OpenTelemetry Collector (``dashboards/shipping/otelcol.yaml``), from the log schemas.

One ``filelog`` receiver per service tails its files in ``$FLEET_LOG_DIR`` (the stack writes a
service's stdout to ``<log file>.log``; other instances may write ``<log file>.<name>.log``).
Its operators do what Fluent Bit does on Kubernetes, so one line makes one document shape:

- JSON schemas: ``json_parser`` into the attributes (``parse_ints``: whole numbers stay
  integers, as Fluent Bit keeps them), the event time from ``@timestamp`` (the schema's
  format), which is then removed;
- regex schemas: ``regex_parser`` with the same pattern string Fluent Bit uses (Go's RE2 reads
  ``(?<name>...)`` too), empty optional groups removed, groups moved to their ECS names,
  numbers converted (``int()``/``float()``, Fluent Bit's ``Types``);
- a line no parser took keeps its text as ``message``; the raw body is dropped otherwise.

The elasticsearch exporter writes plain indices (the integ-test Elasticsearch has no data
streams): ``raw`` mapping mode, the attributes at the document root under their own names.
The trace id stays the ``trace.id`` attribute; it is not also set as the record's trace context
(the raw mode would write it a second time, as ``TraceId``).
"""

from __future__ import annotations

from typing import Any

from observability.catalog.correlation import LOG_INDEX_PREFIX, TRACE_INDEX_PREFIX
from observability.catalog.logs import TIME_FIELD, FieldType, group_name
from observability.catalog.service import Platform
from observability.config import Config
from observability.logs.pipeline import UNPARSED_FIELD, LogRoute, routes, unparsed_condition_field
from observability.render.provenance import header
from observability.render.usage import FieldUse
from observability.render.yamltext import Commented, dump

PATH = "dashboards/shipping/otelcol.yaml"
#: The local log file of a service, when it is not named after the service (nginx serves the
#: web app; the stack's component and its log are ``nginx``).
LOCAL_LOG_FILES = {"webapp": "nginx"}
#: The exporter's mapping mode: ``raw`` writes attributes at the root under their own names.
MAPPING_MODE = "raw"
_CONVERT = {FieldType.LONG: "int", FieldType.DOUBLE: "float"}

ENVIRONMENT = """\
Environment (set by `fleet-stack up`; the defaults fit the local stack):
  FLEET_LOG_DIR                   the folder holding the services' logs (.stack/logs)
  FLEET_OTLP_HTTP_ENDPOINT        127.0.0.1:4318
  FLEET_OTLP_GRPC_ENDPOINT        127.0.0.1:4317
  FLEET_OTELCOL_HEALTH_ENDPOINT   127.0.0.1:13133
  FLEET_OTELCOL_METRICS_PORT      8888 (the collector's own metrics, on 127.0.0.1)
  FLEET_OTELCOL_EXPORTER_PORT     8889 (Elasticsearch's health for Prometheus, on 127.0.0.1)
  FLEET_ELASTICSEARCH_URL         http://127.0.0.1:9200
  FLEET_OTELCOL_STORAGE_DIR       where file offsets and the sending queue are kept (its data folder)
The index templates (dashboards/shipping/elasticsearch/) are applied before the collector
starts (observability.logs.collector_start), so fleet-logs and fleet-traces get their mappings."""


def _attr(key: str) -> str:
    return f'attributes["{key}"]'


def log_files(route: LogRoute) -> list[str]:
    stem = LOCAL_LOG_FILES.get(route.name, route.name)
    return [f"${{env:FLEET_LOG_DIR}}/{stem}.log", f"${{env:FLEET_LOG_DIR}}/{stem}.*.log"]


def _timestamp(route: LogRoute) -> dict[str, str]:
    return {
        "parse_from": _attr(route.time_key),
        "layout_type": "strptime",
        "layout": route.time_format,
    }


def _tail_operators(route: LogRoute) -> list[dict[str, Any]]:
    key = unparsed_condition_field()
    return [
        {
            "type": "remove",
            "id": "drop_time_field",
            "if": f"{_attr(route.time_key)} != nil",
            "field": _attr(route.time_key),
        },
        {
            "type": "move",
            "id": "unparsed_as_message",
            "if": f"{_attr(key)} == nil",
            "from": "body",
            "to": _attr(UNPARSED_FIELD),
        },
        {"type": "remove", "id": "drop_body", "if": "body != nil", "field": "body"},
    ]


def _json_operators(route: LogRoute) -> list[dict[str, Any]]:
    parse = {
        "type": "json_parser",
        "id": "parse_json",
        "parse_ints": True,
        "on_error": "send_quiet",
        "timestamp": _timestamp(route),
    }
    return [parse, *_tail_operators(route)]


def _regex_operators(route: LogRoute) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = [
        {
            "type": "regex_parser",
            "id": "parse_regex",
            "regex": route.schema.pattern,
            "on_error": "send_quiet",
            "timestamp": _timestamp(route),
        }
    ]
    time_group = route.time_key
    for log_field in route.schema.fields:
        group = group_name(log_field.name)
        if log_field.name == TIME_FIELD:
            continue
        if not log_field.required:
            ops.append(
                {
                    "type": "remove",
                    "id": f"drop_empty_{group}",
                    "if": f'{_attr(group)} == ""',
                    "field": _attr(group),
                }
            )
        if group != log_field.name:
            ops.append(
                {
                    "type": "move",
                    "id": f"rename_{group}",
                    "if": f"{_attr(group)} != nil",
                    "from": _attr(group),
                    "to": _attr(log_field.name),
                }
            )
        if log_field.type in _CONVERT:
            target = _attr(log_field.name)
            ops.append(
                {
                    "type": "add",
                    "id": f"convert_{group}",
                    "if": f"{target} != nil",
                    "field": target,
                    "value": f"EXPR({_CONVERT[log_field.type]}({target}))",
                }
            )
    assert time_group == route.time_key
    return [*ops, *_tail_operators(route)]


def _receiver(route: LogRoute) -> Commented:
    operators = _regex_operators(route) if route.regex else _json_operators(route)
    how = "its regex (the Fluent Bit parser's)" if route.regex else "the JSON parser"
    return Commented(
        f"{route.origin.marker}\n{route.name}: {how}",
        {
            "include": log_files(route),
            # the file name is not part of the document (Fluent Bit has none either)
            "include_file_name": False,
            "start_at": "beginning",
            "storage": "file_storage",
            "operators": operators,
        },
    )


def receiver_name(route: LogRoute) -> str:
    return f"filelog/{route.name}"


def collector_config(platform: Platform) -> dict[str, Any]:
    log_routes = routes(platform)
    receivers: dict[str, Any] = {
        "otlp": {
            "protocols": {
                "grpc": {"endpoint": "${env:FLEET_OTLP_GRPC_ENDPOINT:-127.0.0.1:4317}"},
                "http": {"endpoint": "${env:FLEET_OTLP_HTTP_ENDPOINT:-127.0.0.1:4318}"},
            }
        }
    }
    for route in log_routes:
        receivers[receiver_name(route)] = _receiver(route)
    # Elasticsearch's health for Prometheus (observability.components.ELASTICSEARCH): its
    # failed scrapes are what says it is down, so they come often.
    receivers["elasticsearch"] = {
        "endpoint": "${env:FLEET_ELASTICSEARCH_URL:-http://127.0.0.1:9200}",
        "collection_interval": "10s",
        "nodes": ["_local"],
        "indices": [f"{LOG_INDEX_PREFIX}*", f"{TRACE_INDEX_PREFIX}*"],
    }
    processors = {
        "memory_limiter": {"check_interval": "1s", "limit_mib": 256},
        "resource": {
            "attributes": [{"key": "deployment.environment", "value": "local", "action": "upsert"}]
        },
    }
    exporters: dict[str, Any] = {
        "prometheus": {
            "endpoint": "127.0.0.1:${env:FLEET_OTELCOL_EXPORTER_PORT:-8889}",
            # a health series Elasticsearch stopped answering for disappears within a minute
            "metric_expiration": "1m",
        },
        "elasticsearch": {
            "endpoint": "${env:FLEET_ELASTICSEARCH_URL:-http://127.0.0.1:9200}",
            "logs_index": LOG_INDEX_PREFIX,
            "traces_index": TRACE_INDEX_PREFIX,
            # `mapping.mode` is ignored by this exporter release: the first allowed mode is
            # the default one.
            "mapping": {"allowed_modes": [MAPPING_MODE]},
            "include_source_on_error": True,
            # Elasticsearch down for minutes loses nothing. This exporter has no retry sender:
            # a bulk request that fails for good is dropped. So its own retries (connection
            # errors and 429) go on, backing off to 5 s, for as long as one flush may take,
            # `timeout` (also each HTTP request's limit): 30 min instead of 90 s with 2 retries.
            # The queue is on disk (file_storage: a collector restart keeps it) and, when full,
            # blocks the receivers instead of dropping: the filelog receivers stop reading and
            # the services' log files are the buffer, their offsets kept in file_storage too.
            # No batch processor in front: it would answer the receivers at once and drop what
            # it could not export; the exporter batches itself.
            "timeout": "30m",
            "retry": {
                "enabled": True,
                "max_retries": 1_000_000,
                "initial_interval": "200ms",
                "max_interval": "5s",
            },
            "sending_queue": {
                "enabled": True,
                # 100 batches (its default here is 10: a burst of lines filled it half, and
                # LogBufferFillingUp is meant for an outage, not a busy minute)
                "queue_size": 100,
                "storage": "file_storage",
                "block_on_overflow": True,
                "batch": {"flush_timeout": "1s"},
            },
        },
    }
    return {
        "extensions": {
            "health_check": {"endpoint": "${env:FLEET_OTELCOL_HEALTH_ENDPOINT:-127.0.0.1:13133}"},
            "file_storage": {
                "directory": "${env:FLEET_OTELCOL_STORAGE_DIR:-/tmp}",
                "create_directory": True,
            },
        },
        "receivers": receivers,
        "processors": processors,
        "exporters": exporters,
        "service": {
            "telemetry": {
                "metrics": {
                    "level": "basic",
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {
                                        "host": "127.0.0.1",
                                        "port": "${env:FLEET_OTELCOL_METRICS_PORT:-8888}",
                                    }
                                }
                            }
                        }
                    ],
                }
            },
            "extensions": ["health_check", "file_storage"],
            "pipelines": {
                "logs": {
                    "receivers": [receiver_name(r) for r in log_routes],
                    "processors": ["memory_limiter", "resource"],
                    "exporters": ["elasticsearch"],
                },
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "resource"],
                    "exporters": ["elasticsearch"],
                },
                "metrics/elasticsearch": {
                    "receivers": ["elasticsearch"],
                    "processors": ["memory_limiter"],
                    "exporters": ["prometheus"],
                },
            },
        },
    }


def render_otelcol_config(platform: Platform) -> str:
    modules = {s.source.module for s in platform.services}
    return dump(collector_config(platform), header(modules) + "\n" + ENVIRONMENT)


def otelcol_field_uses(platform: Platform, config: Config) -> list[FieldUse]:
    uses = []
    for route in routes(platform):
        user = f"collector receiver {receiver_name(route)}"
        uses.append(FieldUse(TIME_FIELD, route.origin, PATH, user, (route.name,)))
        for log_field in route.schema.fields if route.regex else ():
            uses.append(FieldUse(log_field.name, route.origin, PATH, user, (route.name,)))
    return uses
