"""From a panel to the logs and traces of the same moment and service.

Every rate, error and latency panel carries the same three links, with the panel's time range
(``${__from}``/``${__to}``, which follow a zoom on a spike) and the service filter:

- *Logs of this moment (Kibana)*: Discover on the ``fleet-logs`` data view, KQL on
  ``service.name``;
- *Logs of this moment (Explore)*: Grafana Explore on the Elasticsearch data source, the same
  query in Lucene;
- *Traces of this moment*: Explore on the trace data source, searching the service's traces.

The *trace* of one request is one click away too, from an exemplar: the Prometheus data
source's ``exemplarTraceIdDestinations`` (``provisioning``) opens the exemplar's ``trace_id``.
Per-series links use ``${__field.labels.job}``, the service of the clicked series.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from observability.catalog.correlation import KIBANA_LOG_DATA_VIEW_ID, SERVICE_FIELD
from observability.config import Config
from observability.render.grafana.style import data_link, link
from observability.render.grafana.variables import LOGS, SERVICE, TRACES, datasource, ref

KIBANA_TITLE = "Logs of this moment (Kibana)"
EXPLORE_LOGS_TITLE = "Logs of this moment (Explore)"
EXPLORE_TRACES_TITLE = "Traces of this moment"
LINK_TITLES = (KIBANA_TITLE, EXPLORE_LOGS_TITLE, EXPLORE_TRACES_TITLE)
#: The service of the series a data link is clicked on.
SERIES_SERVICE = "${__field.labels.job}"
_TOKEN = re.compile(r"(\$\{[^}]*\})")


def _encode(text: str, safe: str = "") -> str:
    """Percent-encoded, except Grafana's ``${...}`` variables (interpolated before opening)."""
    parts = _TOKEN.split(text)
    return "".join(p if _TOKEN.fullmatch(p) else quote(p, safe=safe) for p in parts)


def _rison_string(text: str) -> str:
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def service_query(service: str) -> str:
    """The Lucene / KQL query of one service's log records."""
    return f'{SERVICE_FIELD}:"{service}"'


def kibana_discover_url(config: Config, query: str) -> str:
    """Discover on our data view, KQL ``query``, the panel's time range (Kibana 8 URL state)."""
    global_state = "(time:(from:'${__from:date:iso}',to:'${__to:date:iso}'))"
    app_state = (
        f"(dataSource:(dataViewId:{_rison_string(KIBANA_LOG_DATA_VIEW_ID)},type:dataView),"
        f"query:(language:kuery,query:{_rison_string(query)}))"
    )
    safe = "(),:'!*$"
    return (
        f"{config.kibana_url.rstrip('/')}/app/discover#/"
        f"?_g={_encode(global_state, safe)}&_a={_encode(app_state, safe)}"
    )


def _explore_url(pane: dict[str, object]) -> str:
    text = json.dumps({"correlate": pane}, sort_keys=True, separators=(",", ":"))
    return f"/explore?schemaVersion=1&orgId=1&panes={_encode(text)}"


def explore_logs_url(query: str) -> str:
    """Grafana Explore on the logs data source (``$logs``), Lucene ``query``, panel range."""
    target = {
        "bucketAggs": [],
        "datasource": datasource("elasticsearch"),
        "metrics": [{"id": "1", "type": "logs"}],
        "query": query,
        "refId": "A",
        "timeField": "@timestamp",
    }
    return _explore_url(
        {
            "datasource": ref(LOGS),
            "queries": [target],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    )


def explore_traces_url(service: str) -> str:
    """Grafana Explore on the trace data source (``$traces``): the service's traces."""
    target = {
        "datasource": datasource("jaeger"),
        "queryType": "search",
        "refId": "A",
        "service": service,
    }
    return _explore_url(
        {
            "datasource": ref(TRACES),
            "queries": [target],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    )


def _urls(config: Config, service: str) -> list[tuple[str, str]]:
    query = service_query(service)
    return [
        (KIBANA_TITLE, kibana_discover_url(config, query)),
        (EXPLORE_LOGS_TITLE, explore_logs_url(query)),
        (EXPLORE_TRACES_TITLE, explore_traces_url(service)),
    ]


def panel_links(config: Config) -> list[dict[str, object]]:
    """The panel's header links, for the dashboard's ``$service``."""
    tip = "The logs or traces of the service during the panel's time range (zoom in first)."
    return [link(title, url, tip) for title, url in _urls(config, ref(SERVICE))]


def series_links(config: Config, per_series: bool) -> list[dict[str, object]]:
    """Data links of the points: the clicked series' service when series are per service."""
    service = SERIES_SERVICE if per_series else ref(SERVICE)
    return [data_link(title, url) for title, url in _urls(config, service)]
