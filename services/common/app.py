"""The skeleton every fleet HTTP service shares: health, readiness, errors, telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from observability.runtime import Telemetry
from observability.runtime.http import instrument_app
from services.common.errors import install_problem_handlers, problem
from services.common.openapi import document_problems
from services.common.version import VERSION

NO_NATIVE_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
#: A readiness check: returns None when the dependency is usable, else why not.
ReadinessCheck = Callable[[], str | None]
Lifespan = (
    Callable[[FastAPI], AbstractAsyncContextManager[Any]] | Callable[[FastAPI], AsyncIterator[Any]]
)


def create_service_app(
    telemetry: Telemetry,
    title: str,
    description: str,
    readiness: dict[str, ReadinessCheck],
    lifespan: Lifespan | None = None,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with ``/healthz``, ``/readyz``, ``/metrics``, JSON errors and tracing."""
    app = FastAPI(
        title=title,
        description=description,
        version=VERSION,
        lifespan=lifespan,  # type: ignore[arg-type]
        # FastAPI's own OpenTelemetry support (0.165+) would add a second server span, and spans
        # for every dependency and serialization, on top of opentelemetry-instrumentation-
        # fastapi's: one instrumentation, ours. (Older FastAPI keeps the setting in ``extra``.)
        telemetry=NO_NATIVE_TELEMETRY,
        # Trailing-slash redirects are relative, made by install_problem_handlers.
        redirect_slashes=False,
        **{"redoc_url": None, "swagger_ui_oauth2_redirect_url": None, **fastapi_options},
    )
    install_problem_handlers(app)
    document_problems(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """The process is alive and serving."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Every dependency answers; 503 naming the ones that do not."""
        failures = {}
        for name, check in readiness.items():
            reason = await run_in_threadpool(check)
            if reason is not None:
                failures[name] = reason
        if failures:
            detail = "; ".join(f"{name}: {why}" for name, why in failures.items())
            return problem(503, "Service Unavailable", detail, checks=failures)
        return JSONResponse({"status": "ready", "checks": dict.fromkeys(readiness, "ok")})

    instrument_app(app, telemetry.metrics, telemetry.tracer_provider)
    return app
