"""Elasticsearch 8.19 (Maven Central integ-test zip, no bundled JDK) on Java 17, port 9200."""

from __future__ import annotations

import os
import shutil
import zipfile
from importlib import resources
from pathlib import Path

from services.common.templates import render, write_if_changed
from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.downloads import fetch
from services.stack.health import Health, elasticsearch_ok
from services.stack.locks import locked
from services.stack.ports import HOST, configured_port

VERSION = "8.19.21"
_MAVEN = "https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip"
URL = f"{_MAVEN}/elasticsearch/{VERSION}/elasticsearch-{VERSION}.zip"
USER = "fleet-es"  # Elasticsearch refuses to run as root: a dedicated system user
HEAP = "-Xms512m -Xmx512m"


class Elasticsearch(Component):
    name = "elasticsearch"
    title = f"Elasticsearch {VERSION}"
    start_timeout = 240.0

    def ports(self) -> dict[str, int]:
        return {"http": configured_port(self.name, 9200)}

    def home(self, ctx: Context) -> Path:
        return ctx.paths.cache / f"elasticsearch-{VERSION}"

    def install(self, ctx: Context) -> None:
        system.java_home(17, self.name)
        system.ensure_system_user(USER, self.name)
        home = self.home(ctx)
        if (home / "bin" / "elasticsearch").exists():
            return
        with locked(ctx.paths.cache / ".elasticsearch.lock"):
            if (home / "bin" / "elasticsearch").exists():
                return
            archive = fetch(
                URL,
                ctx.paths.downloads / f"elasticsearch-{VERSION}.zip",
                sha1_url=URL + ".sha1",
                why=self.name,
            )
            print(f"  unpacking {archive.name}", flush=True)
            staging = ctx.paths.cache / f".elasticsearch-{VERSION}.unpacking"
            shutil.rmtree(staging, ignore_errors=True)
            _unzip(archive, staging)
            os.replace(staging / f"elasticsearch-{VERSION}", home)
            shutil.rmtree(staging, ignore_errors=True)

    def prepare(self, ctx: Context) -> None:
        conf = ctx.paths.conf_dir(self.name)
        data = ctx.paths.data_dir(self.name)
        for folder in (conf / "jvm.options.d", data / "data", data / "logs", data / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        shipped = self.home(ctx) / "config"
        for name in ("jvm.options", "log4j2.properties"):
            write_if_changed(conf / name, (shipped / name).read_text())
        template = resources.files("services.stack.components").joinpath("elasticsearch.yml.tmpl")
        settings = render(
            template.read_text(),
            data_dir=data / "data",
            logs_dir=data / "logs",
            http_port=self.ports()["http"],
        )
        write_if_changed(conf / "elasticsearch.yml", settings)
        if system.is_root():
            system.chown_tree(conf, USER)  # ES writes its keystore next to its settings
            system.chown_tree(data, USER)
            system.check_reachable_by(data, USER, self.name)
            system.check_reachable_by(self.home(ctx), USER, self.name)

    def program(self, ctx: Context) -> Program:
        data = ctx.paths.data_dir(self.name)
        return Program(
            command=[str(self.home(ctx) / "bin" / "elasticsearch")],
            user=USER if system.is_root() else None,
            environment={
                "ES_JAVA_HOME": str(system.java_home_or_default(17)),
                "ES_PATH_CONF": str(ctx.paths.conf_dir(self.name)),
                "ES_JAVA_OPTS": HEAP,
                "ES_TMPDIR": str(data / "tmp"),
            },
            directory=data,
            stopwaitsecs=60,
            startsecs=5,
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        conf = ctx.paths.conf_dir(self.name)
        return [conf / "elasticsearch.yml", conf / "jvm.options"]

    def health(self, ctx: Context) -> Health:
        return elasticsearch_ok(f"http://{HOST}:{self.ports()['http']}")


def _unzip(archive: Path, dest: Path) -> None:
    """Unpack keeping the Unix modes (zipfile alone drops the executable bits)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)
