"""The ``dashboard-gen`` command line. Exit codes: 0 ok, 1 findings, 2 usage or internal error."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import click

from observability.artifacts import ARTIFACT_KINDS
from observability.checks.base import Context, build_context
from observability.checks.drift import file_drifts
from observability.checks.registry import AGREEMENT, CHECKS, run_checks
from observability.cli import progress
from observability.cli.init import init
from observability.cli.inventory import log_field_inventory, metric_inventory, render_text
from observability.cli.load import config_path, load
from observability.cli.output import FORMATS, failing, relative, relative_problem, show
from observability.cli.preview import preview
from observability.cli.write import write_artifacts
from observability.config import OUTPUTS, ConfigError
from observability.diagnostics import CatalogError
from observability.testgen.cases import ScenarioError

FINDINGS, ERROR = 1, 2
#: Set (to anything) to see the traceback of an internal error.
DEBUG_VARIABLE = "DASHBOARD_GEN_DEBUG"

#: The folder of the configuration in use, for repository-relative paths in errors.
_root: list[Path] = []


def _context(obj: dict[str, object]) -> Context:
    progress.start()
    path = config_path(obj.get("config"))  # type: ignore[arg-type]
    _root[:] = [path.parent]
    progress.phase(f"loading the catalogs ({relative(path, Path.cwd())})")
    config, platform = load(path)
    progress.phase("rendering the artifacts")
    return build_context(platform, config)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="pyproject.toml with [tool.dashboard-gen], or dashboard-gen.toml (default: the nearest "
    "one from the current folder up).",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Generate, check and lint every artifact of the telemetry catalogs: Prometheus rules and
    their tests, runbooks, Alertmanager and Prometheus configs, Grafana dashboards and data
    sources, Fluent Bit and collector configs, Elasticsearch index templates, Kibana saved
    searches, Kubernetes monitoring objects.

    Exit codes: 0 ok, 1 findings (drift, lint problems), 2 usage, configuration or catalog
    error (one line on stderr).
    """
    ctx.obj = {"config": config}


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.pass_obj
def generate(obj: dict[str, object], dry_run: bool) -> None:
    """Write every artifact, and delete generated files that are no longer generated."""
    ctx = _context(obj)
    progress.phase(f"{'comparing' if dry_run else 'writing'} {len(ctx.files)} artifacts")
    changes = write_artifacts(ctx, dry_run=dry_run)
    progress.stop()
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
    progress.phase(f"comparing {len(ctx.files)} artifacts with the working tree")
    drifts = file_drifts(ctx) if diff and fmt == "text" else []
    progress.phase("running the agreement checks")
    problems = run_checks(ctx, AGREEMENT)
    progress.stop()
    for drift in drifts:
        click.echo(drift.diff, nl=False)
    show(problems, fmt, config=ctx.config)
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
    ctx = _context(obj)
    progress.phase(f"running {len(names or CHECKS)} checks")
    problems = run_checks(ctx, names or None)
    progress.stop()
    show(problems, fmt, {"checks": list(names or [c.name for c in CHECKS])}, config=ctx.config)
    sys.exit(FINDINGS if failing(problems) else 0)


@cli.command(name="list")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def list_(obj: dict[str, object], fmt: str) -> None:
    """The inventory: every metric and log field, the services that emit it, and the rules,
    alerts and tests that use it (dashboards and searches too, once they are generated)."""
    ctx = _context(obj)
    progress.phase("building the inventory")
    metrics, fields = metric_inventory(ctx), log_field_inventory(ctx)
    progress.stop()
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
    """The artifact kinds and the files each one owns (by default), then the outputs the
    configuration can move (``[outputs]`` of dashboard-gen.toml, or
    ``[tool.dashboard-gen.outputs]``) and their defaults."""
    for kind in ARTIFACT_KINDS:
        click.echo(f"{kind.name:24} {', '.join(kind.owns)}\n{'':24} {kind.description}")
    click.echo("\noutputs (default paths):")
    for name, path in OUTPUTS.items():
        click.echo(f"{name:24} {path}")


cli.add_command(preview)
cli.add_command(init)


def _fail(message: str) -> None:
    """One line on stderr, exit 2."""
    progress.stop()
    if _root:
        message = message.replace(f"{_root[0]}/", "")
    click.echo(f"dashboard-gen: {' '.join(message.split())}", err=True)
    sys.exit(ERROR)


def _invalid(exc: CatalogError) -> str:
    root = _root[0] if _root else Path.cwd()
    shown = [str(relative_problem(p, root)) for p in exc.problems]
    more = f" (and {len(shown) - 1} more: {'; '.join(shown[1:])})" if len(shown) > 1 else ""
    return f"invalid catalog: {shown[0] if shown else 'no detail'}{more}"


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        _fail(f"usage error: {exc.format_message()}{hint}")
    except click.ClickException as exc:
        _fail(f"error: {exc.format_message()}")
    except click.exceptions.Abort:
        _fail("aborted")
    except CatalogError as exc:
        _fail(_invalid(exc))
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    except ScenarioError as exc:
        _fail(f"cannot generate the promtool tests: {exc}")
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE):
            traceback.print_exc()
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (set {DEBUG_VARIABLE}=1 for the "
            "traceback)"
        )
    finally:
        progress.stop()


if __name__ == "__main__":
    main()
