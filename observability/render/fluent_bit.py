"""Fluent Bit on Kubernetes (classic config format), generated from the log schemas.

The pipeline, for every container log file on the node:

1. ``tail`` with the built-in ``cri`` multiline parser: the app's line lands in ``log`` (the key
   the kubernetes filter merges; the original Fleetman's regex wrote ``message``, so its JSON
   logs were never merged);
2. ``modify``: drop the CRI envelope's ``time`` and ``_p``;
3. ``kubernetes``: pod metadata, and ``Merge_Log`` with the JSON parser: a JSON line's keys go
   to the top level, its ``@timestamp`` becomes the event time and is removed (``Keep_Log
   Off`` drops ``log``). No ``Replace_Dots`` anywhere: ``trace.id`` keeps its name. Pod labels
   are left out: ``app`` and ``app.kubernetes.io/name`` clash as Elasticsearch object paths;
4. per regex schema (nginx of the web app), only for that service's container: ``parser`` on
   ``log`` with the generated regex (groups named by ``group_name``), then ``modify`` renaming
   the groups back to the dotted ECS names (``trace_id`` -> ``trace.id``);
5. ``modify``: a line no parser took keeps its text as ``message``;
6. ``es``: ``Logstash_Format On`` with ``Logstash_Prefix`` (``Index`` would be ignored: the
   original's logs landed in ``logstash-*``), ``Suppress_Type_Name On`` (Elasticsearch 8).
"""

from __future__ import annotations

from observability.catalog.correlation import LOG_INDEX_PREFIX
from observability.catalog.logs import TIME_FIELD
from observability.catalog.service import Platform
from observability.config import Config
from observability.logs.classic_conf import Section, render
from observability.logs.pipeline import (
    CONTENT_KEY,
    CRI_DROPPED,
    JSON_PARSER,
    UNPARSED_FIELD,
    LogRoute,
    json_routes,
    regex_routes,
)
from observability.render.provenance import header
from observability.render.usage import FieldUse

FOLDER = "k8s/overlays/aws/logging/fluent-bit"
CONF_PATH = f"{FOLDER}/fluent-bit.conf"
PARSERS_PATH = f"{FOLDER}/parsers.conf"
TAG_PREFIX = "kube."
LOG_PATH = "/var/log/containers/*.log"
#: The Elasticsearch Service of the logging namespace.
ES_HOST = "elasticsearch-logging"
ES_PORT = "9200"
HTTP_PORT = "2020"
#: Where chunks wait for Elasticsearch (the state volume, a host folder), and how much at most.
BUFFER_PATH = "/var/lib/fluent-bit/buffer"
BUFFER_LIMIT = "2G"
LOGSTASH_DATE_FORMAT = "%Y.%m.%d"


def container_tag_regex(container: str) -> str:
    """The tag of a container's log file: ``kube.var.log.containers.<pod>_<ns>_<container>-<id>.log``
    (the kubelet's file name, dots for slashes). The container is named after the service."""
    return rf"^kube\.var\.log\.containers\.[^_]+_[^_]+_{container}-[0-9a-f]{{64}}\.log$"


def _modules(platform: Platform) -> set[str]:
    return {s.source.module for s in platform.services}


def _json_time_format(platform: Platform) -> str:
    formats = {r.time_format for r in json_routes(platform)}
    return sorted(formats)[0] if formats else ""


def _parser_sections(platform: Platform) -> list[Section]:
    sections = []
    if json_routes(platform):
        names = ", ".join(r.name for r in json_routes(platform))
        sections.append(
            Section(
                "PARSER",
                (
                    ("Name", JSON_PARSER),
                    ("Format", "json"),
                    ("Time_Key", TIME_FIELD),
                    ("Time_Format", _json_time_format(platform)),
                    ("Time_Keep", "Off"),
                ),
                f"The ECS JSON lines of {names}: the event time is their {TIME_FIELD}, removed\n"
                "from the record so Elasticsearch gets one @timestamp.",
            )
        )
    for route in regex_routes(platform):
        entries = [
            ("Name", route.parser),
            ("Format", "regex"),
            ("Regex", route.schema.pattern),
            ("Time_Key", route.time_key),
            ("Time_Format", route.time_format),
            ("Time_Keep", "Off"),
        ]
        if route.types:
            entries.append(("Types", " ".join(f"{g}:{t}" for g, t in route.types)))
        sections.append(
            Section(
                "PARSER",
                tuple(entries),
                f"{route.origin.marker}\nThe access log of {route.name}: one group per field "
                "(groups cannot hold dots; fluent-bit.conf renames them).",
            )
        )
    return sections


def _regex_filters(route: LogRoute) -> list[Section]:
    match = container_tag_regex(route.name)
    parse = Section(
        "FILTER",
        (
            ("Name", "parser"),
            ("Match_Regex", match),
            ("Key_Name", CONTENT_KEY),
            ("Parser", route.parser),
            ("Reserve_Data", "On"),
            ("Preserve_Key", "Off"),
        ),
        f"{route.origin.marker}\n{route.name}: its container's lines through its regex parser.",
    )
    rename = Section(
        "FILTER",
        (
            ("Name", "modify"),
            ("Match_Regex", match),
            *(("Rename", f"{group} {field}") for group, field in route.renames),
        ),
        f"{route.name}: the groups back to their ECS names.",
    )
    return [parse, rename] if route.renames else [parse]


