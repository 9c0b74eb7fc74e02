"""ActiveMQ 5.17 (Debian `activemq`) with the project's own broker XML; STOMP on 61613."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from services.common.templates import render, write_if_changed
from services.stack import system
from services.stack.components.base import Component, Context, Program
from services.stack.health import Health, stomp_ok
from services.stack.ports import HOST, configured_port

ACTIVEMQ_HOME = Path("/usr/share/activemq")
USER = "activemq"  # created by the Debian package; the broker runs as this user
# STOMP's `transformation: jms-map-json` / `jms-json` (MapMessage <-> JSON) needs XStream and
# Jettison, which Debian's activemq only suggests: installed and put in the broker's lib/.
EXTRA_JARS = {
    Path("/usr/share/java/xstream.jar"): "libxstream-java",
    Path("/usr/share/java/jettison.jar"): "libjettison-java",
    Path("/usr/share/java/xpp3.jar"): "libxpp3-java",
}
# The module flags the Debian launcher passes to Java > 8.
_JAVA_MODULE_FLAGS = [
    "--add-reads=java.xml=java.logging",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.naming/javax.naming.spi=ALL-UNNAMED",
    "--add-opens=java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
    "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
    "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
]


class ActiveMQ(Component):
    name = "activemq"
    title = "ActiveMQ 5.17"
    start_timeout = 90.0

    def ports(self) -> dict[str, int]:
        return {
            "stomp": configured_port(self.name, 61613),
            "openwire": configured_port(self.name, 61616, "openwire"),
        }

    def install(self, ctx: Context) -> None:
        if not (ACTIVEMQ_HOME / "bin" / "activemq.jar").exists():
            system.apt_install(["activemq"], "activemq")
        missing = sorted({pkg for jar, pkg in EXTRA_JARS.items() if not jar.exists()})
        system.apt_install(missing, "activemq")
        system.java_home(17, "activemq")

    def prepare(self, ctx: Context) -> None:
        conf, data = ctx.paths.conf_dir(self.name), ctx.paths.data_dir(self.name)
        (conf / "lib").mkdir(parents=True, exist_ok=True)
        (data / "tmp").mkdir(parents=True, exist_ok=True)
        # ${activemq.base}/lib/*.jar joins the broker's classpath (base = our conf folder)
        for jar in EXTRA_JARS:
            link = conf / "lib" / jar.name
            if not link.is_symlink():
                link.symlink_to(jar)
        ports = self.ports()
        broker = _template("activemq.xml")
        write_if_changed(
            conf / "activemq.xml",
            render(
                broker, data_dir=data, stomp_port=ports["stomp"], openwire_port=ports["openwire"]
            ),
        )
        write_if_changed(conf / "log4j.properties", _template("activemq.log4j.properties.tmpl"))
        if system.is_root():
            system.chown_tree(data, USER)
            system.check_reachable_by(data, USER, self.name)

    def program(self, ctx: Context) -> Program:
        conf, data = ctx.paths.conf_dir(self.name), ctx.paths.data_dir(self.name)
        java = system.java_home_or_default(17) / "bin" / "java"
        return Program(
            command=[
                str(java),
                "-Xms128m",
                "-Xmx512m",
                "-Djava.awt.headless=true",
                f"-Djava.io.tmpdir={data / 'tmp'}",
                *_JAVA_MODULE_FLAGS,
                f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
                f"-Dactivemq.classpath={conf}",
                f"-Dactivemq.home={ACTIVEMQ_HOME}",
                f"-Dactivemq.base={conf}",
                f"-Dactivemq.conf={conf}",
                f"-Dactivemq.data={data}",
                "-jar",
                str(ACTIVEMQ_HOME / "bin" / "activemq.jar"),
                "start",
                f"xbean:file:{conf / 'activemq.xml'}",
            ],
            user=USER if system.is_root() else None,
            directory=data,
            stopwaitsecs=30,
        )

    def config_inputs(self, ctx: Context) -> list[Path]:
        conf = ctx.paths.conf_dir(self.name)
        return [conf / "activemq.xml", conf / "log4j.properties"]

    def health(self, ctx: Context) -> Health:
        return stomp_ok(HOST, self.ports()["stomp"])


def _template(name: str) -> str:
    return resources.files("services.stack.components").joinpath(name).read_text()
