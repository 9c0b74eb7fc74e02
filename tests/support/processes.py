"""Run the fleet services as real subprocesses for a test, with their logs kept as artifacts."""

from __future__ import annotations

import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from mirakuru import HTTPExecutor

ROOT = Path(__file__).resolve().parents[2]
#: Every service log written during the tests; the log-schema test validates each line.
LOG_DIR = ROOT / "test-artifacts" / "logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServiceProcess:
    """A fleet service running as ``python -m <module>``, answering on ``url``."""

    module: str
    port: int
    env: dict[str, str]
    log_path: Path
    executor: HTTPExecutor | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        env = {**os.environ, **self.env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port)}
        self.executor = HTTPExecutor(
            [sys.executable, "-m", self.module],
            url=f"{self.url}/healthz",
            method="GET",
            timeout=timeout,
            envvars=env,
            stdout=log,
            stderr=log,
            cwd=str(ROOT),
        )
        self.executor.start()
        return self

    def stop(self) -> None:
        """Graceful stop (SIGTERM), as an orchestrator would."""
        if self.executor is not None and self.executor.running():
            self.executor.stop(stop_signal=signal.SIGTERM)

    def kill(self) -> None:
        """Crash: SIGKILL, no chance to finish anything."""
        if self.executor is not None and self.executor.running():
            self.executor.kill(wait=True, sig=signal.SIGKILL)

    def log_lines(self) -> list[str]:
        return (
            self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        )


def service_process(module: str, name: str, env: dict[str, str], run_id: str) -> ServiceProcess:
    port = free_port()
    return ServiceProcess(module, port, env, LOG_DIR / f"{run_id}-{name}-{port}.log")
