"""What every component declares: install, supervisor program, ports and health."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from services.stack.health import Health
from services.stack.paths import REPO_ROOT, StackPaths
from services.stack.ports import HOST


@dataclass(frozen=True)
class Program:
    """One supervisord `[program:x]`: how the component runs in the foreground."""

    command: list[str]
    user: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    directory: Path | None = None
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    startsecs: int = 2


@dataclass(frozen=True)
class Context:
    paths: StackPaths
    repo: Path = REPO_ROOT


class Component(ABC):
    """A component of the local stack. Subclasses are small and declarative."""

    name: str
    """The supervisor program name, log file stem and data folder name."""
    title: str
    """What the status table shows."""
    start_timeout: float = 90.0
    """Seconds to wait for health after starting."""
    infrastructure: bool = True
    """Infrastructure (brokers, databases, telemetry) rather than a fleet service."""

    @abstractmethod
    def ports(self) -> dict[str, int]:
        """Label -> port on 127.0.0.1; the first one is the one checked before starting."""

    def skip_reason(self, ctx: Context) -> str | None:
        """Why this component is not run at all (e.g. 'not built yet'), or None."""
        return None

    def install(self, ctx: Context) -> None:  # noqa: B027 - optional hook
        """Install whatever is missing (idempotent, quiet when nothing is to do)."""

    def prepare(self, ctx: Context) -> None:  # noqa: B027 - optional hook
        """Create data folders and render runtime configs (idempotent)."""

    @abstractmethod
    def program(self, ctx: Context) -> Program:
        """The supervisor program (must be deterministic: same input, same program)."""

    def config_inputs(self, ctx: Context) -> list[Path]:
        """Files whose content the running program depends on (configs, the binary's stamp):
        when one changes, the next `up` restarts the program."""
        return []

    @abstractmethod
    def health(self, ctx: Context) -> Health:
        """Whether the component answers as it should."""

    def endpoints(self) -> str:
        """What the table prints under 'listens on'."""
        return ", ".join(f"{label} {HOST}:{port}" for label, port in self.ports().items())

    def log(self, ctx: Context) -> Path:
        return ctx.paths.log(self.name)
