"""A small deterministic YAML writer that can put comments above list items.

PyYAML cannot write comments, and provenance comments above each rule are the point; so this
writes block-style YAML itself and asks PyYAML only how to write each scalar. Mappings keep the
order the renderer built them in (renderers sort where order carries no meaning), multi-line
strings become literal blocks (``|-``), and the output reads back with ``yaml.safe_load`` to the
same data (the unit tests prove it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml

_INDENT = 2


@dataclass(frozen=True)
class Commented:
    """A list item (or document) preceded by comment lines."""

    comment: str
    value: object


def dump(value: object, header: str = "") -> str:
    """``value`` as a YAML document, after ``header`` (comment lines, ``#`` added)."""
    lines = _comment_lines(header, 0) if header else []
    lines += _node(value, 0)
    return "\n".join(lines) + "\n"


def _comment_lines(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}# {line}".rstrip() for line in text.splitlines()]


def scalar(value: object) -> str:
    """One scalar as PyYAML writes it in flow context (quoted when it must be)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _literal_ok(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    return (
        "\n" in text.rstrip("\n")
        and not text.startswith((" ", "\n"))
        and not text.endswith("\n\n")
        and all(line == line.rstrip() and "\t" not in line and "\r" not in line for line in lines)
    )


def _literal(text: str, indent: int) -> list[str]:
    indicator = "|" if text.endswith("\n") else "|-"
    pad = " " * indent
    body = [f"{pad}{line}" if line else "" for line in text.rstrip("\n").split("\n")]
    return [indicator, *body]


def _is_scalar(value: object) -> bool:
    return not isinstance(value, Mapping | list | tuple | Commented)


def _empty(value: object) -> str | None:
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return None


def _node(value: object, indent: int) -> list[str]:
    if isinstance(value, Commented):
        return _comment_lines(value.comment, indent) + _node(value.value, indent)
    if isinstance(value, Mapping):
        return _mapping(value, indent)
    if isinstance(value, list | tuple):
        return _sequence(value, indent)
    return [" " * indent + scalar(value)]


def _inline(head: str, value: object, indent: int) -> list[str] | None:
    """``value`` written after ``head`` (``key:`` or ``-``) when it fits there, else None."""
    empty = _empty(value)
    if empty is not None:
        return [f"{head} {empty}"]
    if isinstance(value, str) and _literal_ok(value):
        first, *rest = _literal(value, indent + _INDENT)
        return [f"{head} {first}", *rest]
    if _is_scalar(value):
        return [f"{head} {scalar(value)}"]
    return None


def _mapping(mapping: Mapping[str, object], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in mapping.items():
        head = f"{pad}{scalar(key)}:"
        inline = _inline(head, value, indent)
        lines += inline if inline is not None else [head, *_node(value, indent + _INDENT)]
    return lines


def _sequence(items: Sequence[object], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Commented):
            lines += _comment_lines(item.comment, indent)
            item = item.value
        inline = _inline(f"{pad}-", item, indent)
        if inline is None:
            nested = _node(item, indent + _INDENT)
            inline = [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
        lines += inline
    return lines
