"""The gateway's settings, from environment variables (defaults fit ``make up``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from services.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """HTTP_HOST/HTTP_PORT/LOG_LEVEL, TRACKER_URL, UPSTREAM_* (pooling and timeouts)."""

    http_port: int = Field(8000, ge=1, le=65535)
    tracker_url: str = Field(
        "http://127.0.0.1:8001", description="Base URL of the position tracker's HTTP API."
    )
    upstream_timeout_seconds: float = Field(
        2.0, gt=0, le=120, description="Longest wait for an upstream answer (then 504)."
    )
    upstream_max_connections: int = Field(
        100, ge=1, description="Most concurrent connections to one upstream."
    )
    upstream_max_keepalive: int = Field(
        20, ge=0, description="Idle connections kept open to one upstream."
    )

    @field_validator("tracker_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{value!r} is not http(s)://HOST[:PORT]")
        return value.rstrip("/")
