"""One smoke test per component of the local stack, each against the real server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stomp
from elasticsearch import Elasticsearch
from pymongo import MongoClient

from services.stack import api
from services.stack.components.ferretdb import external_mongodb_url
from services.stack.gotools import GO_TOOLS
from tests.support.broker import StompClient

pytestmark = pytest.mark.stack


def eventually(check, timeout: float = 30.0, interval: float = 0.5):
    """Call `check` until it returns a truthy value (returned) or `timeout` passes (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout:.0f}s: {check.__name__}")
        time.sleep(interval)


def test_activemq_carries_a_stomp_message(isolation):
    destination = isolation.destination("smoke")
    received: list[stomp.utils.Frame] = []
    arrived = threading.Event()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame):
            received.append(frame)
            arrived.set()

    conn = stomp.Connection([(api.STOMP_HOST, api.STOMP_PORT)])
    conn.set_listener("smoke", Listener())
    conn.connect(wait=True)
    try:
        conn.subscribe(destination, id="smoke", ack="client-individual")
        body = json.dumps({"vehicle": "Smoke Van", "n": uuid.uuid4().hex})
        conn.send(destination, body, headers={"persistent": "true", "x-run": isolation.run_id})
        assert arrived.wait(10), "no message came back from the broker"
        frame = received[0]
        conn.ack(frame.headers["message-id"], "smoke")
        assert frame.body == body
        assert frame.headers["x-run"] == isolation.run_id
        assert frame.headers["destination"] == destination
    finally:
        conn.disconnect()


def test_activemq_dispatches_a_whole_prefetch_before_any_ack(isolation):
    """The tracker acknowledges once per stored batch: the broker must keep dispatching up to
    its prefetch, not stop at ActiveMQ's default page of 200 unacknowledged messages."""
    destination = isolation.destination("prefetch")
    count = 600
    received: list[stomp.utils.Frame] = []

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame):
            received.append(frame)

    conn = stomp.Connection12([(api.STOMP_HOST, api.STOMP_PORT)], auto_content_length=False)
    conn.set_listener("prefetch", Listener())
    conn.connect(wait=True)
    try:
        for i in range(count - 1):
            conn.send(destination, str(i), headers={"persistent": "true"})
        conn.send(destination, "last", headers={"persistent": "true", "receipt": "last"})
        conn.subscribe(
            destination, id="batch", ack="client", headers={"activemq.prefetchSize": "1000"}
        )
        eventually(lambda: len(received) >= count, timeout=20)
        assert len(received) == count  # none acknowledged yet
        conn.ack(received[-1].headers["ack"])  # one cumulative ack drains the queue
    finally:
        conn.disconnect()


def test_what_a_run_leaves_in_its_queues_is_drained(isolation):
    """A message left in a queue pins the broker's journal file it sits in: the cleanup at the
    end of a test session consumes whatever the run's queues still hold."""
    prefix = isolation.queue("leftovers.")
    client = StompClient((api.STOMP_HOST, api.STOMP_PORT))
    try:
        for name, count in (("a", 3), ("b", 1)):
            for i in range(count):
                client.send(f"{prefix}{name}", str(i))
        assert client.queue_sizes(prefix) == {f"{prefix}a": 3, f"{prefix}b": 1}
        assert client.drain(prefix) == 4
        assert client.queue_sizes(prefix) == {f"{prefix}a": 0, f"{prefix}b": 0}
    finally:
        client.close()


def test_ferretdb_stores_and_queries_documents(isolation):
    with MongoClient(api.MONGODB_URL, serverSelectionTimeoutMS=5000) as client:
        positions = client[isolation.database]["smoke_positions"]
        positions.insert_many(
            [{"vehicle": f"v{i}", "speed": i * 10, "run": isolation.run_id} for i in range(5)]
        )
        fast = positions.find({"speed": {"$gte": 30}}, {"_id": 0, "vehicle": 1}).sort("vehicle")
        assert [doc["vehicle"] for doc in fast] == ["v3", "v4"]
        assert positions.count_documents({"run": isolation.run_id}) == 5
        if not external_mongodb_url():  # the local stack's own server: our patched FerretDB
            version_txt = dict(GO_TOOLS["ferretdb"].source_files)["build/version/version.txt"]
            assert client.admin.command("buildInfo")["ferretdbVersion"] == version_txt.strip()


