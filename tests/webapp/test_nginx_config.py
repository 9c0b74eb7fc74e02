"""The web app's nginx config: one template for the stack and the image, the tile setting, and
what real nginx answers (security headers, caching, gzip, limits, the /api/ proxy)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.webapp import nginx_config, vendor
from tests.support.processes import ROOT, free_port
from tests.webapp.support import Answer, RecordingUpstream, raw_exchange, simultaneous_gets

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
    httpx.get(f"{nginx.url}/api/vehicles/Van")  # not cached: it reaches the upstream
    assert upstream.requests[-1].path == "/api/vehicles/Van"
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


def _request(target: str, method: str = "GET", host: str = "127.0.0.1", extra: str = "") -> bytes:
    return (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode()
    )


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (_request("/api/../../etc/passwd"), 400),  # above the root
        (_request("/api/vehicles", host="bad/host"), 400),
        (_request("/api/vehicles", method="TRACE"), 405),
        (_request("/api/vehicles?q=" + "x" * 9000), 414),
        (_request("/api/vehicles", extra="X-Big: " + "y" * 9000 + "\r\n"), 400),
        (_request("/api/vehicles", method="POST", extra="Content-Length: 20000\r\n"), 413),
        (_request("/api/../no/such/page"), 404),
    ],
)
def test_nginxs_own_errors_under_api_are_problems(nginx, request_bytes, status):
    answer = raw_exchange(nginx.port, request_bytes)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["type"] == "about:blank"
    assert problem["title"] and problem["detail"]
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [(_request("/no/such/page"), 404), (_request("/", method="TRACE"), 405)],
)
def test_the_pages_errors_stay_html(nginx, request_bytes, status):
    answer = raw_exchange(nginx.port, request_bytes)
    assert answer.status == status
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<h1>{status} ".encode() in answer.body


def test_redirects_stay_on_the_clients_address(nginx):
    answer = raw_exchange(nginx.port, _request("/js", host="evil.example:666"))
    assert answer.status == 301
    assert answer.headers["location"] == "/js/"


# --- the fleet list's micro-cache: the config ------------------------------------------------

#: The cache key's time slot (seconds): an answer is served at most until its slot ends.
SLOT = 0.5
#: What the freshness contract lets nginx add to the tracker's age (250 ms snapshot): 1 s total.
NGINX_BOUND = 0.5
LIST = "/api/vehicles"


def _block(text: str, opening: str) -> str:
    """The body of the ``{ ... }`` block that starts with ``opening`` (exactly once)."""
    assert text.count(opening) == 1, opening
    start = text.index(opening) + len(opening)
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise AssertionError(f"{opening}: unbalanced braces")


def _directives(text: str, name: str) -> list[str]:
    """The arguments of every ``name`` directive in ``text`` (comments dropped)."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return [m.strip() for m in re.findall(rf"(?:^|[\s;{{}}]){re.escape(name)}\s+([^;]*);", code)]


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s)?", value).groups()
    return int(number) * (1 if unit == "ms" else 1000)


def test_only_the_fleet_list_is_cached(tmp_path):
    text = _render(tmp_path)
    api = _block(text, "location /api/ {")
    fleet_list = _block(api, f"location = {LIST} {{")
    assert _directives(text, "proxy_cache") == ["webapp_list"], "one cached location"
    assert _directives(fleet_list, "proxy_cache") == ["webapp_list"]
    assert _directives(fleet_list, "proxy_pass") == ["http://webapp_fleet_list/api/vehicles"]
    # the list inherits /api/'s headers, timeouts and problem+json error pages
    for name in ("proxy_set_header", "error_page", "proxy_read_timeout", "add_header"):
        assert _directives(fleet_list, name) == [], f"{name} here would drop the inherited ones"
    assert 'Accept-Encoding ""' in _directives(api, "proxy_set_header")


def test_the_lock_is_on_and_waiters_never_wait_long(tmp_path):
    fleet_list = _block(_block(_render(tmp_path), "location /api/ {"), f"location = {LIST} {{")
    assert _directives(fleet_list, "proxy_cache_lock") == ["on"]
    (timeout,) = _directives(fleet_list, "proxy_cache_lock_timeout")
    # a waiter is answered after this long (nginx checks the lock every 500 ms or at its timeout)
    assert 0 < _milliseconds(timeout) <= 80  # the p99 budget is 100 ms
    # and a slow gateway never gets every waiting poll: the list's own way to it is capped
    gateway = _block(_render(tmp_path), "upstream webapp_fleet_list {")
    assert _directives(gateway, "server") == ["127.0.0.1:18000 max_conns=8"]


