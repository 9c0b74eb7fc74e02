"""The generated logs artifacts read back from their text, as the checks see them: what each
parser outputs after its renames, which time key and format it uses, what each search reads.

Reading the text (not the model that rendered it) is the point: a hand edit, a renderer bug or
a drifted file shows here as what Fluent Bit, the collector or Kibana would really do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from observability.logs import classic_conf
from observability.logs.classic_conf import ConfError, FluentBitConfig
from observability.logs.pipeline import pattern_groups
from observability.render import fluent_bit, kibana, otelcol_config

_ATTR = re.compile(r'^attributes\["(.+)"\]$')


@dataclass(frozen=True)
class ParserOutput:
    """One parser of one shipper: where it is, what it reads and what it writes."""

    shipper: str
    #: The parser's name (Fluent Bit) or receiver (collector).
    name: str
    artifact: str
    regex: str
    time_key: str
    time_format: str
    #: Output keys after renames, time key removed (regex parsers only).
    outputs: frozenset[str]
    #: For JSON parsers: every key passes through.
    json: bool


def fluent_bit_config(files: Mapping[str, str]) -> FluentBitConfig | None:
    main, parsers = files.get(fluent_bit.CONF_PATH), files.get(fluent_bit.PARSERS_PATH)
    if main is None or parsers is None:
        return None
    return FluentBitConfig(
        tuple(classic_conf.parse(main)),
        tuple(classic_conf.parse(parsers)),
        (fluent_bit.CONF_PATH, fluent_bit.PARSERS_PATH),
    )


def fluent_bit_parsers(files: Mapping[str, str]) -> dict[str, ParserOutput]:
    """Parser name -> output; ConfError when a file does not parse."""
    conf = fluent_bit_config(files)
    if conf is None:
        return {}
    filters = conf.of_kind("FILTER")
    found = {}
    for section in conf.parsers:
        name = section.name
        time_key = section.get("Time_Key") or ""
        regex = section.get("Regex") or ""
        is_json = section.get("Format") == "json"
        outputs: set[str] = set()
        if not is_json:
            matches = {
                f.get("Match_Regex") or f.get("Match")
                for f in filters
                if f.name == "parser" and f.get("Parser") == name
            }
            renames: dict[str, str] = {}
            for f in filters:
                if f.name == "modify" and (f.get("Match_Regex") or f.get("Match")) in matches:
                    for rule in f.all("Rename"):
                        old, _, new = rule.partition(" ")
                        renames[old] = new.strip()
            outputs = {renames.get(g, g) for g in pattern_groups(regex)} - {time_key}
        found[name] = ParserOutput(
            "fluent-bit",
            name,
            fluent_bit.PARSERS_PATH,
            regex,
            time_key,
            section.get("Time_Format") or "",
            frozenset(outputs),
            is_json,
        )
    return found


def merge_parser(files: Mapping[str, str]) -> str:
    conf = fluent_bit_config(files)
    for section in conf.of_kind("FILTER") if conf else ():
        if section.name == "kubernetes":
            return section.get("Merge_Parser") or ""
    return ""


def _attr_key(expr: str) -> str | None:
    match = _ATTR.match(expr.strip())
    return match.group(1) if match else None


def collector_receivers(files: Mapping[str, str]) -> dict[str, ParserOutput]:
    """Receiver name -> its parser's output."""
    text = files.get(otelcol_config.PATH)
    if text is None:
        return {}
    config = yaml.safe_load(text) or {}
    found = {}
    for name, receiver in (config.get("receivers") or {}).items():
        if not name.startswith("filelog"):
            continue
        operators = receiver.get("operators") or []
        parsers = [o for o in operators if o.get("type") in ("json_parser", "regex_parser")]
        if not parsers:
            continue
        parser = parsers[0]
        stamp = parser.get("timestamp") or {}
        time_key = _attr_key(stamp.get("parse_from", "")) or ""
        regex = parser.get("regex", "")
        outputs: set[str] = set()
        if parser["type"] == "regex_parser":
            keys = set(pattern_groups(regex))
            for op in operators:
                if op.get("type") == "move":
                    old, new = _attr_key(op.get("from", "")), _attr_key(op.get("to", ""))
                    if old in keys and new:
                        keys = (keys - {old}) | {new}
            outputs = keys - {time_key}
        found[name] = ParserOutput(
            "collector",
            name,
            otelcol_config.PATH,
            regex,
            time_key,
            stamp.get("layout", ""),
            frozenset(outputs),
            parser["type"] == "json_parser",
        )
    return found


@dataclass(frozen=True)
class SearchText:
    id: str
    title: str
    query: str
    language: str
    columns: tuple[str, ...]
    sort: tuple[str, ...]
    index_ref: str


def kibana_searches(files: Mapping[str, str]) -> list[SearchText]:
    text = files.get(kibana.PATH, "")
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("type") != "search":
            continue
        attributes = obj["attributes"]
        source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
        refs = [
            r["id"]
            for r in obj.get("references", [])
            if r.get("name") == source.get("indexRefName")
        ]
        found.append(
            SearchText(
                obj["id"],
                attributes.get("title", ""),
                source.get("query", {}).get("query", ""),
                source.get("query", {}).get("language", ""),
                tuple(attributes.get("columns", [])),
                tuple(s[0] for s in attributes.get("sort", [])),
                refs[0] if refs else "",
            )
        )
    return found


def kibana_data_views(files: Mapping[str, str]) -> list[dict[str, Any]]:
    text = files.get(kibana.PATH, "")
    return [
        obj
        for obj in (json.loads(line) for line in text.splitlines() if line.strip())
        if obj.get("type") == "index-pattern"
    ]


def yaml_documents(text: str) -> Iterator[Any]:
    """Every YAML document of ``text``, and the YAML held in ConfigMap ``data`` values."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return
    for doc in docs:
        yield doc
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            for value in (doc.get("data") or {}).values():
                if isinstance(value, str):
                    yield from yaml_documents(value)


__all__ = ["ConfError", "ParserOutput", "SearchText"]
