"""Check the JSON log lines a service wrote against its catalog's log schema."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator, FormatChecker

from observability.catalog.jsonschema import log_record_schema
from observability.catalog.service import ServiceCatalog


def schema_violations(catalog: ServiceCatalog, lines: list[str], limit: int = 10) -> list[str]:
    """Human-readable problems of the lines that break the schema (empty when all conform)."""
    validator = Draft202012Validator(
        log_record_schema(catalog.logs, catalog.name), format_checker=FormatChecker()
    )
    problems: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number} is not JSON: {line[:200]}")
            continue
        for error in validator.iter_errors(record):
            problems.append(f"line {number}: {error.message} in {line[:200]}")
        if record.get("service.name") != catalog.name:
            problems.append(f"line {number}: service.name is {record.get('service.name')!r}")
        if len(problems) >= limit:
            break
    return problems
