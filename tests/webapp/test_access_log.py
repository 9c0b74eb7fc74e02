"""The access log is declared once (services/webapp/telemetry.py): nginx's log_format and the
parser regex both come from it, and every line real nginx writes parses into declared fields."""

from __future__ import annotations

import re
import socket
import tomllib
from dataclasses import replace
from datetime import datetime

import httpx
import pytest

from observability.catalog.logs import FieldType, group_name
from observability.config import load_platform
from services.webapp import nginx_config
from services.webapp.access_log import (
    log_schema,
    nginx_log_format,
    parse_line,
    parser_regex,
    python_pattern,
)
from services.webapp.telemetry import ACCESS_LOG, CATALOG, LOG_SCHEMA
from tests.support.polling import eventually
from tests.support.processes import ROOT

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def test_one_part_and_one_group_per_declared_field():
    names = [part.field.name for part in ACCESS_LOG.parts]
    assert len(names) == len(set(names))
    assert set(names) == LOG_SCHEMA.names
    groups = set(re.compile(python_pattern(LOG_SCHEMA.pattern)).groupindex)
    assert groups == {group_name(name) for name in names}


def test_catalog_schema_is_rendered_from_the_format():
    assert CATALOG.name == "webapp" and CATALOG.logs is LOG_SCHEMA
    assert log_schema(ACCESS_LOG) == LOG_SCHEMA
    assert LOG_SCHEMA.format == "regex"
    assert LOG_SCHEMA.pattern == parser_regex(ACCESS_LOG)
    assert LOG_SCHEMA.time_format == "%Y-%m-%dT%H:%M:%S%z"
    assert LOG_SCHEMA.field("trace.id").type is FieldType.KEYWORD


def test_pattern_is_in_onigmo_syntax_for_fluent_bit():
    """Fluent Bit compiles with Onigmo's Ruby syntax: (?<name>...), never Python's (?P<name>)."""
    assert "(?P<" not in LOG_SCHEMA.pattern
    assert LOG_SCHEMA.pattern.startswith("^") and LOG_SCHEMA.pattern.endswith("$")
    assert python_pattern("(?<a>x)(?<=y)(?<!z)") == "(?P<a>x)(?<=y)(?<!z)"


def test_log_format_names_every_field_with_its_nginx_variable():
    line = nginx_log_format(ACCESS_LOG)
    assert line.startswith("log_format webapp escape=default '")
    for part in ACCESS_LOG.parts:
        assert f"{part.field.name}=" in line
        assert part.variable in line


def test_template_holds_exactly_the_rendered_block():
    template = nginx_config.TEMPLATE.read_text()
    nginx_config.check_access_log(template)  # raises on drift
    assert nginx_log_format(ACCESS_LOG) in template


def test_a_changed_format_is_drift():
    fewer = replace(ACCESS_LOG, parts=ACCESS_LOG.parts[:-1])
    with pytest.raises(nginx_config.AccessLogDrift, match="nginx_config --write"):
        nginx_config.check_access_log(nginx_config.TEMPLATE.read_text(), fewer)
    with pytest.raises(nginx_config.AccessLogDrift):
        nginx_config.render_nginx_conf(
            nginx_config.with_access_log(nginx_config.TEMPLATE.read_text(), fewer),
            listen="127.0.0.1:1",
            api_upstream="127.0.0.1:2",
            temp_dir=ROOT,
            pid_file=ROOT / "x.pid",
        )


def test_webapp_catalog_is_part_of_the_platform():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dashboard-gen"]
    assert "services.webapp.telemetry:CATALOG" in config["catalogs"]
    assert load_platform().service("webapp") == CATALOG


# --- real nginx, real lines -------------------------------------------------------------------


