"""The Python API of the local stack, for tests and the project's other tools.

- `ensure_up(["activemq", "ferretdb"])`: start if not running, wait until healthy.
- `ELASTICSEARCH_URL`, `MONGODB_URL`, ...: where each component listens.
- `ensure_tool("promtool")`: a tool binary, installed when missing.
- `with outage("elasticsearch"): ...`: a component stopped for a block, then up again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.stack import stack, system
from services.stack.components import infrastructure_names
from services.stack.components.base import Context
from services.stack.components.ferretdb import external_mongodb_url, local_mongodb_url
from services.stack.components.otelcol import ensure_collector
from services.stack.components.prometheus import DRILL_RULES, NORMAL_RULES, load_rules, reload
from services.stack.errors import StackError
from services.stack.gotools import GO_TOOLS, ensure_go_tool
from services.stack.paths import StackPaths, stack_paths
from services.stack.ports import HOST, configured_port
from services.stack.stack import ComponentStatus, UpResult
from services.stack.supervisor import Supervisor

__all__ = [
    "ALERTMANAGER_URL",
    "ELASTICSEARCH_URL",
    "HOST",
    "MONGODB_URL",
    "NGINX_URL",
    "OTLP_GRPC_ENDPOINT",
    "OTLP_HTTP_URL",
    "PROMETHEUS_URL",
    "STOMP_HOST",
    "STOMP_PORT",
    "ComponentStatus",
    "StackError",
    "UpResult",
    "down",
    "ensure_tool",
    "ensure_up",
    "infrastructure_names",
    "is_healthy",
    "outage",
    "stack_paths",
    "stack_status",
    "stop",
]

STOMP_HOST = HOST
STOMP_PORT = configured_port("activemq", 61613)
MONGODB_URL = external_mongodb_url() or local_mongodb_url()
ELASTICSEARCH_URL = f"http://{HOST}:{configured_port('elasticsearch', 9200)}"
PROMETHEUS_URL = f"http://{HOST}:{configured_port('prometheus', 9090)}"
ALERTMANAGER_URL = f"http://{HOST}:{configured_port('alertmanager', 9093)}"
NGINX_URL = f"http://{HOST}:{configured_port('nginx', 8080)}"
OTLP_HTTP_URL = f"http://{HOST}:{configured_port('otelcol', 4318)}"
OTLP_GRPC_ENDPOINT = f"{HOST}:{configured_port('otelcol', 4317, 'grpc')}"

# tools from Debian packages: command -> package
_APT_TOOLS = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "nginx": "nginx-light",
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    "ruby": "ruby",  # Onigmo, Fluent Bit's regex engine, for the parser proof tests
}


def ensure_up(names: list[str] | None = None, *, quiet: bool = True) -> UpResult:
    """Start `names` (default: every component) if not running and wait until healthy.

    Leaves them running. Raises StackError (one line: component, reason, log) on failure.
    """
    return stack.up(names, out=(lambda _line: None) if quiet else print)


def ensure_infrastructure(*, quiet: bool = True) -> UpResult:
    """`ensure_up` for the infrastructure only (not the fleet services)."""
    return ensure_up(infrastructure_names(), quiet=quiet)


def stack_status() -> list[ComponentStatus]:
    """Each component's supervisor state and live health."""
    return stack.status()


def is_healthy(names: list[str] | None = None) -> bool:
    """True when every named (default: every non-skipped) component answers its health probe."""
    wanted = [s for s in stack.status() if not s.skipped and (names is None or s.name in names)]
    return bool(wanted) and all(s.healthy for s in wanted)


def stop(names: list[str]) -> None:
    """Stop these components (a fault for a test or a drill); `ensure_up` starts them again."""
    stack.stop(names)


@contextmanager
def outage(*names: str) -> Iterator[None]:
    """These components stopped for the block, then started again and healthy."""
    stop(list(names))
    try:
        yield
    finally:
        ensure_up(list(names))


def pid(name: str) -> int:
    """The running process of a component (0 when it is not running)."""
    return int(Supervisor(stack_paths()).processes().get(name, {}).get("pid", 0))


@contextmanager
def drill_rules() -> Iterator[None]:
    """The running Prometheus evaluates the time-scaled drill rules for the block, then the
    normal rules again."""
    ctx = Context(stack_paths())
    port = configured_port("prometheus", 9090)
    load_rules(ctx, DRILL_RULES)
    try:
        reload(port)
        yield
    finally:
        load_rules(ctx, NORMAL_RULES)
        reload(port)


def down() -> None:
    """Stop everything `up` started."""
    stack.down(out=lambda _line: None)


def ensure_tool(name: str, paths: StackPaths | None = None) -> Path:
    """The path of a tool binary, installed when missing.

    Go tools built into `.stack/cache/bin`: ferretdb, pint, kubeconform, builder, otelcol-fleet.
    Debian tools: promtool, amtool, prometheus, prometheus-alertmanager, nginx, chromium,
    chromedriver, ruby.
    """
    paths = paths or stack_paths()
    if name in GO_TOOLS:
        return ensure_go_tool(name, paths)
    if name == "otelcol-fleet":
        return ensure_collector(paths)
    if name in _APT_TOOLS:
        return Path(system.ensure_command(name, _APT_TOOLS[name], name))
    known = sorted([*GO_TOOLS, "otelcol-fleet", *_APT_TOOLS])
    raise StackError(f"unknown tool {name!r} (known: {', '.join(known)})")


TOOL_NAMES = sorted([*GO_TOOLS, "otelcol-fleet", *_APT_TOOLS])
