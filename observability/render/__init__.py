"""Renderers: pure functions from the catalog model to artifact text, one module per kind.

``rules`` holds the rule model (with each rule's origin) that the rule artifacts, the generated
tests and the checks share; ``yamltext`` writes YAML with provenance comments; ``provenance``
and ``links`` are the one place origins, dashboard UIDs and runbook URLs are made.
"""
