"""The version every service reports (in logs, spans and the OpenAPI description)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("fleetman-service-common")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+source"
