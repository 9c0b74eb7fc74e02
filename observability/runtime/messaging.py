"""Trace context through message headers (W3C ``traceparent`` as a STOMP header)."""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.context import Context


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers plus the active trace context (``traceparent``, ``tracestate``)."""
    propagate.inject(headers)
    return headers


def extract_context(headers: dict[str, str]) -> Context:
    """The trace context a message was published in (an empty context when it carries none)."""
    return propagate.extract(headers)