def test_elasticsearch_indexes_and_searches(isolation):
    es = Elasticsearch(api.ELASTICSEARCH_URL, request_timeout=30)
    try:
        assert es.cluster.health()["status"] in ("green", "yellow")  # GET / is absent here
        index = isolation.index("smoke")
        es.indices.create(index=index, settings={"number_of_replicas": 0})
        es.index(index=index, document={"message": "vehicle City Truck stopped", "n": 1})
        es.index(index=index, document={"message": "vehicle Van moving", "n": 2})
        es.indices.refresh(index=index)
        hits = es.search(index=index, query={"query_string": {"query": "message:stopped"}})
        assert [h["_source"]["n"] for h in hits["hits"]["hits"]] == [1]
        assert es.count(index=index)["count"] == 2
    finally:
        es.close()


def test_prometheus_answers_promql_about_a_scraped_target():
    def prometheus_is_up():
        answer = httpx.get(
            f"{api.PROMETHEUS_URL}/api/v1/query", params={"query": 'up{job="prometheus"} == 1'}
        ).json()
        assert answer["status"] == "success"
        return answer["data"]["result"]

    result = eventually(prometheus_is_up, timeout=45)  # first scrape within one interval (15s)
    assert result[0]["metric"]["job"] == "prometheus"
    assert result[0]["value"][1] == "1"


def test_alertmanager_accepts_an_alert_and_returns_it(isolation):
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": "FleetSmokeTest", "run_id": isolation.run_id, "severity": "info"},
        "annotations": {"summary": "smoke test alert"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
    }
    posted = httpx.post(f"{api.ALERTMANAGER_URL}/api/v2/alerts", json=[alert])
    assert posted.status_code == 200, posted.text

    def our_alert():
        alerts = httpx.get(
            f"{api.ALERTMANAGER_URL}/api/v2/alerts",
            params={"filter": f'run_id="{isolation.run_id}"'},
        ).json()
        return alerts

    alerts = eventually(our_alert, timeout=10)
    assert alerts[0]["labels"]["alertname"] == "FleetSmokeTest"
    assert alerts[0]["annotations"]["summary"] == "smoke test alert"


def test_nginx_serves_health_and_the_page():
    health = httpx.get(f"{api.NGINX_URL}/healthz")
    assert health.status_code == 200
    assert health.text.strip() == "ok"
    page = httpx.get(f"{api.NGINX_URL}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()


def test_collector_ships_an_otlp_span_to_elasticsearch(isolation):
    trace_id = uuid.uuid4().hex
    span_id = uuid.uuid4().hex[:16]
    start = time.time_ns()
    payload = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "stack-smoke"}},
                        {"key": "run_id", "value": {"stringValue": isolation.run_id}},
                    ]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "smoke",
                                "kind": 1,
                                "startTimeUnixNano": str(start),
                                "endTimeUnixNano": str(start + 1_000_000),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    sent = httpx.post(f"{api.OTLP_HTTP_URL}/v1/traces", json=payload)
    assert sent.status_code == 200, sent.text

    es = Elasticsearch(api.ELASTICSEARCH_URL, request_timeout=30)
    try:

        def span_in_elasticsearch():
            if not es.indices.exists(index="fleet-traces"):
                return None
            es.indices.refresh(index="fleet-traces")
            found = es.search(
                index="fleet-traces", query={"query_string": {"query": f'"{trace_id}"'}}
            )
            return found["hits"]["hits"]

        hits = eventually(span_in_elasticsearch, timeout=60, interval=1)
        assert hits[0]["_source"]["Name"] == "smoke"
    finally:
        es.close()
