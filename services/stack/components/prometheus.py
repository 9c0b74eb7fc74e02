"""Prometheus 2.42 (Debian `prometheus`) with the project's `alerts/prometheus.yml`.

It runs on a copy of that file in its data folder whose ``rule_files`` name one rule folder:
``alerts/rules`` normally, ``alerts/drill-rules`` (the same rules, time-scaled) during a fire
drill. Switching is a rewrite of the copy and a reload; ``up`` always puts the normal rules back.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import httpx
import yaml

from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.health import Health, http_ok
from services.stack.ports import HOST, configured_port
from services.stack.scale import instance_port, instances

NORMAL_RULES = "alerts/rules"
DRILL_RULES = "alerts/drill-rules"


def runtime_config(ctx: Context) -> Path:
    return ctx.paths.data_dir("prometheus") / "prometheus.yml"


def _scrape_instances(data: dict, ctx: Context) -> None:
    """Every instance of a scaled service (``fleet-stack scale``) scraped under its job."""
    for service, count in instances(ctx.paths).items():
        for job in data["scrape_configs"]:
            if job["job_name"] != service:
                continue
            for static in job["static_configs"]:
                host, port = static["targets"][0].rsplit(":", 1)
                static["targets"] = [
                    f"{host}:{instance_port(int(port), i)}" for i in range(1, count + 1)
                ]


def load_rules(ctx: Context, rules: str) -> bool:
    """Make the running configuration load the rule files of ``rules`` (a folder of the
    repository) and scrape every instance; True when that changed the file (Prometheus must
    reload)."""
    data = yaml.safe_load((ctx.repo / "alerts" / "prometheus.yml").read_text())
    data["rule_files"] = [str(ctx.repo / rules / "*.yml")]
    _scrape_instances(data, ctx)
    text = f"# Written by fleet-stack from alerts/prometheus.yml ({rules}). Do not edit.\n"
    text += yaml.safe_dump(data, sort_keys=False)
    path = runtime_config(ctx)
    if path.is_file() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def reload(port: int) -> None:
    """Prometheus re-reads its configuration and rules (an error names what it refused)."""
    answer = httpx.post(f"http://{HOST}:{port}/-/reload", timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"Prometheus refused its configuration: {answer.text.strip()}")


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
        if load_rules(ctx, NORMAL_RULES):
            # a running Prometheus left on the drill rules (an interrupted drill) comes back
            with suppress(httpx.HTTPError, RuntimeError):
                reload(self.ports()["http"])

    def program(self, ctx: Context) -> Program:
        return Program(
            command=[
                "/usr/bin/prometheus",
                f"--config.file={runtime_config(ctx)}",
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
