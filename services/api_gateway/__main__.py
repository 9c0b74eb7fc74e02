"""``api-gateway``: serve the public REST API (configured by environment variables).

HTTP_HOST, HTTP_PORT (127.0.0.1:8000), LOG_LEVEL, TRACKER_URL (http://127.0.0.1:8001),
UPSTREAM_TIMEOUT_SECONDS (2), UPSTREAM_MAX_CONNECTIONS (100), UPSTREAM_MAX_KEEPALIVE (20).
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import SERVICE


def main() -> None:
    if any(arg in {"-h", "--help"} for arg in sys.argv[1:]):
        print(__doc__.strip())
        return
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        sys.exit(f"api-gateway: bad configuration:\n{exc}")
    from services.api_gateway.app import create_app
    from services.common.server import serve

    serve(create_app(settings), SERVICE, settings)


if __name__ == "__main__":
    main()
