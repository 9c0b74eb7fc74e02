"""Run a service's app with uvicorn, every log record through the JSON formatter."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from observability.runtime.logs import configure_logging
from services.common.settings import ServiceSettings
from services.common.version import VERSION


def serve(app: FastAPI, service_name: str, settings: ServiceSettings) -> None:
    """Serve until SIGTERM/SIGINT; uvicorn's own logging config is replaced by ours."""
    configure_logging(service_name, VERSION, settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=True,
        timeout_graceful_shutdown=10,
    )