def _at_least(lines: list[str], count: int) -> list[str]:
    assert len(lines) >= count, lines
    return lines


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _make_requests(url: str, port: int) -> None:
    """A varied day of traffic: pages, assets, API calls with and without trace context,
    errors, limits, odd headers and bytes, bad request lines."""
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/")
        client.get("/css/app.css", headers={"Accept-Encoding": "gzip", "Referer": f"{url}/"})
        client.get("/vendor/leaflet-1.9.4/leaflet.js")
        client.get("/config.json")
        client.get("/no/such/file")
        client.head("/")
        client.get("/api/vehicles", headers={"traceparent": TRACEPARENT, "tracestate": "a=b"})
        client.get("/api/vehicles/City%20Truck/history?limit=5&since=2025-01-01T00:00:00Z")
        client.get("/api/vehicles", headers={"traceparent": "00-NOT-A-TRACE-01"})
        client.get("/api/vehicles", headers={"traceparent": TRACEPARENT.upper()})
        client.get("/api/vehicles?fresh=1")  # past nginx's micro-cache (BYPASS)
        client.get("/api/fail")
        client.post("/api/vehicles", content=b"x" * 100_000)  # over client_max_body_size
        client.get(
            "/", headers={"User-Agent": 'quote " backslash \\ tab\t café'.encode(), "Referer": ""}
        )
        client.get("/", headers={"X-Big": "y" * 9000})  # over large_client_header_buffers
        client.get("/healthz")  # not logged
    _raw(port, b"GET / HTTP/1.0\r\n\r\n")
    _raw(port, b'GET /?q="quoted"&b=\\ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    _raw(port, b"GARBAGE\r\n\r\n")
    _raw(port, b"GET / HTTP/2.5\r\nHost: x\r\n\r\n")  # unsupported: 505, empty protocol
    _raw(port, b"GET / FOO/1.1\r\nHost: x\r\n\r\n")  # not HTTP at all: 400
    _raw(port, b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n")  # a bad method: 400
    _raw(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a TLS hello on plain HTTP


def test_every_real_line_parses_into_declared_fields(start_nginx, upstream):
    nginx = start_nginx(upstream.address)
    _make_requests(nginx.url, nginx.port)
    # nginx logs a request after answering it: wait for the last ones
    lines = eventually(lambda: _at_least(nginx.log_lines(), 22), timeout=5)

    records = []
    for line in lines:
        record = parse_line(LOG_SCHEMA, line)
        assert record is not None, f"the parser regex does not match:\n{line}"
        assert set(record) <= LOG_SCHEMA.names
        required = {f.name for f in LOG_SCHEMA.fields if f.required}
        assert required <= set(record), f"missing {required - set(record)} in {line}"
        for name, value in record.items():
            kind = LOG_SCHEMA.field(name).type
            if kind is FieldType.LONG:
                int(value)
            elif kind is FieldType.DOUBLE:
                float(value)
            elif kind is FieldType.DATE:
                datetime.strptime(value, LOG_SCHEMA.time_format)
        records.append(record)

    assert all(r["service.name"] == "webapp" for r in records)
    assert not any(r.get("url.original") == "/healthz" for r in records)
    traced = [r for r in records if r.get("trace.id")]
    assert [r["trace.id"] for r in traced] == [TRACE_ID], "only the valid traceparent counts"
    assert traced[0]["url.original"] == "/api/vehicles"
    assert traced[0]["http.version"] == "1.1"
    statuses = {int(r["http.response.status_code"]) for r in records}
    assert {200, 304, 404, 413, 400, 500, 505} & statuses >= {200, 404, 413, 400, 500, 505}
    assert any(r.get("url.original") == "/?q=\\x22quoted\\x22&b=\\x5C" for r in records)
    odd = next(r for r in records if r.get("user_agent.original", "").startswith("quote"))
    assert "\\x22" in odd["user_agent.original"] and '"' not in odd["user_agent.original"]
    assert "http.request.referrer" not in odd  # empty header: no field
    assert any(r.get("http.request.referrer") == f"{nginx.url}/" for r in records)
    assert any(r.get("http.version") == "1.0" for r in records)
    garbage = [r for r in records if "http.request.method" not in r]
    assert garbage, "a bad request line is logged (and parsed) too"
    # nginx's micro-cache: only the fleet list's lines say HIT, MISS or BYPASS
    cached = {
        r["url.original"]: r["nginx.cache.status"] for r in records if "nginx.cache.status" in r
    }
    assert set(cached) == {"/api/vehicles", "/api/vehicles?fresh=1"}, cached
    assert cached["/api/vehicles?fresh=1"] == "BYPASS"
    listed = [
        r["nginx.cache.status"]
        for r in records
        if r.get("url.original") == "/api/vehicles" and r.get("http.request.method") == "GET"
    ]
    assert listed[0] == "MISS" and set(listed) <= {"MISS", "HIT"}, listed


def test_timestamp_is_what_the_parsers_time_format_reads(start_nginx, upstream):
    nginx = start_nginx(upstream.address)
    before = len(nginx.log_lines())
    httpx.get(f"{nginx.url}/")
    lines = eventually(lambda: _at_least(nginx.log_lines(), before + 1), timeout=5)
    record = parse_line(LOG_SCHEMA, lines[-1])
    logged = datetime.strptime(record["@timestamp"], LOG_SCHEMA.time_format)
    assert logged.tzinfo is not None
    assert abs((datetime.now(logged.tzinfo) - logged).total_seconds()) < 10
