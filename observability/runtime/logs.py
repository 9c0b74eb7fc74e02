"""JSON log records with Elastic Common Schema field names, one object per line on stdout.

Every record written inside a span carries ``trace.id`` and ``span.id``. Code adds fields with
``extra=fields(**{"vehicle.name": name})``; uvicorn's access and error records go through the
same formatter, their arguments mapped to ECS HTTP fields.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from observability.catalog.correlation import SERVICE_FIELD, SPAN_ID_FIELD, TRACE_ID_FIELD

ECS_VERSION = "8.11.0"
_FIELDS_ATTR = "ecs_fields"
#: uvicorn.access records are ``(client, method, path, http_version, status)``.
_ACCESS_LOGGER = "uvicorn.access"


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """The ``extra=`` argument that adds ECS fields to one record: ``fields(**{"a.b": 1})``."""
    return {_FIELDS_ATTR: values}


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    args = record.args
    if not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, version, status = args
    return {
        "client.address": str(client).rsplit(":", 1)[0],
        "http.request.method": str(method),
        "url.path": str(path).split("?", 1)[0],
        "http.version": str(version),
        "http.response.status_code": int(status),
        "event.action": "http-request",
    }


class EcsJsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON with ECS names."""

    def __init__(self, service_name: str, service_version: str) -> None:
        super().__init__()
        self.service_name = service_name
        self.service_version = service_version

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
            SERVICE_FIELD: self.service_name,
            "service.version": self.service_version,
            "ecs.version": ECS_VERSION,
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            doc[TRACE_ID_FIELD] = format(ctx.trace_id, "032x")
            doc[SPAN_ID_FIELD] = format(ctx.span_id, "016x")
        if record.name == _ACCESS_LOGGER:
            doc.update(_access_fields(record))
        doc.update(getattr(record, _FIELDS_ATTR, {}))
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            doc["error.type"] = exc_type.__name__
            doc["error.message"] = str(exc)
            doc["error.stack_trace"] = "".join(traceback.format_exception(exc_type, exc, tb))
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(service_name: str, service_version: str, level: str = "INFO") -> None:
    """Send every record of this process (uvicorn's included) through the JSON formatter."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(EcsJsonFormatter(service_name, service_version))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", _ACCESS_LOGGER, "stomp.py"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Chatty at INFO: stomp.py about every heartbeat and frame, httpx about every request a
    # client makes (the gateway's upstream calls: its access log and the trace's client span
    # already say it; the line doubled its log volume).
    for name in ("stomp.py", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The formatter never writes where a record was made, nor its thread or process: not
    # collecting them makes every record cheaper (the logging HOWTO's "Optimization").
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]
