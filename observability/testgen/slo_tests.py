"""promtool unit tests for every SLO (``alerts/tests/generated/<sloth_id>.yml``).

Each scenario's expected alerts come from ``expected`` (the window table), never from evaluating
our PromQL; labels are the SLO's ids plus the rule's static labels, annotations the rule's with
``{{ $labels.x }}`` expanded. One file per SLO, because promtool sets the evaluation interval per file: a time-slice SLO
needs its rules evaluated every 5 minutes (``expected.evaluation_minutes``), an events SLO is
exact when evaluated hourly, twelve times faster. ``group_eval_order`` lists the rule file's
groups in file order, so the alerts read this evaluation's recordings (promtool's default order
is arbitrary).
"""

from __future__ import annotations

import re

from observability.catalog.correlation import SERVICE_LABEL
from observability.render.provenance import header, of_slo
from observability.render.rules import Rule, RuleFile
from observability.render.slo_rules import absent_alert_name, sli_record
from observability.render.yamltext import Commented, dump
from observability.slo.durations import format_duration, parse_duration
from observability.slo.model import SLOModel
from observability.slo.windows import BurnSeverity
from observability.testgen.cases import Case, ScenarioError, slo_cases
from observability.testgen.expected import evaluation_minutes, history_minutes
from observability.testgen.series import input_interval, scenario_series

GENERATED_DIR = "alerts/tests/generated"
_TEMPLATE = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")


def generated_test_path(model: SLOModel) -> str:
    return f"{GENERATED_DIR}/{model.sloth_id}.yml"


def expand(template: str, labels: dict[str, str]) -> str:
    """``{{ $labels.x }}`` replaced as Prometheus would; other templates cannot be predicted."""
    text = _TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), template)
    if "{{" in text:
        raise ScenarioError(f"cannot predict the expansion of {template!r}")
    return text


def _expected(rule: Rule, expr_labels: dict[str, str]) -> dict[str, object]:
    return {
        "exp_labels": {**expr_labels, **dict(rule.labels)},
        "exp_annotations": {k: expand(v, expr_labels) for k, v in rule.annotations},
    }


def _burn_rule(rule_file: RuleFile, model: SLOModel, severity: BurnSeverity) -> Rule:
    for rule in rule_file.alerts:
        if (
            rule.alert == model.slo.alert_name
            and rule.label("sloth_severity") == severity.sloth_severity
        ):
            return rule
    raise ScenarioError(
        f"no {severity.sloth_severity} alert {model.slo.alert_name} in {rule_file.path}"
    )


def _absent_rule(rule_file: RuleFile, model: SLOModel) -> Rule:
    return next(r for r in rule_file.alerts if r.alert == absent_alert_name(model))


def _alert_tests(rule_file: RuleFile, model: SLOModel, case: Case, at: str) -> list[object]:
    fired = [_expected(_burn_rule(rule_file, model, s), model.labels) for s in case.fires]
    return [
        {"eval_time": at, "alertname": model.slo.alert_name, "exp_alerts": fired},
        {"eval_time": at, "alertname": absent_alert_name(model), "exp_alerts": []},
    ]


def _clean_samples(model: SLOModel, at: str) -> list[object]:
    ids = ", ".join(f'{k}="{v}"' for k, v in model.labels.items())
    first = model.windows.sli_windows()[0]
    samples = {
        f'{sli_record(first)}{{{ids}, sloth_window="{first}"}}': 0,
        # The burn rate keeps the window label of the ratio it divides (as Sloth's does).
        f'slo:current_burn_rate:ratio{{{ids}, sloth_window="{first}"}}': 0,
        f"slo:objective:ratio{{{ids}}}": model.slo.objective,
        f"slo:error_budget:ratio{{{ids}}}": 1 - model.slo.objective,
        f"slo:time_period:days{{{ids}}}": model.slo.period_days,
    }
    return [
        {
            "expr": series.partition("{")[0] + "{" + ids + "}",
            "eval_time": at,
            "exp_samples": [{"labels": series, "value": value}],
        }
        for series, value in samples.items()
    ]


def scenario_test(rule_file: RuleFile, model: SLOModel, case: Case) -> dict[str, object]:
    at = format_duration(history_minutes(model) * 60)
    test: dict[str, object] = {
        "name": case.name,
        "interval": f"{input_interval(model)}m",
        "input_series": [s.as_dict() for s in scenario_series(model, case.burst)],
        "alert_rule_test": _alert_tests(rule_file, model, case, at),
    }
    if not case.fires and case.burst.minutes == 0:
        test["promql_expr_test"] = _clean_samples(model, at)
    return test


def absent_test(rule_file: RuleFile, model: SLOModel) -> dict[str, object]:
    """The SLI's metrics are gone while the service is scraped: the absent alert is pending
    until its ``for`` has passed, then fires; the burn alerts stay quiet (no data, no burn)."""
    service = model.service
    up = f'up{{{SERVICE_LABEL}="{service.name}",instance="127.0.0.1:{service.metrics_port or 0}"}}'
    rule = _absent_rule(rule_file, model)
    every = evaluation_minutes(model) * 60
    evaluations = max(1, -(-parse_duration(model.absent_for()) // every))
    fires_at = format_duration(evaluations * every)
    before = format_duration((evaluations - 1) * every)
    return {
        "name": f"{model.slo.name}: its metrics are missing, the absent-data alert fires",
        "interval": "5m",
        "input_series": [{"series": up, "values": f"1+0x{evaluations * every // 300}"}],
        "alert_rule_test": [
            {"eval_time": before, "alertname": rule.alert, "exp_alerts": []},
            {
                "eval_time": fires_at,
                "alertname": rule.alert,
                "exp_alerts": [_expected(rule, {SERVICE_LABEL: service.name})],
            },
            {"eval_time": fires_at, "alertname": model.slo.alert_name, "exp_alerts": []},
        ],
    }


def slo_test_file(rule_file: RuleFile, model: SLOModel) -> str:
    """The generated test file of one SLO, run against its service's rule file."""
    marker = of_slo(model.slo).marker
    tests: list[object] = [
        Commented(marker, scenario_test(rule_file, model, c)) for c in slo_cases(model)
    ]
    tests.append(Commented(marker, absent_test(rule_file, model)))
    data = {
        "rule_files": [f"../../rules/{rule_file.service}.yml"],
        "evaluation_interval": f"{evaluation_minutes(model)}m",
        "group_eval_order": [g.name for g in rule_file.groups],
        "tests": tests,
    }
    return dump(data, header=header({model.slo.source.module}))
