"""The contracts the manifests keep: with the code (environment, ports, probes) and with the
original Fleetman (Service names and ports, so one image can be swapped for the original)."""

from __future__ import annotations

import pytest

from observability.runtime.conventions import DEPLOYED_CONVENTIONS
from observability.runtime.tracing import deployed_sampling
from tests.k8s.contract import REQUIRED, service_of_image, variables_read
from tests.k8s.manifests import TARGETS, containers, env_names, namespace_of

#: The original k8s-fleetman Services: name -> {port: protocol role}. Ours add STOMP on the
#: queue; nothing here may change, or an original image swapped in stops finding its peers.
COMPAT_SERVICES = {
    "fleetman-queue": {8161, 61616, 61613},
    "fleetman-position-tracker": {8080},
    "fleetman-api-gateway": {8080},
    "fleetman-webapp": {80},
    "fleetman-mongodb": {27017},
}
#: Service -> the `app.kubernetes.io/name` of the pods it selects.
COMPAT_PODS = {
    "fleetman-queue": "queue",
    "fleetman-position-tracker": "position-tracker",
    "fleetman-api-gateway": "api-gateway",
    "fleetman-webapp": "webapp",
    "fleetman-mongodb": "mongodb",
}
#: Services whose `http` port serves /metrics (the generated ServiceMonitors scrape `http`).
METRICS_SERVICES = {
    "fleetman-position-simulator": "position-simulator",
    "fleetman-position-tracker": "position-tracker",
    "fleetman-api-gateway": "api-gateway",
}


def _services(docs: list[dict]) -> dict[str, dict]:
    return {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "Service" and namespace_of(d) == "default"
    }


@pytest.mark.parametrize("target", TARGETS)
def test_original_service_names_and_ports(rendered: dict[str, list[dict]], target: str) -> None:
    services = _services(rendered[target])
    for name, ports in COMPAT_SERVICES.items():
        assert name in services, f"Service {name} is missing"
        spec = services[name]["spec"]
        assert {p["port"] for p in spec["ports"]} >= ports, name
        assert spec["selector"] == {"app.kubernetes.io/name": COMPAT_PODS[name]}


@pytest.mark.parametrize("target", TARGETS)
def test_metrics_ports_are_named_http(rendered: dict[str, list[dict]], target: str) -> None:
    services = _services(rendered[target])
    for name, pod in METRICS_SERVICES.items():
        service = services[name]
        assert service["metadata"]["labels"]["app.kubernetes.io/name"] == pod
        assert [p["port"] for p in service["spec"]["ports"] if p["name"] == "http"] == [8080]


def _our_containers(docs: list[dict]) -> list[tuple[str, object]]:
    found = []
    for container in containers(docs, include_init=False):
        service = service_of_image(container.spec["image"])
        if service:
            found.append((service, container))
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_environment_matches_the_code(rendered: dict[str, list[dict]], target: str) -> None:
    """Every variable a container gets is one its code reads, and the required ones are set."""
    ours = _our_containers(rendered[target])
    assert {service for service, _ in ours} == set(REQUIRED)
    for service, container in ours:
        env = env_names(container, rendered[target])
        unknown = set(env) - variables_read(service)
        assert not unknown, f"{service}: variables no code reads: {sorted(unknown)}"
        missing = REQUIRED[service] - set(env)
        assert not missing, f"{service}: missing {sorted(missing)}"
        assert env["OTEL_SERVICE_NAME"] == service
        assert env["HTTP_HOST"] == "0.0.0.0"
        # The sampling the benchmarks measure, and the conventions the tests check, are deployed.
        for deployed in (deployed_sampling(service), DEPLOYED_CONVENTIONS):
            assert {k: env.get(k) for k in deployed} == deployed, service


@pytest.mark.parametrize("target", TARGETS)
def test_port_probes_and_http_port_agree(rendered: dict[str, list[dict]], target: str) -> None:
    """HTTP_PORT is the container's `http` port, and the probes hit /healthz and /readyz."""
    for _, container in _our_containers(rendered[target]):
        env = env_names(container, rendered[target])
        ports = {p["name"]: p["containerPort"] for p in container.spec["ports"]}
        assert ports["http"] == int(env["HTTP_PORT"]) == 8080
        assert container.spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container.spec["readinessProbe"]["httpGet"]["path"] == "/readyz"


@pytest.mark.parametrize("target", TARGETS)
def test_urls_point_at_the_compat_services(rendered: dict[str, list[dict]], target: str) -> None:
    for service, container in _our_containers(rendered[target]):
        env = env_names(container, rendered[target])
        if "BROKER_URL" in env:
            assert env["BROKER_URL"] == "stomp://fleetman-queue:61613"
            assert env["POSITION_QUEUE"] == "positionQueue"
        if service == "api-gateway":
            assert env["TRACKER_URL"] == "http://fleetman-position-tracker:8080"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_mongodb_url_comes_from_the_secret(rendered: dict[str, list[dict]]) -> None:
    for service, container in _our_containers(rendered["base"]):
        if service == "position-tracker":
            entry = next(e for e in container.spec["env"] if e["name"] == "MONGODB_URL")
            assert entry["valueFrom"]["secretKeyRef"]["name"].startswith("fleetman-mongodb")
