"""What a promtool test file proves: the rule files it loads, the alerts it asserts firing or
silent, the metrics its input series use. Read from generated and hand-written files alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

#: Hand-written tests, one file per service (symptom alerts), next to the generated folder.
HAND_WRITTEN_GLOB = "alerts/tests/*.test.yml"
_NAME = re.compile(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)")
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class TestFileInfo:
    path: str
    rule_files: tuple[str, ...]
    firing: frozenset[str]
    silent: frozenset[str]
    input_metrics: frozenset[str]


def series_metric(series: str) -> str:
    """The metric name of a promtool input series (``name{...}`` or ``{__name__="name"}``)."""
    match = _NAME.match(series)
    if match:
        return match.group(1)
    named = _NAME_MATCHER.search(series)
    return named.group(1) if named else ""


def _resolve(test_path: str, rule_file: str) -> str:
    parts: list[str] = []
    for part in (PurePosixPath(test_path).parent / rule_file).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def read_test_file(path: str, text: str) -> TestFileInfo:
    """``path`` relative to the project root; rule files are resolved against its folder."""
    doc = yaml.safe_load(text) or {}
    firing: set[str] = set()
    silent: set[str] = set()
    metrics: set[str] = set()
    for test in doc.get("tests") or []:
        for case in test.get("alert_rule_test") or []:
            (firing if case.get("exp_alerts") else silent).add(case.get("alertname", ""))
        for series in test.get("input_series") or []:
            metrics.add(series_metric(str(series.get("series", ""))))
    return TestFileInfo(
        path=path,
        rule_files=tuple(_resolve(path, r) for r in doc.get("rule_files") or []),
        firing=frozenset(firing),
        silent=frozenset(silent),
        input_metrics=frozenset(metrics - {""}),
    )
