"""nginx's access log, declared once: each ``key=value`` of the line with the field it fills.

From one :class:`AccessLogFormat` come, by pure functions:

- :func:`nginx_log_format`: nginx's ``log_format`` directive (and :func:`nginx_trace_id_map`,
  the ``map`` that takes the trace id out of the ``traceparent`` request header);
- :func:`parser_regex`: the regex that parses such a line back into the declared fields, in
  Onigmo (Ruby) syntax as Fluent Bit wants it, one named group per field (``group_name``);
- :func:`log_schema`: the ``LogSchema`` of the web app's catalog (fields, regex, time format).

A line is ``key=value`` pairs separated by single spaces, the key being the field's ECS name::

    @timestamp=2025-10-30T15:35:58+00:00 service.name=webapp client.address=127.0.0.1 ...
    url.original="/api/vehicles" ... trace.id=4bf92f3577b34da6a3ce929d0e0e4736

nginx writes ``-`` for an empty variable; an optional field's group then does not take part in
the match, so the field is absent (Fluent Bit skips empty values). Values in double quotes are
free text: nginx's default escaping writes ``"`` and ``\\`` as ``\\xHH``, so they hold no quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from observability.catalog.logs import LogField, LogSchema, group_name

#: nginx variable the trace id is kept in (set by :func:`nginx_trace_id_map`).
TRACE_ID_VARIABLE = "$webapp_trace_id"
#: The method as the client's request line has it. Not ``$request_method``: nginx answers its
#: own errors (a bad request line, TRACE, 413...) through an internal redirect to its error page,
#: which makes ``$request_method`` GET.
METHOD_VARIABLE = "$webapp_request_method"
#: A W3C ``traceparent`` header: version-traceid-parentid-flags, lower-case hex.
TRACEPARENT = r"^[0-9a-f]{2}-(?<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$"
#: What nginx writes for an empty (absent) value.
ABSENT = "-"
_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")
#: An Onigmo/Ruby named group ``(?<name>``, not a look-behind ``(?<=`` or ``(?<!``.
_ONIGMO_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


@dataclass(frozen=True)
class AccessLogPart:
    """One ``key=value`` of the line: the field, what nginx writes, and how it looks.

    ``value`` is the regex of what the group captures; ``prefix`` is literal text nginx writes
    before it that the field does not keep (``HTTP/`` of ``HTTP/1.1``). A field that is not
    ``required`` may be written as ``-`` (absent), or as nothing when it is not quoted.
    """

    field: LogField
    variable: str
    value: str
    quoted: bool = False
    prefix: str = ""

    @property
    def key(self) -> str:
        return self.field.name

    @property
    def group(self) -> str:
        return group_name(self.field.name)


@dataclass(frozen=True)
class AccessLogFormat:
    """The whole line: its parts in order, the ``log_format`` name and the time format."""

    name: str
    parts: tuple[AccessLogPart, ...]
    #: strptime format of the ``@timestamp`` value (nginx's ``$time_iso8601``).
    time_format: str

    @property
    def fields(self) -> tuple[LogField, ...]:
        return tuple(part.field for part in self.parts)


def _literal(text: str) -> str:
    """``text`` as a regex that matches exactly it (in Onigmo and Python alike)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text).replace(" ", "[ ]")


def nginx_log_format(fmt: AccessLogFormat) -> str:
    """The ``log_format`` directive (one line, ``escape=default``)."""
    pairs = []
    for part in fmt.parts:
        value = f'"{part.variable}"' if part.quoted else part.variable
        pairs.append(f"{part.key}={value}")
    line = " ".join(pairs)
    if "'" in line:
        raise ValueError(f"access log format {fmt.name}: a part contains a single quote")
    return f"log_format {fmt.name} escape=default '{line}';"


def nginx_method_map(variable: str = METHOD_VARIABLE) -> str:
    """The ``map`` that sets ``variable`` to the method of the original request line, else -."""
    return (
        f"map $request {variable} {{\n"
        '    "~^(?<webapp_request_line_method>[A-Z][A-Z_-]*) " $webapp_request_line_method;\n'
        f'    default "{ABSENT}";\n'
        "}"
    )


def nginx_trace_id_map(variable: str = TRACE_ID_VARIABLE) -> str:
    """The ``map`` that sets ``variable`` to the trace id of a valid ``traceparent``, else -."""
    pattern = TRACEPARENT.replace("(?<trace>", "(?<webapp_traceparent_id>")
    return (
        f"map $http_traceparent {variable} {{\n"
        f'    "~{pattern}" $webapp_traceparent_id;\n'
        f'    default "{ABSENT}";\n'
        "}"
    )


def _part_regex(part: AccessLogPart) -> str:
    value = f"{_literal(part.prefix)}(?<{part.group}>{part.value})"
    if not part.field.required and part.quoted:
        value = f"(?:{_literal(ABSENT)}|{value})"
    elif not part.field.required:
        # Or nothing at all: nginx writes an empty $server_protocol for a protocol it does not
        # support (answered 505), not "-".
        value = f"(?:{_literal(ABSENT)}|{value})?"
    if part.quoted:
        value = f'"{value}"'
    return f"{_literal(part.key)}={value}"


def parser_regex(fmt: AccessLogFormat) -> str:
    """The parser's regex, anchored, with one named group per field (Onigmo/Ruby syntax)."""
    return "^" + "[ ]".join(_part_regex(part) for part in fmt.parts) + "$"


def python_pattern(pattern: str) -> str:
    """An Onigmo pattern in Python ``re`` syntax (named groups are ``(?P<name>...)`` there)."""
    return _ONIGMO_GROUP.sub("(?P<", pattern)


def log_schema(fmt: AccessLogFormat) -> LogSchema:
    """The catalog's view of the access log: its fields, parsed by :func:`parser_regex`."""
    return LogSchema(
        fields=fmt.fields,
        format="regex",
        pattern=parser_regex(fmt),
        time_format=fmt.time_format,
    )


def parse_line(schema: LogSchema, line: str) -> dict[str, str] | None:
    """The fields of one line as a regex parser yields them (empty values skipped, as Fluent
    Bit's ``Skip_Empty_Values`` does), by field name; None when the line does not match."""
    match = re.match(python_pattern(schema.pattern), line.rstrip("\n"))
    if match is None:
        return None
    by_group = {group_name(f.name): f.name for f in schema.fields}
    return {by_group[group]: value for group, value in match.groupdict().items() if value}
