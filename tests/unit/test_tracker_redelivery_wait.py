"""A redelivered message waits out the grace (a dead tracker's last write may still be landing);
a fresh one is decided at once."""

from __future__ import annotations

import pytest

from services.position_tracker.consumer import redelivery_wait
from services.position_tracker.processing import Incoming


def arrived(at: float, redelivered: bool) -> Incoming:
    headers = {"message-id": f"m{at}"} | ({"redelivered": "true"} if redelivered else {})
    return Incoming(b"{}", headers, int(at * 1e9))


def test_fresh_messages_are_decided_at_once():
    assert redelivery_wait([arrived(100.0, False), arrived(100.5, False)], 2.0, 100.6) == 0.0


def test_redelivered_messages_wait_until_the_grace_after_the_newest_of_them():
    batch = [arrived(100.0, True), arrived(100.4, True), arrived(100.9, False)]
    assert redelivery_wait(batch, 2.0, 101.0) == pytest.approx(1.4)
    assert redelivery_wait(batch, 2.0, 103.0) == 0.0  # waited out already
    assert redelivery_wait(batch, 0.0, 101.0) == 0.0  # no grace configured
