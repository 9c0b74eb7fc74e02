"""Run fire drills on the local stack: cause the fault, wait for the real Prometheus to fire each
of its alerts and the real Alertmanager to route them, follow each to its dashboard, remove the
fault, wait for them to resolve, then find the fault's log records through the alert's logs link
and a trace of one of them. Every step is timed and checked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import httpx

from observability.render.alertmanager import RECEIVERS
from services.stack import api
from services.stack.drills import evidence
from services.stack.drills.catalog import Alarm, Drill
from services.stack.drills.faults import repeating, sampled_traceparent
from services.stack.paths import REPO_ROOT

#: How long an alert may take to fire with the time-scaled rules (their `for:` and windows,
#: plus Prometheus's rounds), and to resolve once the fault is gone.
FIRE_TIMEOUT_S = 300.0
RESOLVE_TIMEOUT_S = 420.0
#: How long an alert left by the previous fault may take to clear before the next drill.
QUIET_TIMEOUT_S = 420.0
#: How long the fault's records and spans may take to reach Elasticsearch.
SHIPPING_TIMEOUT_S = 90.0
POLL_S = 5.0
#: The API traffic a drill keeps up (a dispatcher's map polling), so faults show in requests.
TRAFFIC_INTERVAL_S = 0.25
GATEWAY_URL = "http://127.0.0.1:8000"


@dataclass
class DrillResult:
    alert: str
    drill: str = ""
    fired_after: float | None = None
    receiver: str = ""
    dashboard: str = ""
    logs: int = 0
    trace: str = ""
    resolved_after: float | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _wait(check: Callable[[], object], timeout: float) -> tuple[object, float] | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        found = check()
        if found:
            return found, time.monotonic() - started
        time.sleep(POLL_S)
    return None


@contextmanager
def traffic() -> Iterator[None]:
    """Polls of the vehicle list through the gateway, as the live map makes them, traced."""
    with httpx.Client(timeout=3) as client:

        def poll(stop: threading.Event) -> None:
            with suppress(httpx.HTTPError):
                headers = {"traceparent": sampled_traceparent()}
                client.get(f"{GATEWAY_URL}/api/vehicles", headers=headers)
            stop.wait(TRAFFIC_INTERVAL_S)

        with repeating(poll):
            yield


@contextmanager
def drilling() -> Iterator[None]:
    """The time-scaled rules loaded and the map's traffic running, for a run of drills."""
    with api.drill_rules(), traffic():
        yield


def _firing(alarm: Alarm) -> bool:
    return bool(evidence.firing(alarm.alert, alarm.severity))


def _route(alarm: Alarm, result: DrillResult) -> None:
    """Alertmanager holds the alert, on the receiver its severity routes to."""
    routed = _wait(lambda: evidence.in_alertmanager(alarm.alert), 60)
    if routed is None:
        result.failures.append("Alertmanager never held it")
        return
    held: list[dict] = routed[0]  # type: ignore[assignment]
    severities = {a["labels"]["severity"] for a in held}
    receivers = {r["name"] for a in held for r in a["receivers"]}
    expected = {RECEIVERS[s] for s in severities if not alarm.severity or s == alarm.severity}
    result.receiver = ", ".join(sorted(receivers))
    if not expected <= receivers:
        result.failures.append(f"routed to {result.receiver}, the config says {expected}")


def _dashboard_url(alarm: Alarm, result: DrillResult) -> str:
    """The firing alert's ``dashboard_url``."""
    (instance,) = evidence.firing(alarm.alert, alarm.severity)[:1] or [None]
    if instance is None:
        result.failures.append("stopped firing before it could be followed")
        return ""
    return instance["annotations"]["dashboard_url"]


def _show(alarm: Alarm, result: DrillResult, dashboard_url: str, fault_at: float) -> None:
    """A panel of the alert's dashboard shows the anomaly. Looked at once every alert of the
    drill has fired, as the fault goes on: a panel's rate window (``$__rate_interval``) can
    still hold the samples of before the fault when a quick alert fires."""
    panels = evidence.dashboard_evidence(
        REPO_ROOT, dashboard_url, evidence.metrics_of(alarm.alert), fault_at, time.time()
    )
    result.dashboard = str(panels[0]) if panels else ""
    if not panels:
        result.failures.append(f"no panel of {dashboard_url} shows it")


