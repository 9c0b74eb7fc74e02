"""The tracker's store on the real database: the previous-position lookup, in and out of order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services.position_tracker.store import PositionStore, StoredPosition
from tests.support.fleet import MONGODB_URL, TrackerNames

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(isolation) -> Iterator[PositionStore]:
    names = TrackerNames.unique(isolation, "store")
    store = PositionStore(MONGODB_URL, names.database)
    store.ensure_indexes()
    yield store
    store.client.drop_database(names.database)
    store.close()


def at(minutes: int) -> StoredPosition:
    moment = T0 + timedelta(minutes=minutes)
    return StoredPosition("Store Van", 53.0 + minutes / 1000, -1.5, moment, 10.0, 0.0, moment)


def test_the_previous_position_in_order_and_out_of_order(store: PositionStore) -> None:
    stored = [at(0), at(10), at(20)]
    store.insert(stored)
    store.update_latest(stored)
    # In order: newer than the latest, so the latest (read by _id) is the one before.
    assert store.previous("Store Van", T0 + timedelta(minutes=30)) == at(20)
    # Out of order: between stored positions, found through the time index.
    assert store.previous("Store Van", T0 + timedelta(minutes=15)) == at(10)
    assert store.previous("Store Van", T0 + timedelta(minutes=20)) == at(10)
    assert store.previous("Store Van", T0) is None
    assert store.previous("Unknown Van", T0 + timedelta(minutes=30)) is None
