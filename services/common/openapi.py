"""Problem answers in every service's OpenAPI document: the statuses the routes really give.

Routes declare the problems that are theirs (a 404 for an unknown vehicle, the gateway's 502 to
504); :func:`document_problems` adds, to every operation, the ones every route can give: 400
(FastAPI's validation answers 400 here, not the 422 it documents), 503 with ``Retry-After``
(the admission guard sheds past ``HTTP_MAX_IN_FLIGHT``) and 500. An API fuzzer checks the
document against the answers (``tests/services/test_api_fuzzing.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from services.common.errors import PROBLEM_JSON

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}

#: What every route may answer, whatever it declares.
_EVERY_ROUTE = {
    400: "Bad request: a path or query parameter that is not valid (what and why in `detail`).",
    500: "The service failed unexpectedly (its log has the details).",
    503: "The service is saturated (more than `HTTP_MAX_IN_FLIGHT` requests at once) and sheds "
    "the request at once, with `Retry-After`.",
}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Service Unavailable"])
    status: int = Field(examples=[503])
    detail: str = Field(
        examples=["cannot connect to the position tracker at http://127.0.0.1:8001 (refused)"]
    )
    trace_id: str | None = Field(
        None,
        description="Trace of the failed request (gateway errors), to find it in Grafana/Kibana.",
        examples=["4bf92f3577b34da6a3ce929d0e0e4736"],
    )


def _problem_entry(description: str, retry_after: bool) -> dict[str, Any]:
    """An OpenAPI Response Object for a problem answer (a 503's says ``Retry-After``)."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        **({"headers": RETRY_AFTER_HEADER} if retry_after else {}),
    }


def problem_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    """A FastAPI route ``responses`` entry for a problem answer (its model documented too)."""
    return {"model": Problem, **_problem_entry(description, retry_after)}


def problem_responses(why: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries for these statuses and reasons (a 503 says ``Retry-After``)."""
    return {
        status: problem_response(text, retry_after=status == 503) for status, text in why.items()
    }


def document_problems(app: FastAPI) -> None:
    """Complete ``app``'s OpenAPI document (lazily, whatever routes are added later)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _complete(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, why in _EVERY_ROUTE.items():
                responses.setdefault(str(status), _problem_entry(why, status == 503))
