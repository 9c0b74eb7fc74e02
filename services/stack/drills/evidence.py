"""What an on-call engineer follows from an alert, read from the real servers: the alert in
Prometheus and Alertmanager, the panels of its dashboard, the log records, their traces."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import httpx
from promql_parser import MatchOp

from observability.catalog.correlation import LOG_INDEX_PREFIX, TRACE_ID_FIELD, TRACE_INDEX_PREFIX
from observability.checks.promql import matchers, parse, selector_name, vector_selectors
from observability.render.grafana.correlation import KIBANA_TITLE
from observability.render.grafana.files import DASHBOARD_DIR
from observability.render.grafana.variables import substitute, values_for
from services.stack import api

_RECORD = re.compile(r"^[a-z_]+:")
#: Kibana's Discover link: the KQL of ``_a=(...,query:(language:kuery,query:'...'))``.
_KQL = re.compile(r"query:\(language:kuery,query:'((?:[^']|'')*)'\)")


def firing(alert: str, severity: str = "") -> list[dict]:
    """The alert's instances Prometheus holds firing now."""
    body = httpx.get(f"{api.PROMETHEUS_URL}/api/v1/alerts", timeout=10).json()
    return [
        a
        for a in body["data"]["alerts"]
        if a["labels"].get("alertname") == alert
        and a["state"] == "firing"
        and (not severity or a["labels"].get("severity") == severity)
    ]


def in_alertmanager(alert: str) -> list[dict]:
    """The alert as Alertmanager holds it (active), with the receivers it was routed to."""
    params = {"filter": f'alertname="{alert}"', "active": "true"}
    answer = httpx.get(f"{api.ALERTMANAGER_URL}/api/v2/alerts", params=params, timeout=10)
    answer.raise_for_status()
    return list(answer.json())


@dataclass(frozen=True)
class LoadedRule:
    query: str
    labels: dict[str, str]


def rules(kind: str) -> dict[str, list[LoadedRule]]:
    """Rule name → its rules, as Prometheus loaded them (``kind``: record or alert). A name
    has several: every SLO records ``slo:sli_error:ratio_rate5m`` (told apart by labels), each
    SLO alert has one rule per severity."""
    body = httpx.get(f"{api.PROMETHEUS_URL}/api/v1/rules", params={"type": kind}, timeout=10)
    found: dict[str, list[LoadedRule]] = {}
    for group in body.json()["data"]["groups"]:
        for rule in group["rules"]:
            loaded = LoadedRule(rule["query"], rule.get("labels", {}))
            found.setdefault(rule["name"], []).append(loaded)
    return found


def _selects(selector: object, rule: LoadedRule) -> bool:
    """Whether the selector's equality matchers keep the series this recording writes."""
    return all(
        rule.labels.get(m.name, m.value) == m.value
        for m in matchers(selector)  # type: ignore[arg-type]
        if m.op == MatchOp.Equal and m.name != "__name__"
    )


def metrics_of(alert: str) -> set[str]:
    """The metrics an alert reads, through the recording rules it selects down to the
    scraped series."""
    loaded = rules("alert").get(alert)
    if loaded is None:
        raise api.StackError(f"Prometheus has no alerting rule {alert}")
    records, found, todo = rules("record"), set(), [r.query for r in loaded]
    while todo:
        for selector in vector_selectors(parse(todo.pop())):
            name = selector_name(selector)
            if _RECORD.match(name):
                todo += [r.query for r in records.get(name, []) if _selects(selector, r)]
            found.add(name)
    return found


@dataclass(frozen=True)
class PanelEvidence:
    title: str
    before: float
    during: float
    #: The panel showed data before the fault and shows none now (what a stopped reporter does).
    ended: bool = False

    def __str__(self) -> str:
        return f"{self.title!r}: {self.before:.3g} → " + (
            "no data" if self.ended else f"{self.during:.3g}"
        )

    @property
    def change(self) -> float:
        """How much the panel moved, relative to what it showed before the fault."""
        if self.ended:
            return 1.0
        return abs(self.during - self.before) / max(abs(self.before), 1e-9)


