"""The live map in headless Chromium, on a fleet of our own: the shared broker and database,
our tracker, simulator and gateway, and our nginx with the config the stack renders (tiles off:
these machines have no internet). Stopping our gateway disturbs nobody else."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator

import httpx
import pytest

from services.webapp.access_log import parse_line
from services.webapp.telemetry import LOG_SCHEMA
from tests.support.polling import eventually
from tests.support.processes import free_port
from tests.support.sphere import haversine_m
from tests.webapp.browser import marker_positions, open_page, screenshot
from tests.webapp.support import CHROMIUM_ARGS, Fleet, own_fleet

pytestmark = [pytest.mark.stack, pytest.mark.browser]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-01$")
#: The tracker marks a vehicle stale after this long without a report (default 300 s).
ACTIVE_WINDOW_SECONDS = 8


@pytest.fixture(scope="module")
def fleet(isolation, run_id, start_nginx) -> Iterator[Fleet]:
    tracker_env = {"ACTIVE_WINDOW_SECONDS": str(ACTIVE_WINDOW_SECONDS)}
    with own_fleet(isolation, run_id, start_nginx, "webapp", tracker_env) as fleet:
        eventually(lambda: _history_of(fleet, fleet.moving_vehicle(), at_least=5), timeout=30)
        yield fleet


def _history_of(fleet: Fleet, name: str, at_least: int) -> None:
    response = httpx.get(f"{fleet.gateway.url}/api/vehicles/{name}/history", params={"limit": 50})
    assert len(response.json()["positions"]) >= at_least


@pytest.fixture(scope="module")
def browser(chromium) -> Iterator[object]:
    """The system Chromium; Playwright gives each launch a fresh temporary user-data-dir."""
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _wait_for_list(page, count: int) -> None:
    expect(page.locator("#vehicle-rows tr")).to_have_count(count, timeout=15_000)


def _trail_points(page) -> int:
    points = page.locator("path.vehicle-trail").get_attribute("data-points")
    return int(points or 0)


# --- what a dispatcher sees -------------------------------------------------------------------


def test_lists_every_vehicle_and_the_markers_move(fleet, browser):
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    rows = page.locator("#vehicle-rows tr")
    assert rows.locator("th button").all_inner_texts() == fleet.names  # sorted by name
    for row in rows.all():
        seen, speed = row.locator("td").all_inner_texts()
        assert re.fullmatch(r"\d\d:\d\d:\d\d", seen)
        assert re.fullmatch(r"\d+|\u2013", speed)
    expect(page.locator("#vehicle-count")).to_have_text(f"({len(fleet.names)})")
    headers = page.locator(".vehicles thead th").all_inner_texts()
    assert headers == ["Name", "Last seen", "Speed (mph)"]

    expect(page.locator(".vehicle-icon[data-vehicle]")).to_have_count(len(fleet.names))
    before = marker_positions(page)
    screenshot(page, "markers-before.png")
    page.wait_for_timeout(4500)
    after = marker_positions(page)
    screenshot(page, "markers-after.png")

    assert set(before) == set(after) == set(fleet.names)
    # Moves of three pixels at least, in metres at the map's scale (zoom 16 near Sheffield is
    # about 1.5 m a pixel, but the page zooms out to show a fleet that is away): a vehicle
    # creeping at a stop may change its position without a visible move.
    least = 3 * metres_per_pixel(after)
    moved = [
        n
        for n in before
        if haversine_m(before[n]["lat"], before[n]["lng"], after[n]["lat"], after[n]["lng"])
        >= least
    ]
    assert len(moved) >= 3, f"only {moved} moved in 4.5 s"
    on_screen = [
        n
        for n in moved
        if abs(before[n]["x"] - after[n]["x"]) + abs(before[n]["y"] - after[n]["y"]) >= 1
    ]
    assert on_screen == moved, "a marker's position changed but it did not move on screen"
    # the map starts where the original's does: Sheffield, zoom 16
    centre = page.evaluate("() => document.querySelector('#map') !== null")
    assert centre
    assert watch.page_errors == []


def test_clicking_a_vehicle_flies_to_it_and_draws_its_red_trail(fleet, browser):
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    name = fleet.moving_vehicle()
    button = page.locator(f'#vehicle-rows tr[data-vehicle="{name}"] button')
    button.click()

    trail = page.locator("path.vehicle-trail")
    expect(trail).to_have_attribute("stroke", "red", timeout=10_000)
    expect(trail).to_have_attribute("data-vehicle", name)
    eventually(lambda: _at_least(_trail_points(page), 5), timeout=10)

    # Leaflet drops points on a straight stretch when drawing: the line is long, not busy. It
    # may still be flying there, or the vehicle may have just left a stop: give it a moment.
    def drawn() -> float:
        length = trail.evaluate("(path) => path.getTotalLength()")
        assert length > 5, f"the red line is {length} px long"
        return length

    eventually(drawn, timeout=20)
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'#vehicle-rows tr[data-vehicle="{name}"]')).to_have_class(
        re.compile("is-selected")
    )
    details = page.locator("#details")
    expect(details).to_contain_text(name)
    expect(details).to_contain_text(re.compile(r"\d+ mph · \d+ km/h"))
    expect(details).to_contain_text(re.compile(r"\d+° [NESW]{1,2}"))

    page.wait_for_timeout(1500)  # the fly-to animation
    box = page.locator("#map").bounding_box()
    marker = marker_positions(page)[name]
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert abs(marker["x"] - centre[0]) < 100 and abs(marker["y"] - centre[1]) < 100, (
        marker,
        centre,
    )

    first = _trail_points(page)
    eventually(lambda: _at_least(_trail_points(page), first + 2), timeout=10)  # keeps growing
    screenshot(page, "fleet-map.png")

    button.click()  # again: deselect, as the original
    expect(trail).to_have_count(0)
    expect(button).to_have_attribute("aria-pressed", "false")
    assert watch.page_errors == []


def _at_least(value: int, minimum: int) -> int:
    assert value >= minimum, f"{value} < {minimum}"
    return value


def test_clicking_a_marker_selects_its_vehicle(fleet, browser):
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    name = fleet.names[-1]
    page.locator(f'.vehicle-icon[data-vehicle="{name}"]').dispatch_event("click")
    expect(page.locator(f'#vehicle-rows tr[data-vehicle="{name}"] button')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("path.vehicle-trail")).to_have_attribute("data-vehicle", name)
    marker = page.locator(f'.vehicle-icon[data-vehicle="{name}"]')
    expect(marker).to_have_attribute("role", "button")  # Leaflet: focusable, Enter selects
    assert name in (marker.get_attribute("aria-label") or "")
    assert watch.page_errors == []


def test_banner_when_the_gateway_stops_and_recovery_without_reload(fleet, browser):
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    page.evaluate("() => { window.__sameDocument = true; }")
    banner = page.get_by_role("alert")
    expect(banner).to_be_hidden()

    fleet.gateway.stop()
    try:
        expect(banner).to_be_visible(timeout=10_000)
        expect(banner).to_contain_text("cannot be reached")
        expect(banner).to_contain_text("502")
        expect(page.locator("body")).to_have_attribute("data-api", "down")
        expect(page.locator("#vehicle-rows tr")).to_have_count(len(fleet.names))  # last known
        screenshot(page, "api-down.png")
        down_calls = len([r for r in watch.requests if r.url.endswith("/api/vehicles")])
        page.wait_for_timeout(6000)
        calls = len([r for r in watch.requests if r.url.endswith("/api/vehicles")]) - down_calls
        assert calls <= 2, f"{calls} calls in 6 s while down: no back-off"
    finally:
        fleet.gateway.start()

    expect(banner).to_be_hidden(timeout=20_000)
    expect(page.locator("body")).to_have_attribute("data-api", "up")
    first_row = page.locator("#vehicle-rows tr td.seen").first
    seen = first_row.inner_text()
    expect(first_row).not_to_have_text(seen, timeout=10_000)  # updates resumed
    assert page.evaluate("() => window.__sameDocument") is True, "the page was reloaded"
    assert watch.page_errors == []


# --- quality: security, console, phones, offline, traces --------------------------------------


def test_security_headers_and_the_csp_blocks_inline_script(fleet, browser):
    page, watch, response = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0
    assert not [m for m in watch.console if "Content Security Policy" in m[1]]

    blocked = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (e) => resolve(e.effectiveDirective), { once: true });
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true;";
            document.head.append(script);
            setTimeout(() => resolve(null), 3000);
        })"""
    )
    assert blocked in ("script-src-elem", "script-src")
    assert page.evaluate("() => window.__inlineRan") is None


