"""``dashboard-gen init``: a configuration and one example catalog, ready to generate."""

from __future__ import annotations

from pathlib import Path

import click

from observability.config import CONFIG_FILE, find_config

CATALOG_MODULE = "telemetry"

CONFIG_TEXT = f'''# dashboard-gen's configuration (`dashboard-gen init`). The same keys can go in the
# [tool.dashboard-gen] table of a pyproject.toml instead.

# The service catalogs, as module:attribute; modules are imported from this folder first.
catalogs = ["{CATALOG_MODULE}:CATALOG"]

# Where links in alerts and dashboards point (the Kubernetes objects are read in a cluster:
# no localhost there).
grafana_url = "https://grafana.example.com"
kibana_url = "https://kibana.example.com"
runbook_url = "https://example.com/runbooks"

# Where each artifact goes, relative to this folder (`dashboard-gen artifacts` lists them);
# uncomment to move one from its default.
[outputs]
# rules = "alerts/rules"
# runbooks = "alerts/runbooks"
# grafana-dashboards = "dashboards/grafana"
# k8s-monitoring = "k8s/monitoring"
'''

CATALOG_TEXT = '''"""The telemetry catalog of one example service (`dashboard-gen init`): what it emits (one
counter, the base log schema) and what it promises (one SLO, whose alerts, recording rules,
promtool tests, runbooks and dashboard dashboard-gen generates)."""

from observability.catalog import SLO, Label, Metric, MetricKind, RatioSLI, Selector, ServiceCatalog, eq
from observability.catalog.common import BASE_LOG_SCHEMA

REQUESTS = Metric(
    name="example_requests_total",
    kind=MetricKind.COUNTER,
    help="Requests handled, by outcome.",
    labels=(Label("outcome", "How the request ended.", ("ok", "error")),),
)

AVAILABILITY = SLO(
    name="availability",
    objective=0.99,
    sli=RatioSLI(good=(Selector(REQUESTS, (eq("outcome", "ok"),)),), total=(Selector(REQUESTS),)),
    description="99% of requests succeed.",
    alert_name="ExampleErrorBudgetBurn",
    runbook="Look at the error logs of the example service.",
)

CATALOG = ServiceCatalog(
    name="example",
    description="An example service.",
    metrics=(REQUESTS,),
    logs=BASE_LOG_SCHEMA,
    slos=(AVAILABILITY,),
    http=False,
    metrics_port=8000,
)
'''


@click.command()
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."), required=False
)
def init(folder: Path) -> None:
    """Scaffold dashboard-gen.toml and an example catalog (telemetry.py) in FOLDER (default:
    the current folder); then run `dashboard-gen generate`."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = find_config(folder.resolve())
    if existing is not None and existing.parent == folder.resolve():
        raise click.UsageError(f"{existing} already configures dashboard-gen here")
    module = folder / f"{CATALOG_MODULE}.py"
    if module.exists():
        raise click.UsageError(f"{module} already exists")
    (folder / CONFIG_FILE).write_text(CONFIG_TEXT)
    module.write_text(CATALOG_TEXT)
    click.echo(f"wrote {folder / CONFIG_FILE}\nwrote {module}")
    click.echo("next: dashboard-gen generate && dashboard-gen check && dashboard-gen lint")
