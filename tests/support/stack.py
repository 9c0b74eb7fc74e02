"""The local stack for the live tests, unless it is managed by hand (``FLEET_STACK_SKIP_UP``)."""

from __future__ import annotations

import os

import pytest

from services.stack import api

SKIP_UP = "FLEET_STACK_SKIP_UP"


def ensure_stack(names: list[str] | None = None) -> None:
    """``names`` (default: every component) up and healthy, started when needed; nothing when
    ``FLEET_STACK_SKIP_UP`` is set (the stack is managed by hand: a second one must not start).
    A stack that does not come up fails the test with its one-line reason."""
    if os.environ.get(SKIP_UP):
        return
    try:
        api.ensure_up(names, quiet=False)
    except api.StackError as exc:
        pytest.fail(f"the local stack did not come up: {exc}", pytrace=False)
