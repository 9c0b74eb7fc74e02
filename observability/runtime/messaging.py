"""Trace context through message headers (W3C ``traceparent`` as a STOMP header)."""

from __future__ import annotations

import re

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased

#: How ``ParentBased.get_description()`` names its default for a remote unsampled parent.
_DROPS_UNSAMPLED_REMOTE = "remoteParentNotSampled:AlwaysOffSampler"
#: A W3C ``traceparent`` of version 00, strictly (what every OpenTelemetry SDK publishes); its
#: last group is the trace flags, bit 0 "sampled".
_TRACEPARENT_V00 = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-([0-9a-f]{2})")


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers plus the active trace context (``traceparent``, ``tracestate``)."""
    propagate.inject(headers)
    return headers


def extract_context(headers: dict[str, str]) -> Context:
    """The trace context a message was published in (an empty context when it carries none)."""
    return propagate.extract(headers)


def follows_unsampled_publishers(provider: TracerProvider | None) -> bool:
    """Whether ``provider`` never records a span whose remote parent is unsampled, as every
    parent-based sampler (``parentbased_*``, the deployed one) does by default, and the
    propagators read that parent from ``traceparent`` (``publisher_sampled`` reads it too)."""
    if provider is None or "traceparent" not in propagate.get_global_textmap().fields:
        return False
    sampler = provider.sampler
    return isinstance(sampler, ParentBased) and _DROPS_UNSAMPLED_REMOTE in (
        sampler.get_description()
    )


def publisher_sampled(headers: dict[str, str]) -> bool | None:
    """Whether the publisher sampled the message, read from its ``traceparent`` without building
    a context; None when that header is missing or not a plain version-00 one (then only the
    propagator can tell)."""
    match = _TRACEPARENT_V00.fullmatch(headers.get("traceparent", ""))
    return None if match is None else bool(int(match[1], 16) & 1)


class UnsampledMessageSpan(trace.NonRecordingSpan):
    """The span of a message its publisher did not sample, under a sampler that follows the
    publisher: the consumer's span would be a non-recording span of the same trace, so this is
    the publisher's, and its context is only read from the headers when asked for (a log line or
    a forwarded message needs the trace id; most messages never do). Tracing such a message
    then costs a regular expression instead of a context and the SDK's sampling work."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(trace.INVALID_SPAN_CONTEXT)
        self._headers = headers
        self._publisher: trace.SpanContext | None = None

    def get_span_context(self) -> trace.SpanContext:
        if self._publisher is None:
            context = extract_context(self._headers)
            self._publisher = trace.get_current_span(context).get_span_context()
        return self._publisher
