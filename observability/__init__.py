"""Observability as code: the telemetry catalog, its runtime, renderers, checks and CLI."""
