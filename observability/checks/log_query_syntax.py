"""logs/query-syntax: every Kibana saved search is a valid KQL query over named fields, with
columns and a sort, on the log data view (read back from the generated NDJSON)."""

from __future__ import annotations

from collections.abc import Iterator

from observability.catalog.correlation import KIBANA_LOG_DATA_VIEW_ID
from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.logs.kql import KqlError, parse
from observability.logs.readback import kibana_searches
from observability.logs.searches import saved_searches
from observability.render.kibana import DATA_VIEW_ORIGIN, PATH
from observability.render.provenance import Origin


def run(ctx: Context) -> Iterator[Problem]:
    origins: dict[str, Origin] = {s.id: s.origin for s in saved_searches(ctx.platform)}
    for search in kibana_searches(ctx.files):
        origin = origins.get(search.id, DATA_VIEW_ORIGIN)
        what = f"Kibana search {search.id}"
        if search.language != "kuery":
            yield CHECK.problem(
                origin, Level.BUG, f"{what}: language {search.language!r}, not KQL", PATH
            )
        try:
            parse(search.query)
        except KqlError as exc:
            yield CHECK.problem(origin, Level.FATAL, f"{what}: not valid KQL: {exc}", PATH)
        if not search.columns:
            yield CHECK.problem(origin, Level.WARNING, f"{what}: no columns", PATH)
        if not search.sort:
            yield CHECK.problem(origin, Level.WARNING, f"{what}: no sort", PATH)
        if search.index_ref != KIBANA_LOG_DATA_VIEW_ID:
            yield CHECK.problem(
                origin,
                Level.BUG,
                f"{what}: reads data view {search.index_ref!r}, not {KIBANA_LOG_DATA_VIEW_ID!r}",
                PATH,
            )


CHECK = Check("logs/query-syntax", "every Kibana search parses as KQL over named fields", run)
