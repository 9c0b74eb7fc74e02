"""The faults a drill causes on the local stack, each a context manager: the fault lasts for
the block and is gone after it, whatever happens inside."""

from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

import stomp

from services.stack import api
from services.stack.ports import HOST, configured_port

Fault = Callable[[], AbstractContextManager[None]]

#: The queue the simulator publishes to and the tracker reads (the services' default).
POSITION_QUEUE = "/queue/positionQueue"


def stopped(*names: str) -> Fault:
    """These components stopped, then started again and healthy."""
    return lambda: api.outage(*names)


def sampled_traceparent() -> str:
    """A W3C trace context asking for the trace to be sampled: the services' parent-based
    samplers follow it, so a drill's probes are traced (a probe, not a user)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


@contextmanager
def repeating(action: Callable[[threading.Event], None]) -> Iterator[None]:
    """``action`` called in a thread until the block ends (it waits on the event it gets)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            action(stop)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def stalled(name: str, pause_s: float = 1.0, run_s: float = 0.5) -> Fault:
    """The component frozen (SIGSTOP) for ``pause_s`` out of every ``pause_s + run_s``: it
    answers, late (a stalled database or a long garbage collection, seen from its clients)."""

    @contextmanager
    def fault() -> Iterator[None]:
        process = api.pid(name)
        if not process:
            raise api.StackError(f"{name} is not running: nothing to stall")

        def cycle(stop: threading.Event) -> None:
            os.kill(process, signal.SIGSTOP)
            try:
                stop.wait(pause_s)
            finally:
                os.kill(process, signal.SIGCONT)
            stop.wait(run_s)

        with repeating(cycle):
            yield

    return fault


def poison(per_second: float = 3.0) -> Fault:
    """Messages that are not positions published to the position queue (traced), beside the
    simulator's: the tracker must dead-letter every one."""

    @contextmanager
    def fault() -> Iterator[None]:
        connection = stomp.Connection([(HOST, configured_port("activemq", 61613))])
        connection.connect(wait=True)

        def publish(stop: threading.Event) -> None:
            headers = {"traceparent": sampled_traceparent(), "persistent": "true"}
            with suppress(stomp.exception.StompException):
                connection.send(POSITION_QUEUE, '{"drill": "not a position"}', headers=headers)
            stop.wait(1 / per_second)

        try:
            with repeating(publish):
                yield
        finally:
            connection.disconnect()

    return fault
