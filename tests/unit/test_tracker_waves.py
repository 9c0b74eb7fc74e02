"""Waves (services/position_tracker/waves.py): a batch of many vehicles is cut into slices of at
most SLICE_VEHICLES vehicles, in order; a batch of few vehicles is never cut."""

from __future__ import annotations

from dataclasses import dataclass

from services.position_tracker.waves import slices, vehicles


@dataclass
class Decided:
    vehicle: str | None


def kept(names: list[str | None]) -> list[tuple[Decided, None]]:
    return [(Decided(name), None) for name in names]


def test_a_wave_is_cut_at_most_vehicles_in_order():
    batch = kept([f"v{i}" for i in range(450)])
    cut = slices(batch, most=200)
    assert [len(part) for part in cut] == [200, 200, 50]
    assert [item for part in cut for item in part] == batch


def test_few_vehicles_are_never_cut_however_many_positions():
    batch = kept([f"v{i % 12}" for i in range(1000)])
    assert slices(batch, most=200) == [batch]


def test_a_vehicle_may_span_two_slices_its_order_kept():
    batch = kept(["a", "b", "a", "c", "a"])
    cut = slices(batch, most=2)
    assert cut == [kept(["a", "b", "a"]), kept(["c", "a"])]


def test_vehicles_skips_refused_messages():
    assert vehicles(kept(["a", None, "b", "a"])) == {"a", "b"}
    assert slices([], most=3) == []
