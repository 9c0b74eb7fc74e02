"""Logs survive a log-store outage (issue 19, item 5): lines written while Elasticsearch is down
for a minute all arrive once it is back. The real collector tails a service's log file; the
real Elasticsearch is stopped under it (not a stub that refuses). Meanwhile the collector's own
metrics show what the pipeline alerts read (observability.components): its health scrapes of
Elasticsearch yield nothing and log lines wait in its queue."""

from __future__ import annotations

import logging
import secrets
import time

import httpx
import pytest

from observability.catalog.correlation import LOG_INDEX_PREFIX
from observability.runtime.logs import EcsJsonFormatter
from tests.logs import traffic
from tests.support.metric_values import scrape
from tests.support.polling import eventually

pytestmark = pytest.mark.fault

OUTAGE_SECONDS = 60
LINES_PER_SECOND = 20
COLLECTOR = "http://127.0.0.1:8888"
# the parser names a counter's sample ``_total``; Prometheus keeps the served name
HEALTH_POINTS = ("otelcol_scraper_scraped_metric_points_total", {"receiver": "elasticsearch"})
LOGS_WAITING = ("otelcol_exporter_queue_size", {"data_type": "logs"})


def _collector(sample: tuple[str, dict[str, str]]) -> float:
    """One sample of the real collector's own metrics (summed over the labels not given)."""
    name, labels = sample
    return scrape(COLLECTOR).value(name, **labels)


def _count(url: str, marker: str) -> int:
    traffic.refresh(url, f"{LOG_INDEX_PREFIX}*")
    query = {"query": {"match_phrase": {"message": marker}}}
    answer = httpx.post(f"{url}/{LOG_INDEX_PREFIX}*/_count", json=query, timeout=30)
    answer.raise_for_status()
    return int(answer.json()["count"])


def test_every_line_written_while_elasticsearch_is_down_arrives_once_it_is_back(fleet):
    marker = f"outage{secrets.token_hex(6)}"
    path = traffic.log_dir() / f"position-tracker.{marker}.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(EcsJsonFormatter("position-tracker", "0.1.0"))
    logger = logging.getLogger(f"tests.logs.outage.{marker}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    written = 0
    health: list[float] = []
    waiting: list[float] = []
    try:
        with fleet.outage("elasticsearch"):
            ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < ends:
                logger.info("%s line %d written while the log store is down", marker, written)
                written += 1
                time.sleep(1 / LINES_PER_SECOND)
                if written % (15 * LINES_PER_SECOND) == 0:  # every ~15 s
                    health.append(_collector(HEALTH_POINTS))
                    waiting.append(_collector(LOGS_WAITING))

        def all_arrived() -> None:
            assert _count(fleet.ELASTICSEARCH_URL, marker) == written

        eventually(all_arrived, timeout=180, interval=2.0)
        # down: ElasticsearchDown's signal (nothing scraped), LogsNotShipping's (lines wait)
        assert len(set(health[1:])) == 1, health
        assert min(waiting[1:]) > 0, waiting

        def health_scraped_again() -> None:
            assert _collector(HEALTH_POINTS) > health[-1]

        eventually(health_scraped_again, timeout=60, interval=2.0)
    finally:
        logger.removeHandler(handler)
        handler.close()
        path.unlink(missing_ok=True)
    assert written >= OUTAGE_SECONDS * LINES_PER_SECOND * 0.8
