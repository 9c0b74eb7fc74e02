"""logs/trace-id-name: the trace id has one name on every hop.

The names are those of ``observability.catalog.correlation``: ``trace.id`` for logs,
``trace_id`` for the exemplar label (Prometheus labels cannot hold dots). Hops:

1. every service's log schema declares ``trace.id`` and no other trace-id-like field;
2. the runtime: a record logged in a span carries ``trace.id``; an exemplar's label is
   ``trace_id`` (run for real, in memory);
3. each parser's output after its renames (Fluent Bit's parsers.conf + modify filters, the
   collector's receivers) holds ``trace.id`` and no other trace-id-like key;
4. the index templates: ``trace.id`` a keyword in ``fleet-logs*``, an alias in ``fleet-traces*``;
5. the Kibana searches read no other trace-id-like field; the trace search reads ``trace.id``;
6. every Grafana data source generated or committed (provisioning files, the data-source
   ConfigMap, the kube-prometheus-stack values): an Elasticsearch data link's ``field``, a
   Jaeger ``tracesToLogsV2`` query, a Prometheus ``exemplarTraceIdDestinations`` name (and the
   chart's ``traceIdLabelName``).

"Trace-id-like": the name without dots, dashes and underscores, lower-cased, is ``traceid``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from observability.catalog.correlation import TRACE_ID_EXEMPLAR_LABEL, TRACE_ID_FIELD
from observability.catalog.source import SourceRef
from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.logs.classic_conf import ConfError
from observability.logs.kql import KqlError, query_fields
from observability.logs.readback import (
    collector_receivers,
    fluent_bit_parsers,
    kibana_searches,
    yaml_documents,
)
from observability.render import index_template, kibana
from observability.render.provenance import Origin, of_service


def _correlation_origin() -> Origin:
    """``TRACE_ID_FIELD`` in correlation.py, with its line (where every hop's name comes from)."""
    from observability.catalog import correlation

    path = Path(correlation.__file__)
    lines = path.read_text().splitlines()
    line = next((i for i, text in enumerate(lines, 1) if text.startswith("TRACE_ID_FIELD")), 1)
    source = SourceRef(correlation.__name__, line, str(path))
    return Origin(correlation.__name__, "constant", "TRACE_ID_FIELD", source)


CORRELATION = _correlation_origin()
#: Committed files (not generated) that configure Grafana's data sources.
HAND_WRITTEN_GLOBS = ("k8s/**/*.values.yaml", "dashboards/provisioning/*.yaml")
_QUERY_FIELD = re.compile(r"([A-Za-z_@][\w.@-]*)\s*:")


def trace_like(name: str) -> bool:
    return re.sub(r"[._\-]", "", name).lower() == "traceid"


def _bad(names: Any, want: str) -> list[str]:
    return sorted({n for n in names if isinstance(n, str) and trace_like(n) and n != want})


def _schemas(ctx: Context) -> Iterator[Problem]:
    for service in ctx.platform.services:
        names = service.logs.names
        if TRACE_ID_FIELD not in names:
            yield CHECK.problem(
                of_service(service), Level.BUG, f"the log schema declares no {TRACE_ID_FIELD}"
            )
        for other in _bad(names, TRACE_ID_FIELD):
            yield CHECK.problem(
                of_service(service),
                Level.BUG,
                f"the log schema names a trace id {other!r}; the name is {TRACE_ID_FIELD}",
            )


def _runtime() -> list[str]:
    """What the runtime really writes: a log record's keys and an exemplar's labels."""
    import logging

    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    from observability.runtime.logs import EcsJsonFormatter
    from observability.runtime.metrics import current_exemplar

    context = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1))
    span = NonRecordingSpan(context)
    record = logging.LogRecord("probe", logging.INFO, __file__, 1, "probe", None, None)
    with trace.use_span(span):
        keys = json.loads(EcsJsonFormatter("probe", "0").format(record))
    problems = []
    if TRACE_ID_FIELD not in keys or _bad(keys, TRACE_ID_FIELD):
        problems.append(f"the JSON log formatter writes {sorted(k for k in keys if trace_like(k))}")
    labels = current_exemplar(span) or {}
    if set(labels) != {TRACE_ID_EXEMPLAR_LABEL}:
        problems.append(f"exemplars carry labels {sorted(labels)}, not {TRACE_ID_EXEMPLAR_LABEL}")
    return problems


def _parsers(ctx: Context) -> Iterator[Problem]:
    origins = {s.name: of_service(s) for s in ctx.platform.services}
    fallback = next(iter(origins.values()), CORRELATION)
    try:
        outputs = [
            *fluent_bit_parsers(ctx.files).values(),
            *collector_receivers(ctx.files).values(),
        ]
    except ConfError:
        return  # logs/field-closure reports the unreadable file
    for out in outputs:
        if out.json:
            continue
        service = out.name.removeprefix("filelog/").removesuffix("_regex").replace("_", "-")
        origin = origins.get(service, fallback)
        for other in _bad(out.outputs, TRACE_ID_FIELD):
            yield CHECK.problem(
                origin,
                Level.BUG,
                f"{out.shipper} parser {out.name} writes the trace id as {other!r}, not "
                f"{TRACE_ID_FIELD}",
                out.artifact,
            )


