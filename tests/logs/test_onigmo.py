"""Real lines through the parsers as Fluent Bit runs them: the nginx access lines through the
generated regex in Onigmo (Ruby's engine, Fluent Bit's), the CRI envelope through Fluent Bit's
own cri regex, the JSON lines of the Python services against their schemas, and every time
value through the exact Time_Format Fluent Bit gets (Ruby's strptime)."""

from __future__ import annotations

import json

import pytest

from observability.catalog.logs import TIME_FIELD, group_name
from observability.logs.pipeline import CRI_REGEX, CRI_TIME_FORMAT, json_routes, regex_routes
from observability.logs.readback import fluent_bit_config
from observability.render import fluent_bit
from services.stack.paths import stack_paths
from tests.logs import onigmo, traffic

pytestmark = pytest.mark.stack


def _parsers_on_disk():
    """The committed parsers.conf: the exact text the Fluent Bit ConfigMap carries."""
    files = {
        path: (traffic.REPO / path).read_text()
        for path in (fluent_bit.CONF_PATH, fluent_bit.PARSERS_PATH)
    }
    return fluent_bit_config(files)


def _access_lines(made) -> list[str]:
    """Recent access lines of nginx, once the ones this run made are there."""

    def ready() -> list[str]:
        lines = [
            line
            for line in traffic.tail_lines(traffic.nginx_log(), 300)
            if line.startswith("@timestamp=")
        ]
        ours = [line for line in lines if any(t in line for t in made.traces.values())]
        return (
            lines
            if len(ours) >= 3 and any("=-" in line and "method=-" in line for line in lines)
            else []
        )

    return traffic.until_found(ready, timeout=30, what="this run's access lines")


def test_access_lines_give_exactly_the_declared_fields_in_onigmo(platform, made):
    conf = _parsers_on_disk()
    lines = _access_lines(made)
    for route in regex_routes(platform):
        pattern = conf.parser(route.parser).get("Regex")
        assert pattern == route.schema.pattern  # the exact string Fluent Bit is given
        result = onigmo.run(pattern, lines)
        assert result["engine"].startswith("ruby")
        declared = {group_name(f.name) for f in route.schema.fields}
        required = {group_name(f.name) for f in route.schema.fields if f.required}
        complete = 0
        for line, groups in zip(lines, result["matches"], strict=True):
            assert groups is not None, f"Onigmo does not match: {line}"
            assert set(groups) == declared  # the regex names exactly the schema's fields
            present = {g for g, v in groups.items() if v}
            assert required <= present, line
            complete += present == declared
        assert complete, "no line had every field (the API call with its trace id should)"
        # the bad request line: method, URL and version absent, the rest there
        bad = [g for g in result["matches"] if not g["http_request_method"]]
        assert bad and all(g["http_response_status_code"] == "400" for g in bad)


def test_escaped_quotes_stay_inside_their_field(platform, made):
    (route,) = regex_routes(platform)
    line = next(line for line in _access_lines(made) if made.traces["missing"] in line)
    groups = onigmo.run(route.schema.pattern, [line])["matches"][0]
    assert groups["user_agent_original"] == r"logs-proof \x22quoted\x22 \x5C agent"
    assert groups["trace_id"] == made.traces["missing"]


def test_cri_envelope_gives_the_line_back_in_log(platform, made):
    lines = _access_lines(made)[-3:]
    for route in json_routes(platform):
        lines += traffic.json_lines(stack_paths().logs / f"{route.name}.log", 5)[-2:]
    wrapped = [f"2026-01-02T03:04:05.678901234Z stdout F {line}" for line in lines]
    result = onigmo.run(CRI_REGEX, wrapped, [("2026-01-02T03:04:05.678901234Z", CRI_TIME_FORMAT)])
    assert [m["log"] for m in result["matches"]] == lines
    assert result["times"] == ["2026-01-02T03:04:05.678Z"]


def test_json_lines_carry_exactly_schema_fields(platform, fleet):
    for route in json_routes(platform):
        lines = traffic.json_lines(stack_paths().logs / f"{route.name}.log", 300)
        assert lines, route.name
        required = {f.name for f in route.schema.fields if f.required}
        seen: set[str] = set()
        for line in lines:
            keys = set(json.loads(line))
            assert keys <= route.schema.names, f"{route.name}: {sorted(keys - route.schema.names)}"
            assert required <= keys, line
            seen |= keys
        # The simulator logs inside its publish spans at DEBUG only (a line per position would
        # flood the logs); its INFO lines are health and metrics requests, which are not traced.
        if route.name != "position-simulator":
            assert "trace.id" in seen, route.name


def test_time_values_read_with_fluent_bits_formats(platform, made):
    conf = _parsers_on_disk()
    pairs = []
    for route in json_routes(platform):
        fmt = conf.parser(route.parser).get("Time_Format")
        for line in traffic.json_lines(stack_paths().logs / f"{route.name}.log", 20)[-5:]:
            pairs.append((json.loads(line)[TIME_FIELD], fmt))
    for route in regex_routes(platform):
        fmt = conf.parser(route.parser).get("Time_Format")
        groups = onigmo.run(route.schema.pattern, _access_lines(made)[-5:])["matches"]
        pairs += [(g[route.time_key], fmt) for g in groups]
    times = onigmo.run("x", [], pairs)["times"]
    assert None not in times, [p for p, t in zip(pairs, times, strict=True) if t is None]
