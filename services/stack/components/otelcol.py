"""The OpenTelemetry Collector (`otelcol-fleet`), built with the official builder.

OTLP on 4317 (gRPC) / 4318 (HTTP), health_check on 13133; config `dashboards/shipping/otelcol.yaml`
(filelog for the fleet services' JSON logs, OTLP traces, exported to Elasticsearch).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path

from services.stack.components.base import Component, Context, Program
from services.stack.errors import StackError
from services.stack.gotools import ensure_go_tool, go_env
from services.stack.health import Health, http_ok
from services.stack.locks import locked
from services.stack.paths import StackPaths
from services.stack.ports import HOST, configured_port
from services.stack.templates import render

BINARY = "otelcol-fleet"
MANIFEST = "otelcol-builder.yaml"
CONFIG = Path("dashboards/shipping/otelcol.yaml")


def manifest_text() -> str:
    return resources.files("services.stack.components").joinpath(MANIFEST).read_text()


def manifest_hash() -> str:
    return hashlib.sha256(manifest_text().encode()).hexdigest()[:16]


def ensure_collector(paths: StackPaths) -> Path:
    """`<cache>/bin/otelcol-fleet`, (re)built only when the builder manifest changed."""
    binary = paths.bin / BINARY
    stamp = paths.bin / f".{BINARY}.manifest-sha256"
    wanted = manifest_hash()
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return binary
    builder = ensure_go_tool("builder", paths)
    with locked(paths.cache / ".otelcol-build.lock"):
        if binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return binary
        workdir = paths.build / f"otelcol-{wanted}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        manifest = workdir / "manifest.yaml"
        manifest.write_text(render(manifest_text(), output_path=workdir / "dist"))
        print(f"  building {BINARY} (OpenTelemetry Collector builder, a few minutes)", flush=True)
        started = time.monotonic()
        env = go_env(paths, GONOSUMDB="go.opentelemetry.io/ebpf-profiler")
        log = workdir / "build.log"
        with log.open("w") as out:
            proc = subprocess.run(
                [str(builder), f"--config={manifest}"],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if proc.returncode != 0:
            raise StackError(f"otelcol: the collector build failed; see {log}")
        os.replace(workdir / "dist" / BINARY, binary)
        stamp.write_text(wanted + "\n")
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"  built {BINARY} in {time.monotonic() - started:.0f}s", flush=True)
    return binary


class OtelCollector(Component):
    name = "otelcol"
    title = "OpenTelemetry Collector"
    start_timeout = 60.0

    def ports(self) -> dict[str, int]:
        return {
            "otlp-http": configured_port(self.name, 4318),
            "otlp-grpc": configured_port(self.name, 4317, "grpc"),
            "health": configured_port(self.name, 13133, "health"),
            "metrics": configured_port(self.name, 8888, "metrics"),
        }

    def install(self, ctx: Context) -> None:
        ensure_collector(ctx.paths)

    def program(self, ctx: Context) -> Program:
        ports = self.ports()
        return Program(
            command=[str(ctx.paths.bin / BINARY), f"--config={ctx.repo / CONFIG}"],
            environment={
                "FLEET_LOG_DIR": str(ctx.paths.logs),
                "FLEET_OTELCOL_STORAGE_DIR": str(ctx.paths.data_dir(self.name)),
                "FLEET_OTLP_HTTP_ENDPOINT": f"{HOST}:{ports['otlp-http']}",
                "FLEET_OTLP_GRPC_ENDPOINT": f"{HOST}:{ports['otlp-grpc']}",
                "FLEET_OTELCOL_HEALTH_ENDPOINT": f"{HOST}:{ports['health']}",
                "FLEET_OTELCOL_METRICS_PORT": str(ports["metrics"]),
                "FLEET_ELASTICSEARCH_URL": f"http://{HOST}:{configured_port('elasticsearch', 9200)}",
            },
            directory=ctx.paths.data_dir(self.name),
        )

    def prepare(self, ctx: Context) -> None:
        ctx.paths.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def config_inputs(self, ctx: Context) -> list[Path]:
        return [ctx.repo / CONFIG, ctx.paths.bin / f".{BINARY}.manifest-sha256"]

    def health(self, ctx: Context) -> Health:
        return http_ok(f"http://{HOST}:{self.ports()['health']}/")
