"""vegeta (github.com/tsenart/vegeta), the HTTP load generator: attacks as subprocesses writing
their results to files, read back through ``vegeta report -type=json`` (and ``vegeta encode``
where every result is needed). The binary is built once into the stack's cache by
``services/stack/gotools.py`` (``ensure_tool("vegeta")``).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

#: The one result a ``-lazy`` attack adds when its targets run out (not a request).
NO_TARGETS = "no targets to attack"


@dataclass(frozen=True)
class Report:
    """``vegeta report -type=json``, latencies in milliseconds."""

    requests: int
    #: Requests sent per second.
    rate: float
    #: Successful (2xx, 3xx) answers per second.
    throughput: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    #: Answers by status code ("0": no answer: refused, reset, timed out).
    status: dict[str, int]
    #: The distinct transport errors and non-2xx statuses, as vegeta words them.
    errors: tuple[str, ...]

    @property
    def ok(self) -> int:
        return sum(n for code, n in self.status.items() if code.startswith("2"))

    @property
    def failed(self) -> int:
        return self.requests - self.ok

    def codes(self) -> str:
        """``200: 1,200, 503: 4`` (the failures' codes only when all succeeded: ``-``)."""
        if not self.failed:
            return "0"
        shown = sorted(self.status.items(), key=lambda item: item[0])
        return f"{self.failed:,} (" + ", ".join(f"{c}: {n:,}" for c, n in shown) + ")"


def parse_report(text: str) -> Report:
    """A report from ``vegeta report -type=json``'s output (nanoseconds to milliseconds)."""
    data = json.loads(text)
    latencies = data["latencies"]
    return Report(
        requests=int(data["requests"]),
        rate=float(data["rate"]),
        throughput=float(data["throughput"]),
        p50_ms=latencies["50th"] / 1e6,
        p99_ms=latencies["99th"] / 1e6,
        max_ms=latencies["max"] / 1e6,
        status={str(code): int(n) for code, n in (data.get("status_codes") or {}).items()},
        errors=tuple(data.get("errors") or ()),
    )


@dataclass(frozen=True)
class Result:
    """One request, from ``vegeta encode -to json``."""

    #: When it was sent (seconds since the epoch).
    sent: float
    code: int
    latency_ms: float
    error: str
    retry_after: str | None


def parse_result(line: str) -> Result:
    data = json.loads(line)
    headers = data.get("headers") or {}
    retry_after = headers.get("Retry-After")
    return Result(
        sent=datetime.fromisoformat(data["timestamp"]).timestamp(),
        code=int(data["code"]),
        latency_ms=data["latency"] / 1e6,
        error=data.get("error") or "",
        retry_after=retry_after[0] if retry_after else None,
    )


def rate_flag(rate: str | float) -> str:
    """vegeta's ``-rate``: a whole number a second, else ``N/period`` (``"300/2s"``; ``10.5`` as
    ``10500/1000s``)."""
    if isinstance(rate, str):
        return rate
    if float(rate).is_integer():
        return str(int(rate))
    return f"{round(rate * 1000)}/1000s"


def targets_text(urls: Sequence[str]) -> str:
    """vegeta's http targets format: one ``GET url`` a target."""
    return "".join(f"GET {url}\n\n" for url in urls)


@dataclass
class Attack:
    """A running ``vegeta attack``; ``wait()`` returns the file of its results."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path
    stderr: Path

    def wait(self, timeout: float | None = None) -> Path:
        code = self.process.wait(timeout)
        if code != 0:
            raise RuntimeError(
                f"vegeta attack {self.name} exited {code}: {self.stderr.read_text()}"
            )
        return self.output


class Vegeta:
    """Runs attacks in a temporary folder; ``close()`` stops what still runs and removes it."""

    def __init__(self, binary: Path) -> None:
        self.binary = str(binary)
        self._folder = tempfile.TemporaryDirectory(prefix="bench-load-")
        self.folder = Path(self._folder.name)
        self._running: list[subprocess.Popen[bytes]] = []
        self._count = 0

    def attack(
        self,
        name: str,
        urls: Sequence[str],
        rate: str | float,
        duration: float | None = None,
        *,
        workers: int | None = None,
        timeout: float = 10.0,
    ) -> Attack:
        """Start an attack on ``urls`` (taken in turn). ``rate``: requests per second, or
        vegeta's ``N/period`` (``"300/2s"``); 0 is a closed loop of ``workers`` that sends every
        target once (``-lazy``) unless ``duration`` says how long to loop."""
        closed = rate in (0, "0")
        if closed and duration is None:
            # A lazy attack ends when a worker finds no target left, dropping the requests the
            # others still have in flight: one more target per worker, so that all are sent.
            urls = [*urls, *urls[: workers or 1]]
        self._count += 1
        stem = self.folder / f"{self._count:03d}-{name}"
        targets = stem.with_suffix(".targets")
        targets.write_text(targets_text(urls))
        output, stderr = stem.with_suffix(".bin"), stem.with_suffix(".err")
        command = [
            self.binary,
            "attack",
            f"-targets={targets}",
            f"-output={output}",
            f"-rate={rate_flag(rate)}",
            f"-timeout={timeout}s",
            "-max-body=0",
            f"-name={name}",
        ]
        if closed:
            command += [f"-workers={workers or 1}", f"-max-workers={workers or 1}"]
        elif workers:
            command.append(f"-max-workers={workers}")
        if closed and duration is None:
            command += ["-lazy", "-duration=0"]
        else:
            command.append(f"-duration={duration}s")
        with stderr.open("wb") as errors:
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True
            )
        self._running.append(process)
        return Attack(name, process, output, stderr)

    def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        done = subprocess.run(
            [self.binary, *args], input=stdin, capture_output=True, check=False, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"vegeta {args[0]}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def encoded(self, *outputs: Path) -> Iterator[str]:
        """Every result as a JSON line, but the end-of-targets marker of a ``-lazy`` attack."""
        for line in self._run("encode", "-to", "json", *map(str, outputs)).splitlines():
            text = line.decode()
            if f'"error":"{NO_TARGETS}"' not in text:
                yield text

    def report(self, *outputs: Path) -> Report:
        """vegeta's JSON report over the results of one or more attacks."""
        lines = "\n".join(self.encoded(*outputs)).encode()
        return parse_report(self._run("report", "-type=json", stdin=lines).decode())

    def results(self, output: Path) -> list[Result]:
        return [parse_result(line) for line in self.encoded(output)]

    def close(self) -> None:
        for process in self._running:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._folder.cleanup()
