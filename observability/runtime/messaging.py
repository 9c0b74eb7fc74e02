"""Trace context through message headers (W3C ``traceparent`` as a STOMP header)."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased

#: How ``ParentBased.get_description()`` names its default for a remote unsampled parent.
_DROPS_UNSAMPLED_REMOTE = "remoteParentNotSampled:AlwaysOffSampler"


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers plus the active trace context (``traceparent``, ``tracestate``)."""
    propagate.inject(headers)
    return headers


def extract_context(headers: dict[str, str]) -> Context:
    """The trace context a message was published in (an empty context when it carries none)."""
    return propagate.extract(headers)


def follows_unsampled_publishers(provider: TracerProvider | None) -> bool:
    """Whether ``provider`` never records a span whose remote parent is unsampled, as every
    parent-based sampler (``parentbased_*``, the deployed one) does by default."""
    if provider is None:
        return False
    sampler = provider.sampler
    return isinstance(sampler, ParentBased) and _DROPS_UNSAMPLED_REMOTE in (
        sampler.get_description()
    )


def unsampled_publisher(context: Context) -> trace.Span | None:
    """The publisher's span when the message's trace is not sampled (None otherwise): under a
    sampler that follows it, the consumer's span would be a non-recording span of the same
    trace, and the publisher's serves the same purpose (trace id on logs, context on what is
    forwarded) without the SDK's sampling work, a third of the cost of tracing a message."""
    span = trace.get_current_span(context)
    span_context = span.get_span_context()
    if span_context.is_valid and not span_context.trace_flags.sampled:
        return span
    return None
