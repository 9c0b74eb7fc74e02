"""promql/syntax: every expression an artifact evaluates parses as PromQL."""

from __future__ import annotations

from collections.abc import Iterator

from observability.checks.base import Check, Context
from observability.checks.promql import parse
from observability.diagnostics import Level, Problem


def run(ctx: Context) -> Iterator[Problem]:
    for query in ctx.queries:
        try:
            parse(query.expr)
        except ValueError as exc:
            yield CHECK.problem(
                query.origin, Level.FATAL, f"{query.user}: not valid PromQL: {exc}", query.artifact
            )


CHECK = Check("promql/syntax", "every rule and query parses as PromQL", run)
