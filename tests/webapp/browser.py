"""Playwright helpers for the browser tests: a page that records everything that goes wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.webapp.support import ARTIFACTS


@dataclass
class PageWatch:
    """What a page said and asked for: console messages, uncaught errors, requests."""

    console: list[tuple[str, str, str]] = field(default_factory=list)  # (type, text, url)
    page_errors: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    bad_status: list[tuple[int, str]] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)

    def errors(self) -> list[tuple[str, str, str]]:
        return [m for m in self.console if m[0] == "error"]

    def attach(self, page: Any) -> None:
        page.on(
            "console",
            lambda m: self.console.append((m.type, m.text, (m.location or {}).get("url", ""))),
        )
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append((r.url, r.failure or "")))
        page.on("request", lambda r: self.requests.append(r))
        page.on("response", lambda r: r.status >= 400 and self.bad_status.append((r.status, r.url)))


def open_page(browser: Any, url: str, **context_options: Any) -> tuple[Any, PageWatch, Any]:
    """A new context (fresh profile state) and page at ``url``: (page, watch, response)."""
    options = {"viewport": {"width": 1280, "height": 800}, **context_options}
    context = browser.new_context(service_workers="block", **options)
    page = context.new_page()
    watch = PageWatch()
    watch.attach(page)
    response = page.goto(url, wait_until="load")
    return page, watch, response


def screenshot(page: Any, name: str, **options: Any) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **options)
    return str(path)


MARKERS_JS = """() => Object.fromEntries(
  [...document.querySelectorAll('.vehicle-icon[data-vehicle]')].map((el) => {
    const box = el.getBoundingClientRect();
    return [el.dataset.vehicle, {lat: +el.dataset.lat, lng: +el.dataset.lng,
                                 x: box.x + box.width / 2, y: box.y + box.height / 2}];
  }))"""


def marker_positions(page: Any) -> dict[str, dict[str, float]]:
    """Each marker's geographic position and its place on screen (centre of the icon)."""
    return page.evaluate(MARKERS_JS)
