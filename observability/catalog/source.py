"""Where a catalog definition was written, so diagnostics can point at the Python source."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = __name__.rpartition(".")[0]
#: The model's own modules: a definition's source is the first frame outside them.
_MODEL_MODULES = frozenset(
    f"{_PACKAGE}.{name}" for name in ("source", "metrics", "logs", "slo", "alerts", "service")
)


@dataclass(frozen=True, order=True)
class SourceRef:
    """A module and line of Python code, shown as ``module:line``."""

    module: str
    line: int
    path: str = ""

    def __str__(self) -> str:
        return f"{self.module}:{self.line}"


UNKNOWN_SOURCE = SourceRef("<unknown>", 0)


def caller_source(skip: tuple[str, ...] = ()) -> SourceRef:
    """The first stack frame outside the catalog model: the line that declared a definition.

    Factory functions that build definitions for their callers name their module in ``skip``.
    """
    frame = inspect.currentframe()
    try:
        while frame is not None:
            module = frame.f_globals.get("__name__", "<unknown>")
            filename = frame.f_code.co_filename
            # Skip the catalog itself and dataclass-generated __init__ code ("<string>").
            skipped = module in _MODEL_MODULES or module in skip
            if not skipped and not filename.startswith("<"):
                return SourceRef(module, frame.f_lineno, str(Path(filename).resolve()))
            frame = frame.f_back
        return UNKNOWN_SOURCE
    finally:
        del frame
