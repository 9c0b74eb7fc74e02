"""What every check gets (``Context``: the catalogs, the rendered artifacts and what they use)
and what it is (``Check``: a name, a one-line summary, a function yielding Problems)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from observability.artifacts import all_queries, owned_globs, render_all
from observability.catalog.service import Platform
from observability.catalog.source import SourceRef
from observability.checks.index import MetricIndex, build_index
from observability.config import CONFIG_FILE, Config
from observability.diagnostics import Level, Problem
from observability.render.provenance import Origin
from observability.render.rules import RuleFile
from observability.render.symptom_rules import rule_files
from observability.render.usage import Query
from observability.testgen.index import HAND_WRITTEN_GLOB, TestFileInfo, read_test_file


@dataclass(frozen=True)
class Context:
    root: Path
    platform: Platform
    config: Config
    #: Every generated file, rendered in memory (path relative to ``root`` → text).
    files: Mapping[str, str]
    rule_files: tuple[RuleFile, ...]
    queries: tuple[Query, ...]
    index: MetricIndex
    #: promtool test files: generated (in memory) and hand-written (on disk).
    tests: tuple[TestFileInfo, ...]

    def shown(self, path: str) -> str:
        """Where the generated file ``path`` (its default path) is, relative to ``root``."""
        return self.config.output_path(path)

    def committed(self, path: str) -> str | None:
        """The file as it is in the working tree, None when it does not exist."""
        target = self.root / self.shown(path)
        return target.read_text() if target.is_file() else None

    def committed_owned(self) -> list[str]:
        """Files on disk that generated artifacts own (by their globs), by default path."""
        found = set()
        for pattern in owned_globs():
            found |= {
                self.config.default_path(p.relative_to(self.root).as_posix())
                for p in self.root.glob(self.shown(pattern))
                if p.is_file()
            }
        return sorted(found)

    def config_source(self) -> SourceRef:
        """Where the configuration is: ``[tool.dashboard-gen]`` in pyproject.toml, or
        dashboard-gen.toml."""
        path = self.root / CONFIG_FILE
        if path.is_file():
            return SourceRef(CONFIG_FILE, 1, str(path))
        path = self.root / "pyproject.toml"
        lines = path.read_text().splitlines() if path.is_file() else []
        line = next((i for i, t in enumerate(lines, 1) if t.strip() == "[tool.dashboard-gen]"), 1)
        return SourceRef("pyproject.toml", line, str(path))


def hand_written_tests(root: Path) -> list[TestFileInfo]:
    return [
        read_test_file(str(p.relative_to(root)), p.read_text())
        for p in sorted(root.glob(HAND_WRITTEN_GLOB))
    ]


def build_context(platform: Platform, config: Config) -> Context:
    files = render_all(platform, config)
    queries = all_queries(platform, config)
    generated = [
        read_test_file(path, text)
        for path, text in files.items()
        if fnmatch.fnmatchcase(path, "alerts/tests/generated/*.yml")
    ]
    return Context(
        root=config.root,
        platform=platform,
        config=config,
        files=files,
        rule_files=rule_files(platform, config),
        queries=tuple(queries),
        index=build_index(platform, queries),
        tests=tuple(generated + hand_written_tests(config.root)),
    )


@dataclass(frozen=True)
class Check:
    """One check: pint's shape (name, summary, a doc page, problems with their source)."""

    name: str
    summary: str
    run: Callable[[Context], Iterable[Problem]]

    @property
    def doc(self) -> str:
        """The doc page, relative to the project root."""
        return f"observability/checks/docs/{self.name.replace('/', '_')}.md"

    def problem(self, origin: Origin, level: Level, message: str, artifact: str = "") -> Problem:
        return Problem(origin.source, self.name, level, message, artifact)
