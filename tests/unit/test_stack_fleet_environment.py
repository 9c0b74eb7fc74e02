"""The local stack gives each fleet service the telemetry settings every deployment gives it."""

from __future__ import annotations

from observability.runtime.conventions import DEPLOYED_CONVENTIONS
from observability.runtime.tracing import deployed_sampling
from services.stack.components.base import Context
from services.stack.components.fleet import fleet_services
from services.stack.paths import stack_paths


def test_each_fleet_service_gets_its_deployed_sampling_and_conventions() -> None:
    ctx = Context(paths=stack_paths())
    ratios = {}
    for service in fleet_services():
        env = service.program(ctx).environment
        for deployed in (deployed_sampling(service.name), DEPLOYED_CONVENTIONS):
            assert {k: env.get(k) for k in deployed} == deployed, service.name
        assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio", service.name
        ratios[service.name] = env["OTEL_TRACES_SAMPLER_ARG"]
    # Positions' traces start at the simulator, requests' at the gateway.
    assert ratios == {"position-simulator": "0.01", "api-gateway": "0.1", "position-tracker": "0.1"}
