"""The artifact kinds of the logs half, as ``ArtifactKind`` arguments (``observability.artifacts``
makes them kinds; declared here so that module stays one line per kind)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from observability.catalog.service import Platform
from observability.config import Config
from observability.render import fluent_bit, index_template, kibana, otelcol_config
from observability.render.usage import FieldUse, Query

Files = dict[str, str]


class KindSpec(NamedTuple):
    name: str
    description: str
    owns: tuple[str, ...]
    render: Callable[[Platform, Config], Files]
    queries: Callable[[Platform, Config], list[Query]]
    field_uses: Callable[[Platform, Config], list[FieldUse]]


def _none(platform: Platform, config: Config) -> list:
    return []


LOG_ARTIFACTS: tuple[KindSpec, ...] = (
    KindSpec(
        "fluent-bit",
        "Fluent Bit on Kubernetes: tail, kubernetes filter, JSON and regex parsers, es output",
        (fluent_bit.CONF_PATH, fluent_bit.PARSERS_PATH),
        lambda p, c: fluent_bit.render_fluent_bit(p),
        _none,
        fluent_bit.fluent_bit_field_uses,
    ),
    KindSpec(
        "otelcol-config",
        "the local OpenTelemetry Collector: filelog parsers like Fluent Bit's, Elasticsearch",
        (otelcol_config.PATH,),
        lambda p, c: {otelcol_config.PATH: otelcol_config.render_otelcol_config(p)},
        _none,
        otelcol_config.otelcol_field_uses,
    ),
    KindSpec(
        "elasticsearch-templates",
        "index templates of fleet-logs* (from the log schemas) and fleet-traces*",
        (f"{index_template.LOCAL_FOLDER}/*.index-template.json", index_template.K8S_PATH),
        lambda p, c: index_template.render_index_templates(p),
        _none,
        _none,
    ),
    KindSpec(
        "kibana-saved-objects",
        "Kibana data view and saved searches (NDJSON for the saved-objects import API)",
        (kibana.PATH,),
        lambda p, c: {kibana.PATH: kibana.render_kibana(p)},
        _none,
        kibana.kibana_field_uses,
    ),
)
