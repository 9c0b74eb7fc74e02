"""Fixtures of the web app's tests: nginx, a recording upstream, and (for the browser tests)
headless Chromium and a fleet of our own (tracker, simulator, gateway) behind our own nginx."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from services.stack import api
from services.stack.errors import StackError
from tests.webapp.support import CHROMIUM, NGINX, RecordingUpstream, WebappNginx


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    if not NGINX.exists():
        try:
            api.ensure_tool("nginx")
        except StackError as exc:
            pytest.skip(f"needs nginx at {NGINX} (Debian nginx-light): {exc}")
    return str(NGINX)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system's Chromium (Debian `chromium`; `.ci/run` and `fleet-stack install chromium`
    install it), never a browser downloaded by Playwright."""
    if not CHROMIUM.exists():
        try:
            api.ensure_tool("chromium")
        except StackError as exc:
            pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian package chromium): {exc}")
    if not CHROMIUM.exists():
        pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian package chromium)")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream()
    yield server
    server.close()


@pytest.fixture(scope="module")
def start_nginx(nginx_binary: str) -> Iterator[Callable[..., WebappNginx]]:
    """Start our nginx for an upstream (a tile URL, a test's tweak of the rendered config);
    stopped at the end of the module."""
    started: list[WebappNginx] = []

    def start(
        upstream: str, tile_url: str = "", tweak: Callable[[str], str] | None = None
    ) -> WebappNginx:
        server = WebappNginx(upstream, tile_url, tweak).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        server.cleanup()
