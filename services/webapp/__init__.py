"""The web app: a static live map of the fleet behind nginx (its config, page and telemetry)."""
