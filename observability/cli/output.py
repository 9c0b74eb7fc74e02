"""How problems are shown: pint-style lines (``path:line: level: check: message [artifact]``)
or JSON, with a summary; and which findings fail the command."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import click

from observability.checks.registry import check_named
from observability.config import Config
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


def relative(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it (diagnostics name files as they are
    in the repository); as it is otherwise."""
    if not str(path):
        return ""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def relative_problem(problem: Problem, root: Path) -> Problem:
    return replace(
        problem, source=replace(problem.source, path=relative(problem.source.path, root))
    )


def show(
    problems: list[Problem],
    fmt: str,
    extra: dict[str, object] | None = None,
    config: Config | None = None,
) -> None:
    """The problems, their files relative to the configuration's folder (text only)."""
    if fmt == "json":
        data = {**(extra or {}), "problems": [p.as_dict() for p in problems]}
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for problem in problems:
        if config is not None:
            problem = relative_problem(problem, config.root)
            problem = replace(problem, artifact=config.output_path(problem.artifact))
        click.echo(str(problem))
    click.echo(summary(problems), err=bool(problems))
