"""How problems are shown: pint-style lines (``path:line: level: check: message [artifact]``)
or JSON, with a summary; and which findings fail the command."""

from __future__ import annotations

import json
from collections import Counter

import click

from observability.checks.registry import check_named
from observability.diagnostics import Level, Problem

FORMATS = click.Choice(["text", "json"])


def failing(problems: list[Problem]) -> bool:
    """Warnings and worse fail a command; information does not."""
    return any(p.level >= Level.WARNING for p in problems)


def summary(problems: list[Problem]) -> str:
    if not problems:
        return "no problems found"
    counts = Counter(str(p.level) for p in problems)
    by_level = ", ".join(f"{counts[str(lv)]} {lv}" for lv in reversed(Level) if counts[str(lv)])
    docs = sorted({check_named(p.check).doc for p in problems if _known(p.check)})
    return f"{len(problems)} problem(s): {by_level}\nsee " + ", ".join(docs)


def _known(name: str) -> bool:
    try:
        check_named(name)
    except KeyError:
        return False
    return True


def show(problems: list[Problem], fmt: str, extra: dict[str, object] | None = None) -> None:
    if fmt == "json":
        data = {**(extra or {}), "problems": [p.as_dict() for p in problems]}
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for problem in problems:
        click.echo(str(problem))
    click.echo(summary(problems), err=bool(problems))
