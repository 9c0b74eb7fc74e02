"""The generated logs artifacts, read back: Fluent Bit's config is structurally valid (no
`fluent-bit --dry-run` can be had here), the collector parses like Fluent Bit, the index
template maps the schemas' types, the Kibana objects are importable and deterministic."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from observability.catalog.correlation import (
    KIBANA_LOG_DATA_VIEW_ID,
    LOG_INDEX_PREFIX,
    TRACE_ID_FIELD,
)
from observability.logs import classic_conf
from observability.logs.pipeline import CRI_REGEX, JSON_PARSER, pattern_groups, regex_routes
from observability.logs.readback import collector_receivers, fluent_bit_config, fluent_bit_parsers
from observability.render import fluent_bit, index_template, kibana, otelcol_config
from observability.render.kibana import discover_url

#: The keys each plugin we use accepts (Fluent Bit 3.2 documentation), and the section keys.
KNOWN_KEYS = {
    "SERVICE": {
        "Flush",
        "Log_Level",
        "Parsers_File",
        "HTTP_Server",
        "HTTP_Listen",
        "HTTP_Port",
        "Health_Check",
        # Buffering & Storage (docs.fluentbit.io, administration/buffering-and-storage)
        "storage.path",
        "storage.sync",
        "storage.checksum",
        "storage.backlog.mem_limit",
        "storage.metrics",
    },
    "tail": {
        "Name",
        "Tag",
        "Path",
        "Exclude_Path",
        "multiline.parser",
        "DB",
        "DB.locking",
        "Mem_Buf_Limit",
        "storage.type",
        "Skip_Long_Lines",
        "Refresh_Interval",
    },
    "kubernetes": {
        "Name",
        "Match",
        "Merge_Log",
        "Merge_Parser",
        "Keep_Log",
        "Labels",
        "Annotations",
        "K8S-Logging.Parser",
        "K8S-Logging.Exclude",
    },
    "parser": {
        "Name",
        "Match",
        "Match_Regex",
        "Key_Name",
        "Parser",
        "Reserve_Data",
        "Preserve_Key",
    },
    "modify": {"Name", "Match", "Match_Regex", "Rename", "Remove"},
    "es": {
        "Name",
        "Match",
        "Host",
        "Port",
        "Logstash_Format",
        "Logstash_Prefix",
        "Logstash_DateFormat",
        "Time_Key",
        "Suppress_Type_Name",
        "Generate_ID",
        "Trace_Error",
        "Retry_Limit",
        "storage.total_limit_size",
    },
    "PARSER": {"Name", "Format", "Regex", "Time_Key", "Time_Format", "Time_Keep", "Types"},
}
#: strptime directives Fluent Bit's flb_strptime reads (plus %L, fractional seconds).
STRPTIME = set("YmdHMSzZjbBhaAeIpy%") | {"L"}


@pytest.fixture(scope="module")
def conf(repo_files):
    parsed = fluent_bit_config(repo_files)
    assert parsed is not None
    return parsed


def test_committed_fluent_bit_files_parse(repo_files):
    for path in (fluent_bit.CONF_PATH, fluent_bit.PARSERS_PATH):
        assert classic_conf.parse(repo_files[path])


def test_only_known_keys(conf):
    for section in [*conf.main, *conf.parsers]:
        known = KNOWN_KEYS[section.kind if section.kind in ("SERVICE", "PARSER") else section.name]
        assert {k for k, _ in section.entries} <= known, section


def test_service_serves_metrics_on_2020(conf):
    (service,) = conf.of_kind("SERVICE")
    assert service.get("HTTP_Server") == "On"
    assert service.get("HTTP_Port") == "2020"
    assert service.get("Parsers_File") == "parsers.conf"


def test_tail_writes_log_for_the_kubernetes_filter(conf):
    (tail,) = conf.of_kind("INPUT")
    assert tail.get("multiline.parser") == "cri"
    kube = [f for f in conf.of_kind("FILTER") if f.name == "kubernetes"]
    assert len(kube) == 1
    assert kube[0].get("Merge_Log") == "On" and kube[0].get("Keep_Log") == "Off"
    parser = conf.parser(kube[0].get("Merge_Parser"))
    assert parser is not None and parser.get("Format") == "json"
    assert parser.get("Time_Key") == "@timestamp" and parser.get("Time_Keep") == "Off"
    # Fluent Bit's cri parser names its groups so: the content is `log`
    assert "log" in pattern_groups(CRI_REGEX)


def test_es_output_writes_the_prefix_and_keeps_dotted_names(conf, repo_files):
    (output,) = conf.of_kind("OUTPUT")
    assert output.name == "es"
    assert output.get("Logstash_Format") == "On"
    assert output.get("Logstash_Prefix") == LOG_INDEX_PREFIX
    assert output.get("Index") is None  # ignored with Logstash_Format On: never written
    assert output.get("Suppress_Type_Name") == "On"
    text = repo_files[fluent_bit.CONF_PATH] + repo_files[fluent_bit.PARSERS_PATH]
    assert "Replace_Dots" not in text


def test_every_referenced_parser_exists(conf):
    for section in conf.of_kind("FILTER"):
        for key in ("Parser", "Merge_Parser"):
            if section.get(key):
                assert conf.parser(section.get(key)) is not None, section


def test_time_formats_use_directives_fluent_bit_knows(conf):
    for parser in conf.parsers:
        fmt = parser.get("Time_Format")
        assert fmt, parser
        assert set(re.findall(r"%(.)", fmt)) <= STRPTIME, fmt


def test_webapp_filters_match_only_its_container(conf):
    filters = [f for f in conf.of_kind("FILTER") if f.get("Match_Regex")]
    assert filters
    webapp = "kube.var.log.containers.webapp-6d9f7c5b4-x2x9z_default_webapp-" + "a" * 64 + ".log"
    gateway = (
        "kube.var.log.containers.api-gateway-5f-abcde_default_api-gateway-" + "b" * 64 + ".log"
    )
    for section in filters:
        assert re.match(section.get("Match_Regex"), webapp)
        assert not re.match(section.get("Match_Regex"), gateway)


def test_regex_parsers_rename_every_group_to_its_field(repo_platform, repo_files):
    parsers = fluent_bit_parsers(repo_files)
    for route in regex_routes(repo_platform):
        out = parsers[route.parser]
        assert out.regex == route.schema.pattern
        assert out.outputs == route.schema.names - {"@timestamp"}
        assert TRACE_ID_FIELD in out.outputs
        section = fluent_bit_config(repo_files).parser(route.parser)
        typed = dict(t.split(":") for t in section.get("Types").split())
        assert set(typed) <= set(pattern_groups(out.regex))


def test_collector_parses_like_fluent_bit(repo_platform, repo_files):
    fb = fluent_bit_parsers(repo_files)
    receivers = collector_receivers(repo_files)
    for route in regex_routes(repo_platform):
        mine = receivers[otelcol_config.receiver_name(route)]
        assert mine.regex == fb[route.parser].regex
        assert mine.outputs == fb[route.parser].outputs
        assert mine.time_format == fb[route.parser].time_format
    config = yaml.safe_load(repo_files[otelcol_config.PATH])
    exporter = config["exporters"]["elasticsearch"]
    assert exporter["logs_index"] == LOG_INDEX_PREFIX
    assert exporter["mapping"]["allowed_modes"] == ["raw"]
    for name, receiver in config["receivers"].items():
        if name.startswith("filelog/"):
            ops = receiver["operators"]
            assert ops[0]["type"] in ("json_parser", "regex_parser")
            assert ops[-1] == {
                "type": "remove",
                "id": "drop_body",
                "if": "body != nil",
                "field": "body",
            }
            assert not any(o["type"] == "trace_parser" for o in ops)


def test_index_template_maps_the_schema_types(repo_files):
    local = json.loads(repo_files[index_template.template_path(LOG_INDEX_PREFIX)])
    assert (
        repo_files[index_template.K8S_PATH]
        == repo_files[index_template.template_path(LOG_INDEX_PREFIX)]
    )
    props = local["template"]["mappings"]["properties"]
    assert local["index_patterns"] == [f"{LOG_INDEX_PREFIX}*"]
    assert props["@timestamp"]["type"] == "date"
    assert props[TRACE_ID_FIELD]["type"] == "keyword"
    assert props["fleet.batch.size"]["type"] == "long"
    assert props["nginx.request_time"]["type"] == "double"
    assert props["message"]["type"] == "text"
    traces = json.loads(repo_files[index_template.template_path("fleet-traces")])
    alias = traces["template"]["mappings"]["properties"][TRACE_ID_FIELD]
    assert alias == {"type": "alias", "path": "TraceId"}


def test_kibana_objects_are_importable_and_deterministic(repo_platform, repo_files):
    text = repo_files[kibana.PATH]
    assert text == kibana.render_kibana(repo_platform)
    objects = [json.loads(line) for line in text.splitlines()]
    assert all(
        line == json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False)
        for line in text.splitlines()
    )
    (view,) = [o for o in objects if o["type"] == "index-pattern"]
    assert view["id"] == KIBANA_LOG_DATA_VIEW_ID
    assert view["attributes"]["title"] == f"{LOG_INDEX_PREFIX}*"
    assert view["attributes"]["timeFieldName"] == "@timestamp"
    searches = {o["id"]: o for o in objects if o["type"] == "search"}
    services = {s.name for s in repo_platform.services}
    assert {f"fleet-errors-{s}" for s in services} <= set(searches)
    assert {"fleet-trace", "fleet-dead-lettered", "fleet-slow-requests-webapp"} <= set(searches)
    for search in searches.values():
        attributes = search["attributes"]
        assert attributes["columns"] and attributes["sort"]
        assert "generated-from:" in attributes["description"]
        assert search["references"][0]["id"] == KIBANA_LOG_DATA_VIEW_ID
        source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["indexRefName"] == search["references"][0]["name"]
    assert len(searches) + 1 == len(objects)


def test_discover_url_keeps_grafana_variables(repo_config):
    url = discover_url(
        repo_config,
        f'{TRACE_ID_FIELD}:"${{__value.raw}}"',
        time_from="${__from:date:iso}",
        time_to="${__to:date:iso}",
    )
    assert url.startswith(f"{repo_config.kibana_url}/app/discover#/?_g=(time:(from:")
    assert "${__from:date:iso}" in url and "${__value.raw}" in url
    assert f"index:{KIBANA_LOG_DATA_VIEW_ID}" in url
    assert "trace.id:%22${__value.raw}%22" in url
    assert " " not in url and '"' not in url


def test_json_parser_name_is_stable():
    assert JSON_PARSER == "fleet_json"


def test_chunks_wait_on_disk_and_retries_never_give_up(conf):
    """An Elasticsearch outage of minutes loses no line: filesystem buffering, unlimited retries
    (10 retries used to drop a chunk after a few minutes), a bounded disk buffer."""
    (service,) = [s for s in conf.main if s.kind == "SERVICE"]
    assert dict(service.entries)["storage.path"].startswith("/var/lib/fluent-bit/")
    (tail,) = [s for s in conf.main if s.name == "tail"]
    assert dict(tail.entries)["storage.type"] == "filesystem"
    (output,) = [s for s in conf.main if s.name == "es"]
    assert dict(output.entries)["Retry_Limit"] == "no_limits"
    assert dict(output.entries)["storage.total_limit_size"]
