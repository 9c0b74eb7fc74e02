"""JSON log records: ECS names, the trace id inside spans, uvicorn's records mapped too."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from observability.runtime.logs import EcsJsonFormatter, configure_logging, fields
from services.api_gateway.telemetry import CATALOG
from tests.support.logcheck import schema_violations

FORMATTER = EcsJsonFormatter("api-gateway", "1.2.3")


def record(name: str, msg: str, args: tuple = (), **extra) -> logging.LogRecord:
    rec = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


def test_record_in_a_span_carries_its_trace_and_span_ids():
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("request") as span:
        line = FORMATTER.format(
            record("app", "hello %s", ("world",), **fields(**{"vehicle.name": "Van"}))
        )
    doc = json.loads(line)
    ctx = span.get_span_context()
    assert doc["trace.id"] == format(ctx.trace_id, "032x")
    assert doc["span.id"] == format(ctx.span_id, "016x")
    assert doc["message"] == "hello world"
    assert doc["vehicle.name"] == "Van"
    assert doc["service.name"] == "api-gateway"
    assert schema_violations(CATALOG, [line]) == []


def test_record_outside_a_span_has_no_trace_id():
    doc = json.loads(FORMATTER.format(record("app", "idle")))
    assert "trace.id" not in doc


def test_uvicorn_access_record_becomes_ecs_http_fields():
    args = ("127.0.0.1:5555", "GET", "/api/vehicles?x=1", "1.1", 200)
    line = FORMATTER.format(record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args))
    doc = json.loads(line)
    assert doc["http.request.method"] == "GET"
    assert doc["url.path"] == "/api/vehicles"
    assert doc["http.response.status_code"] == 200
    assert doc["client.address"] == "127.0.0.1"
    assert schema_violations(CATALOG, [line]) == []


def test_exceptions_are_ecs_error_fields():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        rec = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    doc = json.loads(FORMATTER.format(rec))
    assert doc["error.type"] == "ValueError" and "boom" in doc["error.stack_trace"]


def test_an_undeclared_field_breaks_the_schema():
    line = FORMATTER.format(record("app", "x", **fields(**{"vehicle.colour": "red"})))
    problems = schema_violations(CATALOG, [line])
    assert problems and "vehicle.colour" in problems[0]


@pytest.fixture
def restored_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's logging as it was before the test configured it as a service does."""
    for name in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, name, getattr(logging, name))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restored_logging")
def test_a_clients_request_lines_are_left_out_but_its_warnings_kept(capsys):
    configure_logging("api-gateway", "1.2.3")  # here: stdout is the captured one
    logging.getLogger("httpx").info('HTTP Request: GET http://tracker/vehicles "200 OK"')
    logging.getLogger("httpx").warning("upstream trouble")
    logging.getLogger("uvicorn.access").info("an access line")
    messages = [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()]
    assert messages == ["upstream trouble", "an access line"]


@pytest.mark.usefixtures("restored_logging")
def test_records_do_not_collect_what_the_formatter_never_writes(capsys):
    configure_logging("api-gateway", "1.2.3")
    seen: list[logging.LogRecord] = []
    logger = logging.getLogger("app")
    logger.addFilter(lambda rec: seen.append(rec) or True)
    try:
        logger.info("hello")
    finally:
        logger.filters.clear()
    (rec,) = seen
    assert (rec.funcName, rec.lineno) == ("(unknown function)", 0)  # no frame was looked up
    assert rec.thread is None and rec.process is None and rec.processName is None
    assert json.loads(capsys.readouterr().out)["message"] == "hello"
