"""links/environment: every link a generated file carries opens where that file is read.

A file belongs to one environment: ``k8s/overlays/<cluster>/monitoring/generated`` to that
cluster, the rest of ``k8s/`` to every cluster, everything else to the local stack. Its URLs
(alert annotations, dashboard links, data sources, scrape targets) may only name that
environment's hosts: its Grafana, Kibana and runbook hosts from the configuration, and its data
sources. Nothing in ``k8s/`` may point at ``localhost``: a cluster's readers are not on the
cluster. Runbooks (Markdown prose for every environment) are not read for links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from observability.artifacts import cluster_folder
from observability.checks.base import Check, Context
from observability.config import LINK_KEYS, Config
from observability.diagnostics import Level, Problem
from observability.render.provenance import Origin

_URL = re.compile(r"https?://[^\s\"'<>()\[\]{},\\]+")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _hosts(*urls: str) -> set[str]:
    return {urlsplit(u).netloc for u in urls if u}


def _links(config: Config) -> set[str]:
    return _hosts(*(getattr(config, key) for key in LINK_KEYS))


def allowed_hosts(config: Config, path: str) -> tuple[str, set[str]]:
    """The environment a generated file belongs to, and the hosts its URLs may name."""
    cluster_data = _hosts(config.k8s_prometheus_url, config.k8s_elasticsearch_url)
    cluster_data |= _hosts(config.k8s_jaeger_url)
    folder = str(PurePosixPath(path).parent)
    for cluster in config.clusters:
        if folder == cluster_folder(cluster.name):
            return cluster.name, _links(config.in_cluster(cluster)) | cluster_data
    if path.startswith("k8s/"):
        # shared by every cluster: only in-cluster addresses (plus the links when no cluster
        # has its own)
        return "every cluster", cluster_data | (set() if config.clusters else _links(config))
    local_data = _hosts(config.prometheus_url, config.elasticsearch_url, config.jaeger_url)
    # locally, any port of the loopback name the data sources use (scrape targets, tools)
    loopback = {h.split(":")[0] for h in local_data} & _LOOPBACK
    return "local", _links(config) | local_data | loopback


def _refusal(url: str, path: str, environment: str, allowed: set[str]) -> str:
    """Why ``url`` may not be in the file at ``path`` ('' when it may)."""
    parts = urlsplit(url)
    if path.startswith("k8s/") and parts.hostname in _LOOPBACK:
        return "a loopback address in a cluster's file"
    if parts.netloc in allowed or parts.netloc.split(":")[0] in allowed:
        return ""
    return f"{parts.netloc} is not a host of {environment}"


def _settings(ctx: Context) -> Origin:
    """Where the links are set: the configuration (dashboard-gen.toml, or the
    [tool.dashboard-gen] table of pyproject.toml)."""
    source = ctx.config_source()
    return Origin(source.module, "config", "dashboard-gen", source)


def run(ctx: Context) -> Iterator[Problem]:
    for path, text in ctx.files.items():
        if PurePosixPath(path).suffix in (".md", ".png"):
            continue
        environment, allowed = allowed_hosts(ctx.config, path)
        for url in sorted(set(_URL.findall(text))):
            why = _refusal(url, path, environment, allowed)
            if not why:
                continue
            yield CHECK.problem(
                _settings(ctx),
                Level.BUG,
                f"{url}: {why} (its hosts: {', '.join(sorted(allowed)) or 'none configured'})",
                path,
            )


CHECK = Check(
    "links/environment",
    "every link of a generated file opens in the environment that reads it (no localhost in k8s)",
    run,
)
