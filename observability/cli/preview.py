"""``dashboard-gen preview``: render dashboards to PNG from the running Prometheus and ES."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from observability.checks.dashboards import dashboards
from observability.cli.load import load
from observability.preview import Unreachable, preview_dashboard, window_for
from observability.preview.data import Elasticsearch, Prometheus
from observability.slo.durations import parse_duration

ERROR = 2


@click.command()
@click.option(
    "--dashboard", "uids", multiple=True, help="Dashboard UID (repeatable; default: all)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dashboards/previews"),
    show_default=True,
    help="Folder the PNGs are written to (one per dashboard, named by UID).",
)
@click.option("--from", "since", default="1h", show_default=True, help="Time range: the last ...")
@click.option("--env", default=".*", show_default=True, help="Value of $env (a regex).")
@click.option("--prometheus", "prometheus_url", help="Prometheus URL (default: the config's).")
@click.option("--elasticsearch", "es_url", help="Elasticsearch URL (default: the config's).")
@click.pass_obj
def preview(
    obj: dict[str, object],
    uids: tuple[str, ...],
    out: Path,
    since: str,
    env: str,
    prometheus_url: str | None,
    es_url: str | None,
) -> None:
    """Render every panel of a dashboard to one PNG from real data (no Grafana needed): time
    series, stats and heatmaps from Prometheus (with exemplars), logs from Elasticsearch.

    Exit codes: 0 written, 2 Prometheus or Elasticsearch unreachable, or an unknown UID."""
    from observability.checks.base import build_context

    config, platform = load(obj.get("config"))  # type: ignore[arg-type]
    ctx = build_context(platform, config)
    found = {d.uid: d.data for d in dashboards(ctx)}
    unknown = sorted(set(uids) - set(found))
    if unknown:
        click.echo(
            f"unknown dashboard {', '.join(unknown)} (known: {', '.join(sorted(found))})", err=True
        )
        sys.exit(ERROR)
    prometheus = Prometheus(prometheus_url or config.prometheus_url)
    logs = Elasticsearch(es_url or config.elasticsearch_url)
    try:
        prometheus.check()
        logs.check()
        window = window_for(parse_duration(since))
        for uid in uids or sorted(found):
            dashboard = json.loads(json.dumps(found[uid]))
            result = preview_dashboard(dashboard, prometheus, logs, window, out, env)
            empty = f"; no data: {', '.join(result.empty)}" if result.empty else ""
            click.echo(f"wrote {result.path} ({result.panels} panels{empty})")
    except Unreachable as exc:
        click.echo(
            f"cannot preview: {exc}. Start the local stack (`make up`) or pass its URL.", err=True
        )
        sys.exit(ERROR)
