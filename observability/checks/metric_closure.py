"""promql/metric-closure: every selector reads a series some service emits, a rule we
generate records, or an allow-listed external exporter exposes; ``job="x"`` names a service
that emits it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

import promql_parser as pp

from observability.catalog.correlation import SERVICE_LABEL
from observability.checks.base import Check, Context
from observability.checks.index import MetricIndex
from observability.checks.promql import matchers, parse, selector_name, vector_selectors
from observability.diagnostics import Level, Problem
from observability.render.usage import Query


def _unknown(index: MetricIndex, name: str) -> str:
    message = f"{name} is not emitted by any service, recorded by any rule, or allow-listed"
    family = next((s for s in index.series.values() if s.family == name), None)
    if family is not None:
        return message + f" (a histogram: select {name}_bucket, {name}_sum or {name}_count)"
    close = difflib.get_close_matches(name, list(index.series), n=1, cutoff=0.75)
    return message + (f" (did you mean {close[0]}?)" if close else "")


def _query_problems(ctx: Context, query: Query) -> Iterator[tuple[Level, str]]:
    try:
        ast = parse(query.expr)
    except ValueError:
        return  # promql/syntax reports it
    for selector in vector_selectors(ast):
        name = selector_name(selector)
        if not name:
            yield Level.WARNING, "a selector without a metric name cannot be checked"
            continue
        series = ctx.index.get(name)
        if series is None:
            yield Level.BUG, _unknown(ctx.index, name)
            continue
        if series.origin != "catalog":
            continue
        jobs = [m for m in matchers(selector) if m.name == SERVICE_LABEL]
        if not jobs:
            yield (
                Level.WARNING,
                f"{name} has no {SERVICE_LABEL} matcher: it reads every service emitting it",
            )
        for m in jobs:
            if m.op == pp.MatchOp.Equal and m.value not in series.emitters:
                emitters = ", ".join(sorted(series.emitters))
                yield (
                    Level.BUG,
                    f'{name} is not emitted by {SERVICE_LABEL}="{m.value}" (emitted by: {emitters})',
                )


def run(ctx: Context) -> Iterator[Problem]:
    for query in ctx.queries:
        for level, message in dict.fromkeys(_query_problems(ctx, query)):
            yield CHECK.problem(query.origin, level, f"{query.user}: {message}", query.artifact)


CHECK = Check(
    "promql/metric-closure",
    "every selector reads a declared metric, a generated recording rule or an allow-listed one",
    run,
)
