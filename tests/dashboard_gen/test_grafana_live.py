"""On the running local stack: every panel query of every dashboard returns data.

Prometheus targets run as instant queries with the dashboard's variables substituted (its
services, ``env="local"``, ``$__rate_interval`` = 1m); logs panels run their Lucene query as
``query_string`` on ``fleet-logs*``. API traffic is generated first so the gateway's upstream
histogram and the 4xx classes exist. Only series that are legitimately empty are allowed to be.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from observability.catalog.correlation import LOG_INDEX_PREFIX
from observability.render.grafana.variables import substitute, values_for
from observability.render.links import dashboard_uid
from tests.support.stack import ensure_stack

pytestmark = pytest.mark.stack

GATEWAY = "http://127.0.0.1:8000"
#: (dashboard uid, panel title) → why it may be empty on a healthy stack.
MAY_BE_EMPTY = {
    ("fleet-overview", "Firing alerts"): "no alert fires on a healthy stack",
    ("fleet-otelcol", "Firing alerts"): "no alert fires on a healthy stack",
    ("fleet-elasticsearch", "Firing alerts"): "no alert fires on a healthy stack",
    ("fleet-otelcol", "Log lines dropped /s"): "the counter is born with the first dropped line",
}
DEADLINE = 240


@pytest.fixture(scope="module")
def running(stack):
    ensure_stack()  # the fleet services too
    return stack


@pytest.fixture(scope="module")
def traffic(running):
    """API calls through the gateway (found, not found, history), every second while the test
    runs: a rate needs increases between scrapes, not one burst before the first."""
    stop = threading.Event()

    def call() -> None:
        with httpx.Client(base_url=GATEWAY, timeout=10) as client:
            while not stop.is_set():
                vehicles = client.get("/api/vehicles").json()
                name = vehicles[0]["name"] if vehicles else "nobody"
                client.get(f"/api/vehicles/{name}")
                client.get(f"/api/vehicles/{name}/history", params={"limit": 5})
                client.get("/api/vehicles/no-such-vehicle")
                stop.wait(1)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    yield running
    stop.set()
    caller.join(timeout=15)


def _queries(files: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(uid, panel title, kind, concrete query) of every target of every dashboard."""
    found = []
    for path, text in sorted(files.items()):
        if not path.startswith("dashboards/grafana/"):
            continue
        board = json.loads(text)
        services = next(
            v["query"].split(",") for v in board["templating"]["list"] if v["name"] == "service"
        )
        values = values_for(tuple(services), "local")
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                kind = "logs" if panel["type"] == "logs" else "promql"
                query = target["query"] if kind == "logs" else target["expr"]
                found.append((board["uid"], panel["title"], kind, substitute(query, values)))
    return found


def _prometheus_has_data(url: str, expr: str) -> bool:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=30).json()
    assert body["status"] == "success", (expr, body)
    return bool(body["data"]["result"])


def _logs_have_data(url: str, query: str) -> bool:
    body = {"query": {"query_string": {"query": query}}}
    response = httpx.post(f"{url}/{LOG_INDEX_PREFIX}*/_count", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["count"] > 0


def test_every_panel_query_returns_data(traffic, repo_files, repo_platform):
    # a component that runs only in the clusters (Fluent Bit) has no series here
    elsewhere = {dashboard_uid(c.name) for c in repo_platform.components if not c.metrics_port}
    queries = [q for q in _queries(repo_files) if q[0] not in elsewhere]
    assert len(queries) > 50
    deadline = time.monotonic() + DEADLINE
    pending = list(queries)
    while pending:
        pending = [
            (uid, title, kind, q)
            for uid, title, kind, q in pending
            if not (
                _logs_have_data(traffic.ELASTICSEARCH_URL, q)
                if kind == "logs"
                else _prometheus_has_data(traffic.PROMETHEUS_URL, q)
            )
        ]
        required = [p for p in pending if (p[0], p[1]) not in MAY_BE_EMPTY]
        if not required or time.monotonic() > deadline:
            break
        time.sleep(10)  # a series born from the traffic needs two scrapes for a rate
    assert [f"{uid} / {title}: {q}" for uid, title, _, q in required] == []


def test_the_allow_list_names_real_panels(repo_files):
    panels = {(uid, title) for uid, title, _, _ in _queries(repo_files)}
    assert set(MAY_BE_EMPTY) <= panels
