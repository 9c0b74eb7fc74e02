"""Reading a message's trace context: the shortcut agrees with OpenTelemetry's propagator."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from observability.runtime.messaging import (
    UnsampledMessageSpan,
    extract_context,
    publisher_sampled,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def propagator_says(headers: dict[str, str]) -> trace.SpanContext:
    return trace.get_current_span(extract_context(headers)).get_span_context()


@pytest.mark.parametrize(
    ("traceparent", "expected"),
    [
        (f"00-{TRACE}-{SPAN}-00", False),
        (f"00-{TRACE}-{SPAN}-01", True),
        (f"00-{TRACE}-{SPAN}-02", False),  # a future flag, not "sampled"
        (f"00-{TRACE}-{SPAN}-03", True),
        (f"00-{'0' * 32}-{SPAN}-00", None),  # invalid trace id: the propagator ignores it
        (f"00-{TRACE}-{'0' * 16}-00", None),  # invalid span id
        (f"00-{TRACE.upper()}-{SPAN}-00", None),  # upper case is not W3C
        (f"ff-{TRACE}-{SPAN}-00", None),  # forbidden version
        (f"01-{TRACE}-{SPAN}-00-extra", None),  # a later version: left to the propagator
        (f"00-{TRACE}-{SPAN}-00-extra", None),  # version 00 with more fields is invalid
        (f" 00-{TRACE}-{SPAN}-00", None),  # whitespace the propagator tolerates
        ("garbage", None),
        ("", None),
    ],
)
def test_publisher_sampled_never_contradicts_the_propagator(
    traceparent: str, expected: bool | None
):
    headers = {"traceparent": traceparent}
    assert publisher_sampled(headers) is expected
    if expected is not None:  # when the shortcut answers, the propagator agrees
        context = propagator_says(headers)
        assert context.is_valid and context.trace_flags.sampled is expected


def test_no_traceparent_is_left_to_the_propagator():
    assert publisher_sampled({"message-id": "1"}) is None


def test_an_unsampled_message_span_is_its_publishers_read_when_asked():
    headers = {"traceparent": f"00-{TRACE}-{SPAN}-00", "tracestate": "vendor=x"}
    span = UnsampledMessageSpan(headers)
    assert not span.is_recording()
    context = span.get_span_context()
    assert context == propagator_says(headers)
    assert context.trace_state.get("vendor") == "x"
    with trace.use_span(span):  # what a log line inside it sees
        assert trace.get_current_span().get_span_context().trace_id == int(TRACE, 16)
