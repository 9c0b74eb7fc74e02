"""Calls from the gateway to the position tracker: one pooled client, timeouts, clear failures.

Every call is timed in ``fleet_gateway_upstream_request_duration_seconds{upstream,outcome}`` and
traced (a CLIENT span, ``client_spans.py``, whose context the ``traceparent`` header carries).
The tracker's 2xx and 4xx answers are returned as they are; a tracker that cannot be reached,
fails or is too slow becomes a problem response (503, 502, 504) and a log record with the trace id.
At most UPSTREAM_MAX_CONCURRENCY calls are in flight; a request that finds no free slot within
UPSTREAM_QUEUE_TIMEOUT_SECONDS is shed (503 with Retry-After, outcome ``shed``, logged at most
once a second: ``admission.py``).

Why a call is never cancelled inside the client, and never waits in its connection pool
---------------------------------------------------------------------------------------
After a burst the gateway used to answer every call 504 for good, the tracker being fine: each
call was bounded by ``asyncio.timeout()`` around ``client.send()``, and cancelling a call that
waits in httpcore's ``AsyncConnectionPool`` (more calls than ``max_connections``) leaks a pool
slot. A call timed out mid-answer closes its connection; the pool then gives the freed slot to a
waiting request as a new, unconnected ``AsyncHTTPConnection`` (``_assign_requests_to_connections``
sets the request's event), even when that request's own timeout fired in the same loop turn (a
burst's calls time out together) and its cancellation is pending. Its task then raises
``CancelledError`` out of ``AsyncPoolRequest.wait_for_connection``, and ``handle_async_request``'s
``except BaseException`` drops the request but keeps the connection, which never connects:
``_connection is None`` and ``_connect_failed`` is False, so it is neither idle, closed, expired
nor available ("CONNECTING") and is never reaped. Once ``max_connections`` of them pile up,
every call waits in the pool until its timeout. Observed with httpcore 1.0.9 and the stand-in
tracker in slow mode: one burst of 40 calls (4 connections, 0.5 s timeout) left the pool at
``Requests: 0 active, 0 queued | Connections: 4 active`` (all four CONNECTING, each handed to a
request whose cancellation was already pending), and every later call timed out; the real
tracker wedged the same way. It is encode/httpcore#1093 (also #830, #961; fixes proposed in
#986, #1094, #1099, none released; fixed in the pydantic/httpx2 fork, PR #983).

So: a call runs in a task of its own, which nothing cancels; the gateway stops waiting for it at
UPSTREAM_TIMEOUT_SECONDS (504) and the task ends by the client's own per-phase timeouts. And its
slot is held until the task ends, with no more slots than pool connections, so a call never has
to wait in the pool (where it could be orphaned).

The client is aiohttp's (C-accelerated HTTP parsing), no longer httpx: httpx and httpcore were
the largest part of the gateway's CPU (about 620 µs a call against 170 µs for aiohttp, the same
2,000 calls to the tracker's ``/vehicles`` from one process, twice each). The design above stays:
it bounds what a slow tracker can be sent whatever the client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlencode

import aiohttp
import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from yarl import URL

from observability.runtime.logs import fields
from observability.runtime.metrics import ServiceMetrics
from services.api_gateway.admission import Slots
from services.api_gateway.client_spans import ClientSpans
from services.api_gateway.settings import GatewaySettings
from services.api_gateway.telemetry import UPSTREAM_DURATION, UPSTREAM_OUTCOMES
from services.common.errors import ProblemError
from services.common.tally import Tally

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
    #: Not called: every slot was taken (the tracker is saturated); answered 503 at once.
    SHED = "shed"


assert {o.value for o in Outcome} == set(UPSTREAM_OUTCOMES), "Outcome and the catalog disagree"


#: What the gateway answers for each kind of upstream failure.
_FAILURE_STATUS = {
    Outcome.SERVER_ERROR: (502, "Bad Gateway"),
    Outcome.UNAVAILABLE: (503, "Service Unavailable"),
    Outcome.TIMEOUT: (504, "Gateway Timeout"),
    Outcome.SHED: (503, "Service Unavailable"),
}


class UpstreamFailure(ProblemError):
    """The upstream could not give an answer worth passing on: 502, 503 or 504."""

    def __init__(
        self, outcome: Outcome, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        status, title = _FAILURE_STATUS[outcome]
        # The trace id lets whoever got the error find its trace and the gateway's log record.
        context = trace.get_current_span().get_span_context()
        extra = {"trace_id": format(context.trace_id, "032x")} if context.is_valid else {}
        super().__init__(status, title, detail, headers=headers, **extra)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """The tracker's answer, read whole."""

    status_code: int
    content: bytes
    content_type: str
    reason_phrase: str = ""
    #: The tracker's ``Retry-After``, passed on with its 503.
    retry_after: str | None = None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> object:
        return json.loads(self.content)


