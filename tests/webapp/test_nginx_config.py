"""The web app's nginx config: one template for the stack and the image, the tile setting, and
what real nginx answers (security headers, caching, gzip, limits, the /api/ proxy)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from services.webapp import nginx_config, vendor
from tests.support.processes import ROOT, free_port

WEBAPP = ROOT / "services" / "webapp"
OSM = nginx_config.DEFAULT_TILE_URL
_SED = re.compile(r"s\|\{\{ \*(\w+) \*\}\}\|([^|]*)\|g")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _render(tmp_path: Path, **values: str) -> str:
    return nginx_config.render_nginx_conf(
        nginx_config.TEMPLATE.read_text(),
        listen="127.0.0.1:18080",
        api_upstream="127.0.0.1:18000",
        temp_dir=tmp_path,
        pid_file=tmp_path / "nginx.pid",
        **values,
    )


# --- rendering --------------------------------------------------------------------------------


def test_render_fills_every_placeholder(tmp_path):
    text = _render(tmp_path, access_log=str(tmp_path / "access.log"), tile_url=OSM)
    assert "{{" not in text
    assert f"access_log {tmp_path / 'access.log'} webapp;" in text
    assert f"alias {nginx_config.LEAFLET_DIST}/$leaflet_file;" in text
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in text
    assert '{"tileUrl": "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"}' in text


def test_rendered_config_passes_nginx_t(tmp_path, nginx_binary):
    config = tmp_path / "nginx.conf"
    config.write_text(_render(tmp_path, access_log=str(tmp_path / "access.log"), tile_url=""))
    result = subprocess.run(
        [nginx_binary, "-t", "-p", f"{tmp_path}/", "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        (OSM, "https://*.tile.openstreetmap.org"),
        ("http://127.0.0.1:9/{z}/{x}/{y}.png", "http://127.0.0.1:9"),
        ("https://tiles.example.org/v1/{z}/{x}/{y}{r}.png", "https://tiles.example.org"),
        ("/tiles/{z}/{x}/{y}.png", ""),
        ("", ""),
    ],
)
def test_tile_origin_for_the_csp(url, origin):
    assert nginx_config.validate_tile_url(url) == url
    assert nginx_config.tile_origin(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/{z}/{x}.png",
        'https://tiles.example.org/{z}/{x}/{y}.png"; add_header X 1',
        "https://tiles.example.org/$host/{z}/{x}/{y}.png",
        "https://a.{s}.example.org/{z}/{x}/{y}.png",
        "tiles/{z}/{x}/{y}.png",
    ],
)
def test_bad_tile_urls_are_refused(url):
    with pytest.raises(ValueError, match="WEBAPP_TILE_URL"):
        nginx_config.validate_tile_url(url)


def test_tile_url_setting():
    assert nginx_config.tile_url_from_env({}) == OSM
    assert nginx_config.tile_url_from_env({"WEBAPP_TILE_URL": ""}) == ""
    local = "http://127.0.0.1:8081/{z}/{x}/{y}.png"
    assert nginx_config.tile_url_from_env({"WEBAPP_TILE_URL": local}) == local


# --- the image renders the same template the same way -----------------------------------------


def _dockerfile() -> str:
    return (WEBAPP / "Dockerfile").read_text()


def test_dockerfile_fills_exactly_the_templates_placeholders():
    filled = {name for name, _ in _SED.findall(_dockerfile())}
    assert filled == set(_PLACEHOLDER.findall(nginx_config.TEMPLATE.read_text()))


def test_dockerfile_tiles_are_the_default_setting():
    values = dict(_SED.findall(_dockerfile()))
    assert values["tile_url"] == nginx_config.DEFAULT_TILE_URL
    assert values["tile_origin"] == nginx_config.tile_origin(nginx_config.DEFAULT_TILE_URL)
    assert values["access_log"] == "/dev/stdout"


def test_dockerfile_serves_leaflet_where_the_config_points():
    dockerfile = _dockerfile()
    leaflet_dist = dict(_SED.findall(dockerfile))["leaflet_dist"]
    assert re.search(
        rf"COPY --from=vendor \S+/node_modules/leaflet/dist/ {leaflet_dist}/", dockerfile
    )
    assert "npm ci" in dockerfile
    assert "package-lock.json" in dockerfile


def test_leaflet_version_is_pinned_once_and_the_page_names_it():
    version = vendor.leaflet_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "an exact version, no range"
    lock = json.loads((WEBAPP / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/leaflet"]["version"] == version
    page = (WEBAPP / "static" / "index.html").read_text()
    assert set(re.findall(r"/vendor/leaflet-([\d.]+)/", page)) == {version}
    assert "http://" not in page and "https://" not in page, "no CDN"


def test_no_inline_script_or_style_in_the_page():
    page = (WEBAPP / "static" / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "<style" not in page and " style=" not in page and " on" + "click=" not in page


# --- what nginx answers -----------------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.fixture(scope="module")
def nginx(start_nginx, upstream):
    return start_nginx(upstream.address, tile_url=OSM)


@pytest.mark.parametrize(
    ("path", "status", "cache_control"),
    [
        ("/", 200, "no-cache"),
        ("/js/main.js", 200, "no-cache"),
        ("/css/app.css", 200, "no-cache"),
        (
            f"/vendor/leaflet-{vendor.leaflet_version()}/leaflet.js",
            200,
            "public, max-age=31536000, immutable",
        ),
        ("/config.json", 200, "no-cache"),
        ("/no/such/page", 404, "no-cache"),
        ("/api/vehicles", 200, None),
    ],
)
def test_security_and_cache_headers(nginx, path, status, cache_control):
    response = httpx.get(f"{nginx.url}{path}")
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in csp
    assert response.headers.get("cache-control") == cache_control
    assert "server" not in response.headers or response.headers["server"] == "nginx"


def test_content_types_and_gzip(nginx):
    for path, kind in [
        ("/", "text/html"),
        ("/js/main.js", "application/javascript"),
        ("/css/app.css", "text/css"),
        ("/config.json", "application/json"),
        ("/favicon.svg", "image/svg+xml"),
    ]:
        response = httpx.get(f"{nginx.url}{path}", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-type"].startswith(kind), path
    leaflet = httpx.get(
        f"{nginx.url}/vendor/leaflet-{vendor.leaflet_version()}/leaflet.js",
        headers={"Accept-Encoding": "gzip"},
    )
    assert leaflet.headers["content-encoding"] == "gzip"
    assert "vary" in leaflet.headers


def test_healthz_and_settings(nginx):
    health = httpx.get(f"{nginx.url}/healthz")
    assert (health.status_code, health.text) == (200, "ok\n")
    assert health.headers["content-type"].startswith("text/plain")
    assert httpx.get(f"{nginx.url}/config.json").json() == {"tileUrl": OSM}


def test_api_proxy_keeps_the_prefix_and_passes_trace_context(nginx, upstream):
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = httpx.get(
        f"{nginx.url}/api/vehicles/City%20Truck/history?limit=3",
        headers={"traceparent": traceparent, "tracestate": "congo=t61rcWkgMzE"},
    )
    assert response.status_code == 200
    seen = upstream.requests[-1]
    assert seen.path == "/api/vehicles/City%20Truck/history?limit=3"
    assert seen.headers["traceparent"] == traceparent
    assert seen.headers["tracestate"] == "congo=t61rcWkgMzE"
    assert seen.headers["x-forwarded-for"] == "127.0.0.1"
    assert seen.headers["x-forwarded-proto"] == "http"
    assert seen.headers["x-forwarded-host"] == f"127.0.0.1:{nginx.port}"
    httpx.get(f"{nginx.url}/api/vehicles")
    assert "traceparent" not in upstream.requests[-1].headers  # none invented


def test_request_limits(nginx):
    too_big = httpx.post(f"{nginx.url}/api/vehicles", content=b"x" * 20_000)
    assert too_big.status_code == 413
    huge_header = httpx.get(f"{nginx.url}/", headers={"X-Big": "y" * 9000})
    assert huge_header.status_code in (400, 431)
    assert huge_header.headers["x-frame-options"] == "DENY"


def test_gateway_down_is_a_problem_json_502(start_nginx):
    lonely = start_nginx(f"127.0.0.1:{free_port()}")
    response = httpx.get(f"{lonely.url}/api/vehicles")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 502
    assert response.headers["x-content-type-options"] == "nosniff"
