"""`up`, `down` and `status`: the stack's three verbs, over the components and supervisord."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from services.stack.components import Component, Context, Program, all_components
from services.stack.errors import StackError
from services.stack.health import Health
from services.stack.locks import locked
from services.stack.paths import StackPaths, stack_paths
from services.stack.ports import describe_owner, port_in_use
from services.stack.supervisor import RUNNING_STATES, Changes, Supervisor, alive, processes_of

Printer = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    title: str
    state: str
    healthy: bool
    detail: str
    endpoints: str
    log: str
    skipped: bool = False


@dataclass(frozen=True)
class UpResult:
    changes: Changes
    started: list[str]
    statuses: list[ComponentStatus]

    @property
    def changed(self) -> bool:
        return self.changes.any() or bool(self.started)


def _context(paths: StackPaths | None = None) -> Context:
    return Context(paths=paths or stack_paths())


def _select(ctx: Context, names: list[str] | None, out: Printer) -> tuple[list, list]:
    """(active components, selected components), announcing what is skipped and why."""
    components = all_components(ctx.paths)
    known = {c.name for c in components}
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise StackError(
            f"unknown component {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    active = []
    for component in components:
        reason = component.skip_reason(ctx)
        if reason is None:
            active.append(component)
        elif names is None or component.name in names:
            out(f"  {component.name}: skipped ({reason})")
    selected = [c for c in active if names is None or c.name in names]
    return active, selected


def up(
    names: list[str] | None = None, *, out: Printer = _print, paths: StackPaths | None = None
) -> UpResult:
    """Install what is missing, start what is not running, wait until healthy. Idempotent."""
    ctx = _context(paths)
    ctx.paths.create()
    with locked(ctx.paths.run / "up.lock"):
        active, selected = _select(ctx, names, out)
        for component in selected:
            component.install(ctx)
        for component in selected:
            component.prepare(ctx)
        supervisor = Supervisor(ctx.paths)
        supervisor.write_conf({c.name: _fingerprinted(c, ctx) for c in active})
        if supervisor.is_running():
            before = supervisor.processes()
            changes = supervisor.update()
            # a changed program that was running comes back even when it was not asked for
            rerun = [n for n in changes.changed if before.get(n, {}).get("statename") == "RUNNING"]
        else:
            _check_ports(ctx, selected, running=set())
            out(f"  starting supervisord ({supervisor.conf})")
            supervisor.start_daemon()
            changes = Changes(added=[c.name for c in active], daemon_started=True)
            rerun = []
        for verb, names_ in (("added", changes.added), ("changed", changes.changed)):
            if names_ and not changes.daemon_started:
                out(f"  {verb} programs: {', '.join(names_)}")
        if changes.removed:
            out(f"  removed programs: {', '.join(changes.removed)}")

        wanted = selected + [c for c in active if c.name in rerun and c not in selected]
        processes = supervisor.processes()
        to_start = [
            c for c in wanted if processes.get(c.name, {}).get("statename") not in RUNNING_STATES
        ]
        running = {n for n, p in processes.items() if p.get("statename") in RUNNING_STATES}
        _check_ports(ctx, to_start, running=running)
        for component in to_start:
            out(f"  starting {component.name}")
            supervisor.start(component.name)
        _wait_healthy(ctx, supervisor, wanted, out)
        statuses = status(paths=ctx.paths)
        return UpResult(changes=changes, started=[c.name for c in to_start], statuses=statuses)


def _fingerprinted(component: Component, ctx: Context) -> Program:
    """The program, with a digest of its config inputs in its environment: a changed config is
    a changed program for supervisord, so `up` restarts exactly the programs concerned."""
    program = component.program(ctx)
    digest = hashlib.sha256()
    for path in component.config_inputs(ctx):
        digest.update(str(path).encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    environment = {**program.environment, "FLEET_STACK_CONFIG_SHA256": digest.hexdigest()[:16]}
    return dataclasses.replace(program, environment=environment)


def _check_ports(ctx: Context, components: list[Component], running: set[str]) -> None:
    for component in components:
        if component.name in running:
            continue
        for port in component.ports().values():
            if port_in_use(port):
                raise StackError(
                    f"{component.name}: cannot start: {describe_owner(port)}; "
                    f"log: {component.log(ctx)}"
                )


def _wait_healthy(
    ctx: Context, supervisor: Supervisor, components: list[Component], out: Printer
) -> None:
    started = time.monotonic()
    pending = {c.name: c for c in components}
    last: dict[str, Health] = {}
    next_note = 15.0
    with ThreadPoolExecutor(max_workers=max(1, len(pending))) as pool:
        while pending:
            processes = supervisor.processes()
            for name, component in list(pending.items()):
                info = processes.get(name, {})
                state = info.get("statename", "UNKNOWN")
                if state in ("FATAL", "EXITED", "STOPPED", "UNKNOWN"):
                    raise StackError(_failure(ctx, component, info))
            probes = {name: pool.submit(c.health, ctx) for name, c in pending.items()}
            for name, future in probes.items():
                last[name] = future.result()
                if last[name].ok:
                    out(f"  {name} healthy ({time.monotonic() - started:.0f}s)")
                    del pending[name]
            elapsed = time.monotonic() - started
            if pending and elapsed >= next_note:
                out(f"  waiting for {', '.join(pending)} ({elapsed:.0f}s)")
                next_note += 15.0
            for name, component in list(pending.items()):
                if elapsed > component.start_timeout:
                    raise StackError(
                        f"{name}: not healthy after {component.start_timeout:.0f}s "
                        f"({last[name].detail}); log: {component.log(ctx)}"
                    )
            if pending:
                time.sleep(1.0)


def _failure(ctx: Context, component: Component, info: dict) -> str:
    reason = info.get("spawnerr") or f"process {info.get('statename', 'gone').lower()}"
    exit_status = info.get("exitstatus")
    if exit_status:
        reason += f" (exit status {exit_status})"
    tail = _last_log_line(
        component.log(ctx).read_text(errors="replace") if component.log(ctx).exists() else ""
    )
    if tail:
        reason += f"; last log line: {tail}"
    return f"{component.name}: failed to start: {reason}; log: {component.log(ctx)}"


def _last_log_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def status(*, paths: StackPaths | None = None) -> list[ComponentStatus]:
    """Every declared component: supervisor state and a live health probe."""
    ctx = _context(paths)
    supervisor = Supervisor(ctx.paths)
    processes = supervisor.processes() if supervisor.is_running() else {}
    components = all_components(ctx.paths)

    def one(component: Component) -> ComponentStatus:
        reason = component.skip_reason(ctx)
        log = str(component.log(ctx))
        if reason is not None:
            return ComponentStatus(
                component.name,
                component.title,
                "skipped",
                False,
                reason,
                component.endpoints(),
                log,
                skipped=True,
            )
        state = processes.get(component.name, {}).get("statename", "STOPPED")
        if state not in RUNNING_STATES:
            return ComponentStatus(
                component.name,
                component.title,
                state,
                False,
                "not running",
                component.endpoints(),
                log,
            )
        health = component.health(ctx)
        return ComponentStatus(
            component.name,
            component.title,
            state,
            health.ok,
            health.detail,
            component.endpoints(),
            log,
        )

    with ThreadPoolExecutor(max_workers=len(components)) as pool:
        return list(pool.map(one, components))


def stop(names: list[str], *, paths: StackPaths | None = None) -> None:
    """Stop these components (the others keep running); `up` starts them again."""
    ctx = _context(paths)
    _select(ctx, names, out=lambda _line: None)  # unknown names: a clear error
    supervisor = Supervisor(ctx.paths)
    for name in names:
        supervisor.stop(name)


def down(*, out: Printer = _print, paths: StackPaths | None = None) -> list[int]:
    """Stop exactly what `up` started: supervisord and its programs; returns leftover pids killed."""
    ctx = _context(paths)
    supervisor = Supervisor(ctx.paths)
    ours = processes_of(ctx.paths)
    if supervisor.is_running() or supervisor.daemon_pid():
        out("  stopping supervisord and its programs")
        supervisor.shutdown()
    leftovers = sorted(set(processes_of(ctx.paths)) | {p for p in ours if _exists(p)})
    if leftovers:
        out(f"  stopping leftover processes: {', '.join(map(str, leftovers))}")
        _terminate(leftovers)
    remaining = processes_of(ctx.paths)
    if remaining:
        raise StackError(f"down: processes still running: {', '.join(map(str, remaining))}")
    return leftovers


def _terminate(pids: list[int]) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_exists(p) for p in pids):
            time.sleep(0.2)


def _exists(pid: int) -> bool:
    return alive(pid)


def install(
    names: list[str] | None = None, *, out: Printer = _print, paths: StackPaths | None = None
) -> None:
    """Install every (named) component's software without starting anything."""
    ctx = _context(paths)
    ctx.paths.create()
    _active, selected = _select(ctx, names, out)
    for component in selected:
        out(f"  {component.name}")
        component.install(ctx)
