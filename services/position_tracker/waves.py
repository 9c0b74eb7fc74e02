"""Waves: a batch of many vehicles at once (a thousand new vehicles reporting together) is one
long write, two single-document updates a vehicle (about 0.45 s for a thousand on FerretDB), and
the positions of every other vehicle decided meanwhile would wait for all of it. The writer cuts
such a batch into slices of at most ``WRITE_SLICE_VEHICLES`` vehicles (200: ~0.1 s of
FerretDB updates, the longest wait a batch of other vehicles has before it may pass) and lets
the batches decided meanwhile pass between the slices, when none of their vehicles is still to be written in the
wave (each vehicle's positions stay in order). The acknowledgement stays cumulative and comes
after everything: a crash in between redelivers it all, and what was written already is
recognised as stored (``PreviousPositions.stored_among``).

A batch of few vehicles (a dense fleet: a thousand positions of a dozen vehicles) is never cut:
its cost is per vehicle, not per position.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.position_tracker.ingest_telemetry import Kept


def slices(kept: Kept, most: int) -> list[Kept]:
    """``kept`` in order, cut so that no slice holds more than ``most`` vehicles."""
    cut: list[Kept] = []
    current: list = []
    seen: set[str | None] = set()
    for item in kept:
        vehicle = item[0].vehicle
        if vehicle not in seen and len(seen) == most:
            cut.append(current)
            current, seen = [], set()
        current.append(item)
        seen.add(vehicle)
    if current:
        cut.append(current)
    return cut


def vehicles(kept: Iterable[tuple]) -> set[str]:
    """The vehicles of ``kept``."""
    return {decision.vehicle for decision, _span in kept if decision.vehicle is not None}
