"""Calls from the gateway to the position tracker: one pooled client, timeouts, clear failures.

Every call is timed in ``fleet_gateway_upstream_request_duration_seconds{upstream,outcome}`` and
traced (a CLIENT span, ``client_spans.py``, whose context the ``traceparent`` header carries).
The tracker's 2xx and 4xx answers are returned as they are; a tracker that cannot be reached,
fails or is too slow becomes a problem response (503, 502, 504) and a log record with the trace id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from enum import StrEnum
from urllib.parse import quote

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from observability.runtime.logs import fields
from observability.runtime.metrics import ServiceMetrics
from services.api_gateway.client_spans import ClientSpans
from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import UPSTREAM_DURATION, UPSTREAM_OUTCOMES
from services.common.errors import ProblemError

log = logging.getLogger(__name__)

TRACKER = "position-tracker"
_MAX_DETAIL = 200


class Outcome(StrEnum):
    """How an upstream call ended (the ``outcome`` label)."""

    OK = "ok"
    CLIENT_ERROR = "client_error"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"


assert {o.value for o in Outcome} == set(UPSTREAM_OUTCOMES), "Outcome and the catalog disagree"


#: What the gateway answers for each kind of upstream failure.
_FAILURE_STATUS = {
    Outcome.SERVER_ERROR: (502, "Bad Gateway"),
    Outcome.UNAVAILABLE: (503, "Service Unavailable"),
    Outcome.TIMEOUT: (504, "Gateway Timeout"),
}


class UpstreamFailure(ProblemError):
    """The upstream could not give an answer worth passing on: 502, 503 or 504."""

    def __init__(self, outcome: Outcome, detail: str) -> None:
        status, title = _FAILURE_STATUS[outcome]
        # The trace id lets whoever got the error find its trace and the gateway's log record.
        context = trace.get_current_span().get_span_context()
        extra = {"trace_id": format(context.trace_id, "032x")} if context.is_valid else {}
        super().__init__(status, title, detail, **extra)
        self.outcome = outcome


def segment(value: str) -> str:
    """``value`` as one URL path segment: spaces, ``?``, ``#``, ``%`` and the like encoded."""
    return quote(value, safe="")


class TrackerClient:
    """The gateway's HTTP client for the position tracker."""

    def __init__(
        self,
        settings: GatewaySettings,
        metrics: ServiceMetrics,
        tracer_provider: TracerProvider | None,
    ) -> None:
        self.base_url = settings.tracker_url
        self.timeout = settings.upstream_timeout_seconds
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=settings.upstream_max_connections,
                max_keepalive_connections=settings.upstream_max_keepalive,
            ),
            headers={"accept": "application/json"},
        )
        self._spans = ClientSpans(tracer_provider.get_tracer(__name__) if tracer_provider else None)
        # Readiness probes run in a worker thread and are not traffic: a plain, untraced client.
        self._probe = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout))
        histogram = metrics.histogram(UPSTREAM_DURATION)
        self._durations = {
            outcome: histogram.labels(upstream=TRACKER, outcome=outcome.value)
            for outcome in Outcome
        }

    async def aclose(self) -> None:
        await self.client.aclose()
        self._probe.close()

    async def get(
        self, path: str, params: dict[str, str] | None = None, vehicle: str | None = None
    ) -> httpx.Response:
        """GET ``path`` (already encoded) from the tracker: its 2xx or 4xx response, else raise."""
        start = time.perf_counter()
        request = self.client.build_request("GET", path, params=params)
        with self._spans.call(request) as span:
            try:
                # httpx times each phase (connect, write, read, pool); this bounds the whole call.
                async with asyncio.timeout(self.timeout):
                    response = await self.client.send(request)
            except (httpx.TransportError, TimeoutError) as exc:
                self._spans.failed(span, exc)
                failure = self._transport_failure(exc)
            else:
                self._spans.answered(span, response.status_code)
                outcome = _outcome(response.status_code)
                if outcome is not Outcome.SERVER_ERROR:
                    self._observe(outcome, start)
                    return response
                failure = UpstreamFailure(
                    outcome,
                    f"the position tracker failed with {response.status_code}: {_detail(response)}",
                )
        self._observe(failure.outcome, start)
        self._report(failure, path, vehicle, start)
        raise failure

    def _transport_failure(self, exc: httpx.TransportError | TimeoutError) -> UpstreamFailure:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            detail = f"the position tracker did not answer within {self.timeout:g} s"
            return UpstreamFailure(Outcome.TIMEOUT, detail)
        if isinstance(exc, httpx.ConnectError):
            detail = (
                f"cannot connect to the position tracker at {self.base_url} ({exc or 'refused'})"
            )
            return UpstreamFailure(Outcome.UNAVAILABLE, detail)
        detail = f"the position tracker broke off its answer ({type(exc).__name__}: {exc})"
        return UpstreamFailure(Outcome.SERVER_ERROR, detail)

    def ready(self) -> str | None:
        """None when the tracker's ``/readyz`` answers 200, else why not (for ``/readyz``)."""
        try:
            response = self._probe.get("/readyz")
        except httpx.HTTPError as exc:
            return f"position tracker at {self.base_url} unreachable: {type(exc).__name__}"
        if response.status_code != 200:
            return f"position tracker not ready ({response.status_code}): {_detail(response)}"
        return None

    def _observe(self, outcome: Outcome, start: float) -> None:
        self._durations[outcome].observe(time.perf_counter() - start)

    def _report(
        self, failure: UpstreamFailure, path: str, vehicle: str | None, start: float
    ) -> None:
        values: dict[str, object] = {
            "upstream.name": TRACKER,
            "upstream.outcome": failure.outcome.value,
            "event.action": "upstream-request",
            "event.outcome": "failure",
            "event.duration": int((time.perf_counter() - start) * 1e9),
        }
        if vehicle is not None:
            values["vehicle.name"] = vehicle
        log.warning(
            "GET %s from the position tracker: %s", path, failure.detail, extra=fields(**values)
        )


def _outcome(status: int) -> Outcome:
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status >= 400:
        return Outcome.CLIENT_ERROR
    return Outcome.OK


def _detail(response: httpx.Response) -> str:
    """The upstream's own explanation: a problem's ``detail``, else the start of its body."""
    try:
        body = response.json()
        text = body.get("detail") if isinstance(body, dict) else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = None
    text = str(text or response.text.strip() or response.reason_phrase)
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
