"""PromQL read with ``promql-parser`` (never grepped): selectors, and the labels a result has.

``Labels`` infers which labels every series of an expression's result certainly carries, from
the metric index, and records each label an expression uses where its input lacks it
(``by``/``without``, ``on``/``ignoring``, ``group_left``/``group_right``). ``None`` means
unknown (a metric the index lacks); the closure checks stay silent where they cannot know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import promql_parser as pp

LabelSet = frozenset[str] | None
#: Functions whose result keeps the labels of their first vector argument are the default.
_SCALAR = pp.ValueType.Scalar


def parse(expr: str) -> pp.Expr:
    """The AST of ``expr``; ValueError with the parser's message when it is not PromQL."""
    return pp.parse(expr)


def vector_selectors(ast: pp.Expr) -> list[pp.VectorSelector]:
    found: list[pp.VectorSelector] = []

    def visit(node: pp.Expr) -> None:
        if isinstance(node, pp.VectorSelector):
            found.append(node)

    pp.walk(ast, visit)
    return found


def matchers(selector: pp.VectorSelector) -> list[pp.Matcher]:
    return list(selector.matchers.matchers)


def selector_name(selector: pp.VectorSelector) -> str:
    """The metric name a selector reads (``{__name__="x"}`` included), or '' when it has none."""
    if selector.name:
        return selector.name
    for m in matchers(selector):
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return ""


def equality_labels(selector: pp.VectorSelector) -> frozenset[str]:
    return frozenset(m.name for m in matchers(selector) if m.op == pp.MatchOp.Equal) - {"__name__"}


def is_scalar(node: pp.Expr) -> bool:
    if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
        return True
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr):
        return is_scalar(node.expr)
    if isinstance(node, pp.Call):
        return node.func.return_type == _SCALAR
    if isinstance(node, pp.BinaryExpr):
        return is_scalar(node.lhs) and is_scalar(node.rhs)
    return False


@dataclass
class Labels:
    """Label inference over one expression; ``issues`` collects labels used but absent."""

    resolve: Callable[[pp.VectorSelector], LabelSet]
    issues: list[str] = field(default_factory=list)

    def of(self, node: pp.Expr) -> LabelSet:
        if isinstance(node, pp.VectorSelector):
            return self.resolve(node)
        if isinstance(node, pp.MatrixSelector):
            return self.resolve(node.vector_selector)
        if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
            return self.of(node.expr)
        if isinstance(node, pp.Call):
            return self._call(node)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node)
        return frozenset()

    def _require(self, used: list[str] | frozenset[str], have: LabelSet, where: str) -> None:
        if have is None:
            return
        for label in sorted(set(used) - have):
            known = ", ".join(sorted(have)) or "none"
            self.issues.append(f"{where}: label {label} is not on its input (labels: {known})")

    def _call(self, node: pp.Call) -> LabelSet:
        name, args = node.func.name, list(node.args)
        # Every vector argument is inferred (so issues nested in any of them are found).
        vectors = [self.of(a) for a in args if not is_scalar(a)]
        if name in ("absent", "absent_over_time"):
            inner = args[0].vector_selector if isinstance(args[0], pp.MatrixSelector) else args[0]
            return equality_labels(inner) if isinstance(inner, pp.VectorSelector) else frozenset()
        if node.func.return_type == _SCALAR or name == "vector" or not vectors:
            return frozenset()
        labels = vectors[0]
        if labels is None:
            return None
        if name in ("label_replace", "label_join"):
            return labels | {args[1].val}
        if name == "histogram_quantile":
            self._require(["le"], labels, "histogram_quantile")
            return labels - {"le"}
        return labels

    def _aggregate(self, node: pp.AggregateExpr) -> LabelSet:
        inner = self.of(node.expr)
        op = str(node.op)
        grouping = list(node.modifier.labels) if node.modifier else []
        without = node.modifier is not None and node.modifier.type == pp.AggModifierType.Without
        self._require(
            grouping, inner, f"{op} {'without' if without else 'by'} ({', '.join(grouping)})"
        )
        if op in ("topk", "bottomk"):
            return inner
        extra = frozenset({node.param.val}) if op == "count_values" else frozenset()
        if without:
            return None if inner is None else inner - set(grouping) | extra
        return frozenset(grouping) | extra

    def _binary(self, node: pp.BinaryExpr) -> LabelSet:
        lhs, rhs = self.of(node.lhs), self.of(node.rhs)
        if is_scalar(node.lhs):
            return rhs
        if is_scalar(node.rhs):
            return lhs
        mod, op = node.modifier, str(node.op)
        matching = mod.matching if mod is not None else None
        on = matching is not None and matching.type == pp.LabelModifierType.Include
        listed = list(matching.labels) if matching is not None else []
        if on:
            self._require(listed, lhs, f"{op} on ({', '.join(listed)}), left side")
            self._require(listed, rhs, f"{op} on ({', '.join(listed)}), right side")
        elif listed and lhs is not None and rhs is not None:
            self._require(listed, lhs | rhs, f"{op} ignoring ({', '.join(listed)})")
        if op in ("and", "unless"):
            return lhs
        if op == "or":
            return None if lhs is None or rhs is None else lhs & rhs
        return self._matched(mod, on, listed, lhs, rhs)

    def _matched(
        self, mod: object, on: bool, listed: list[str], lhs: LabelSet, rhs: LabelSet
    ) -> LabelSet:
        card = getattr(mod, "card", pp.VectorMatchCardinality.OneToOne)
        include = list(getattr(mod, "group_labels", None) or [])
        if card == pp.VectorMatchCardinality.ManyToOne:
            self._require(include, rhs, "group_left, right side")
            return None if lhs is None else lhs | set(include)
        if card == pp.VectorMatchCardinality.OneToMany:
            self._require(include, lhs, "group_right, left side")
            return None if rhs is None else rhs | set(include)
        if lhs is None:
            return None
        return lhs & set(listed) if on else lhs - set(listed)
