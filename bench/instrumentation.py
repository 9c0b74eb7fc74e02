"""What "telemetry on" and "off" mean in the benchmarks, and where their spans go.

Spans go to a real OpenTelemetry Collector that receives them over OTLP/HTTP and drops them: the
services pay everything exporting costs them (batching, protobuf encoding, the HTTP posts), and
nothing else on this shared machine pays for indexing them in a backend, which is no cost of
instrumenting the service.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psutil
from mirakuru import TCPExecutor

from observability.runtime.conventions import DEPLOYED_CONVENTIONS
from observability.runtime.tracing import DEPLOYED_SAMPLING
from services.stack.api import ensure_tool
from tests.support.processes import free_port

T = TypeVar("T")

CONFIG = """\
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"""


#: A service's telemetry settings per variant: as the tracker and the gateway are deployed (one
#: trace in ten where they start one, else their caller's or publisher's decision), every
#: request or message traced, or none at all.
VARIANTS: dict[str, dict[str, str]] = {
    "on": {"FLEET_TELEMETRY": "on", **DEPLOYED_SAMPLING, **DEPLOYED_CONVENTIONS},
    "all-traced": {
        "FLEET_TELEMETRY": "on",
        "OTEL_TRACES_SAMPLER": "always_on",
        **DEPLOYED_CONVENTIONS,
    },
    "off": {"FLEET_TELEMETRY": "off", "LOG_LEVEL": "WARNING"},
}


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, user and system, all its threads."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median over rounds of each round's ratio. Variants measured in one round share the
    machine's state of those minutes; this shared machine's speed drifts by a third from one
    minute to the next, which a ratio of medians taken across rounds would mix in."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def rotated(variants: list[T], round_no: int) -> list[T]:
    """The variants rotated by one each round: none always runs first, or right after another
    (the broker and the database still settle the previous run's writes when the next starts)."""
    shift = round_no % len(variants)
    return variants[shift:] + variants[:shift]


def telemetry_env(variant: str, endpoint: str) -> dict[str, str]:
    """The environment of a service measured in ``variant``, exporting spans to ``endpoint``."""
    env = dict(VARIANTS[variant])
    if variant != "off":
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    return env


@contextmanager
def span_sink() -> Iterator[str]:
    """Runs the collector; yields its OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    binary = ensure_tool("otelcol-fleet")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="span-sink-") as folder:
        config = Path(folder) / "otelcol.yaml"
        config.write_text(CONFIG.format(port=port))
        executor = TCPExecutor(
            [str(binary), f"--config={config}"], host="127.0.0.1", port=port, timeout=60
        )
        with executor:
            yield f"http://127.0.0.1:{port}"
