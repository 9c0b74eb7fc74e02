"""The console entry point of a service: its settings from the command line or the environment
(services/common/cli.py), then its app served until SIGTERM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from fastapi import FastAPI

from services.common.cli import parse_settings
from services.common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def service_settings(
    name: str, doc: str, settings_class: type[S], argv: Sequence[str] | None = None
) -> S:
    """``--help`` lists every setting's flag, variable, description and default; a bad value
    exits 2 with one line naming the setting."""
    (settings,) = parse_settings(name, doc, [settings_class], argv)
    return cast(S, settings)


def run_service(name: str, settings: S, create_app: Callable[[S], FastAPI]) -> None:
    from services.common.server import serve

    serve(create_app(settings), name, settings)
