"""promql/label-closure: every label an expression or alert template uses exists where it is
used: matchers on the metric (with an allowed value, for bounded labels), ``by``/``without``
and ``on``/``ignoring``/``group_*`` on their input, ``$labels.x`` on the alert's result."""

from __future__ import annotations

import re
from collections.abc import Iterator

import promql_parser as pp

from observability.checks.base import Check, Context
from observability.checks.index import Series
from observability.checks.promql import (
    Labels,
    LabelSet,
    matchers,
    parse,
    selector_name,
    vector_selectors,
)
from observability.diagnostics import Level, Problem
from observability.render.usage import Query

_TEMPLATE_LABEL = re.compile(
    r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)"
)
#: ``{{ with $labels.x }}...{{ end }}`` guards a label that may be missing: not a use.
_GUARD = re.compile(r"\{\{-?\s*(?:with|if)\s+\$labels\.[A-Za-z_][A-Za-z0-9_]*\s*-?\}\}")
_REGEX = (pp.MatchOp.Re, pp.MatchOp.NotRe)


def _matches(m: pp.Matcher, value: str) -> bool:
    return re.fullmatch(m.value, value) is not None if m.op in _REGEX else m.value == value


def _matcher_problems(name: str, series: Series, selector: pp.VectorSelector) -> Iterator[str]:
    for m in matchers(selector):
        if m.name == "__name__":
            continue
        if m.name not in series.labels:
            yield f"{name} has no label {m.name} (labels: {', '.join(sorted(series.labels))})"
            continue
        allowed = series.values.get(m.name)
        positive = m.op in (pp.MatchOp.Equal, pp.MatchOp.Re)
        if allowed and positive and not any(_matches(m, v) for v in allowed):
            yield (
                f'{name}{{{m.name}{"=~" if m.op == pp.MatchOp.Re else "="}"{m.value}"}} matches '
                f"no allowed value of {m.name} ({', '.join(sorted(allowed))})"
            )


def template_labels(template: str) -> list[str]:
    unguarded = _GUARD.sub("", template)
    return [a or b for a, b in _TEMPLATE_LABEL.findall(unguarded)]


def _template_problems(query: Query, result: LabelSet) -> Iterator[str]:
    if result is None or query.records:
        return
    for template in query.templates:
        for label in template_labels(template):
            if label not in result:
                have = ", ".join(sorted(result)) or "none"
                yield (
                    f"template uses $labels.{label}, which not every result series carries "
                    f"(labels: {have}); guard it with {{{{ with $labels.{label} }}}}"
                )


def _query_problems(ctx: Context, query: Query) -> Iterator[str]:
    try:
        ast = parse(query.expr)
    except ValueError:
        return
    for selector in vector_selectors(ast):
        name = selector_name(selector)
        series = ctx.index.get(name)
        if series is not None:
            yield from _matcher_problems(name, series, selector)
    inference = Labels(ctx.index.labels_of)
    result = inference.of(ast)
    yield from inference.issues
    yield from _template_problems(query, result)


def run(ctx: Context) -> Iterator[Problem]:
    for query in ctx.queries:
        for message in dict.fromkeys(_query_problems(ctx, query)):
            yield CHECK.problem(query.origin, Level.BUG, f"{query.user}: {message}", query.artifact)


CHECK = Check(
    "promql/label-closure",
    "every label in matchers, grouping, vector matching and alert templates exists there",
    run,
)
