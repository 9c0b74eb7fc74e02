"""The dead-letter archive: refused messages, out of the broker, in the tracker's database.

A dead letter that stays in ActiveMQ pins the whole 32 MB journal file it landed in (KahaDB frees
its journal by file), so a trickle of bad messages nobody reads fills the broker's store within
a day and then blocks every producer. The tracker's :class:`~services.position_tracker.
dead_letter_mover.DeadLetterMover` therefore moves every message of the dead-letter queue here,
as soon as it arrives: the body's exact bytes, its headers (``dlq-reason``, ``dlq-detail``,
``dlq-original-destination``, the producer's own), and when it was archived. People search,
show, replay and purge them with ``fleet-dead-letters`` (``dead_letters_cli.py``).

One document per dead letter, ``_id`` the broker's message id of the dead-letter copy, so a
redelivered copy is archived once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import Binary
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

COLLECTION = "dead_letters"
#: Headers of a dead-letter copy that say why it is one (not the producer's).
DLQ_PREFIX = "dlq-"
REASON, DETAIL, ORIGINAL_DESTINATION = "dlq-reason", "dlq-detail", "dlq-original-destination"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One archived dead letter."""

    id: str
    body: bytes
    headers: dict[str, str]
    archived_at: datetime

    @property
    def reason(self) -> str:
        return self.headers.get(REASON, "unknown")

    @property
    def detail(self) -> str:
        return self.headers.get(DETAIL, "")

    @property
    def original_destination(self) -> str | None:
        return self.headers.get(ORIGINAL_DESTINATION)

    @property
    def producer_headers(self) -> dict[str, str]:
        """The headers the producer sent (what a replay sends again)."""
        return {k: v for k, v in self.headers.items() if not k.startswith(DLQ_PREFIX)}

    def document(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "body": Binary(self.body),
            "headers": self.headers,
            "reason": self.reason,
            "archived_at": self.archived_at,
        }

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> DeadLetter:
        return cls(str(doc["_id"]), bytes(doc["body"]), dict(doc["headers"]), doc["archived_at"])


class DeadLetterArchive:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.collection: Collection[dict[str, Any]] = db[COLLECTION]

    def add(self, letter: DeadLetter) -> bool:
        """Archive ``letter``; False when it is archived already (a redelivered copy)."""
        try:
            self.collection.insert_one(letter.document())
        except DuplicateKeyError:
            return False
        return True

    def find(
        self, reason: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[DeadLetter]:
        """Dead letters, newest first; ``limit`` 0 for all."""
        found = self.collection.find(_filter(reason, since=since))
        newest_first = found.sort([("archived_at", -1), ("_id", -1)]).limit(limit)
        return [DeadLetter.of(d) for d in newest_first]

    def get(self, letter_id: str) -> DeadLetter | None:
        doc = self.collection.find_one({"_id": letter_id})
        return None if doc is None else DeadLetter.of(doc)

    def delete(self, letter_id: str) -> bool:
        return self.collection.delete_one({"_id": letter_id}).deleted_count == 1

    def purge(self, reason: str | None = None, before: datetime | None = None) -> int:
        """Delete the dead letters of ``reason`` archived before ``before`` (None: any)."""
        return self.collection.delete_many(_filter(reason, before=before)).deleted_count


def _filter(
    reason: str | None, *, since: datetime | None = None, before: datetime | None = None
) -> dict[str, Any]:
    """The dead letters of ``reason`` (None: any) archived in [since, before)."""
    query: dict[str, Any] = {} if reason is None else {"reason": reason}
    archived = {op: moment for op, moment in (("$gte", since), ("$lt", before)) if moment}
    if archived:
        query["archived_at"] = archived
    return query
