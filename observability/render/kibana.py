"""Kibana saved objects (NDJSON for ``POST /api/saved_objects/_import``), Kibana 8 format.

A data view over the log indices (id ``fleet-logs``, title ``fleet-logs*``, time field
``@timestamp``) and the saved searches of ``observability.logs.searches``. Deterministic: fixed
ids, one object per line sorted by type and id, sorted keys, no timestamps. The migration
versions are Kibana 8.0's, so any 8.x Kibana migrates them forward on import. Each object's
description says which definition it comes from (``generated-from: ...``).

``discover_url`` is the link into Discover for a query and a time range (the Grafana links use
it with Grafana's ``${__from:date:iso}``/``${__to:date:iso}``, kept unencoded).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from observability.catalog.correlation import KIBANA_LOG_DATA_VIEW_ID, LOG_INDEX_PREFIX
from observability.catalog.logs import TIME_FIELD
from observability.catalog.service import Platform
from observability.config import Config
from observability.logs.kql import query_fields
from observability.logs.searches import SavedSearch, saved_searches
from observability.render.provenance import MARKER, Origin, header
from observability.render.usage import FieldUse

PATH = "dashboards/kibana/fleet.ndjson"
MIGRATION_VERSION = "8.0.0"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
DATA_VIEW_TITLE = f"{LOG_INDEX_PREFIX}*"
DATA_VIEW_ORIGIN = Origin("observability.catalog.correlation", "DataView", KIBANA_LOG_DATA_VIEW_ID)


def _description(origin: Origin, text: str) -> str:
    generated = header({origin.module}).replace("\n", " ")
    return f"{text} ({MARKER} {origin}) {generated}"


def data_view() -> dict[str, Any]:
    return {
        "attributes": {
            "fieldAttrs": "{}",
            "fieldFormatMap": "{}",
            "fields": "[]",
            "name": LOG_INDEX_PREFIX,
            "runtimeFieldMap": "{}",
            "sourceFilters": "[]",
            "timeFieldName": TIME_FIELD,
            "title": DATA_VIEW_TITLE,
            "typeMeta": "{}",
        },
        "coreMigrationVersion": MIGRATION_VERSION,
        "id": KIBANA_LOG_DATA_VIEW_ID,
        "managed": False,
        "references": [],
        "type": "index-pattern",
        "typeMigrationVersion": MIGRATION_VERSION,
    }


def search_object(search: SavedSearch) -> dict[str, Any]:
    source = {
        "filter": [],
        "indexRefName": INDEX_REF,
        "query": {"language": "kuery", "query": search.query},
    }
    return {
        "attributes": {
            "columns": list(search.columns),
            "description": _description(search.origin, search.description),
            "grid": {},
            "hideChart": False,
            "isTextBasedQuery": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source, sort_keys=True)},
            "sort": [list(pair) for pair in search.sort],
            "timeRestore": False,
            "title": search.title,
        },
        "coreMigrationVersion": MIGRATION_VERSION,
        "id": search.id,
        "managed": False,
        "references": [{"id": KIBANA_LOG_DATA_VIEW_ID, "name": INDEX_REF, "type": "index-pattern"}],
        "type": "search",
        "typeMigrationVersion": MIGRATION_VERSION,
    }


def saved_objects(platform: Platform) -> list[dict[str, Any]]:
    objects = [data_view(), *(search_object(s) for s in saved_searches(platform))]
    return sorted(objects, key=lambda o: (o["type"] != "index-pattern", o["type"], o["id"]))


def render_kibana(platform: Platform) -> str:
    return "".join(
        json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in saved_objects(platform)
    )


def kibana_field_uses(platform: Platform, config: Config) -> list[FieldUse]:
    uses = [FieldUse(TIME_FIELD, DATA_VIEW_ORIGIN, PATH, "Kibana data view fleet-logs")]
    for search in saved_searches(platform):
        named = [*query_fields(search.query), *search.columns, *(f for f, _ in search.sort)]
        for name in dict.fromkeys(named):
            uses.append(FieldUse(name, search.origin, PATH, search.user, search.services))
    return uses


# --- links into Discover ------------------------------------------------------------------

_RISON_BARE = re.compile(r"^[A-Za-z0-9_.\-/~]+$")
#: What stays unencoded in a Discover URL: rison's syntax and Grafana's ``${...}`` variables.
_URL_SAFE = "/:(),'!*~$@{}._-="


def _rison(value: Any) -> str:
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "(" + ",".join(f"{_rison(k)}:{_rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(_rison(v) for v in value) + ")"
    text = str(value)
    if _RISON_BARE.match(text) and not text[0].isdigit() and text[0] != "-":
        return text
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def discover_url(
    config: Config,
    query: str,
    *,
    time_from: str = "now-15m",
    time_to: str = "now",
    columns: tuple[str, ...] = (),
) -> str:
    """Discover on the log data view with a KQL ``query`` over a time range, newest first.

    ``time_from``/``time_to`` are Kibana times (``now-1h``, an ISO date) or Grafana variables
    (``${__from:date:iso}``), left as they are for Grafana to fill in.
    """
    g = {"time": {"from": time_from, "to": time_to}}
    a: dict[str, Any] = {"index": KIBANA_LOG_DATA_VIEW_ID}
    if columns:
        a["columns"] = list(columns)
    a["query"] = {"language": "kuery", "query": query}
    a["sort"] = [[TIME_FIELD, "desc"]]
    base = config.kibana_url.rstrip("/")
    return (
        f"{base}/app/discover#/?_g={quote(_rison(g), safe=_URL_SAFE)}"
        f"&_a={quote(_rison(a), safe=_URL_SAFE)}"
    )