#: How long an idle connection to the tracker is kept: under uvicorn's keep-alive (5 s), so the
#: gateway never sends on a connection the tracker is closing.
KEEPALIVE_SECONDS = 4.0


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
        self._slots = Slots(
            settings.upstream_max_concurrency, settings.upstream_queue_timeout_seconds
        )
        self._retry_after = {"retry-after": str(settings.upstream_retry_after_seconds)}
        self._sheds = Tally(interval=1.0)
        #: Calls under way, the gateway waiting for them or not (asyncio keeps only weak references).
        self._calls: set[asyncio.Task[UpstreamResponse]] = set()
        self._max_connections = settings.upstream_max_connections
        #: Made in the event loop, at the first call (aiohttp binds a session to its loop).
        self._session: aiohttp.ClientSession | None = None
        self._spans = ClientSpans(tracer_provider.get_tracer(__name__) if tracer_provider else None)
        # Readiness probes run in a worker thread and are not traffic: a plain, untraced client.
        self._probe = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout))
        histogram = metrics.histogram(UPSTREAM_DURATION)
        self._durations = {
            outcome: histogram.labels(upstream=TRACKER, outcome=outcome.value)
            for outcome in Outcome
        }

    async def aclose(self) -> None:
        if self._calls:  # calls the gateway stopped waiting for end by the client's timeouts
            await asyncio.wait(set(self._calls), timeout=self.timeout)
        if self._session is not None:
            await self._session.close()
        self._probe.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._max_connections,
                keepalive_timeout=KEEPALIVE_SECONDS,
            )
            # Each phase bounded, as a whole call is by the gateway (``_send``).
            phases = aiohttp.ClientTimeout(
                total=None, connect=self.timeout, sock_connect=self.timeout, sock_read=self.timeout
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=phases, headers={"accept": "application/json"}
            )
        return self._session

    async def get(
        self, path: str, params: dict[str, str] | None = None, vehicle: str | None = None
    ) -> UpstreamResponse:
        """GET ``path`` (already encoded) from the tracker: its 2xx or 4xx response, else raise."""
        start = time.perf_counter()
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, quote_via=quote)  # '+' of an offset as %2B
        if not await self._slots.take():
            raise self._shed(path, vehicle, start)
        headers: dict[str, str] = {}
        with self._spans.call("GET", url, headers) as span:
            try:
                response = await self._send(url, headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._spans.failed(span, exc)
                failure = self._transport_failure(exc)
            else:
                self._spans.answered(span, response.status_code)
                outcome = _outcome(response.status_code)
                if outcome is not Outcome.SERVER_ERROR:
                    self._observe(outcome, start)
                    return response
                failure = self._server_failure(response)
        self._observe(failure.outcome, start)
        self._report(failure, path, vehicle, start)
        raise failure

    async def _send(self, url: str, headers: dict[str, str]) -> UpstreamResponse:
        """Send the call in a task that owns the slot taken for it; wait at most ``timeout``.

        The task is never cancelled (see the module's docstring): past the timeout the gateway
        answers 504 and the task ends by itself, by the client's per-phase timeouts (each is
        ``timeout``), giving the slot back.
        """
        call = asyncio.create_task(self._fetch(url, headers))
        self._calls.add(call)
        call.add_done_callback(self._ended)
        await asyncio.wait((call,), timeout=self.timeout)
        if not call.done():
            raise TimeoutError
        return call.result()

    async def _fetch(self, url: str, headers: dict[str, str]) -> UpstreamResponse:
        # Sent as built (encoded=True): yarl would otherwise re-quote the path and query.
        async with self._client().get(URL(url, encoded=True), headers=headers) as response:
            return UpstreamResponse(
                response.status,
                await response.read(),
                response.headers.get("content-type", "application/json"),
                response.reason or "",
                response.headers.get("retry-after"),
            )

    def _ended(self, call: asyncio.Task[UpstreamResponse]) -> None:
        self._calls.discard(call)
        self._slots.give_back()
        if not call.cancelled():
            call.exception()  # retrieved: a call nobody waits for any more ends quietly

    def _server_failure(self, response: UpstreamResponse) -> UpstreamFailure:
        """The tracker's 5xx as ours: its 503 (its database down, or saturated) stays a 503
        with its ``Retry-After``; any other is a 502."""
        detail = f"the position tracker failed with {response.status_code}: {_detail(response)}"
        if response.status_code == 503:
            retry = response.retry_after
            headers = {"retry-after": retry} if retry else self._retry_after
            return UpstreamFailure(Outcome.UNAVAILABLE, detail, headers=headers)
        return UpstreamFailure(Outcome.SERVER_ERROR, detail)

    def _shed(self, path: str, vehicle: str | None, start: float) -> UpstreamFailure:
        """Every slot taken: 503 at once, counted, logged at most once a second."""
        limit = self._slots.limit
        failure = UpstreamFailure(
            Outcome.SHED,
            f"the position tracker is saturated ({limit} calls in flight): retry later",
            headers=self._retry_after,
        )
        self._observe(Outcome.SHED, start)
        if shed := self._sheds.add():
            values = _failure_fields(failure, start, vehicle) | {"upstream.shed_requests": shed}
            log.warning(
                "GET %s from the position tracker: %d request(s) shed (503) since the last "
                "report, all %d calls in flight",
                path,
                shed,
                limit,
                extra=fields(**values),
            )
        return failure

    def _transport_failure(self, exc: aiohttp.ClientError | TimeoutError) -> UpstreamFailure:
        if isinstance(exc, TimeoutError):  # aiohttp's own timeouts are TimeoutErrors too
            detail = f"the position tracker did not answer within {self.timeout:g} s"
            return UpstreamFailure(Outcome.TIMEOUT, detail)
        if isinstance(exc, aiohttp.ClientConnectorError):
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
        values = _failure_fields(failure, start, vehicle)
        log.warning(
            "GET %s from the position tracker: %s", path, failure.detail, extra=fields(**values)
        )


def _failure_fields(
    failure: UpstreamFailure, start: float, vehicle: str | None
) -> dict[str, object]:
    """The ECS fields of a failed call's log record."""
    values: dict[str, object] = {
        "upstream.name": TRACKER,
        "upstream.outcome": failure.outcome.value,
        "event.action": "upstream-request",
        "event.outcome": "failure",
        "event.duration": int((time.perf_counter() - start) * 1e9),
    }
    if vehicle is not None:
        values["vehicle.name"] = vehicle
    return values


def _outcome(status: int) -> Outcome:
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status >= 400:
        return Outcome.CLIENT_ERROR
    return Outcome.OK


def _detail(response: httpx.Response | UpstreamResponse) -> str:
    """The upstream's own explanation: a problem's ``detail``, else the start of its body."""
    try:
        body = response.json()
        text = body.get("detail") if isinstance(body, dict) else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = None
    text = str(text or response.text.strip() or response.reason_phrase)
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
