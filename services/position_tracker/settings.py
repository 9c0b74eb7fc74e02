"""The tracker's settings, from flags or environment variables (defaults fit ``make up``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from services.common.settings import BrokerSettings, HttpPort, ServiceSettings
from services.position_tracker.processing import Limits


class TrackerSettings(ServiceSettings, BrokerSettings):
    http_port: HttpPort = 8001
    mongodb_url: str = Field("mongodb://127.0.0.1:27017/", description="MongoDB (or FerretDB) URL.")
    mongodb_database: str = Field("fleetman", description="Database of the positions.")
    db_request_timeout_ms: int = Field(
        1500,
        ge=10,
        le=60_000,
        description="Time an API request's database work has in all (and each read of the fleet "
        "snapshot), sent with every command as maxTimeMS: a query nobody waits for any more stops "
        "in the database too. Keep it under the gateway's UPSTREAM_TIMEOUT_SECONDS (2 s).",
    )
    db_operation_timeout_ms: int = Field(
        5000,
        ge=100,
        le=600_000,
        description="Time limit of every other database call (the retention purge, the "
        "migration) and of an ingest attempt as a whole (a batch's reads or writes), sent as "
        "maxTimeMS too; a retried attempt gets twice the time of the one before, up to 30 s, "
        "once the database answers a ping. A batch of 1,000 positions is written in under a "
        "second.",
    )
    batch_max: int = Field(
        1000, ge=1, le=10_000, description="Most positions written in one batched database write."
    )
    write_slice_vehicles: int = Field(
        200,
        ge=1,
        le=10_000,
        description="A batch of more vehicles than this (a wave: many vehicles reporting at "
        "once) is written in slices of this many, the batches of other vehicles decided "
        "meanwhile passing between the slices.",
    )
    batch_wait_ms: int = Field(
        20,
        ge=0,
        le=5000,
        description="How long a batch waits for more positions before it is written.",
    )
    redelivery_grace_ms: int = Field(
        2000,
        ge=0,
        le=60_000,
        description="A redelivered message is decided no sooner than this after it arrived: "
        "the last write of a tracker that died with it in hand may still be running in the "
        "database, and must land first for the message to be recognised as stored.",
    )
    prefetch: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="Unacknowledged messages the broker may push to the tracker (bounds memory "
        "and redelivery); ActiveMQ also caps them at the queue's maxPageSize (5000 here).",
    )
    retention_hours: float = Field(
        24.0, ge=0, description="Positions older than this are deleted; 0 keeps everything."
    )
    future_skew_seconds: float = Field(
        300.0, ge=0, description="A timestamp more than this ahead of now is refused."
    )
    max_age_hours: float | None = Field(
        None,
        ge=0,
        description="A position older than this is dead-lettered (reason too_old): a device "
        "whose clock was never set reports 1970. None: RETENTION_HOURS, since an older "
        "position would be purged at once; 0 accepts any age.",
    )
    teleport_kmh: float = Field(
        300.0,
        gt=0,
        description="A move faster than this from the previous position is refused as a teleport.",
    )
    history_default_limit: int = Field(
        100, ge=1, description="Positions a history request returns when it gives no limit."
    )
    history_max_limit: int = Field(
        1000, ge=1, description="Most positions one history request may return."
    )
    active_window_seconds: float = Field(
        300.0,
        gt=0,
        description="A vehicle is active (and not stale) when it reported within this long.",
    )
    snapshot_max_age_seconds: float = Field(
        0.25,
        gt=0,
        le=10,
        description="How old the fleet list (GET /vehicles) may be: every vehicle's latest "
        "position is read at most this often while the list is asked for, and answered from "
        "memory.",
    )
    queue_stats_interval_seconds: float = Field(
        15.0, gt=0, description="How often the broker's queue statistics are read."
    )
    ingest_stall_seconds: float = Field(
        30.0,
        gt=0,
        description="/readyz reports ingest as stalled when messages wait (in the queue, by the "
        "broker's latest statistics, or in hand) and nothing was stored for this long.",
    )

    def limits(self) -> Limits:
        """What the decider refuses: timestamps too far ahead or too old, moves too fast."""
        hours = self.retention_hours if self.max_age_hours is None else self.max_age_hours
        return Limits(
            timedelta(seconds=self.future_skew_seconds),
            self.teleport_kmh,
            timedelta(hours=hours) if hours else None,
        )