def _main_sections(platform: Platform) -> list[Section]:
    tag = f"{TAG_PREFIX}*"
    sections = [
        Section(
            "SERVICE",
            (
                ("Flush", "2"),
                ("Log_Level", "info"),
                ("Parsers_File", "parsers.conf"),
                ("HTTP_Server", "On"),
                ("HTTP_Listen", "0.0.0.0"),
                ("HTTP_Port", HTTP_PORT),
                ("Health_Check", "On"),
                ("storage.path", BUFFER_PATH),
                ("storage.sync", "normal"),
                ("storage.checksum", "off"),
                ("storage.backlog.mem_limit", "16M"),
                ("storage.metrics", "on"),
            ),
            f"Metrics on :{HTTP_PORT} (/api/v2/metrics/prometheus, scraped by the ServiceMonitor). "
            "Chunks are buffered on the node's disk: an Elasticsearch outage of minutes (or a "
            "Fluent Bit restart) loses no line.",
        ),
        Section(
            "INPUT",
            (
                ("Name", "tail"),
                ("Tag", tag),
                ("Path", LOG_PATH),
                ("Exclude_Path", "/var/log/containers/fluent-bit-*_logging_*.log"),
                ("multiline.parser", "cri"),
                ("DB", "/var/lib/fluent-bit/tail.db"),
                ("DB.locking", "true"),
                ("storage.type", "filesystem"),
                ("Skip_Long_Lines", "On"),
                ("Refresh_Interval", "5"),
            ),
            f"containerd's CRI lines; the app's line in `{CONTENT_KEY}`. Offsets in a host folder.",
        ),
        Section(
            "FILTER",
            (("Name", "modify"), ("Match", tag), *(("Remove", key) for key in CRI_DROPPED)),
            "The CRI envelope's own time (the event time is the app's) and partial flag.",
        ),
        Section(
            "FILTER",
            (
                ("Name", "kubernetes"),
                ("Match", tag),
                ("Merge_Log", "On"),
                ("Merge_Parser", JSON_PARSER),
                ("Keep_Log", "Off"),
                ("Labels", "Off"),
                ("Annotations", "Off"),
                ("K8S-Logging.Parser", "On"),
                ("K8S-Logging.Exclude", "On"),
            ),
            f"Pod metadata; JSON lines merged at the top level through {JSON_PARSER}.",
        ),
    ]
    for route in regex_routes(platform):
        sections += _regex_filters(route)
    sections += [
        Section(
            "FILTER",
            (("Name", "modify"), ("Match", tag), ("Rename", f"{CONTENT_KEY} {UNPARSED_FIELD}")),
            f"A line no parser took keeps its text as `{UNPARSED_FIELD}` (a `{CONTENT_KEY}` key "
            "would clash with log.level).",
        ),
        Section(
            "OUTPUT",
            (
                ("Name", "es"),
                ("Match", tag),
                ("Host", ES_HOST),
                ("Port", ES_PORT),
                ("Logstash_Format", "On"),
                ("Logstash_Prefix", LOG_INDEX_PREFIX),
                ("Logstash_DateFormat", LOGSTASH_DATE_FORMAT),
                ("Time_Key", TIME_FIELD),
                ("Suppress_Type_Name", "On"),
                ("Generate_ID", "On"),
                ("Trace_Error", "On"),
                # Retry until Elasticsearch is back (10 retries gave up after minutes and
                # dropped the chunk); the disk buffer is bounded instead.
                ("Retry_Limit", "no_limits"),
                ("storage.total_limit_size", BUFFER_LIMIT),
            ),
            f"Daily indices {LOG_INDEX_PREFIX}-YYYY.MM.DD (the index template "
            f"{LOG_INDEX_PREFIX} maps them).",
        ),
    ]
    return sections


def render_fluent_bit(platform: Platform) -> dict[str, str]:
    head = header(_modules(platform))
    return {
        CONF_PATH: render(_main_sections(platform), head),
        PARSERS_PATH: render(_parser_sections(platform), head),
    }


def fluent_bit_field_uses(platform: Platform, config: Config) -> list[FieldUse]:
    uses = []
    for route in json_routes(platform):
        uses.append(
            FieldUse(
                TIME_FIELD,
                route.origin,
                PARSERS_PATH,
                f"Fluent Bit parser {JSON_PARSER}",
                (route.name,),
            )
        )
    for route in regex_routes(platform):
        user = f"Fluent Bit parser {route.parser}"
        for log_field in route.schema.fields:
            uses.append(FieldUse(log_field.name, route.origin, PARSERS_PATH, user, (route.name,)))
        for _, field_name in route.renames:
            uses.append(
                FieldUse(
                    field_name,
                    route.origin,
                    CONF_PATH,
                    f"Fluent Bit modify filter of {route.name}",
                    (route.name,),
                )
            )
    return uses