def _logs_and_trace(
    drill: Drill, alarm: Alarm, result: DrillResult, dashboard_url: str, window: tuple[float, float]
) -> None:
    """The logs link's query, narrowed to the fault's records, finds some in the fault's
    window; one of their trace ids has spans (unless the alarm says why none can)."""
    scope = evidence.logs_link_query(REPO_ROOT, dashboard_url) if dashboard_url else ""
    query = f"({scope}) AND ({alarm.records or drill.records})" if scope else drill.records

    def found() -> tuple[list[dict], str] | None:
        records = evidence.log_records(query, *window)
        trace = evidence.traced(records) if records and not alarm.untraced else ""
        return (records, trace) if records and (trace or alarm.untraced) else None

    shipped = _wait(found, SHIPPING_TIMEOUT_S)
    if shipped is None:
        records = evidence.log_records(query, *window)
        result.logs = len(records)
        if not records:
            result.failures.append(f"no log record matches {query}")
        else:
            result.failures.append("no trace id of those records has spans in the traces index")
        return
    (records, trace), _ = shipped  # type: ignore[misc]
    result.logs, result.trace = len(records), trace or f"n/a: {alarm.untraced}"


def run_drill(drill: Drill, say: Callable[[str], None] = print) -> list[DrillResult]:
    """One drill, with the time-scaled rules loaded (``drilling``): a result per alarm."""
    results = {a.alert: DrillResult(a.alert, drill.name) for a in drill.alarms}
    left = [a for a in drill.alarms if _firing(a)]
    if left:
        say(f"{drill.name}: waiting for {', '.join(a.alert for a in left)} to clear first")
        if _wait(lambda: not any(_firing(a) for a in drill.alarms), QUIET_TIMEOUT_S) is None:
            for alarm in drill.alarms:
                if _firing(alarm):
                    results[alarm.alert].failures.append("already firing before the fault")
            return list(results.values())
    say(f"{drill.name}: {drill.what}")
    dashboards: dict[str, str] = {}
    fault_at = time.time()
    started = time.monotonic()
    with drill.fault():
        waiting = list(drill.alarms)
        while waiting and time.monotonic() - started < FIRE_TIMEOUT_S:
            for alarm in [a for a in waiting if _firing(a)]:
                result = results[alarm.alert]
                result.fired_after = time.monotonic() - started
                say(f"{drill.name}: {alarm.alert} fired after {result.fired_after:.0f} s")
                _route(alarm, result)
                dashboards[alarm.alert] = _dashboard_url(alarm, result)
                waiting.remove(alarm)
            if waiting:
                time.sleep(POLL_S)
        for alarm in waiting:
            results[alarm.alert].failures.append(f"did not fire within {FIRE_TIMEOUT_S:.0f} s")
        for alert, url in dashboards.items():
            if url:
                _show(
                    next(a for a in drill.alarms if a.alert == alert), results[alert], url, fault_at
                )
    fault_end = time.time()
    ended = time.monotonic()
    say(f"{drill.name}: fault removed; waiting for the alerts to resolve")
    fired = [a for a in drill.alarms if results[a.alert].fired_after is not None]
    unresolved = list(fired)
    while unresolved and time.monotonic() - ended < RESOLVE_TIMEOUT_S:
        for alarm in [a for a in unresolved if not _firing(a)]:
            results[alarm.alert].resolved_after = time.monotonic() - ended
            unresolved.remove(alarm)
        if unresolved:
            time.sleep(POLL_S)
    for alarm in unresolved:
        results[alarm.alert].failures.append(f"did not resolve within {RESOLVE_TIMEOUT_S:.0f} s")
    window = (fault_at, fault_end + 30)
    for alarm in fired:
        _logs_and_trace(drill, alarm, results[alarm.alert], dashboards[alarm.alert], window)
    return list(results.values())


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def table(results: list[DrillResult]) -> str:
    """The drills as a Markdown table (what the README shows)."""
    rows = [
        "| drill | alert | fired after | receiver | dashboard evidence | logs | trace "
        "| resolved after | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "ok" if r.ok else "FAILED: " + "; ".join(r.failures)
        trace = r.trace if r.trace.startswith("n/a") else r.trace[:16]
        rows.append(
            f"| {r.drill} | {r.alert} | {_seconds(r.fired_after)} | {r.receiver or '-'} | "
            f"{r.dashboard or '-'} | {r.logs} records | {trace or '-'} | "
            f"{_seconds(r.resolved_after)} | {verdict} |"
        )
    return "\n".join(rows)
