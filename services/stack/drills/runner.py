"""Run a fire drill on the local stack: cause the fault, wait for the real Prometheus to fire the
alert and the real Alertmanager to route it, follow it to the dashboard, the logs and a trace,
remove the fault, wait for the alert to resolve. Every step is timed and checked."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import httpx

from observability.render.alertmanager import RECEIVERS
from services.stack import api
from services.stack.drills import evidence
from services.stack.drills.catalog import Drill
from services.stack.paths import REPO_ROOT

#: How long an alert may take to fire (its `for:` and windows, plus Prometheus's rounds).
FIRE_TIMEOUT_S = 420.0
RESOLVE_TIMEOUT_S = 600.0
POLL_S = 5.0
#: The API traffic a drill keeps up (a dispatcher's map polling), so faults show in requests.
TRAFFIC_INTERVAL_S = 0.25
GATEWAY_URL = "http://127.0.0.1:8000"


@dataclass
class DrillResult:
    alert: str
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


def _sampled_trace() -> dict[str, str]:
    """A W3C trace context asking for the trace to be sampled: the services' parent-based
    samplers follow it, so every drill request has its spans (a probe, not a user: users are
    sampled one in ten)."""
    return {"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"}


@contextmanager
def traffic() -> Iterator[None]:
    """Polls of the vehicle list through the gateway, as the live map makes them, traced."""
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=3) as client:
            while not stop.is_set():
                with suppress(httpx.HTTPError):
                    client.get(f"{GATEWAY_URL}/api/vehicles", headers=_sampled_trace())
                stop.wait(TRAFFIC_INTERVAL_S)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _follow(drill: Drill, result: DrillResult, alert: dict, fault_at: float) -> None:
    """The on-call engineer's steps once the alert fires."""
    routed = _wait(lambda: evidence.in_alertmanager(drill.alert), 60)
    if routed is None:
        result.failures.append("Alertmanager never held it")
    else:
        receivers = {r["name"] for a in routed[0] for r in a["receivers"]}  # type: ignore[attr-defined]
        expected = RECEIVERS[alert["labels"]["severity"]]
        result.receiver = ", ".join(sorted(receivers))
        if receivers != {expected}:
            result.failures.append(f"routed to {result.receiver}, the config says {expected}")
    expr = evidence.rules("alert").get(drill.alert)
    if expr is None:
        raise api.StackError(f"Prometheus has no alerting rule {drill.alert}")
    metrics = evidence.metrics_of(expr)
    panels = evidence.dashboard_evidence(
        REPO_ROOT, alert["annotations"]["dashboard_url"], metrics, fault_at, time.time()
    )
    result.dashboard = str(panels[0]) if panels else ""
    if not panels:
        result.failures.append(f"no panel of {alert['annotations']['dashboard_url']} shows it")
    records = evidence.log_records(drill.logs, fault_at)
    result.logs = len(records)
    if not records:
        result.failures.append(f"no log record matches {drill.logs}")
    result.trace = evidence.traced(records)
    if records and not result.trace:
        result.failures.append("no trace id of those records has spans in the traces index")


def run_drill(drill: Drill, say: Callable[[str], None] = print) -> DrillResult:
    result = DrillResult(drill.alert)
    if evidence.firing(drill.alert, drill.severity):
        result.failures.append("already firing before the fault")
        return result
    with traffic():
        say(f"{drill.alert}: {drill.what}")
        fault_at = time.time()
        with drill.fault():
            fired = _wait(lambda: evidence.firing(drill.alert, drill.severity), FIRE_TIMEOUT_S)
            if fired is None:
                result.failures.append(f"did not fire within {FIRE_TIMEOUT_S:.0f} s")
                return result
            instances, result.fired_after = fired
            say(f"{drill.alert}: fired after {result.fired_after:.0f} s; following it")
            _follow(drill, result, instances[0], fault_at)  # type: ignore[index]
        say(f"{drill.alert}: fault removed; waiting for it to resolve")
        resolved = _wait(
            lambda: not evidence.firing(drill.alert, drill.severity), RESOLVE_TIMEOUT_S
        )
        if resolved is None:
            result.failures.append(f"did not resolve within {RESOLVE_TIMEOUT_S:.0f} s")
        else:
            result.resolved_after = resolved[1]
    return result


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def table(results: list[DrillResult]) -> str:
    """The drills as a Markdown table (what the README shows)."""
    rows = [
        "| alert | fired after | receiver | dashboard evidence | logs | trace | resolved after | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        verdict = "ok" if r.ok else "FAILED: " + "; ".join(r.failures)
        rows.append(
            f"| {r.alert} | {_seconds(r.fired_after)} | {r.receiver or '-'} | "
            f"{r.dashboard or '-'} | {r.logs} records | {r.trace[:16] or '-'} | "
            f"{_seconds(r.resolved_after)} | {verdict} |"
        )
    return "\n".join(rows)
