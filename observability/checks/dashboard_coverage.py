"""dashboards/coverage: what pages someone can be seen on a dashboard.

Reverse closure: every SLO has a panel (a query selecting its ``sloth_id``); every alert's
metrics are plotted on some dashboard (an SLO's alerts by the SLO's panel); every alert's
``dashboard_url`` opens a dashboard we generate.
"""

from __future__ import annotations

from collections.abc import Iterator

from observability.checks.base import Check, Context
from observability.checks.dashboards import dashboards, prometheus_targets
from observability.checks.promql import parse, selector_name, vector_selectors
from observability.diagnostics import Level, Problem
from observability.render.provenance import of_slo
from observability.slo.model import slo_models


def _selectors(expr: str) -> list:
    try:
        return vector_selectors(parse(expr))
    except ValueError:
        return []


def plotted(ctx: Context) -> tuple[set[str], set[str]]:
    """The metric families and the SLO ids the dashboards' queries read."""
    families, slo_ids = set(), set()
    names = ctx.index.families()
    for dashboard in dashboards(ctx):
        for panel in dashboard.panels():
            for target in prometheus_targets(panel):
                for selector in _selectors(dashboard.concrete(str(target["expr"]))):
                    name = selector_name(selector)
                    families.add(names.get(name, name))
                    slo_ids |= {m.value for m in selector.matchers.matchers if m.name == "sloth_id"}
    return families, slo_ids


def run(ctx: Context) -> Iterator[Problem]:
    families, slo_ids = plotted(ctx)
    uids = {d.uid for d in dashboards(ctx)}
    names = ctx.index.families()
    plotted_slos = {of_slo(m.slo) for m in slo_models(ctx.platform) if m.sloth_id in slo_ids}
    for model in slo_models(ctx.platform):
        if model.sloth_id not in slo_ids:
            yield CHECK.problem(
                of_slo(model.slo), Level.WARNING, f"SLO {model.sloth_id} is on no dashboard"
            )
    for rule_file in ctx.rule_files:
        for rule in rule_file.alerts:
            where = f"{rule.what}: "
            url = rule.annotation("dashboard_url")
            uid = url.rstrip("/").rpartition("/d/")[2].split("?")[0] if "/d/" in url else ""
            if uid not in uids:
                message = f"dashboard_url {url!r} opens no generated dashboard"
                yield CHECK.problem(rule.origin, Level.BUG, where + message, rule_file.path)
            if rule.origin in plotted_slos:
                continue  # an SLO's alerts are read on its panel
            selected = (selector_name(s) for s in _selectors(rule.expr))
            for family in dict.fromkeys(names.get(n, n) for n in selected):
                if family not in families:
                    message = f"{family} is plotted on no dashboard"
                    yield CHECK.problem(rule.origin, Level.WARNING, where + message, rule_file.path)


CHECK = Check(
    "dashboards/coverage",
    "every SLO and every alert's metrics are on a dashboard; dashboard_url opens one of ours",
    run,
)
