"""``api-gateway``: serve the public REST API in front of the tracker (flags or environment)."""

from __future__ import annotations

from collections.abc import Sequence

from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import SERVICE
from services.common.entrypoint import run_service, service_settings


def parse_args(argv: Sequence[str] | None = None) -> GatewaySettings:
    """The options given, then the environment, then the defaults; exits 2 on a bad value."""
    return service_settings(SERVICE, __doc__ or "", GatewaySettings, argv)


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_args(argv)
    from services.api_gateway.app import create_app

    run_service(SERVICE, settings, create_app)


if __name__ == "__main__":
    main()
