"""artifacts/drift: the committed generated files are exactly what the catalogs generate.

A differing file names the definitions whose objects changed, found by the provenance markers
(``generated-from: <module> <kind> <name>``) every generated object carries.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem
from observability.render.provenance import Origin, markers_in, platform_origins

_NO_MARKER = ("", "", "")


@dataclass(frozen=True)
class FileDrift:
    path: str
    #: ``missing`` (not committed), ``differs``, or ``extra`` (committed, no longer generated).
    status: str
    diff: str
    #: The definitions whose objects differ, when the markers tell.
    changed: tuple[tuple[str, str, str], ...] = ()


def _segments(text: str) -> dict[tuple[str, str, str], str]:
    """The text under each provenance marker (up to the next one), joined per marker."""
    found: dict[tuple[str, str, str], list[str]] = {}
    current = _NO_MARKER
    for line in text.splitlines():
        markers = markers_in(line)
        if markers:
            current = markers[0]
        found.setdefault(current, []).append(line)
    return {key: "\n".join(lines) for key, lines in found.items()}


def _changed(old: str, new: str) -> tuple[tuple[str, str, str], ...]:
    before, after = _segments(old), _segments(new)
    keys = sorted((set(before) | set(after)) - {_NO_MARKER})
    return tuple(k for k in keys if before.get(k) != after.get(k))


def _diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (committed)",
        tofile=f"{path} (generated)",
    )
    return "".join(lines)


def file_drifts(ctx: Context) -> list[FileDrift]:
    """The generated files that differ from the working tree, by their path there."""
    drifts = []
    for path, text in ctx.files.items():
        committed = ctx.committed(path)
        shown = ctx.shown(path)
        if committed is None:
            drifts.append(FileDrift(shown, "missing", _diff(shown, "", text)))
        elif committed != text:
            drifts.append(
                FileDrift(
                    shown, "differs", _diff(shown, committed, text), _changed(committed, text)
                )
            )
    for path in ctx.committed_owned():
        if path not in ctx.files:
            old = ctx.committed(path) or ""
            shown = ctx.shown(path)
            drifts.append(FileDrift(shown, "extra", _diff(shown, old, "")))
    return sorted(drifts, key=lambda d: d.path)


_SAY = {
    "missing": "is not committed",
    "differs": "differs from what the catalogs generate",
    "extra": "is no longer generated (stale)",
}


def run(ctx: Context) -> Iterator[Problem]:
    origins = platform_origins(ctx.platform)
    fallback = Origin("pyproject.toml", "config", "dashboard-gen", ctx.config_source())
    for drift in file_drifts(ctx):
        fix = "run `dashboard-gen generate`"
        known = [origins[k] for k in drift.changed if k in origins]
        if not known:
            yield CHECK.problem(
                fallback, Level.BUG, f"{drift.path} {_SAY[drift.status]}; {fix}", drift.path
            )
        for origin in known:
            yield CHECK.problem(
                origin,
                Level.BUG,
                f"{drift.path} {_SAY[drift.status]}: the objects of {origin.kind} {origin.name} "
                f"changed; {fix}",
                drift.path,
            )


CHECK = Check("artifacts/drift", "committed generated files equal what the catalogs generate", run)
