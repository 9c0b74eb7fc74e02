"""logs/field-closure: every log field an artifact uses is emitted and parsed.

A field used by a Kibana search (query, column or sort), a Fluent Bit parser or filter, a
collector receiver, a Grafana logs panel or data source must be in the log schema of each
service the use is about (of some service, when it is about any) — the schema is what the
service's logger writes (the contract tests hold the logger to it) — and be produced by that
service's parser, as the generated files really say:

- a regex parser's groups are exactly the schema's fields (``group_name``), in Fluent Bit's
  parsers.conf and in the collector's receiver (the same pattern string), and after the
  renames the outputs are the schema's field names;
- the JSON parser (Fluent Bit's one Merge_Parser, each JSON receiver of the collector) takes
  the event time from the schema's time field with the schema's time format.
"""

from __future__ import annotations

from collections.abc import Iterator

from observability.artifacts import all_field_uses
from observability.catalog.logs import TIME_FIELD
from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.logs.classic_conf import ConfError
from observability.logs.pipeline import LogRoute, routes
from observability.logs.readback import (
    ParserOutput,
    collector_receivers,
    fluent_bit_parsers,
    merge_parser,
)
from observability.render import fluent_bit, otelcol_config


def _parser_problems(route: LogRoute, out: ParserOutput | None, where: str) -> Iterator[str]:
    schema = route.schema
    if out is None:
        yield f"{where}: no parser for {route.name}"
        return
    if out.time_key != route.time_key:
        yield f"{where}: time key {out.time_key!r}, the schema's time field is {route.time_key!r}"
    if out.time_format != route.time_format:
        yield f"{where}: time format {out.time_format!r}, the schema says {route.time_format!r}"
    if route.regex:
        if out.regex != schema.pattern:
            yield f"{where}: its regex is not the schema's pattern"
        want = schema.names - {TIME_FIELD}
        if out.outputs != want:
            missing, extra = sorted(want - out.outputs), sorted(out.outputs - want)
            yield (
                f"{where}: parses fields {sorted(out.outputs)}; the schema's are "
                f"{sorted(want)} (missing {missing}, not declared {extra})"
            )
    elif not out.json:
        yield f"{where}: {route.name} writes JSON, its parser is not a JSON parser"


def _shipper_problems(ctx: Context) -> Iterator[Problem]:
    try:
        fb = fluent_bit_parsers(ctx.files)
    except ConfError as exc:
        fallback = routes(ctx.platform)[0].origin if ctx.platform.services else None
        if fallback:
            yield CHECK.problem(
                fallback, Level.FATAL, f"Fluent Bit config: {exc}", fluent_bit.CONF_PATH
            )
        return
    collector = collector_receivers(ctx.files)
    merge = merge_parser(ctx.files)
    for route in routes(ctx.platform):
        name = route.parser if route.regex else merge
        for message in _parser_problems(route, fb.get(name), f"Fluent Bit parser {name}"):
            yield CHECK.problem(route.origin, Level.BUG, message, fluent_bit.PARSERS_PATH)
        receiver = otelcol_config.receiver_name(route)
        for message in _parser_problems(route, collector.get(receiver), f"collector {receiver}"):
            yield CHECK.problem(route.origin, Level.BUG, message, otelcol_config.PATH)


def _use_problems(ctx: Context) -> Iterator[Problem]:
    services = {s.name: s for s in ctx.platform.services}
    produced = {r.name: r.produced_fields() & r.schema.names for r in routes(ctx.platform)}
    for use in all_field_uses(ctx.platform, ctx.config):
        wanted = use.services or tuple(services)
        unknown = [s for s in wanted if s not in services]
        for name in unknown:
            yield CHECK.problem(
                use.origin, Level.BUG, f"{use.user}: no service named {name}", use.artifact
            )
        known = [s for s in wanted if s in services]
        lacking = [s for s in known if use.field not in services[s].logs.names]
        unparsed = [
            s for s in known if s not in lacking and use.field not in produced[s] | {TIME_FIELD}
        ]
        if use.services:
            for name in lacking:
                yield CHECK.problem(
                    use.origin,
                    Level.BUG,
                    f"{use.user} uses field {use.field}, which {name} does not emit (its log "
                    "schema does not declare it)",
                    use.artifact,
                )
            for name in unparsed:
                yield CHECK.problem(
                    use.origin,
                    Level.BUG,
                    f"{use.user} uses field {use.field}, which the parser of {name} does not "
                    "produce",
                    use.artifact,
                )
        elif known and len(lacking) + len(unparsed) == len(known):
            yield CHECK.problem(
                use.origin,
                Level.BUG,
                f"{use.user} uses field {use.field}, which no service emits and parses",
                use.artifact,
            )


def run(ctx: Context) -> Iterator[Problem]:
    yield from _shipper_problems(ctx)
    yield from _use_problems(ctx)


CHECK = Check(
    "logs/field-closure",
    "every log field a search, parser or panel uses is emitted by the logger and parsed",
    run,
)
