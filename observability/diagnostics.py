"""Problems found by the catalog validation and the checks, pint-style."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from observability.catalog.source import SourceRef


class Level(IntEnum):
    INFO = 0
    WARNING = 1
    BUG = 2
    FATAL = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: which check, how bad, what, and the Python definition at fault."""

    source: SourceRef
    check: str
    level: Level
    message: str
    #: The generated artifact the problem shows in, when there is one.
    artifact: str = ""

    def __str__(self) -> str:
        where = f" [{self.artifact}]" if self.artifact else ""
        return f"{self.source.path or self.source.module}:{self.source.line}: {self.level}: {self.check}: {self.message}{where}"

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "level": str(self.level),
            "message": self.message,
            "module": self.source.module,
            "line": self.source.line,
            "path": self.source.path,
            "artifact": self.artifact,
        }


class CatalogError(ValueError):
    """A catalog that breaks the rules; the message lists every problem with its source."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
