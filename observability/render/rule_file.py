"""A service's rules as the plain rule file that promtool and Prometheus load."""

from __future__ import annotations

from observability.render.provenance import header
from observability.render.rules import RuleFile
from observability.render.yamltext import dump


def render_rule_file(rule_file: RuleFile, note: str = "") -> str:
    data = {"groups": [g.as_data() for g in rule_file.groups]}
    text = header(rule_file.modules) + (f"\n{note}" if note else "")
    return dump(data, header=text)
