"""The web app's telemetry catalog: nginx's access log (no metrics of its own).

The access log is declared here once, part by part: the nginx ``log_format`` and the Fluent
Bit / collector regex are both rendered from ``ACCESS_LOG`` (see ``access_log.py``), so the two
cannot diverge. ``CATALOG.logs`` is the parser's view: fields, Onigmo regex and time format.
"""

from __future__ import annotations

from observability.catalog import FieldType, LogField, ServiceCatalog
from observability.catalog.correlation import SERVICE_FIELD, TRACE_ID_FIELD
from services.webapp.access_log import (
    METHOD_VARIABLE,
    TRACE_ID_VARIABLE,
    AccessLogFormat,
    AccessLogPart,
    log_schema,
)

SERVICE = "webapp"
K = FieldType.KEYWORD
#: nginx's ``$time_iso8601``: local time (UTC in the image) with its offset, to the second.
ISO8601 = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})"
#: Free text in double quotes (nginx escapes a quote inside as \x22).
QUOTED_TEXT = r'[^"]*'
NON_SPACE = r"[^ ]+"

ACCESS_LOG = AccessLogFormat(
    name=SERVICE,
    time_format="%Y-%m-%dT%H:%M:%S%z",
    parts=(
        AccessLogPart(
            LogField("@timestamp", FieldType.DATE, "When nginx logged the request.", True),
            "$time_iso8601",
            ISO8601,
        ),
        AccessLogPart(
            LogField(SERVICE_FIELD, K, "Service that wrote the record (always webapp).", True),
            SERVICE,
            SERVICE,
        ),
        AccessLogPart(
            LogField(
                "client.address", K, "Address of the client (or of the proxy before us).", True
            ),
            "$remote_addr",
            NON_SPACE,
        ),
        AccessLogPart(
            LogField("http.request.method", K, "HTTP method (absent for a bad request line)."),
            METHOD_VARIABLE,
            r"[A-Z][A-Z_-]*",
        ),
        AccessLogPart(
            LogField("url.original", K, "Path and query string as the client sent them."),
            "$request_uri",
            QUOTED_TEXT,
            quoted=True,
        ),
        AccessLogPart(
            LogField("http.version", K, "HTTP protocol version, e.g. 1.1."),
            "$server_protocol",
            r"\d+(?:\.\d+)?",
            prefix="HTTP/",
        ),
        AccessLogPart(
            LogField("http.response.status_code", FieldType.LONG, "Response status code.", True),
            "$status",
            r"\d{3}",
        ),
        AccessLogPart(
            LogField(
                "http.response.body.bytes", FieldType.LONG, "Size of the response body.", True
            ),
            "$body_bytes_sent",
            r"\d+",
        ),
        AccessLogPart(
            LogField(
                "nginx.request_time",
                FieldType.DOUBLE,
                "Seconds from the first byte read from the client to the last byte sent "
                "(millisecond resolution).",
                True,
            ),
            "$request_time",
            r"\d+\.\d{3}",
        ),
        AccessLogPart(
            LogField(
                "nginx.cache.status",
                K,
                "nginx's micro-cache of the fleet list: HIT (served from the cache), MISS "
                "(asked the gateway), BYPASS (a query string: asked the gateway, not stored), "
                "EXPIRED, STALE, UPDATING, REVALIDATED; absent where no cache is used (every "
                "other request).",
            ),
            "$upstream_cache_status",
            r"[A-Z]+",
        ),
        AccessLogPart(
            LogField("http.request.referrer", K, "Referer header of the request."),
            "$http_referer",
            QUOTED_TEXT,
            quoted=True,
        ),
        AccessLogPart(
            LogField("user_agent.original", K, "User-Agent header of the request."),
            "$http_user_agent",
            QUOTED_TEXT,
            quoted=True,
        ),
        AccessLogPart(
            LogField(
                TRACE_ID_FIELD,
                K,
                "Trace id of the request's W3C traceparent header (the page starts a trace per "
                "API call; the gateway continues it).",
            ),
            TRACE_ID_VARIABLE,
            r"[0-9a-f]{32}",
        ),
    ),
)

LOG_SCHEMA = log_schema(ACCESS_LOG)

CATALOG = ServiceCatalog(
    name=SERVICE,
    description="The live fleet map: static page and /api/ proxy, served by nginx.",
    metrics=(),
    logs=LOG_SCHEMA,
    metrics_port=None,
    http=False,
)
