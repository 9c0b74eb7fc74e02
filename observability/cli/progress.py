"""Progress on stderr, only for commands that run longer than a moment: nothing is shown in
the first ``DELAY`` seconds; then the phase running and every later phase, one line each."""

from __future__ import annotations

import threading
import time

import click

DELAY = 2.0


class Progress:
    def __init__(self, delay: float = DELAY) -> None:
        self._start = time.monotonic()
        self._delay = delay
        self._phase = ""
        self._shown = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(delay, self._show_current)
        self._timer.daemon = True
        self._timer.start()

    def _say(self, phase: str) -> None:
        elapsed = time.monotonic() - self._start
        click.echo(f"dashboard-gen: {phase}... ({elapsed:.0f}s)", err=True)

    def _show_current(self) -> None:
        with self._lock:
            self._shown = True
            if self._phase:
                self._say(self._phase)

    def phase(self, phase: str) -> None:
        with self._lock:
            self._phase = phase
            if self._shown:
                self._say(phase)

    def stop(self) -> None:
        with self._lock:
            self._timer.cancel()
            self._shown = False
            self._phase = ""


#: The running command's progress (one command per process).
_current: Progress | None = None


def start() -> Progress:
    global _current
    stop()
    _current = Progress()
    return _current


def phase(name: str) -> None:
    if _current is not None:
        _current.phase(name)


def stop() -> None:
    if _current is not None:
        _current.stop()
