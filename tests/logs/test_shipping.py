"""What the collector really wrote to Elasticsearch: the same document Fluent Bit makes of
the same line, the generated mappings, every Kibana search with hits, and a trace's log lines
and spans side by side."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime

import httpx
import pytest

from observability.catalog.correlation import LOG_INDEX_PREFIX, TRACE_ID_FIELD, TRACE_INDEX_PREFIX
from observability.catalog.logs import TIME_FIELD
from observability.logs.kql import translate
from observability.logs.pipeline import (
    COLLECTOR_ENVELOPE,
    LogRoute,
    app_part,
    fluent_bit_document,
    json_routes,
    regex_routes,
)
from observability.logs.readback import kibana_searches
from observability.logs.searches import TRACE_ID_PLACEHOLDER
from observability.render import kibana, otelcol_config
from services.stack.paths import stack_paths
from tests.logs import onigmo, traffic

pytestmark = pytest.mark.stack
LOGS = f"{LOG_INDEX_PREFIX}*"


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _typed(document: dict) -> dict:
    """Values with their JSON types (so 1 and 1.0 differ, as they do in _source)."""
    return {k: (type(v).__name__, v) for k, v in document.items() if k != TIME_FIELD}


def _find(url: str, query: dict) -> list[dict]:
    traffic.refresh(url, LOGS)
    return traffic.search(url, LOGS, query, size=5)


def _query_for(expected: dict) -> dict:
    clauses = [{"term": {"service.name": expected["service.name"]}}]
    for key in ("trace.id", "span.id", "url.original"):
        if key in expected:
            clauses.append({"term": {key: expected[key]}})
    if "message" in expected:
        clauses.append({"match_phrase": {"message": expected["message"]}})
    clauses.append({"term": {TIME_FIELD: expected[TIME_FIELD]}})
    return {"bool": {"filter": clauses}}


def _compare(url: str, route: LogRoute, line: str, captures=None) -> None:
    expected = fluent_bit_document(route, line, captures)
    assert expected is not None, line
    hits = traffic.until_found(lambda: _find(url, _query_for(expected)), what=line[:200])
    documents = [app_part(h["_source"], COLLECTOR_ENVELOPE) for h in hits]
    assert any(_typed(d) == _typed(expected) for d in documents), (line, documents)
    assert _instant(documents[0][TIME_FIELD]) == _instant(expected[TIME_FIELD])
    envelope = set(hits[0]["_source"]) - set(documents[0])
    assert all(k.startswith(("Resource.", "Scope.")) or k in COLLECTOR_ENVELOPE for k in envelope)


def test_the_collector_writes_what_fluent_bit_writes(fleet, platform, made):
    """For recent real lines of every service: the document the collector wrote holds the
    same fields, values and JSON types as Fluent Bit's (emulated from its parsers, with the
    regex captures from Onigmo), the same @timestamp instant, and only its envelope besides."""
    url = fleet.ELASTICSEARCH_URL
    for route in json_routes(platform):
        lines = traffic.json_lines(stack_paths().logs / f"{route.name}.log", 200)
        traced = [line for line in lines if '"trace.id"' in line][-2:]
        numeric = [
            line
            for line in lines
            if any(
                f'"{f.name}": ' in line for f in route.schema.fields if f.type in ("long", "double")
            )
        ][-1:]
        for line in dict.fromkeys([*traced, *numeric, lines[-1]]):
            _compare(url, route, line)
    for route in regex_routes(platform):
        ours = [
            line
            for line in traffic.tail_lines(traffic.nginx_log(), 300)
            if any(t in line for t in made.traces.values())
        ]
        assert ours
        captures = onigmo.run(route.schema.pattern, ours)["matches"]
        for line, groups in zip(ours, captures, strict=True):
            _compare(url, route, line, groups)


def test_the_indices_have_the_generated_mappings(fleet, made):
    response = httpx.get(
        f"{fleet.ELASTICSEARCH_URL}/{LOG_INDEX_PREFIX}/_mapping/field/"
        "trace.id,fleet.batch.size,nginx.request_time,@timestamp,message",
        timeout=30,
    )
    fields = {
        name: next(iter(spec["mapping"].values()))["type"]
        for name, spec in response.json()[LOG_INDEX_PREFIX]["mappings"].items()
    }
    assert fields == {
        "trace.id": "keyword",
        "fleet.batch.size": "long",
        "nginx.request_time": "double",
        "@timestamp": "date",
        "message": "text",
    }


def test_every_kibana_search_finds_this_runs_records(fleet, made):
    url = fleet.ELASTICSEARCH_URL
    committed = {kibana.PATH: (traffic.REPO / kibana.PATH).read_text()}
    searches = kibana_searches(committed)
    assert len(searches) >= 7
    for search in searches:
        query = search.query.replace(TRACE_ID_PLACEHOLDER, made.traces["api"])
        es_query = traffic.since(translate(query), made.started)

        def hits(es_query=es_query) -> list[dict]:
            traffic.refresh(url, LOGS)
            return traffic.search(url, LOGS, es_query, size=5)

        found = traffic.until_found(hits, timeout=90, what=f"{search.id}: {query}")
        for hit in found:
            assert {c for c in search.columns} & set(hit["_source"]), search.id


def test_a_trace_has_its_log_lines_and_spans_side_by_side(fleet, made):
    url = fleet.ELASTICSEARCH_URL
    trace_id = made.traces["api"]
    both = f"{LOGS},{TRACE_INDEX_PREFIX}*"
    query = translate(f'{TRACE_ID_FIELD}:"{trace_id}"')

    def found() -> list[dict]:
        traffic.refresh(url, both)
        hits = traffic.search(url, both, query, size=100)
        logged = {
            h["_source"].get("service.name")
            for h in hits
            if h["_index"].startswith(LOG_INDEX_PREFIX)
        }
        spanned = {
            h["_source"].get("Resource.service.name")
            for h in hits
            if h["_index"].startswith(TRACE_INDEX_PREFIX)
        }
        return hits if {"webapp", "api-gateway"} <= logged and "api-gateway" in spanned else []

    hits = traffic.until_found(found, timeout=90, what=trace_id)
    spans = [h["_source"] for h in hits if h["_index"].startswith(TRACE_INDEX_PREFIX)]
    logs = [h["_source"] for h in hits if h["_index"].startswith(LOG_INDEX_PREFIX)]
    assert {s["TraceId"] for s in spans} == {trace_id}
    assert {s["Resource.service.name"] for s in spans} >= {"api-gateway"}
    assert {entry[TRACE_ID_FIELD] for entry in logs} == {trace_id}


def test_the_generated_collector_config_is_valid(fleet):
    binary = stack_paths().bin / "otelcol-fleet"
    env = {**os.environ, "FLEET_LOG_DIR": str(stack_paths().logs)}
    proc = subprocess.run(
        [str(binary), "validate", f"--config={traffic.REPO / otelcol_config.PATH}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_error_records_are_the_formatters(made):
    for path in made.files:
        (record,) = [json.loads(line) for line in path.read_text().splitlines()]
        assert record["log.level"] == "error" and record["error.type"] == "RuntimeError"
