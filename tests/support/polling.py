"""Wait for a condition in tests that talk to real, asynchronous systems."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.2) -> T:
    """Call ``check`` until it returns without raising AssertionError (or an HTTP/IO error) and
    returns something other than False (``lambda: count() >= n`` waits too)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result is False:
                raise AssertionError("the check returned False")
            return result
        except (AssertionError, OSError, httpx.HTTPError) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"not true after {timeout}s: {exc}") from exc
        time.sleep(interval)