def test_entries_never_outlive_the_freshness_bound(tmp_path):
    text = _render(tmp_path)
    fleet_list = _block(_block(text, "location /api/ {"), f"location = {LIST} {{")
    (key,) = _directives(fleet_list, "proxy_cache_key")
    assert "$webapp_list_slot" in key and "$args" not in key and "$request_uri" not in key
    slot_map = _block(text, "map $msec $webapp_list_slot {")
    assert '"${webapp_slot_second}.0"' in slot_map and '"${webapp_slot_second}.5"' in slot_map
    # the shortest validity nginx knows (whole seconds): only a backstop behind the slot
    assert _directives(fleet_list, "proxy_cache_valid") == ["200 1s"]
    for stale in ("proxy_cache_use_stale", "proxy_cache_background_update", "proxy_ignore_headers"):
        assert _directives(text, stale) == [], stale
    (path,) = _directives(text, "proxy_cache_path")
    assert re.search(r"\binactive=\d+s\b", path) and re.search(r"\bmax_size=\d+m\b", path)


def test_errors_and_query_strings_are_not_stored(tmp_path):
    text = _render(tmp_path)
    fleet_list = _block(_block(text, "location /api/ {"), f"location = {LIST} {{")
    assert _directives(fleet_list, "proxy_cache_bypass") == ["$is_args"]
    assert _directives(fleet_list, "proxy_no_cache") == ["$is_args $webapp_list_uncacheable"]
    status_map = _block(text, "map $upstream_status $webapp_list_uncacheable {")
    assert "volatile;" in status_map  # read when the answer arrives, never remembered earlier
    assert re.search(r'"200"\s+"";', status_map) and re.search(r"default\s+1;", status_map)


def test_the_cache_folder_is_in_the_temp_dir(tmp_path):
    (path,) = _directives(_render(tmp_path), "proxy_cache_path")
    assert path.split()[0] == f"{tmp_path}/api_cache"
    assert "keys_zone=webapp_list:" in path


# --- the fleet list's micro-cache: what real nginx does ----------------------------------------


def _next_slot(margin: float = 0.03) -> None:
    """Sleep until just after the next 500 ms slot of the wall clock starts (nginx's $msec)."""
    time.sleep(SLOT - time.time() % SLOT + margin)


def _get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=10, **kwargs)


@pytest.fixture
def cached(start_nginx) -> Iterator[tuple[object, RecordingUpstream]]:
    """An nginx and an upstream of the test's own (a test changes the upstream's answers)."""
    upstream = RecordingUpstream()
    yield start_nginx(upstream.address), upstream
    upstream.close()


def test_polls_in_one_slot_reach_the_upstream_once(cached):
    nginx, upstream = cached
    _next_slot()
    answers = simultaneous_gets(nginx.port, LIST, 40)
    second = _get(f"{nginx.url}{LIST}")
    assert len(upstream.seen(LIST)) == 1
    statuses = sorted(a.headers["x-cache-status"] for a in answers)
    assert statuses == ["HIT"] * 39 + ["MISS"]
    assert {a.json()["n"] for a in answers} == {second.json()["n"]} == {1}
    assert second.headers["x-cache-status"] == "HIT"


def test_no_answer_is_older_than_its_slot(cached):
    """Polled for 2.5 s: every answer was made by the upstream less than a slot (plus the
    lock's wait and this poll's own time) before it arrived, one upstream request per slot."""
    nginx, upstream = cached
    _next_slot()
    started = time.time()
    ages, statuses = [], []
    with httpx.Client(base_url=nginx.url, timeout=10) as client:
        while time.time() - started < 2.5:
            answer = client.get(LIST)
            ages.append(time.time() - answer.json()["served_at"])
            statuses.append(answer.headers["x-cache-status"])
            time.sleep(0.01)
    assert max(ages) < NGINX_BOUND + 0.1, max(ages)
    assert statuses.count("HIT") > len(statuses) / 2
    assert 5 <= len(upstream.seen(LIST)) <= 6, "one upstream request per 500 ms slot"


