"""JSON problem responses (RFC 9457) for every error a service returns."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class ProblemError(Exception):
    """Raise from a handler to answer with a problem response (``headers``: e.g. Retry-After)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = dict(headers or {})


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _slash_redirect(request: Request) -> Response | None:
    """A relative 307 to the same path with its trailing slash toggled, when a route has that.

    Starlette's own redirect builds an absolute URL from the request's Host header: behind nginx
    it dropped the client's port, and it reflected whatever Host a client sent. A relative
    Location keeps the client on the address it used. Only for requests no route matched.
    """
    path = request.scope.get("path", "")
    if "endpoint" in request.scope or path in ("", "/") or path.startswith("//"):
        return None
    toggled = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": toggled}
    if not any(route.matches(scope)[0] != Match.NONE for route in request.app.router.routes):
        return None
    query = request.url.query
    return RedirectResponse(f"{toggled}?{query}" if query else toggled, status_code=307)


def install_problem_handlers(app: FastAPI) -> None:
    """Bad requests get 400 with what was wrong; other errors keep their status, in JSON.

    Also turns Starlette's absolute trailing-slash redirects into relative ones (see
    ``_slash_redirect``): the app must be created with ``redirect_slashes=False``.
    """

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
        return problem(400, "Bad Request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and (redirect := _slash_redirect(request)) is not None:
            return redirect
        # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
        return problem(
            exc.status_code, _title(exc.status_code), str(exc.detail), headers=exc.headers
        )

    # Anything unexpected: a problem 500, never Starlette's plain-text page. Starlette still
    # re-raises after answering, so the server logs the traceback.
    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        return problem(500, "Internal Server Error", "The service failed to answer; see its logs.")
