"""On the running local stack: Prometheus loads and evaluates every generated rule group
without error, and Alertmanager runs the generated routing."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from observability.render.symptom_rules import rule_files
from tests.support.polling import eventually
from tests.support.stack import ensure_stack

pytestmark = pytest.mark.stack


def _reload(url: str) -> None:
    response = httpx.post(f"{url}/-/reload", timeout=30)
    assert response.status_code == 200, response.text


def _groups(url: str) -> dict[str, dict]:
    response = httpx.get(f"{url}/api/v1/rules", timeout=30)
    response.raise_for_status()
    return {g["name"]: g for g in response.json()["data"]["groups"]}


def test_prometheus_evaluates_every_generated_group_without_error(
    stack, repo_platform, repo_config
):
    _reload(stack.PROMETHEUS_URL)
    expected = {
        g.name: len(g.rules) for f in rule_files(repo_platform, repo_config) for g in f.groups
    }
    deadline = time.monotonic() + 90
    while True:
        groups = _groups(stack.PROMETHEUS_URL)
        rules = [r for name in expected if name in groups for r in groups[name]["rules"]]
        evaluated = all(r["health"] == "ok" for r in rules)
        if (set(expected) <= set(groups) and evaluated) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert sorted(set(expected) - set(groups)) == []
    assert {name: len(groups[name]["rules"]) for name in expected} == expected
    errors = [
        f"{r['name']}: {r.get('lastError')}"
        for r in rules
        if r.get("lastError") or r["health"] != "ok"
    ]
    assert errors == []


def test_prometheus_runs_the_generated_config(stack, repo_platform):
    config = yaml.safe_load(
        httpx.get(f"{stack.PROMETHEUS_URL}/api/v1/status/config", timeout=30).json()["data"]["yaml"]
    )
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for service in (s for s in repo_platform.services if s.scraped):
        (static,) = jobs[service.name]["static_configs"]
        assert static["labels"] == {"env": "local"}
        assert static["targets"] == [f"127.0.0.1:{service.metrics_port}"]


def test_alertmanager_runs_the_generated_routing(stack):
    _reload(stack.ALERTMANAGER_URL)
    status = httpx.get(f"{stack.ALERTMANAGER_URL}/api/v2/status", timeout=30).json()
    config = yaml.safe_load(status["config"]["original"])
    assert [r["name"] for r in config["receivers"]] == ["pager", "tickets", "null"]
    assert len(config["inhibit_rules"]) == 2


def test_prometheus_scrapes_every_service_of_the_platform(stack, repo_platform):
    """With the whole platform up (``make up``), every scraped service answers: ``up == 1``."""
    ensure_stack()  # the fleet services too, not only the infrastructure
    jobs = sorted(s.name for s in repo_platform.services if s.scraped)

    def all_up() -> dict[str, float]:
        result = httpx.get(
            f"{stack.PROMETHEUS_URL}/api/v1/query", params={"query": 'up{env="local"}'}, timeout=10
        ).json()["data"]["result"]
        values = {r["metric"]["job"]: float(r["value"][1]) for r in result}
        assert all(values.get(job) == 1.0 for job in jobs), values
        return values

    eventually(all_up, timeout=60, interval=2)
