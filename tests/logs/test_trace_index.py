"""The generated ``fleet-traces*`` template in the real Elasticsearch: spans named by old and
stable OpenTelemetry conventions side by side, and an index made before the template set its
layout brought in line by the collector's start (``apply_templates``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from observability.catalog.correlation import TRACE_INDEX_PREFIX
from observability.logs.elasticsearch import apply_templates, read_templates
from observability.render.index_template import LOCAL_FOLDER

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]

#: What the pymongo instrumentation names a span's database system under each value of
#: OTEL_SEMCONV_STABILITY_OPT_IN (unset, "database", "database/dup").
OLD = {"db.system": "mongodb", "db.operation": "find"}
STABLE = {"db.system.name": "mongodb", "db.operation.name": "find"}


@pytest.fixture
def traces(stack, isolation) -> Iterator[tuple[httpx.Client, str, dict[str, Any]]]:
    """The committed traces template, put under a name and pattern of this run's own."""
    name = isolation.index("traces")
    template = read_templates(REPO / LOCAL_FOLDER)[TRACE_INDEX_PREFIX]
    template["index_patterns"] = [f"{name}*"]
    with httpx.Client(base_url=stack.ELASTICSEARCH_URL, timeout=30) as client:
        try:
            yield client, name, template
        finally:
            client.delete(f"/{name}")
            client.delete(f"/_index_template/{name}")


def span(trace_id: str, attributes: dict[str, str]) -> dict[str, Any]:
    """A span document as the collector's Elasticsearch exporter writes it (raw mode)."""
    return {
        "@timestamp": "2026-11-26T18:00:00.000000000Z",
        "TraceId": trace_id,
        "SpanId": trace_id[:16],
        "Name": "fleetman.find",
        "Resource.service.name": "position-tracker",
        **attributes,
    }


def index(client: httpx.Client, name: str, document: dict[str, Any]) -> httpx.Response:
    return client.post(f"/{name}/_doc", params={"refresh": "true"}, json=document)


def test_old_and_stable_attribute_names_are_all_indexed(traces):
    client, name, template = traces
    apply_templates(str(client.base_url), {name: template}, reset=False)
    documents = {"a" * 32: OLD, "b" * 32: STABLE, "c" * 32: OLD | STABLE}
    for trace_id, attributes in documents.items():
        response = index(client, name, span(trace_id, attributes))
        assert response.status_code == 201, response.text
    for trace_id, attributes in documents.items():
        hits = client.get(f"/{name}/_search", params={"q": f'trace.id:"{trace_id}"'}).json()
        (hit,) = hits["hits"]["hits"]
        assert {k: hit["_source"][k] for k in attributes} == attributes


def test_an_index_made_before_the_layout_is_reset_at_the_collectors_start(traces):
    client, name, template = traces
    said: list[str] = []
    # As an index made by the template before it set `subobjects`: dotted names are objects.
    client.put(f"/{name}", json={"mappings": {"subobjects": True}}).raise_for_status()
    assert index(client, name, span("a" * 32, OLD)).status_code == 201
    assert index(client, name, span("b" * 32, STABLE)).status_code == 400  # db.system clashes

    with pytest.raises(ValueError, match="subobjects is True, not False"):
        apply_templates(str(client.base_url), {name: template}, reset=False)
    apply_templates(str(client.base_url), {name: template}, reset=True, say=said.append)

    assert said and "subobjects is True, not False" in said[0] and "deleted" in said[0]
    assert index(client, name, span("b" * 32, STABLE)).status_code == 201
    assert client.get(f"/{name}/_mapping").json()[name]["mappings"]["subobjects"] is False