@pytest.mark.parametrize(
    "path",
    [f"{LIST}/Van", f"{LIST}/Van/history?limit=2", f"{LIST}/", "/api/fail", "/api/other"],
)
def test_nothing_else_is_cached(cached, path):
    nginx, upstream = cached
    _next_slot()
    answers = [_get(f"{nginx.url}{path}") for _ in range(2)]
    assert len(upstream.seen(path)) == 2
    assert all("x-cache-status" not in a.headers for a in answers)
    assert answers[0].json()["n"] != answers[1].json()["n"]


def test_a_query_string_bypasses_the_cache_and_does_not_poison_it(cached):
    nginx, upstream = cached
    _next_slot()
    odd = _get(f"{nginx.url}{LIST}?x=1")
    plain = _get(f"{nginx.url}{LIST}")
    odd_again = _get(f"{nginx.url}{LIST}?x=1")
    plain_again = _get(f"{nginx.url}{LIST}")
    assert [a.headers["x-cache-status"] for a in (odd, plain, odd_again, plain_again)] == [
        "BYPASS",
        "MISS",
        "BYPASS",
        "HIT",
    ]
    assert plain.json()["path"] == plain_again.json()["path"] == LIST
    assert odd_again.json()["path"] == f"{LIST}?x=1"
    assert len(upstream.seen(f"{LIST}?x=1")) == 2 and len(upstream.seen(LIST)) == 1


def test_any_spelling_of_the_path_fetches_the_list_itself(cached):
    nginx, upstream = cached
    _next_slot()
    answer = _get(f"{nginx.url}/api/%76ehicles")
    assert answer.headers["x-cache-status"] == "MISS"
    assert answer.json()["path"] == LIST
    assert _get(f"{nginx.url}{LIST}").headers["x-cache-status"] == "HIT"
    assert [r.path for r in upstream.requests] == [LIST]


def test_head_and_get_share_the_entry(cached):
    nginx, upstream = cached
    _next_slot()
    identity = {"Accept-Encoding": "identity"}  # gzip drops a HEAD's Content-Length
    head = httpx.head(f"{nginx.url}{LIST}", headers=identity)
    get = _get(f"{nginx.url}{LIST}", headers=identity)
    assert (head.headers["x-cache-status"], get.headers["x-cache-status"]) == ("MISS", "HIT")
    assert head.content == b"" and get.json()["path"] == LIST
    assert head.headers["content-length"] == get.headers["content-length"]
    assert [r.method for r in upstream.seen(LIST)] == ["GET"]  # asked as a GET, body cached


def test_the_upstream_answers_identity_and_nginx_compresses(cached):
    nginx, upstream = cached
    _next_slot()
    gzipped = _get(f"{nginx.url}{LIST}", headers={"Accept-Encoding": "gzip"})
    plain = _get(f"{nginx.url}{LIST}", headers={"Accept-Encoding": "identity"})
    assert (gzipped.headers["x-cache-status"], plain.headers["x-cache-status"]) == ("MISS", "HIT")
    assert gzipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in (gzipped.headers.get("vary") or "").lower()
    assert "content-encoding" not in plain.headers
    assert plain.json() == gzipped.json()
    assert "accept-encoding" not in upstream.seen(LIST)[0].headers


def test_a_cached_answer_keeps_every_header(cached):
    nginx, _ = cached
    _next_slot()
    _get(f"{nginx.url}{LIST}")
    hit = _get(f"{nginx.url}{LIST}")
    assert hit.headers["x-cache-status"] == "HIT"
    for name, value in SECURITY_HEADERS.items():
        assert hit.headers[name] == value
    assert "frame-ancestors 'none'" in hit.headers["content-security-policy"]
    assert "cache-control" not in hit.headers  # the API's answers are the gateway's business
    assert hit.headers["content-type"] == "application/json"
    page = _get(f"{nginx.url}/")
    assert "x-cache-status" not in page.headers


@pytest.mark.parametrize("status", [500, 503, 404])
@pytest.mark.parametrize(
    "headers",
    [(), (("Cache-Control", "public, max-age=60"),), (("X-Accel-Expires", "60"),)],
    ids=["plain", "max-age", "x-accel-expires"],
)
def test_errors_are_never_cached(cached, status, headers):
    nginx, upstream = cached
    upstream.answer(LIST, Answer(status, headers))
    _next_slot()
    answers = [_get(f"{nginx.url}{LIST}") for _ in range(3)]
    assert [a.status_code for a in answers] == [status] * 3
    assert [a.headers["x-cache-status"] for a in answers] == ["MISS"] * 3
    assert len(upstream.seen(LIST)) == 3
    upstream.answer(LIST, None)
    assert _get(f"{nginx.url}{LIST}").status_code == 200  # in the same slot: nothing stored


