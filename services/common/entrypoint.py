"""The console entry point of a service configured only by environment variables."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI
from pydantic import ValidationError

from services.common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run_service(
    name: str, doc: str, settings_class: type[S], create_app: Callable[[S], FastAPI]
) -> None:
    """``--help`` lists every variable with its default; bad settings end in one clear message."""
    if any(arg in {"-h", "--help"} for arg in sys.argv[1:]):
        print(doc.strip())
        print("\nEnvironment variables:")
        for field, info in settings_class.model_fields.items():
            print(f"  {field.upper():32} default {info.default!r}")
        return
    try:
        settings = settings_class()
    except ValidationError as exc:
        sys.exit(f"{name}: bad configuration:\n{exc}")
    from services.common.server import serve

    serve(create_app(settings), name, settings)
