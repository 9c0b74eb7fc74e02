"""The gateway's settings, from flags or environment variables (defaults fit ``make up``)."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from services.common.settings import HttpPort, ServiceSettings


class GatewaySettings(ServiceSettings):
    """HTTP_HOST/HTTP_PORT/LOG_LEVEL, TRACKER_URL, UPSTREAM_* (pooling, timeouts, shedding),
    LIST_MAX_AGE_SECONDS (the shared fleet list)."""

    http_port: HttpPort = 8000
    tracker_url: str = Field(
        "http://127.0.0.1:8001", description="Base URL of the position tracker's HTTP API."
    )
    upstream_timeout_seconds: float = Field(
        2.0, gt=0, le=120, description="Longest wait for an upstream answer (then 504)."
    )
    upstream_max_connections: int = Field(
        100, ge=1, description="Most concurrent connections to one upstream."
    )
    upstream_max_concurrency: int = Field(
        50,
        ge=1,
        description="Most calls in flight to the tracker at once, counting calls still ending "
        "after their 504; at most UPSTREAM_MAX_CONNECTIONS, so that no call ever waits in the "
        "connection pool. 50 lets a tracker answering within the 250 ms latency objective "
        "serve 200 requests/s.",
    )
    upstream_queue_timeout_seconds: float = Field(
        0.02,
        ge=0,
        le=60,
        description="Longest wait for a free call slot when all are taken; then the request is "
        "shed: 503 with Retry-After, at once rather than queued towards a 504.",
    )
    upstream_retry_after_seconds: int = Field(
        1, ge=1, le=3600, description="The Retry-After (seconds) of a shed request's 503."
    )
    list_max_age_seconds: float = Field(
        0.15,
        ge=0,
        le=0.25,
        description="How old the fleet list (GET /api/vehicles, the original /vehicles/) may be "
        "when another request reuses it; the first request past a third of this refreshes it in "
        "the background. Part of the 1 s freshness contract (tracker snapshot 0.25 + this + "
        "nginx's 0.5 slot). 0: every request calls the tracker.",
    )

    @field_validator("tracker_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{value!r} is not http(s)://HOST[:PORT]")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _calls_fit_the_pool(self) -> Self:
        # A call waiting in the client's pool is what leaked connections (upstream.py): never one.
        if self.upstream_max_concurrency > self.upstream_max_connections:
            raise ValueError(
                f"UPSTREAM_MAX_CONCURRENCY ({self.upstream_max_concurrency}) exceeds "
                f"UPSTREAM_MAX_CONNECTIONS ({self.upstream_max_connections})"
            )
        return self
