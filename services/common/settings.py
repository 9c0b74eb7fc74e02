"""Settings shared by the services, from flags or environment variables (defaults fit ``make up``).

Every field is a setting: ``--batch-max`` on the command line, ``BATCH_MAX`` in the environment
(services/common/cli.py). Its ``description`` is its help text, so each field has one.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The HTTP port setting; each service gives its own default (``http_port: HttpPort = 8001``).
HttpPort = Annotated[int, Field(ge=1, le=65535, description="Port to listen on.")]


class ServiceSettings(BaseSettings):
    """Settings every service has. Each service subclasses it with its own port and options."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    http_host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 in containers).")
    http_port: HttpPort = 8000
    log_level: str = Field(
        "INFO", description="Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
    http_max_in_flight: int = Field(
        200,
        ge=0,
        description="Most requests inside the service at once; past that a 503 with "
        "Retry-After at once, before any other work (0: no limit).",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()


class BrokerSettings(BaseSettings):
    """Where the ActiveMQ broker is and which queues carry positions."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    broker_url: str = Field(
        "stomp://127.0.0.1:61613",
        description="STOMP URL; several comma-separated URLs fail over in order.",
    )
    broker_user: str = Field("", description="Broker login (empty: none).")
    broker_password: str = Field("", description="Broker passcode.")
    position_queue: str = Field("positionQueue", description="Queue the positions travel on.")
    dead_letter_queue: str = Field(
        "positionQueue.DLQ", description="Queue of the messages the tracker refuses (dead letters)."
    )

    @field_validator("broker_url")
    @classmethod
    def _stomp_urls(cls, value: str) -> str:
        for url in value.split(","):
            parts = urlsplit(url.strip())
            if parts.scheme != "stomp" or not parts.hostname or not parts.port:
                raise ValueError(f"{url!r} is not stomp://HOST:PORT")
        return value

    @property
    def broker_addresses(self) -> list[tuple[str, int]]:
        addresses = []
        for url in self.broker_url.split(","):
            parts = urlsplit(url.strip())
            addresses.append((parts.hostname or "", parts.port or 61613))
        return addresses
