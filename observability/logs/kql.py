"""The subset of the Kibana Query Language our searches use: parsed, its fields listed, and
translated to an Elasticsearch query the way Kibana does (so a test can run it for real).

    query    := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | "(" or ")" | clause
    clause   := FIELD ":" values | FIELD ("<" | "<=" | ">" | ">=") VALUE
    values   := VALUE | "(" vor ")"        (vor/vand/vnot: the same with values)

A VALUE is a quoted phrase (``"a b"``, ``\\"`` inside) or a bare word (``*`` a wildcard; a
lone ``*`` means "the field exists"). Keywords are case-insensitive. A search must name its
fields: free text without a field is refused (it would search every field, which no closure
check can follow).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_RANGE_OPS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op><=|>=|<|>|:)|"(?P<q>(?:[^"\\]|\\.)*)"|(?P<w>[^\s()":<>]+))'
)


class KqlError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    kind: str  # lp rp op q w end
    text: str
    pos: int


def tokenize(query: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if match is None:
            raise KqlError(f"unexpected {query[pos : pos + 10]!r} at {pos}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "q":
            text = re.sub(r"\\(.)", r"\1", text)
        tokens.append(Token(kind, text, match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(query)))
    return tokens


# The parse tree: ("or", [..]), ("and", [..]), ("not", x), ("match", field, value, quoted),
# ("range", field, op, value).
Node = tuple


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = tokenize(query)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "w" and token.text.lower() == word:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, what: str) -> Token:
        token = self.take()
        if token.kind != kind:
            raise KqlError(f"expected {what} at {token.pos}, found {token.text or 'the end'!r}")
        return token

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            token = self.peek()
            raise KqlError(f"unexpected {token.text!r} at {token.pos}")
        return node

    def _chain(self, word: str, sub: Callable[[], Node]) -> Node:
        items = [sub()]
        while self.keyword(word):
            items.append(sub())
        return items[0] if len(items) == 1 else (word, items)

    def or_(self) -> Node:
        return self._chain("or", self.and_)

    def and_(self) -> Node:
        return self._chain("and", self.not_)

    def not_(self) -> Node:
        if self.keyword("not"):
            return ("not", self.not_())
        if self.peek().kind == "lp":
            self.take()
            node = self.or_()
            self.expect("rp", "')'")
            return node
        return self.clause()

    def clause(self) -> Node:
        token = self.take()
        if token.kind != "w":
            raise KqlError(
                f"expected a field name at {token.pos}, found {token.text or 'the end'!r}"
            )
        op = self.peek()
        if op.kind != "op":
            raise KqlError(
                f"{token.text!r} at {token.pos} names no field (free text is not allowed)"
            )
        self.take()
        if op.text == ":":
            return self.values(token.text)
        value = self.take()
        if value.kind not in ("w", "q"):
            raise KqlError(f"expected a value after {token.text} {op.text} at {value.pos}")
        return ("range", token.text, op.text, value.text)

    def values(self, field: str) -> Node:
        def vnot() -> Node:
            if self.keyword("not"):
                return ("not", vnot())
            if self.peek().kind == "lp":
                self.take()
                node = vor()
                self.expect("rp", "')'")
                return node
            value = self.take()
            if value.kind not in ("w", "q"):
                raise KqlError(f"expected a value for {field} at {value.pos}")
            return ("match", field, value.text, value.kind == "q")

        def vand() -> Node:
            return self._chain("and", vnot)

        def vor() -> Node:
            return self._chain("or", vand)

        return vnot()


def parse(query: str) -> Node:
    """The parse tree of ``query``; KqlError when it is not in the subset."""
    if not query.strip():
        raise KqlError("empty query")
    return _Parser(query).parse()


def fields(node: Node) -> list[str]:
    """The fields a query reads, in order of first use."""
    found: dict[str, None] = {}

    def walk(n: Node) -> None:
        if n[0] in ("or", "and"):
            for child in n[1]:
                walk(child)
        elif n[0] == "not":
            walk(n[1])
        else:
            found.setdefault(n[1], None)

    walk(node)
    return list(found)


def query_fields(query: str) -> list[str]:
    return fields(parse(query))


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def to_elasticsearch(node: Node) -> dict[str, Any]:
    """The Elasticsearch query Kibana sends for ``node`` (match, match_phrase, range, bool)."""
    kind = node[0]
    if kind == "or":
        return {
            "bool": {"should": [to_elasticsearch(n) for n in node[1]], "minimum_should_match": 1}
        }
    if kind == "and":
        return {"bool": {"filter": [to_elasticsearch(n) for n in node[1]]}}
    if kind == "not":
        return {"bool": {"must_not": [to_elasticsearch(node[1])]}}
    if kind == "range":
        _, field, op, value = node
        return {"range": {field: {_RANGE_OPS[op]: _number(value)}}}
    _, field, value, quoted = node
    if quoted:
        return {"match_phrase": {field: value}}
    if value == "*":
        return {"exists": {"field": field}}
    if "*" in value:
        return {"query_string": {"fields": [field], "query": value}}
    return {"match": {field: value}}


def translate(query: str) -> dict[str, Any]:
    return to_elasticsearch(parse(query))
