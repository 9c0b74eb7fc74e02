"""Fixtures of the logs proof tests: the whole local stack (services and shippers included),
the index templates in Elasticsearch, and traffic made once per session for every search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from observability.config import load_config, load_platform
from observability.logs.elasticsearch import apply_templates, read_templates
from observability.render.index_template import LOCAL_FOLDER
from services.stack import api
from tests.logs import traffic
from tests.support.stack import ensure_stack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def platform():
    return load_platform(load_config(REPO / "pyproject.toml"))


@pytest.fixture(scope="session")
def fleet():
    """Every component up and healthy (the services write the logs, the collector ships them)."""
    ensure_stack()
    # idempotent; the collector's start applied them already (reset=False: never delete here)
    apply_templates(api.ELASTICSEARCH_URL, read_templates(REPO / LOCAL_FOLDER), reset=False)
    return api


@pytest.fixture(scope="session")
def made(fleet, platform, run_id) -> Iterator[traffic.Traffic]:
    """Traffic for every saved search: errors, a dead letter, a slow and a failed request, a
    traced API call; made once, shipped by the real collector."""
    made = traffic.make(fleet, platform, run_id)
    yield made
    for path in made.files:
        path.unlink(missing_ok=True)