def test_a_gateway_going_down_shows_within_a_slot(start_nginx):
    upstream = RecordingUpstream()
    nginx = start_nginx(upstream.address)
    _next_slot()
    assert _get(f"{nginx.url}{LIST}").headers["x-cache-status"] == "MISS"
    assert _get(f"{nginx.url}{LIST}").headers["x-cache-status"] == "HIT"
    upstream.close()
    stopped = time.time()
    answers = []
    while time.time() - stopped < SLOT + 0.7:
        answers.append((time.time() - stopped, _get(f"{nginx.url}{LIST}")))
        time.sleep(0.01)
    down = [(at, a) for at, a in answers if a.status_code == 502]
    assert down and down[0][0] < SLOT + 0.05, "the cached answer outlived its slot"
    after = [a for at, a in answers if at >= down[0][0]]
    assert all(a.status_code == 502 for a in after), "nothing stale after the first 502"
    for answer in after:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 502
        assert answer.headers["x-frame-options"] == "DENY"
    back = RecordingUpstream(port=upstream.port)
    try:
        assert _get(f"{nginx.url}{LIST}").status_code == 200, "a 502 is not stored"
    finally:
        back.close()


def test_a_slow_gateway_gets_eight_list_requests_at_most(cached):
    """Behind a gateway slower than the lock's timeout the waiting polls do not queue, nor do
    they all go to the gateway (which would keep it slow): the slot's fetch and 7 waiters do,
    the others get the problem+json 502 at once."""
    nginx, upstream = cached
    upstream.answer(LIST, Answer(delay=1.0))
    _next_slot()
    answers = simultaneous_gets(nginx.port, LIST, 14)
    assert sorted(a.status for a in answers) == [200] * 8 + [502] * 6
    assert len(upstream.seen(LIST)) == 8
    for answer in answers:
        if answer.status == 502:
            assert answer.seconds < 0.3, "answered at once (after the lock's 75 ms)"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == 502
        else:
            assert 1.0 <= answer.seconds < 1.3
    upstream.answer(LIST, None)
    _next_slot()
    assert _get(f"{nginx.url}{LIST}").status_code == 200  # the 502s were not stored


def test_a_timed_out_gateway_is_a_problem_json_504_and_not_stored(start_nginx):
    upstream = RecordingUpstream()
    upstream.answer(LIST, Answer(delay=2.0))

    def short_timeout(text: str) -> str:
        assert text.count("proxy_read_timeout 10s;") == 1
        return text.replace("proxy_read_timeout 10s;", "proxy_read_timeout 1s;")

    nginx = start_nginx(upstream.address, tweak=short_timeout)
    try:
        _next_slot()
        answer = _get(f"{nginx.url}{LIST}")
        assert answer.status_code == 504
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 504
        upstream.answer(LIST, None)
        assert _get(f"{nginx.url}{LIST}").status_code == 200, "a 504 is not stored"
    finally:
        upstream.close()


def test_past_64_requests_at_the_gateway_nginx_sheds_at_once_with_retry_after(cached):
    """A burst on what is not cached (a vehicle, a history) reaches the gateway 64 requests at a
    time; the rest get a problem+json 503 with Retry-After at once, not a wait for a saturated
    gateway (which used to fill nginx's connections until most got no answer at all)."""
    nginx, upstream = cached
    path = "/api/vehicles/Slow%20Van"
    upstream.answer(path, Answer(delay=1.0))
    try:
        answers = simultaneous_gets(nginx.port, path, 90)
    finally:
        upstream.answer(path, None)
    assert sorted(a.status for a in answers) == [200] * 64 + [503] * 26
    assert len(upstream.seen(path)) == 64
    for answer in answers:
        if answer.status == 503:
            assert answer.seconds < 0.3, "shed at once"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "1"
            assert answer.json()["status"] == 503
            assert answer.headers["x-frame-options"] == "DENY"
        else:
            assert "retry-after" not in answer.headers
    assert _get(f"{nginx.url}{path}").status_code == 200  # normal again at once
