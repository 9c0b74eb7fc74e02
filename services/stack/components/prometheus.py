"""Prometheus 2.42 (Debian `prometheus`) with the project's `alerts/prometheus.yml`."""

from __future__ import annotations

from pathlib import Path

from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.health import Health, http_ok
from services.stack.ports import HOST, configured_port


class Prometheus(Component):
    name = "prometheus"
    title = "Prometheus 2.42"
    start_timeout = 60.0

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, 9090)}

    def install(self, ctx: Context) -> None:
        system.ensure_command("prometheus", "prometheus", self.name)

    def prepare(self, ctx: Context) -> None:
        ctx.paths.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def program(self, ctx: Context) -> Program:
        return Program(
            command=[
                "/usr/bin/prometheus",
                f"--config.file={ctx.repo / 'alerts' / 'prometheus.yml'}",
                f"--storage.tsdb.path={ctx.paths.data_dir(self.name)}",
                f"--web.listen-address={HOST}:{self.ports()['http']}",
                "--enable-feature=exemplar-storage",
                "--web.enable-lifecycle",
            ],
            directory=ctx.paths.data_dir(self.name),
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        alerts = ctx.repo / "alerts"
        return [alerts / "prometheus.yml", *sorted(alerts.glob("rules/**/*.y*ml"))]

    def health(self, ctx: Context) -> Health:
        return http_ok(f"http://{HOST}:{self.ports()['http']}/-/ready")


class Alertmanager(Component):
    name = "alertmanager"
    title = "Alertmanager 0.25"
    start_timeout = 60.0

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, 9093)}

    def install(self, ctx: Context) -> None:
        system.ensure_command("prometheus-alertmanager", "prometheus-alertmanager", self.name)

    def prepare(self, ctx: Context) -> None:
        ctx.paths.data_dir(self.name).mkdir(parents=True, exist_ok=True)

    def program(self, ctx: Context) -> Program:
        return Program(
            command=[
                "/usr/bin/prometheus-alertmanager",
                f"--config.file={ctx.repo / 'alerts' / 'alertmanager.yml'}",
                f"--storage.path={ctx.paths.data_dir(self.name)}",
                f"--web.listen-address={HOST}:{self.ports()['http']}",
                "--cluster.listen-address=",
            ],
            directory=ctx.paths.data_dir(self.name),
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        return [ctx.repo / "alerts" / "alertmanager.yml"]

    def health(self, ctx: Context) -> Health:
        return http_ok(f"http://{HOST}:{self.ports()['http']}/-/ready")
