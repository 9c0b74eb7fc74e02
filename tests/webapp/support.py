"""What the web app's tests run: our nginx (own prefix and port, the config the stack renders),
a small recording upstream, and headless Chromium (the system's, driven by Playwright)."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mirakuru import HTTPExecutor

from services.webapp import nginx_config
from tests.support.processes import ROOT, free_port

ARTIFACTS = ROOT / "test-artifacts" / "webapp"
NGINX = Path("/usr/sbin/nginx")
CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing but our page on the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class WebappNginx:
    """nginx with the web app's config, rendered by the same function as the stack's, on its own
    port and prefix (under test-artifacts/, which nginx's unprivileged workers can reach)."""

    def __init__(self, upstream: str, tile_url: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.prefix = Path(tempfile.mkdtemp(prefix=f"nginx-{self.port}-", dir=ARTIFACTS))
        self.prefix.chmod(0o755)
        (self.prefix / "temp").mkdir()
        self.access_log = self.prefix / "access.log"
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(
            nginx_config.render_nginx_conf(
                nginx_config.TEMPLATE.read_text(),
                listen=f"127.0.0.1:{self.port}",
                api_upstream=upstream,
                temp_dir=self.prefix / "temp",
                pid_file=self.prefix / "nginx.pid",
                access_log=str(self.access_log),
                tile_url=tile_url,
            )
        )
        self._stderr = (self.prefix / "error.log").open("ab")
        command = [str(NGINX), "-e", "stderr", "-p", f"{self.prefix}/", "-c", str(self.conf)]
        self._executor = HTTPExecutor(
            [*command, "-g", "daemon off;"],
            url=f"{self.url}/healthz",
            method="GET",
            timeout=20,
            stdout=self._stderr,
            stderr=self._stderr,
            stop_signal=signal.SIGQUIT,
        )

    def start(self) -> WebappNginx:
        self._executor.start()
        return self

    def stop(self) -> None:
        if self._executor.running():
            self._executor.stop()
        self._stderr.close()

    def log_lines(self) -> list[str]:
        if not self.access_log.exists():
            return []
        return self.access_log.read_text(errors="replace").splitlines()

    def cleanup(self) -> None:
        """Keep the access log as an artifact; drop the rest."""
        shutil.rmtree(self.prefix / "temp", ignore_errors=True)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class RecordingUpstream:
    """A tiny HTTP server that records what nginx forwards and answers JSON (500 for /api/fail)."""

    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append(
                    Recorded(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                status = 500 if self.path.startswith("/api/fail") else 200
                payload = json.dumps({"path": self.path, "pad": "x" * 2048}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
