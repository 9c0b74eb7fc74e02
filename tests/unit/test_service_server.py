"""How a service process is set up before it serves: its garbage collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.common.server import GC_THRESHOLDS, tune_garbage_collection


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_a_service_collects_less_often_and_never_walks_what_start_up_built():
    built_at_start_up: list[object] = []  # a container: the collector tracks it
    tune_garbage_collection()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # CPython's default young generation
    assert gc.is_tracked(built_at_start_up) and gc.get_freeze_count() > 0
    # Frozen: in no generation a collection walks.
    assert not any(o is built_at_start_up for o in gc.get_objects())
