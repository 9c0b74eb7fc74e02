"""``position-tracker``: run the tracker (configured by environment variables)."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from services.common.server import serve
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import SERVICE


def main() -> None:
    if any(arg in {"-h", "--help"} for arg in sys.argv[1:]):
        print(__doc__.strip())
        for name, info in TrackerSettings.model_fields.items():
            print(f"  {name.upper():32} default {info.default!r}")
        return
    try:
        settings = TrackerSettings()
    except ValidationError as exc:
        sys.exit(f"position-tracker: bad configuration:\n{exc}")
    from services.position_tracker.app import create_app

    serve(create_app(settings), SERVICE, settings)


if __name__ == "__main__":
    main()
