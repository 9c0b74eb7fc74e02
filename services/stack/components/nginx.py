"""nginx (Debian `nginx-light`) with the web app's own config and prefix, port 8080."""

from __future__ import annotations

from pathlib import Path

from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.health import Health, http_ok
from services.stack.ports import HOST, configured_port
from services.stack.templates import render, write_if_changed

TEMPLATE = Path("services/webapp/nginx/nginx.conf.template")
STATIC_ROOT = Path("services/webapp/static")
MIME_TYPES = Path("/etc/nginx/mime.types")
WORKER_USER = "nobody"  # nginx's workers when its master runs as root


def render_nginx_conf(
    template: str,
    *,
    listen: str,
    static_root: Path,
    api_upstream: str,
    prefix: Path,
    pid_file: Path,
) -> str:
    """The web app's nginx config for one place on disk (the web app may replace this)."""
    return render(
        template,
        listen=listen,
        static_root=static_root,
        api_upstream=api_upstream,
        temp_dir=prefix / "temp",
        pid_file=pid_file,
        mime_types=MIME_TYPES,
    )


class Nginx(Component):
    name = "nginx"
    title = "nginx (web app)"
    start_timeout = 30.0

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, 8080)}

    def install(self, ctx: Context) -> None:
        if not Path("/usr/sbin/nginx").exists():
            system.apt_install(["nginx-light"], self.name)

    def prefix(self, ctx: Context) -> Path:
        return ctx.paths.data_dir(self.name)

    def conf_file(self, ctx: Context) -> Path:
        return ctx.paths.conf_dir(self.name) / "nginx.conf"

    def prepare(self, ctx: Context) -> None:
        prefix = self.prefix(ctx)
        for folder in (prefix / "temp", prefix / "logs", ctx.paths.conf_dir(self.name)):
            folder.mkdir(parents=True, exist_ok=True)
        text = render_nginx_conf(
            (ctx.repo / TEMPLATE).read_text(),
            listen=f"{HOST}:{self.ports()['http']}",
            static_root=ctx.repo / STATIC_ROOT,
            api_upstream=f"{HOST}:{configured_port('api-gateway', 8000)}",
            prefix=prefix,
            pid_file=ctx.paths.run / "nginx.pid",
        )
        write_if_changed(self.conf_file(ctx), text)
        if system.is_root() and system.user_exists(WORKER_USER):
            system.check_reachable_by(ctx.repo / STATIC_ROOT, WORKER_USER, self.name)

    def program(self, ctx: Context) -> Program:
        return Program(
            command=[
                "/usr/sbin/nginx",
                "-e",
                "stderr",
                "-p",
                f"{self.prefix(ctx)}/",
                "-c",
                str(self.conf_file(ctx)),
                "-g",
                "daemon off;",
            ],
            directory=self.prefix(ctx),
            stopsignal="QUIT",
            stopwaitsecs=10,
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        return [self.conf_file(ctx)]

    def health(self, ctx: Context) -> Health:
        return http_ok(f"http://{HOST}:{self.ports()['http']}/healthz")
