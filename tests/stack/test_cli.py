"""`fleet-stack` as a person runs it: idempotent `up`, one-line failures, a clean `down`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.stack import api
from services.stack.paths import StackPaths, stack_paths
from services.stack.supervisor import Supervisor, alive, processes_of

pytestmark = pytest.mark.stack


def fleet_stack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.stack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def side_stack(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """The environment of a second, separate stack (own state folder, shared download cache)."""
    root = tmp_path / "stack"
    env = {
        **os.environ,
        "FLEET_STACK_DIR": str(root),
        "FLEET_STACK_CACHE_DIR": str(stack_paths().cache),
        "FLEET_NGINX_PORT": str(free_port()),
    }
    yield env, root
    fleet_stack("down", env=env)
    assert processes_of(StackPaths(root, stack_paths().cache)) == []


def test_second_up_changes_nothing():
    first = fleet_stack("up", "nginx", "prometheus")
    assert first.returncode == 0, first.stderr
    supervisor = Supervisor(stack_paths())
    pids_before = {name: info["pid"] for name, info in supervisor.processes().items()}

    second = fleet_stack("up", "nginx", "prometheus")

    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert "starting" not in second.stdout
    pids_after = {name: info["pid"] for name, info in supervisor.processes().items()}
    assert pids_after == pids_before
    assert f"http {api.NGINX_URL.removeprefix('http://')}" in second.stdout


def test_port_taken_by_someone_else_is_one_line_naming_the_component(side_stack):
    env, root = side_stack
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env["FLEET_NGINX_PORT"] = str(port)

        result = fleet_stack("up", "nginx", env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"nginx: cannot start: port {port} already in use by pid {os.getpid()}" in lines[0]
    assert str(root / "logs" / "nginx.log") in lines[0]


def test_status_fails_when_nothing_runs(side_stack):
    env, _root = side_stack
    result = fleet_stack("status", env=env)
    assert result.returncode == 1
    assert "nginx" in result.stdout and "STOPPED" in result.stdout


def test_down_stops_exactly_what_up_started(side_stack):
    env, root = side_stack
    up = fleet_stack("up", "nginx", env=env)
    assert up.returncode == 0, up.stderr
    running = processes_of(StackPaths(root, stack_paths().cache))
    assert len(running) >= 3  # supervisord, nginx master and worker

    down = fleet_stack("down", env=env)

    assert down.returncode == 0, down.stderr
    assert processes_of(StackPaths(root, stack_paths().cache)) == []
    assert not any(alive(pid) for pid in running)
    assert not (root / "run" / "supervisor.sock").exists()
