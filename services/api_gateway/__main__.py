"""``api-gateway``: serve the public REST API in front of the tracker (configured by environment)."""

from __future__ import annotations

from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import SERVICE
from services.common.entrypoint import run_service


def main() -> None:
    from services.api_gateway.app import create_app

    run_service(SERVICE, __doc__ or "", GatewaySettings, create_app)


if __name__ == "__main__":
    main()