STEP_S = 15


def _range(expr: str, start: float, end: float) -> list[list[tuple[float, float]]]:
    params = {"query": expr, "start": start, "end": end, "step": STEP_S}
    body = httpx.get(f"{api.PROMETHEUS_URL}/api/v1/query_range", params=params, timeout=30).json()
    if body.get("status") != "success":
        return []
    return [[(float(t), float(v)) for t, v in s["values"]] for s in body["data"]["result"]]


def _mean(points: list[float]) -> float:
    return statistics.fmean(points) if points else 0.0


def _dashboard(repo: Path, dashboard_url: str) -> dict:
    uid = dashboard_url.rstrip("/").rsplit("/", 1)[-1]
    return json.loads((repo / DASHBOARD_DIR / f"{uid}.json").read_text())


def _services(board: dict) -> dict[str, str]:
    """The values of the dashboard's variables, as its ``service`` variable holds them."""
    services = next(v["query"] for v in board["templating"]["list"] if v["name"] == "service")
    return values_for(tuple(services.split(",")), "local")


def logs_link_query(repo: Path, dashboard_url: str) -> str:
    """The query of the dashboard's "Logs of this moment (Kibana)" link, its variables
    substituted ('' when the dashboard has none)."""
    board = _dashboard(repo, dashboard_url)
    for panel in board["panels"]:
        for link in panel.get("links") or []:
            if link.get("title", "").startswith(KIBANA_TITLE):
                found = _KQL.search(unquote(link["url"]))
                if found:
                    return substitute(found.group(1), _services(board))
    return ""


def dashboard_evidence(
    repo: Path, dashboard_url: str, metrics: set[str], fault_at: float, now: float
) -> list[PanelEvidence]:
    """Panels of the alert's dashboard that plot one of its metrics and changed when the
    fault began (the mean of their values before it against after it), the most changed
    first."""
    board = _dashboard(repo, dashboard_url)
    values = _services(board)
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            if not any(m in expr for m in metrics):
                continue
            start = fault_at - 600
            series = _range(substitute(expr, values), start, now)
            before = [v for s in series for t, v in s if t < fault_at]
            during = [v for s in series for t, v in s if t >= fault_at]
            mean_before, mean_during = _mean(before), _mean(during)
            # the range's last evaluation: a series with no point there has ended
            last = start + (now - start) // STEP_S * STEP_S
            ended = bool(before) and all(s[-1][0] < last for s in series)
            if (
                ended
                or abs(mean_during - mean_before) > 0.1 * max(abs(mean_before), 1e-9)
                or bool(before) != bool(during)
            ):
                found.append(PanelEvidence(panel["title"], mean_before, mean_during, ended))
    return sorted(found, key=lambda p: -p.change)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def log_records(query: str, since: float, until: float) -> list[dict]:
    """The records of ``query`` (Lucene) logged between two moments (newest first)."""
    body = {
        "size": 500,
        "sort": [{"@timestamp": "desc"}],
        "query": {
            "bool": {
                "must": [{"query_string": {"query": query}}],
                "filter": [{"range": {"@timestamp": {"gte": _iso(since), "lte": _iso(until)}}}],
            }
        },
    }
    url = f"{api.ELASTICSEARCH_URL}/{LOG_INDEX_PREFIX}*/_search"
    answer = httpx.post(url, json=body, timeout=30)
    answer.raise_for_status()
    return [hit["_source"] for hit in answer.json()["hits"]["hits"]]


def traced(records: list[dict]) -> str:
    """A trace id of ``records`` that has spans in the traces index, or ''."""
    ids = {r.get(TRACE_ID_FIELD) for r in records} - {None, ""}
    for trace_id in sorted(ids):
        body = {"query": {"term": {"TraceId": trace_id}}}
        answer = httpx.post(
            f"{api.ELASTICSEARCH_URL}/{TRACE_INDEX_PREFIX}*/_count", json=body, timeout=30
        )
        if answer.is_success and answer.json()["count"] > 0:
            return str(trace_id)
    return ""
