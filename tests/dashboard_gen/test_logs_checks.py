"""The logs checks: quiet on the repository, and each one fails on a fixture where one thing
differs (a search on an undeclared field, a regex group missing, a hop naming the trace id
otherwise, a field that is a prefix of another, a query that does not parse)."""

from __future__ import annotations

import dataclasses

import pytest

from observability.catalog import FieldType, LogField, LogSchema, ServiceCatalog
from observability.catalog.common import BASE_LOG_SCHEMA
from observability.checks import (
    log_field_closure,
    log_field_types,
    log_query_syntax,
    trace_id_name,
)
from observability.checks.base import build_context
from observability.checks.registry import AGREEMENT, run_checks
from observability.diagnostics import Level
from observability.logs.kql import KqlError, parse, query_fields, translate
from observability.render import fluent_bit, kibana, otelcol_config
from observability.render.provenance import of_service
from observability.render.usage import FieldUse
from tests.dashboard_gen import shop

LOG_CHECKS = ("logs/field-closure", "logs/field-types", "logs/query-syntax", "logs/trace-id-name")


def test_the_log_checks_are_agreement_checks():
    assert set(LOG_CHECKS) <= set(AGREEMENT)


def test_repository_has_no_log_problems(repo_platform, repo_config):
    ctx = build_context(repo_platform, repo_config)
    assert [str(p) for p in run_checks(ctx, LOG_CHECKS)] == []


def _ctx(config, platform=None, **replaced_files):
    ctx = build_context(platform or shop.platform(), config)
    if replaced_files:
        files = dict(ctx.files)
        for path, (old, new) in replaced_files.items():
            assert old in files[path], (path, old)
            files[path] = files[path].replace(old, new)
        ctx = dataclasses.replace(ctx, files=files)
    return ctx


def _messages(check, ctx):
    return [(p.level, p.message, p.artifact) for p in check.run(ctx)]


def test_shop_is_clean(shop_config):
    ctx = _ctx(shop_config)
    assert run_checks(ctx, LOG_CHECKS) == []


def test_a_search_on_an_undeclared_field_fails(shop_config, monkeypatch):
    service = shop.platform().services[0]
    use = FieldUse("order.id", of_service(service), kibana.PATH, "Kibana search probe", ("shop",))
    real = log_field_closure.all_field_uses
    monkeypatch.setattr(log_field_closure, "all_field_uses", lambda p, c: [*real(p, c), use])
    found = _messages(log_field_closure.CHECK, _ctx(shop_config))
    assert found == [
        (
            Level.BUG,
            "Kibana search probe uses field order.id, which shop does not emit (its log schema "
            "does not declare it)",
            kibana.PATH,
        )
    ]


def _access_service(pattern: str) -> ServiceCatalog:
    fields = (
        LogField("@timestamp", FieldType.DATE, "When.", True),
        LogField("service.name", FieldType.KEYWORD, "Who.", True),
        LogField("trace.id", FieldType.KEYWORD, "Trace."),
        LogField("http.response.status_code", FieldType.LONG, "Status.", True),
    )
    schema = LogSchema(fields, "regex", pattern, "%Y-%m-%dT%H:%M:%S%z")
    return ServiceCatalog("proxy", "A proxy.", (), schema, http=False)


GOOD = (
    r"^(?<timestamp>\S+) (?<service_name>proxy) (?<http_response_status_code>\d{3})"
    r" (?:-|(?<trace_id>[0-9a-f]{32}))$"
)


def _with_proxy(pattern: str):
    base = shop.platform()
    return dataclasses.replace(base, services=(*base.services, _access_service(pattern)))


def test_a_regex_without_a_declared_group_fails(shop_config):
    missing = GOOD.replace(r" (?:-|(?<trace_id>[0-9a-f]{32}))", r" \S+")
    found = _messages(log_field_closure.CHECK, _ctx(shop_config, _with_proxy(missing)))
    parsers = [(m.split(":")[0], a) for _, m, a in found if "missing ['trace.id']" in m]
    assert parsers == [
        ("Fluent Bit parser proxy_regex", fluent_bit.PARSERS_PATH),
        ("collector filelog/proxy", otelcol_config.PATH),
    ]
    assert (
        Level.BUG,
        "Kibana search fleet-errors-proxy uses field trace.id, which the parser of proxy does "
        "not produce",
        kibana.PATH,
    ) in found
    assert _messages(log_field_closure.CHECK, _ctx(shop_config, _with_proxy(GOOD))) == []


def test_a_rename_to_another_trace_id_name_fails(shop_config):
    ctx = _ctx(
        shop_config,
        _with_proxy(GOOD),
        **{fluent_bit.CONF_PATH: ("trace_id trace.id", "trace_id traceId")},
    )
    found = _messages(trace_id_name.CHECK, ctx)
    assert (
        Level.BUG,
        "fluent-bit parser proxy_regex writes the trace id as 'traceId', not trace.id",
        fluent_bit.PARSERS_PATH,
    ) in found