def _templates(ctx: Context) -> Iterator[Problem]:
    from observability.logs.elasticsearch import flatten_properties

    for path, text in ctx.files.items():
        if not path.endswith(".index-template.json"):
            continue
        body = json.loads(text)
        props = flatten_properties(body["template"]["mappings"].get("properties", {}))
        for other in _bad(props, TRACE_ID_FIELD):
            if props[other].get("type") != "keyword" or path.endswith(
                f"{index_template.LOG_INDEX_PREFIX}.index-template.json"
            ):
                yield CHECK.problem(
                    CORRELATION, Level.BUG, f"index template maps a trace id as {other!r}", path
                )
        mapping = props.get(TRACE_ID_FIELD, {})
        if mapping.get("type") not in ("keyword", "alias"):
            yield CHECK.problem(
                CORRELATION,
                Level.BUG,
                f"index template maps {TRACE_ID_FIELD} as {mapping.get('type')}, not a keyword",
                path,
            )


def _searches(ctx: Context) -> Iterator[Problem]:
    searches = kibana_searches(ctx.files)
    for search in searches:
        try:
            used = [*query_fields(search.query), *search.columns, *search.sort]
        except KqlError:
            continue  # logs/query-syntax reports it
        for other in _bad(used, TRACE_ID_FIELD):
            yield CHECK.problem(
                CORRELATION,
                Level.BUG,
                f"Kibana search {search.id} reads the trace id as {other!r}",
                kibana.PATH,
            )
    if searches and not any(TRACE_ID_FIELD in query_fields(s.query) for s in searches):
        yield CHECK.problem(
            CORRELATION, Level.BUG, f"no Kibana search reads {TRACE_ID_FIELD}", kibana.PATH
        )


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def datasource_problems(doc: Any) -> list[str]:
    """What a YAML document (provisioning, Helm values) says against the trace-id names."""
    problems = []
    for node in _walk(doc):
        json_data = node.get("jsonData") if isinstance(node.get("jsonData"), dict) else {}
        kind = node.get("type")
        if kind == "elasticsearch":
            for link in json_data.get("dataLinks") or []:
                if link.get("field") != TRACE_ID_FIELD:
                    problems.append(f"Elasticsearch data link on field {link.get('field')!r}")
        if kind == "jaeger" or "tracesToLogsV2" in json_data:
            query = (json_data.get("tracesToLogsV2") or {}).get("query", "")
            named = _QUERY_FIELD.findall(query)
            if query and named != [TRACE_ID_FIELD]:
                problems.append(f"tracesToLogsV2 query {query!r} reads {named}")
        destinations = json_data.get("exemplarTraceIdDestinations") or []
        for destination in destinations if isinstance(destinations, list) else []:
            if destination.get("name") != TRACE_ID_EXEMPLAR_LABEL:
                problems.append(f"exemplarTraceIdDestinations name {destination.get('name')!r}")
        chart = node.get("exemplarTraceIdDestinations")
        if isinstance(chart, dict) and chart.get("traceIdLabelName") != TRACE_ID_EXEMPLAR_LABEL:
            problems.append(
                f"exemplarTraceIdDestinations.traceIdLabelName {chart.get('traceIdLabelName')!r}"
            )
    return problems


def _yaml_texts(ctx: Context) -> Iterator[tuple[str, str]]:
    seen = set()
    for path, text in sorted(ctx.files.items()):
        if path.endswith((".yaml", ".yml")):
            seen.add(path)
            yield path, text
    for pattern in HAND_WRITTEN_GLOBS:
        for found in sorted(Path(ctx.root).glob(pattern)):
            path = str(found.relative_to(ctx.root))
            if path not in seen and found.is_file():
                seen.add(path)
                yield path, found.read_text()


def _datasources(ctx: Context) -> Iterator[Problem]:
    for path, text in _yaml_texts(ctx):
        if (
            "exemplarTraceIdDestinations" not in text
            and "dataLinks" not in text
            and ("tracesToLogs" not in text)
        ):
            continue
        for doc in yaml_documents(text):
            for message in datasource_problems(doc):
                yield CHECK.problem(
                    CORRELATION,
                    Level.BUG,
                    f"{message}: the trace id is {TRACE_ID_FIELD} in logs and "
                    f"{TRACE_ID_EXEMPLAR_LABEL} in exemplars",
                    path,
                )


def run(ctx: Context) -> Iterator[Problem]:
    yield from _schemas(ctx)
    for message in _runtime():
        yield CHECK.problem(CORRELATION, Level.BUG, f"runtime: {message}")
    yield from _parsers(ctx)
    yield from _templates(ctx)
    yield from _searches(ctx)
    yield from _datasources(ctx)


CHECK = Check(
    "logs/trace-id-name",
    "the trace id has one name on every hop: logs, parsers, Elasticsearch, Kibana, Grafana",
    run,
)
