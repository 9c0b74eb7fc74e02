"""The data a preview draws, read from the running Prometheus and Elasticsearch over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from observability.catalog.correlation import LOG_INDEX_PREFIX

TIMEOUT = 20.0


class Unreachable(RuntimeError):
    """Prometheus or Elasticsearch does not answer (the message says which and where)."""


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    times: list[float]
    values: list[float]


@dataclass(frozen=True)
class Exemplar:
    time: float
    value: float
    trace_id: str


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    step: float

    @property
    def rate_interval(self) -> str:
        """Grafana's ``$__rate_interval``: at least four 15 s scrapes, at least a step more."""
        return f"{int(max(60, self.step + 15))}s"


@dataclass
class Prometheus:
    url: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))

    def _get(self, path: str, params: dict[str, str]) -> list[dict]:
        try:
            response = self.client.get(f"{self.url.rstrip('/')}{path}", params=params)
        except httpx.HTTPError as exc:
            raise Unreachable(f"Prometheus at {self.url} does not answer: {exc}") from exc
        body = response.json()
        if body.get("status") != "success":
            raise ValueError(f"Prometheus refused {params.get('query')!r}: {body.get('error')}")
        return body["data"] if path.endswith("exemplars") else body["data"]["result"]

    def check(self) -> None:
        try:
            self.client.get(f"{self.url.rstrip('/')}/-/ready").raise_for_status()
        except httpx.HTTPError as exc:
            raise Unreachable(f"Prometheus at {self.url} does not answer: {exc}") from exc

    def range(self, expr: str, window: Window) -> list[Series]:
        params = {
            "query": expr,
            "start": str(window.start),
            "end": str(window.end),
            "step": str(window.step),
        }
        return [
            Series(
                r["metric"], [float(t) for t, _ in r["values"]], [float(v) for _, v in r["values"]]
            )
            for r in self._get("/api/v1/query_range", params)
        ]

    def instant(self, expr: str, at: float) -> list[Series]:
        result = self._get("/api/v1/query", {"query": expr, "time": str(at)})
        return [Series(r["metric"], [float(r["value"][0])], [float(r["value"][1])]) for r in result]

    def exemplars(self, expr: str, window: Window) -> list[Exemplar]:
        params = {"query": expr, "start": str(window.start), "end": str(window.end)}
        try:
            found = self._get("/api/v1/query_exemplars", params)
        except ValueError:
            return []
        return [
            Exemplar(float(e["timestamp"]), float(e["value"]), e["labels"].get("trace_id", ""))
            for series in found
            for e in series.get("exemplars", [])
        ]


@dataclass
class Elasticsearch:
    url: str
    index: str = f"{LOG_INDEX_PREFIX}*"
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))

    def check(self) -> None:
        try:
            self.client.get(f"{self.url.rstrip('/')}/_cluster/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise Unreachable(f"Elasticsearch at {self.url} does not answer: {exc}") from exc

    def latest(self, query: str, window: Window, size: int = 12) -> list[dict]:
        """The newest records matching the Lucene ``query`` in the window, newest first."""
        body = {
            "size": size,
            "sort": [{"@timestamp": "desc"}],
            "query": {
                "bool": {
                    "must": [{"query_string": {"query": query}}],
                    "filter": [
                        {
                            "range": {
                                "@timestamp": {
                                    "gte": int(window.start * 1000),
                                    "lte": int(window.end * 1000),
                                    "format": "epoch_millis",
                                }
                            }
                        }
                    ],
                }
            },
        }
        try:
            response = self.client.post(f"{self.url.rstrip('/')}/{self.index}/_search", json=body)
        except httpx.HTTPError as exc:
            raise Unreachable(f"Elasticsearch at {self.url} does not answer: {exc}") from exc
        response.raise_for_status()
        return [hit["_source"] for hit in response.json()["hits"]["hits"]]
