"""alerts/style: the monitoring-mixins conventions (mixtool lint), plus working links.

CamelCase names of at most 40 characters; ``severity`` one of critical, warning, info; a
``summary`` that is a plain capitalised sentence ending in a period, without templates; a
``description``; a ``runbook_url`` to a runbook we generate and a ``dashboard_url`` to a
dashboard UID that exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.render.links import dashboard_keys, dashboard_url, runbook_path, runbook_url
from observability.render.rules import Rule

SEVERITIES = ("critical", "warning", "info")
MAX_NAME = 40
_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def _summary_problems(summary: str) -> Iterator[tuple[Level, str]]:
    if not summary.strip():
        yield Level.BUG, "has no summary annotation"
        return
    if "{{" in summary:
        yield (
            Level.WARNING,
            "summary is templated: keep it a plain sentence, put values in description",
        )
    if not summary[0].isupper():
        yield Level.WARNING, "summary does not start with a capital letter"
    if not summary.rstrip().endswith("."):
        yield Level.WARNING, "summary does not end with a period"


def _rule_problems(ctx: Context, rule: Rule) -> Iterator[tuple[Level, str]]:
    if not _CAMEL.match(rule.alert):
        yield Level.WARNING, "name is not CamelCase"
    if len(rule.alert) > MAX_NAME:
        yield Level.WARNING, f"name is longer than {MAX_NAME} characters"
    if rule.label("severity") not in SEVERITIES:
        yield (
            Level.BUG,
            f"severity {rule.label('severity')!r} is not one of {', '.join(SEVERITIES)}",
        )
    yield from _summary_problems(rule.annotation("summary"))
    if not rule.annotation("description").strip():
        yield Level.BUG, "has no description annotation"
    if rule.annotation("runbook_url") != runbook_url(ctx.config, rule.alert):
        yield Level.BUG, f"runbook_url is not {runbook_url(ctx.config, rule.alert)}"
    elif runbook_path(rule.alert) not in ctx.files:
        yield Level.BUG, f"no runbook is generated at {runbook_path(rule.alert)}"
    dashboards = {dashboard_url(ctx.config, key) for key in dashboard_keys(ctx.platform)}
    if rule.annotation("dashboard_url") not in dashboards:
        yield (
            Level.BUG,
            f"dashboard_url {rule.annotation('dashboard_url')!r} is no dashboard of ours",
        )


def run(ctx: Context) -> Iterator[Problem]:
    for rule_file in ctx.rule_files:
        for rule in rule_file.alerts:
            for level, message in dict.fromkeys(_rule_problems(ctx, rule)):
                yield CHECK.problem(rule.origin, level, f"{rule.what}: {message}", rule_file.path)


CHECK = Check(
    "alerts/style", "alert names, severities, annotations and links follow the conventions", run
)
