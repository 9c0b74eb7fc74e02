"""The fleet services, run from this checkout once their packages exist.

Each is declared here and skipped ("not built yet") while `services/<pkg>/__main__.py` is absent,
so `fleet-stack up` grows as the services land. stdout/stderr (JSON logs) go to
`.stack/logs/<service>.log`, which the collector tails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from observability.runtime.conventions import DEPLOYED_CONVENTIONS
from observability.runtime.tracing import deployed_sampling
from services.stack.components.base import Component, Context, Program
from services.stack.components.ferretdb import external_mongodb_url, local_mongodb_url
from services.stack.health import Health, http_ok
from services.stack.paths import StackPaths, stack_paths
from services.stack.ports import HOST, configured_port
from services.stack.scale import instance_name, instance_port, instances


class FleetService(Component):
    infrastructure = False
    start_timeout = 60.0

    def __init__(
        self,
        name: str,
        package: str,
        port: int,
        environment: dict[str, str] | None = None,
        instance: int = 1,
    ) -> None:
        #: The service's name in its telemetry; ``name`` is the program's (one per instance).
        self.service = name
        self.name = instance_name(name, instance)
        self.title = self.name
        self.package = package
        self.default_port = instance_port(port, instance)
        self.environment = dict(environment or {})
        if instance > 1:
            self.environment["OTEL_RESOURCE_ATTRIBUTES"] = f"service.instance.id={self.name}"

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, self.default_port)}

    def skip_reason(self, ctx: Context) -> str | None:
        if not (ctx.repo / "services" / self.package / "__main__.py").exists():
            return "not built yet"
        return None

    def program(self, ctx: Context) -> Program:
        return Program(
            command=[sys.executable, "-m", f"services.{self.package}"],
            environment={
                "HTTP_HOST": HOST,
                "HTTP_PORT": str(self.ports()["http"]),
                "BROKER_URL": f"stomp://{HOST}:{configured_port('activemq', 61613)}",
                "MONGODB_URL": external_mongodb_url() or local_mongodb_url(),
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{configured_port('otelcol', 4318)}",
                "OTEL_SERVICE_NAME": self.service,
                **deployed_sampling(self.service),
                **DEPLOYED_CONVENTIONS,
                "PYTHONUNBUFFERED": "1",
                **self.environment,
            },
            directory=ctx.repo,
            startsecs=1,
            stopwaitsecs=15,
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        """The service's code (and the shared code): `up` restarts a service whose code changed."""
        services = ctx.repo / "services"
        return sorted(
            [*(services / self.package).rglob("*.py"), *(services / "common").rglob("*.py")]
        )

    def health(self, ctx: Context) -> Health:
        return http_ok(f"http://{HOST}:{self.ports()['http']}/healthz")


def fleet_services(paths: StackPaths | None = None) -> list[Component]:
    """The services, each as many times as ``fleet-stack scale`` asked (once by default)."""
    count = instances(paths or stack_paths())
    return [
        *(
            FleetService("position-tracker", "position_tracker", 8001, instance=i)
            for i in range(1, count["position-tracker"] + 1)
        ),
        FleetService("api-gateway", "api_gateway", 8000),
        # Seeded: the replay follows the wall clock, so a restart carries on where it was.
        FleetService("position-simulator", "position_simulator", 8002, {"SIMULATOR_SEED": "1"}),
    ]
