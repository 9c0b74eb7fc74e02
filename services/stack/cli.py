"""`fleet-stack`: the local stack from the command line (`make up/down/status` call it)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from services.stack import api, stack
from services.stack.errors import StackError
from services.stack.paths import stack_paths
from services.stack.scale import MAX_INSTANCES, SCALABLE, set_instances
from services.stack.stack import ComponentStatus


def _one_line_errors(func: Callable[..., None]) -> Callable[..., None]:
    """A StackError ends the command with its one line on stderr and exit status 1."""

    @wraps(func)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            func(*args, **kwargs)
        except StackError as exc:
            click.echo(f"fleet-stack: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("fleet-stack: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug of ours: still one line, the trace on request
            if os.environ.get("FLEET_STACK_DEBUG"):
                raise
            click.echo(
                f"fleet-stack: unexpected {type(exc).__name__}: {exc} "
                "(set FLEET_STACK_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(1)

    return wrapper


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def print_table(statuses: list[ComponentStatus]) -> None:
    rows = [("component", "state", "health", "listens on", "log")]
    for s in statuses:
        health = "-" if s.skipped else ("healthy" if s.healthy else "UNHEALTHY")
        state = f"skipped: {s.detail}" if s.skipped else s.state
        rows.append((s.name, state, health, s.endpoints, "" if s.skipped else _relative(s.log)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The Fleetman local stack: ActiveMQ, FerretDB, Elasticsearch, Prometheus, Alertmanager,
    the OpenTelemetry Collector, nginx and the fleet services, on 127.0.0.1 under supervisord.

    State, logs, data and downloads live in .stack/ (or $FLEET_STACK_DIR).
    """


@main.command()
@click.argument("components", nargs=-1)
@_one_line_errors
def up(components: tuple[str, ...]) -> None:
    """Install what is missing, start what is not running, wait until healthy.

    COMPONENTS default to all of them. A second `up` changes nothing.
    """
    started = time.monotonic()
    click.echo(f"fleet-stack up (state in {stack_paths().root})")
    result = stack.up(list(components) or None)
    print_table(result.statuses)
    if result.changed:
        click.echo(f"up in {time.monotonic() - started:.0f}s")
    else:
        click.echo("nothing changed: everything was already up")


@main.command()
@click.argument("service", type=click.Choice(SCALABLE))
@click.argument("count", type=click.IntRange(1, MAX_INSTANCES))
@_one_line_errors
def scale(service: str, count: int) -> None:
    """Run COUNT instances of SERVICE (kept for every later `up`), then bring the stack up.

    Instance i > 1 is the program SERVICE.i on the service's port + 10 (i - 1); Prometheus
    scrapes all of them under the service's job.
    """
    set_instances(stack_paths(), service, count)
    click.echo(f"{service}: {count} instance(s)")
    result = stack.up()
    print_table(result.statuses)


@main.command()
@_one_line_errors
def down() -> None:
    """Stop exactly what `up` started (supervisord and all its programs)."""
    stack.down()
    click.echo("stack stopped; no process of ours is left")


@main.command()
@_one_line_errors
def status() -> None:
    """Show each component and whether it is healthy; exit 1 if any is not."""
    statuses = stack.status()
    print_table(statuses)
    if not all(s.healthy for s in statuses if not s.skipped):
        sys.exit(1)


@main.command()
@click.argument("tools", nargs=-1)
@_one_line_errors
def install(tools: tuple[str, ...]) -> None:
    """Install tools (default: every component's software, without starting anything).

    TOOLS may name:"""
    if tools:
        for tool in tools:
            click.echo(f"{tool}: {api.ensure_tool(tool)}")
        return
    stack.install()
    click.echo("everything is installed")


install.help = (install.help or "") + " " + ", ".join(api.TOOL_NAMES) + "."


@main.command()
@click.argument("names", nargs=-1)
@click.option("--list", "list_only", is_flag=True, help="List the drills and exit.")
@_one_line_errors
def drill(names: tuple[str, ...], list_only: bool) -> None:
    """Fire drills: cause each fault on the running stack with the time-scaled rules loaded,
    wait for Prometheus to fire each of its alerts and Alertmanager to route them, check a
    dashboard panel shows it, remove the fault, wait for them to resolve, then find the fault's
    records through the logs link and a trace of one. NAMES are drills or alerts (default: every
    drill). Prints a Markdown table; exit 1 if any step fails.
    """
    from services.stack.drills.catalog import NOT_DRILLED, drills_named
    from services.stack.drills.runner import drilling, run_drill, table

    chosen = drills_named(list(names))
    if list_only:
        for known in chosen:
            click.echo(f"{known.name}: {known.what}\n  raises {', '.join(known.alerts)}")
        if not names:
            for alert, why in NOT_DRILLED.items():
                click.echo(f"not drilled: {alert}: {why}")
        return
    api.ensure_up()
    # a TERM ends the drill like Ctrl-C: the fault is removed and the normal rules come back
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say = lambda line: click.echo(f"{time.strftime('%H:%M:%S')} {line}", err=True)  # noqa: E731
    results = []
    with drilling():
        for one in chosen:
            results += run_drill(one, say=say)
    click.echo(table(results))
    if not all(r.ok for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
