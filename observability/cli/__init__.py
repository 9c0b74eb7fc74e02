"""``dashboard-gen``: generate, check, lint and list the artifacts of the telemetry catalogs."""
