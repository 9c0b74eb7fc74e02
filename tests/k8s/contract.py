"""What the code reads from the environment, per service image, taken from the code itself."""

from __future__ import annotations

from pydantic_settings import BaseSettings

#: Standard OpenTelemetry SDK variables the services honour (through the SDK), and the
#: project's switch for telemetry in tests.
OTEL_VARIABLES = {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_EXPORTER",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_SDK_DISABLED",
    "FLEET_TELEMETRY",
}

#: image (as in the manifests, without registry and tag) -> settings classes, by import path.
SETTINGS = {
    "position-simulator": (
        "services.position_simulator.settings:SimulatorSettings",
        "services.position_simulator.settings:ReplayOptions",
    ),
    "position-tracker": ("services.position_tracker.settings:TrackerSettings",),
    "api-gateway": ("services.api_gateway.settings:GatewaySettings",),
}

#: Variables each service must be given in a container (the defaults fit only `make up`).
REQUIRED = {
    "position-simulator": {
        "HTTP_HOST",
        "HTTP_PORT",
        "BROKER_URL",
        "POSITION_QUEUE",
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    "position-tracker": {
        "HTTP_HOST",
        "HTTP_PORT",
        "BROKER_URL",
        "BROKER_USER",
        "BROKER_PASSWORD",
        "POSITION_QUEUE",
        "DEAD_LETTER_QUEUE",
        "MONGODB_URL",
        "MONGODB_DATABASE",
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
    "api-gateway": {
        "HTTP_HOST",
        "HTTP_PORT",
        "TRACKER_URL",
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    },
}


def _load(reference: str) -> type[BaseSettings]:
    import importlib

    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def settings_variables(cls: type[BaseSettings]) -> set[str]:
    prefix = cls.model_config.get("env_prefix", "") or ""
    return {(prefix + field).upper() for field in cls.model_fields}


def variables_read(service: str) -> set[str]:
    """Every environment variable the service's code reads."""
    names = set(OTEL_VARIABLES)
    for reference in SETTINGS[service]:
        names |= settings_variables(_load(reference))
    return names


def service_of_image(image: str) -> str | None:
    """`fleetman/position-tracker:0.1.0` (any registry) -> `position-tracker`."""
    path = image.rsplit("@", 1)[0]
    name = path.rsplit("/", 1)[-1].split(":", 1)[0]
    return name if name in SETTINGS and "/fleetman/" in f"/{path}" else None
