"""How many instances of a fleet service the local stack runs (``fleet-stack scale``).

Kept in ``<stack>/scale.json`` so every later ``up`` runs the same number. Instance 1 is the
service as always (its port, ``<service>.log``); instance *i* > 1 is the program
``<service>.<i>`` on the service's port + 10 (i - 1), logging to ``<service>.<i>.log`` (which
the collector tails with the service's own), with the same service name in its telemetry and
its own ``service.instance.id``; Prometheus scrapes every instance under the service's job.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.stack.errors import StackError
from services.stack.paths import StackPaths

#: The services that can run several instances, and the most the machine runs.
SCALABLE = ("position-tracker",)
MAX_INSTANCES = 5
PORT_STEP = 10


def _file(paths: StackPaths) -> Path:
    return paths.root / "scale.json"


def instances(paths: StackPaths) -> dict[str, int]:
    """Service → its number of instances (1 when never scaled)."""
    path = _file(paths)
    saved = json.loads(path.read_text()) if path.is_file() else {}
    return {name: int(saved.get(name, 1)) for name in SCALABLE}


def set_instances(paths: StackPaths, service: str, count: int) -> None:
    if service not in SCALABLE:
        raise StackError(f"{service} cannot be scaled (scalable: {', '.join(SCALABLE)})")
    if not 1 <= count <= MAX_INSTANCES:
        raise StackError(f"between 1 and {MAX_INSTANCES} instances, not {count}")
    paths.root.mkdir(parents=True, exist_ok=True)
    _file(paths).write_text(json.dumps({**instances(paths), service: count}, indent=2) + "\n")


def instance_name(service: str, index: int) -> str:
    """The program (and log file stem) of one instance: ``position-tracker.2``."""
    return service if index == 1 else f"{service}.{index}"


def instance_port(port: int, index: int) -> int:
    return port + PORT_STEP * (index - 1)
