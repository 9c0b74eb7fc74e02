"""The ``dashboard-gen`` command line. Exit codes: 0 ok, 1 findings, 2 usage or internal error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from observability.artifacts import ARTIFACT_KINDS
from observability.checks.base import Context, build_context
from observability.checks.drift import file_drifts
from observability.checks.registry import AGREEMENT, CHECKS, run_checks
from observability.cli.inventory import log_field_inventory, metric_inventory, render_text
from observability.cli.load import load
from observability.cli.output import FORMATS, failing, show
from observability.cli.preview import preview
from observability.cli.write import write_artifacts
from observability.config import ConfigError
from observability.diagnostics import CatalogError

FINDINGS, ERROR = 1, 2


def _context(obj: dict[str, object]) -> Context:
    config, platform = load(obj.get("config"))  # type: ignore[arg-type]
    return build_context(platform, config)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="pyproject.toml with [tool.dashboard-gen] (default: the nearest one above the current "
    "folder, else this project's).",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Generate, check and lint every artifact of the telemetry catalogs: Prometheus rules and
    their tests, runbooks, Alertmanager and Prometheus configs, Grafana dashboards and data
    sources, Fluent Bit and collector configs, Elasticsearch index templates, Kibana saved
    searches, Kubernetes monitoring objects.

    Exit codes: 0 ok, 1 findings (drift, lint problems), 2 usage or internal error.
    """
    ctx.obj = {"config": config}


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.pass_obj
def generate(obj: dict[str, object], dry_run: bool) -> None:
    """Write every artifact, and delete generated files that are no longer generated."""
    ctx = _context(obj)
    changes = write_artifacts(ctx, dry_run=dry_run)
    for line in changes.lines():
        click.echo(line)
    click.echo(changes.summary(dry_run))


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--diff/--no-diff", default=True, show_default=True, help="Show a unified diff per file."
)
@click.pass_obj
def check(obj: dict[str, object], fmt: str, diff: bool) -> None:
    """Fail (exit 1) when a committed artifact differs from what the catalogs generate, or
    references a metric or label the catalogs no longer declare. The CI drift gate."""
    ctx = _context(obj)
    if diff and fmt == "text":
        for drift in file_drifts(ctx):
            click.echo(drift.diff, nl=False)
    problems = run_checks(ctx, AGREEMENT)
    show(problems, fmt)
    sys.exit(FINDINGS if failing(problems) else 0)


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--check",
    "names",
    multiple=True,
    type=click.Choice([c.name for c in CHECKS]),
    help="Run only this check (repeatable). Default: all.",
)
@click.option("--list-checks", is_flag=True, help="List the checks and their doc pages, then exit.")
@click.pass_obj
def lint(obj: dict[str, object], fmt: str, names: tuple[str, ...], list_checks: bool) -> None:
    """Run the checks: PromQL syntax, metric and label closure, alert style, rule-test
    coverage, drift. Problems name the catalog definition at fault (module:line)."""
    if list_checks:
        for c in CHECKS:
            click.echo(f"{c.name:24} {c.summary}  ({c.doc})")
        return
    problems = run_checks(_context(obj), names or None)
    show(problems, fmt, {"checks": list(names or [c.name for c in CHECKS])})
    sys.exit(FINDINGS if failing(problems) else 0)


@cli.command(name="list")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def list_(obj: dict[str, object], fmt: str) -> None:
    """The inventory: every metric and log field, the services that emit it, and the rules,
    alerts and tests that use it (dashboards and searches too, once they are generated)."""
    ctx = _context(obj)
    metrics, fields = metric_inventory(ctx), log_field_inventory(ctx)
    if fmt == "json":
        data = {
            "metrics": [e.as_dict() for e in metrics],
            "log_fields": [e.as_dict() for e in fields],
        }
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(render_text(metrics, fields), nl=False)


@cli.command()
def artifacts() -> None:
    """The artifact kinds and the files each one owns."""
    for kind in ARTIFACT_KINDS:
        click.echo(f"{kind.name:24} {', '.join(kind.owns)}\n{'':24} {kind.description}")


cli.add_command(preview)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ERROR)
    except click.exceptions.Abort:
        sys.exit(ERROR)
    except CatalogError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"the catalogs are invalid: {len(exc.problems)} problem(s)", err=True)
        sys.exit(ERROR)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(ERROR)


if __name__ == "__main__":
    main()
