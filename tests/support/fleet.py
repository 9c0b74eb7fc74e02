"""Fleet services started for one test module, on names no other test uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import httpx
from pymongo import MongoClient

from observability.config import import_catalog
from services.api_gateway.telemetry import SERVICE as GATEWAY_SERVICE
from tests.support.logcheck import schema_violations
from tests.support.metric_values import Scrape, scrape, timestamps_near_now
from tests.support.processes import ServiceProcess, service_process

MONGODB_URL = "mongodb://127.0.0.1:27017/"


@dataclass(frozen=True)
class TrackerNames:
    """A tracker's own queue, dead-letter queue and database."""

    queue: str
    dlq: str
    database: str

    @classmethod
    def unique(cls, isolation: object, label: str) -> TrackerNames:
        suffix = f"{label}-{uuid.uuid4().hex[:6]}"
        return cls(
            queue=isolation.queue(f"{suffix}.positions"),  # type: ignore[attr-defined]
            dlq=isolation.queue(f"{suffix}.dlq"),  # type: ignore[attr-defined]
            database=f"{isolation.database}_{suffix.replace('-', '_')}",  # type: ignore[attr-defined]
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            "POSITION_QUEUE": self.queue,
            "DEAD_LETTER_QUEUE": self.dlq,
            "MONGODB_DATABASE": self.database,
        }


@contextmanager
def running(
    module: str, service: str, env: dict[str, str], run_id: str
) -> Iterator[ServiceProcess]:
    """A service process; at the end, every line it logged must fit its catalog's log schema
    and its moments (``*_timestamp_seconds``) must be Unix times of the past year."""
    process = service_process(module, service, env, run_id).start()
    catalog = import_catalog(f"{module}.telemetry:CATALOG")
    last: Scrape | None = None
    try:
        yield process
        last = _last_scrape(process)
    finally:
        process.stop()
    # a plain assert here (a support module) would say nothing
    violations = schema_violations(catalog, process.log_lines())
    if violations:
        raise AssertionError(
            f"{service} logged records outside its schema ({process.log_path}):\n"
            + "\n".join(violations)
        )
    skewed = timestamps_near_now(catalog, last) if last is not None else []
    if skewed:
        raise AssertionError(f"{service} reports moments off the clock:\n" + "\n".join(skewed))


def _last_scrape(process: ServiceProcess) -> Scrape | None:
    """Its metrics at the end, unless the test stopped it already."""
    try:
        return scrape(process.url)
    except httpx.HTTPError:
        return None


def running_gateway(
    tracker_url: str, run_id: str, **env: str
) -> AbstractContextManager[ServiceProcess]:
    """An API gateway in front of the tracker at ``tracker_url``."""
    return running(
        "services.api_gateway", GATEWAY_SERVICE, {"TRACKER_URL": tracker_url, **env}, run_id
    )


@contextmanager
def running_tracker(names: TrackerNames, run_id: str, **env: str) -> Iterator[ServiceProcess]:
    try:
        with running(
            "services.position_tracker", "position-tracker", {**names.env, **env}, run_id
        ) as p:
            yield p
    finally:
        with MongoClient(MONGODB_URL, serverSelectionTimeoutMS=3000) as client:
            client.drop_database(names.database)
