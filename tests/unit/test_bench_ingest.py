"""The ingest benchmark publishes positions sampled as the simulator would (or as asked)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from observability.runtime.messaging import publisher_sampled

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import ingest


def sampled(traceparent: str) -> bool:
    """As the tracker reads it."""
    return publisher_sampled({"traceparent": traceparent}) is True


def test_positions_are_sampled_at_the_simulators_deployed_ratio_by_default() -> None:
    flags = [sampled(ingest.traceparent(i, ingest.DEPLOYED_RATIO)) for i in range(1000)]
    assert ingest.DEPLOYED_RATIO == 0.01
    assert sum(flags) == 10


@pytest.mark.parametrize(("ratio", "expected"), [(0.1, 100), (0.05, 50), (1.0, 1000)])
def test_another_ratio_samples_that_share(ratio: float, expected: int) -> None:
    assert sum(sampled(ingest.traceparent(i, ratio)) for i in range(1000)) == expected


def test_every_position_carries_its_own_valid_context() -> None:
    contexts = [ingest.traceparent(i, 0.1) for i in range(50)]
    assert len({c.split("-")[1] for c in contexts}) == 50
    # What the tracker reads: a strict version-00 context with its flag.
    flags = [publisher_sampled({"traceparent": c}) for c in contexts[:11]]
    assert flags == [True] + [False] * 9 + [True]


@pytest.mark.parametrize("text", ["0", "-0.1", "1.5"])
def test_a_ratio_outside_zero_to_one_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="in \\(0, 1\\]"):
        ingest.sampling_ratio(text)
