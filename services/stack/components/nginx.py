"""nginx (Debian `nginx-light`) with the web app's own config and prefix, port 8080.

The config is the web app's (`services/webapp/nginx_config.py`, the same template the image
renders); Leaflet comes from the npm registry (`npm ci` in `services/webapp`, cached).
"""

from __future__ import annotations

from pathlib import Path

from services.common.templates import write_if_changed
from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.errors import StackError
from services.stack.health import Health, http_ok
from services.stack.ports import HOST, configured_port
from services.webapp import nginx_config, vendor

WORKER_USER = "nobody"  # nginx's workers when its master runs as root


class Nginx(Component):
    name = "nginx"
    title = "nginx (web app)"
    start_timeout = 30.0

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, 8080)}

    def install(self, ctx: Context) -> None:
        if not Path("/usr/sbin/nginx").exists():
            system.apt_install(["nginx-light"], self.name)
        npm = system.ensure_command("npm", "npm", self.name)
        try:
            vendor.ensure_node_modules(npm, ctx.paths.cache / "npm")
        except vendor.VendorError as exc:
            raise StackError(f"{self.name}: {exc}") from exc

    def prefix(self, ctx: Context) -> Path:
        return ctx.paths.data_dir(self.name)

    def conf_file(self, ctx: Context) -> Path:
        return ctx.paths.conf_dir(self.name) / "nginx.conf"

    def prepare(self, ctx: Context) -> None:
        prefix = self.prefix(ctx)
        for folder in (prefix / "temp", prefix / "logs", ctx.paths.conf_dir(self.name)):
            folder.mkdir(parents=True, exist_ok=True)
        try:
            text = nginx_config.render_nginx_conf(
                nginx_config.TEMPLATE.read_text(),
                listen=f"{HOST}:{self.ports()['http']}",
                api_upstream=f"{HOST}:{configured_port('api-gateway', 8000)}",
                temp_dir=prefix / "temp",
                pid_file=ctx.paths.run / "nginx.pid",
                tile_url=nginx_config.tile_url_from_env(),
            )
        except ValueError as exc:  # a stale access-log block or a bad WEBAPP_TILE_URL
            raise StackError(f"{self.name}: {exc}") from exc
        write_if_changed(self.conf_file(ctx), text)
        if system.is_root() and system.user_exists(WORKER_USER):
            for folder in (nginx_config.STATIC_ROOT, nginx_config.LEAFLET_DIST):
                if folder.exists():
                    system.check_reachable_by(folder, WORKER_USER, self.name)

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