def test_console_is_clean_and_every_request_stays_home(fleet, browser):
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    page.locator(f'#vehicle-rows tr[data-vehicle="{fleet.moving_vehicle()}"] button').click()
    expect(page.locator("path.vehicle-trail")).to_have_count(1, timeout=10_000)
    page.wait_for_timeout(5000)

    assert watch.errors() == []
    assert watch.page_errors == []
    assert watch.failed == []
    assert watch.bad_status == []
    foreign = [r.url for r in watch.requests if not r.url.startswith(fleet.nginx.url)]
    assert foreign == [], "no CDN, no tiles (disabled here), nothing but our nginx"


def test_phone_shows_the_map_with_the_list_below(fleet, browser):
    page, watch, _ = open_page(
        browser,
        fleet.nginx.url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    _wait_for_list(page, len(fleet.names))
    map_box = page.locator("#map").bounding_box()
    list_box = page.locator(".list-panel").bounding_box()
    assert map_box["width"] >= 380 and map_box["height"] >= 280, map_box
    assert list_box["y"] >= map_box["y"] + map_box["height"] - 1, "the list is below the map"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    expect(page.locator(".vehicle-icon[data-vehicle]")).to_have_count(len(fleet.names))

    name = fleet.moving_vehicle()
    page.locator(f'#vehicle-rows tr[data-vehicle="{name}"] button').tap()
    expect(page.locator("path.vehicle-trail")).to_have_attribute("data-vehicle", name)
    screenshot(page, "phone.png", full_page=True)
    assert watch.errors() == [] and watch.page_errors == []


def test_unreachable_tiles_leave_a_plain_map_that_works(fleet, browser, start_nginx):
    nowhere = f"http://127.0.0.1:{free_port()}"
    nginx = start_nginx(f"127.0.0.1:{fleet.gateway.port}", tile_url=nowhere + "/{z}/{x}/{y}.png")
    page, watch, _ = open_page(browser, nginx.url)
    _wait_for_list(page, len(fleet.names))
    expect(page.locator("#tiles-note")).to_be_visible(timeout=10_000)
    expect(page.locator("#map")).to_have_class(re.compile("no-tiles"))
    expect(page.locator(".vehicle-icon[data-vehicle]")).to_have_count(len(fleet.names))
    page.locator(f'#vehicle-rows tr[data-vehicle="{fleet.moving_vehicle()}"] button').click()
    expect(page.locator("path.vehicle-trail")).to_have_count(1, timeout=10_000)
    screenshot(page, "tiles-unreachable.png")

    assert all(url.startswith(nowhere) for url, _ in watch.failed), watch.failed
    assert len(watch.failed) <= 2, "one probe tile, not a screenful of failures"
    assert all(url.startswith(nowhere) for _, _, url in watch.errors()), watch.errors()
    assert watch.page_errors == []


def test_the_pages_trace_continues_in_nginx_and_the_gateway(fleet, browser, start_nginx):
    """Every call's trace id is in nginx's access log; one that nginx's micro-cache answered
    (HIT) never reaches the gateway, one that missed is in the gateway's log too. An nginx of
    this test's own: the other pages still open poll the module's nginx, and a page polling in
    the same 500 ms slot as another one is answered from the cache every time."""
    nginx = start_nginx(f"127.0.0.1:{fleet.gateway.port}", tile_url="")
    page, watch, _ = open_page(browser, nginx.url)
    _wait_for_list(page, len(fleet.names))
    calls = [r for r in watch.requests if r.url == f"{nginx.url}/api/vehicles"]
    ids = []
    for call in calls:
        match = TRACEPARENT.match(call.headers.get("traceparent", ""))
        assert match, call.headers
        ids.append(match.group(1))
    assert len(set(ids)) == len(ids), "a new trace per call"

    def nginx_logged() -> dict[str, dict]:
        records = [parse_line(LOG_SCHEMA, line) for line in nginx.log_lines()]
        found = {r["trace.id"]: r for r in records if r and r.get("trace.id") in ids}
        assert set(found) == set(ids), f"no nginx access log line for {set(ids) - set(found)}"
        return found

    logged = eventually(nginx_logged, timeout=10)
    for record in logged.values():
        assert record["url.original"] == "/api/vehicles"
        assert record["http.response.status_code"] == "200"
        assert record["nginx.cache.status"] in ("MISS", "HIT")
    missed = [trace_id for trace_id in ids if logged[trace_id]["nginx.cache.status"] == "MISS"]
    assert missed, "the page's first call in a new slot asks the gateway"

    def gateway_logged() -> set[str]:
        records = [json.loads(line) for line in fleet.gateway.log_lines() if line.startswith("{")]
        found = {
            r.get("trace.id")
            for r in records
            if r.get("url.path") == "/api/vehicles" and r.get("http.response.status_code") == 200
        }
        assert set(missed) <= found, f"no gateway access log line for {set(missed) - found}"
        return found

    in_gateway = eventually(gateway_logged, timeout=10)
    hits = [trace_id for trace_id in ids if logged[trace_id]["nginx.cache.status"] == "HIT"]
    assert not set(hits) & in_gateway, "a cached answer does not reach the gateway"


def test_stale_vehicles_are_marked(fleet, browser):
    """Last (it stops the simulator): no report for longer than the tracker's active window."""
    page, watch, _ = open_page(browser, fleet.nginx.url)
    _wait_for_list(page, len(fleet.names))
    expect(page.locator("#vehicle-rows tr.is-stale")).to_have_count(0)
    fleet.simulator.stop()
    stale_rows = page.locator("#vehicle-rows tr.is-stale")
    expect(stale_rows).to_have_count(
        len(fleet.names), timeout=ACTIVE_WINDOW_SECONDS * 1000 + 10_000
    )
    expect(stale_rows.first.locator(".badge--stale")).to_be_visible()
    expect(page.locator(".vehicle-marker.is-stale")).to_have_count(len(fleet.names))
    screenshot(page, "stale.png")
    assert watch.errors() == [] and watch.page_errors == []


def metres_per_pixel(markers: dict[str, dict[str, float]]) -> float:
    """The map's scale, from the two markers farthest apart (metres over screen pixels)."""
    (a, b) = max(
        itertools.combinations(markers.values(), 2),
        key=lambda pair: math.dist((pair[0]["x"], pair[0]["y"]), (pair[1]["x"], pair[1]["y"])),
    )
    pixels = math.dist((a["x"], a["y"]), (b["x"], b["y"]))
    return haversine_m(a["lat"], a["lng"], b["lat"], b["lng"]) / max(pixels, 1.0)
