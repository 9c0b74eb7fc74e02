"""Fluent Bit's classic configuration format: written by the renderer, read back by the checks.

A file is sections (``[SERVICE]``, ``[INPUT]``, ``[FILTER]``, ``[OUTPUT]``, ``[PARSER]``), each
with ``Key value`` lines indented under it; ``#`` starts a comment line. A key may repeat
(``Rename``, ``Remove`` of the modify filter), so entries keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

SECTIONS = ("SERVICE", "INPUT", "FILTER", "OUTPUT", "PARSER", "MULTILINE_PARSER")
_INDENT = "    "


@dataclass(frozen=True)
class Section:
    kind: str
    entries: tuple[tuple[str, str], ...]
    #: Comment lines above the section (without ``#``).
    comment: str = ""
    #: 1-based line of the ``[KIND]`` header in the file it was read from.
    line: int = 0

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.entries:
            if k.lower() == key.lower():
                return v
        return default

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.entries if k.lower() == key.lower()]

    @property
    def name(self) -> str:
        """The plugin (``Name``) of an input, filter or output; the parser's name."""
        return self.get("Name") or ""


@dataclass
class ConfError(ValueError):
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def render(sections: Iterable[Section], header: str = "") -> str:
    out: list[str] = [f"# {line}".rstrip() for line in header.splitlines()]
    for section in sections:
        if out:
            out.append("")
        out += [f"# {line}".rstrip() for line in section.comment.splitlines()]
        out.append(f"[{section.kind}]")
        width = max((len(k) for k, _ in section.entries), default=0)
        for key, value in section.entries:
            if "\n" in value or value != value.strip() or not value:
                raise ValueError(f"[{section.kind}] {key}: a value must be one non-empty line")
            out.append(f"{_INDENT}{key.ljust(width)} {value}")
    return "\n".join(out) + "\n"


def parse(text: str) -> list[Section]:
    """The sections of a classic config; ConfError on what Fluent Bit would refuse."""
    sections: list[Section] = []
    kind = ""
    start = 0
    entries: list[tuple[str, str]] = []
    comment: list[str] = []
    pending: list[str] = []

    def close() -> None:
        if kind:
            sections.append(Section(kind, tuple(entries), "\n".join(comment), start))

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            pending.append(stripped[1:].strip())
            continue
        if stripped.startswith("@"):
            raise ConfError(number, f"directive {stripped.split()[0]} is not used here")
        if line.startswith("[") and line.endswith("]"):
            close()
            kind = line[1:-1].strip().upper()
            if kind not in SECTIONS:
                raise ConfError(number, f"unknown section [{kind}]")
            start, entries, comment, pending = number, [], pending, []
            continue
        if not kind:
            raise ConfError(number, "an entry outside any section")
        if not line[0].isspace():
            raise ConfError(number, "an entry must be indented under its section")
        key, _, value = stripped.partition(" ")
        if not value.strip():
            raise ConfError(number, f"{key}: no value")
        entries.append((key, value.strip()))
        pending = []
    close()
    return sections


@dataclass(frozen=True)
class FluentBitConfig:
    """Both files, parsed: the pipeline (fluent-bit.conf) and the parsers (parsers.conf)."""

    main: tuple[Section, ...]
    parsers: tuple[Section, ...]
    paths: tuple[str, str] = field(default=("", ""))

    def of_kind(self, kind: str) -> list[Section]:
        return [s for s in self.main if s.kind == kind]

    def parser(self, name: str) -> Section | None:
        for section in self.parsers:
            if section.kind == "PARSER" and section.name == name:
                return section
        return None
