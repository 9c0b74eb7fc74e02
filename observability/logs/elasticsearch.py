"""Put the generated index templates into an Elasticsearch, and bring existing indices in line.

A template only shapes indices created after it: so for each existing index it matches, fields
the index lacks are added (``PUT <index>/_mapping``), and an index that maps a declared field
with another type, or lays dotted names out otherwise (``subobjects``), is deleted when ``reset``
allows it (the local stack's indices are scratch data; the shipper creates the index again, from
the template). Plain HTTP (httpx): the integ-test Elasticsearch has no ``GET /``, which the
official client's checks need.
"""

from __future__ import annotations

import fnmatch
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

Say = Callable[[str], None]


def flatten_properties(properties: Mapping[str, Any], prefix: str = "") -> dict[str, dict]:
    """Dotted field path -> its mapping, for mappings written nested or with dotted names."""
    found: dict[str, dict] = {}
    for name, mapping in properties.items():
        path = f"{prefix}{name}"
        if "properties" in mapping and "type" not in mapping:
            found |= flatten_properties(mapping["properties"], f"{path}.")
        else:
            found[path] = mapping
    return found


def wait_until_up(url: str, timeout: float = 300.0, say: Say = print) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/_cluster/health", timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            say(f"elasticsearch at {url} did not answer in {timeout:.0f}s")
            return False
        time.sleep(2)


def _conflicts(declared: dict[str, dict], existing: dict[str, dict]) -> list[str]:
    found = []
    for path, want in declared.items():
        have = existing.get(path)
        if have is not None and have.get("type", "object") != want.get("type"):
            found.append(f"{path} is {have.get('type', 'object')}, not {want['type']}")
        for other in existing:  # a declared leaf that the index holds as an object
            if other.startswith(path + ".") and want.get("type") != "object":
                found.append(f"{path} is an object in the index")
                break
    return found


def _layout_conflicts(declared: Mapping[str, Any], existing: Mapping[str, Any]) -> list[str]:
    """How the index lays out dotted names (``subobjects``: as object paths or flat keys) against
    the template: set when an index is made and never changed, so an index made before its
    template set it keeps the old layout."""
    want, have = declared.get("subobjects", True), existing.get("subobjects", True)
    return [] if want == have else [f"subobjects is {have}, not {want}"]


def apply_template(
    client: httpx.Client, name: str, body: Mapping[str, Any], *, reset: bool, say: Say
) -> None:
    response = client.put(f"/_index_template/{name}", json=body)
    response.raise_for_status()
    patterns = body["index_patterns"]
    declared_mappings = body["template"]["mappings"]
    declared = flatten_properties(declared_mappings.get("properties", {}))
    mappings = client.get(f"/{','.join(patterns)}/_mapping")
    if mappings.status_code == 404:
        return
    mappings.raise_for_status()
    for index, data in sorted(mappings.json().items()):
        if index.startswith(".") or not any(fnmatch.fnmatchcase(index, p) for p in patterns):
            continue
        existing = flatten_properties(data["mappings"].get("properties", {}))
        conflicts = _layout_conflicts(declared_mappings, data["mappings"])
        conflicts += _conflicts(declared, existing)
        if conflicts and reset:
            say(
                f"index {index} disagrees with template {name} ({'; '.join(conflicts[:3])}): "
                "deleted, the shipper creates it again from the template"
            )
            client.delete(f"/{index}").raise_for_status()
            continue
        if conflicts:
            raise ValueError(f"index {index} disagrees with template {name}: {conflicts}")
        missing = {p: m for p, m in declared.items() if p not in existing}
        if missing:
            client.put(f"/{index}/_mapping", json={"properties": missing}).raise_for_status()


def apply_templates(
    url: str, templates: Mapping[str, Mapping[str, Any]], *, reset: bool = True, say: Say = print
) -> None:
    """PUT every template (idempotent) and bring the matching indices in line."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, body in sorted(templates.items()):
            apply_template(client, name, body, reset=reset, say=say)


def read_templates(folder: Path) -> dict[str, dict[str, Any]]:
    """The generated templates of a folder: ``<name>.index-template.json`` -> name."""
    suffix = ".index-template.json"
    return {
        p.name.removesuffix(suffix): json.loads(p.read_text())
        for p in sorted(folder.glob(f"*{suffix}"))
    }
