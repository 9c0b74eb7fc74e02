"""`fleet-stack scale`: instances kept in the stack's folder, each its own program, port and
log file, one service name in telemetry, every instance scraped under the service's job."""

from __future__ import annotations

import pytest
import yaml

from services.stack.components.base import Context
from services.stack.components.fleet import fleet_services
from services.stack.components.prometheus import NORMAL_RULES, load_rules, runtime_config
from services.stack.errors import StackError
from services.stack.paths import StackPaths
from services.stack.scale import instances, set_instances


@pytest.fixture
def paths(tmp_path) -> StackPaths:
    return StackPaths(root=tmp_path / "stack", cache=tmp_path / "cache")


def test_three_trackers_are_three_programs_of_one_service(paths):
    assert instances(paths) == {"position-tracker": 1}
    set_instances(paths, "position-tracker", 3)
    trackers = [c for c in fleet_services(paths) if c.name.startswith("position-tracker")]
    assert [(t.name, t.ports()["http"]) for t in trackers] == [
        ("position-tracker", 8001),
        ("position-tracker.2", 8011),
        ("position-tracker.3", 8021),
    ]
    program = trackers[2].program(Context(paths))
    assert program.environment["OTEL_SERVICE_NAME"] == "position-tracker"
    assert program.environment["OTEL_RESOURCE_ATTRIBUTES"] == (
        "service.instance.id=position-tracker.3"
    )
    assert paths.log(trackers[2].name).name == "position-tracker.3.log"  # the collector's glob


def test_prometheus_scrapes_every_instance(paths):
    set_instances(paths, "position-tracker", 2)
    paths.data_dir("prometheus").mkdir(parents=True)
    ctx = Context(paths)
    assert load_rules(ctx, NORMAL_RULES)
    assert not load_rules(ctx, NORMAL_RULES)  # unchanged: no reload needed
    jobs = yaml.safe_load(runtime_config(ctx).read_text())["scrape_configs"]
    (tracker,) = [j for j in jobs if j["job_name"] == "position-tracker"]
    assert tracker["static_configs"][0]["targets"] == ["127.0.0.1:8001", "127.0.0.1:8011"]


@pytest.mark.parametrize(("service", "count"), [("api-gateway", 2), ("position-tracker", 9)])
def test_what_cannot_be_scaled_is_refused(paths, service, count):
    with pytest.raises(StackError):
        set_instances(paths, service, count)