def test_a_collector_move_to_another_trace_id_name_fails(shop_config):
    ctx = _ctx(
        shop_config,
        _with_proxy(GOOD),
        **{otelcol_config.PATH: ('to: attributes["trace.id"]', 'to: attributes["trace_id_"]')},
    )
    found = _messages(trace_id_name.CHECK, ctx)
    assert any(
        "collector parser filelog/proxy writes the trace id as 'trace_id_'" in m
        for _, m, _ in found
    )


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "datasources:\n- type: elasticsearch\n  jsonData:\n    dataLinks:\n"
            "    - field: trace_id\n      datasourceUid: jaeger\n",
            "Elasticsearch data link on field 'trace_id'",
        ),
        (
            "datasources:\n- type: prometheus\n  jsonData:\n    exemplarTraceIdDestinations:\n"
            "    - name: traceID\n      datasourceUid: jaeger\n",
            "exemplarTraceIdDestinations name 'traceID'",
        ),
        (
            "datasources:\n- type: jaeger\n  jsonData:\n    tracesToLogsV2:\n"
            "      query: 'traceId:\"${__trace.traceId}\"'\n",
            "tracesToLogsV2 query 'traceId:\"${__trace.traceId}\"' reads ['traceId']",
        ),
        (
            "grafana:\n  sidecar:\n    datasources:\n      exemplarTraceIdDestinations:\n"
            "        datasourceUid: jaeger\n        traceIdLabelName: traceid\n",
            "exemplarTraceIdDestinations.traceIdLabelName 'traceid'",
        ),
    ],
)
def test_a_data_source_with_another_name_fails(shop_config, yaml_text, expected):
    ctx = _ctx(shop_config)
    ctx = dataclasses.replace(
        ctx, files={**ctx.files, "dashboards/provisioning/probe.yaml": yaml_text}
    )
    found = [m for _, m, a in _messages(trace_id_name.CHECK, ctx) if a.endswith("probe.yaml")]
    assert len(found) == 1 and found[0].startswith(expected), found


def test_the_generated_and_committed_data_sources_agree(repo_platform, repo_config):
    ctx = build_context(repo_platform, repo_config)
    paths = dict(trace_id_name._yaml_texts(ctx))
    assert "k8s/overlays/aws/monitoring/kube-prometheus-stack.values.yaml" in paths
    assert _messages(trace_id_name.CHECK, ctx) == []


def test_a_schema_with_another_trace_id_name_fails(shop_config):
    base = shop.platform()
    service = base.services[0]
    odd = dataclasses.replace(
        service, logs=BASE_LOG_SCHEMA.extended(LogField("traceId", FieldType.KEYWORD, "x"))
    )
    ctx = _ctx(shop_config, dataclasses.replace(base, services=(odd,)))
    found = _messages(trace_id_name.CHECK, ctx)
    assert (
        Level.BUG,
        "the log schema names a trace id 'traceId'; the name is trace.id",
        "",
    ) in found


def test_a_field_under_a_value_field_fails(shop_config):
    base = shop.platform()
    service = base.services[0]
    odd = dataclasses.replace(
        service, logs=BASE_LOG_SCHEMA.extended(LogField("message.id", FieldType.KEYWORD, "x"))
    )
    found = _messages(
        log_field_types.CHECK, _ctx(shop_config, dataclasses.replace(base, services=(odd,)))
    )
    assert [m for _, m, _ in found] == [
        "field message.id makes message an object, but shop's message is a text value: "
        "Elasticsearch refuses one of the two; rename one"
    ]


def test_one_field_two_types_fails(shop_config):
    base = shop.platform()
    service = base.services[0]
    other = dataclasses.replace(
        service,
        name="other",
        logs=BASE_LOG_SCHEMA.extended(LogField("order.total", FieldType.DOUBLE, "x")),
    )
    mine = dataclasses.replace(
        service, logs=BASE_LOG_SCHEMA.extended(LogField("order.total", FieldType.LONG, "x"))
    )
    ctx = _ctx(shop_config, dataclasses.replace(base, services=(mine, other)))
    found = [m for _, m, _ in _messages(log_field_types.CHECK, ctx)]
    assert found == ["field order.total is double here but long in shop: one index, one type"]


def test_a_search_that_does_not_parse_fails(shop_config):
    ctx = _ctx(
        shop_config,
        **{kibana.PATH: ("log.level:(error or critical)", "log.level:(error or critical")},
    )
    found = _messages(log_query_syntax.CHECK, ctx)
    assert [(lvl, m.split(":")[0]) for lvl, m, _ in found] == [
        (Level.FATAL, "Kibana search fleet-errors-shop")
    ]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ('log.level:(error or critical) and service.name:"a-b"', ["log.level", "service.name"]),
        ("nginx.request_time >= 1", ["nginx.request_time"]),
        ('not event.action:"x" or trace.id:*', ["event.action", "trace.id"]),
        ("a:b AND (c:d OR e:f*)", ["a", "c", "e"]),
    ],
)
def test_kql_fields(query, fields):
    assert query_fields(query) == fields


@pytest.mark.parametrize("query", ["", "error", "a:(b", "a >= ", "a:b and", 'a:"open'])
def test_kql_refuses(query):
    with pytest.raises(KqlError):
        parse(query)


def test_kql_translates_like_kibana():
    assert translate('log.level:(error or critical) and service.name:"x"') == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"match": {"log.level": "error"}},
                            {"match": {"log.level": "critical"}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {"match_phrase": {"service.name": "x"}},
            ]
        }
    }
    assert translate("a >= 1.5") == {"range": {"a": {"gte": 1.5}}}
    assert translate("a:*") == {"exists": {"field": "a"}}
    assert translate("not a:b*") == {
        "bool": {"must_not": [{"query_string": {"fields": ["a"], "query": "b*"}}]}
    }
