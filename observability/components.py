"""The third-party components the platform relies on for its own evidence, and their alerts.

The log and trace pipeline (the local OpenTelemetry Collector, Fluent Bit in the clusters) and
the log store (Elasticsearch) are not ours, but when they fail the logs of an incident are
lost. Each is watched through the metrics it serves itself; Elasticsearch's health is served
by the local collector's ``elasticsearch`` receiver (through its ``prometheus`` exporter), as
the community elasticsearch_exporter would.

Prior art for the thresholds: the Fluent Bit alerts of Kyma's telemetry manager (buffer over
300 chunks, input without output) and the collector's own exporter metrics.
"""

from __future__ import annotations

from observability.catalog import Alert, ComponentCatalog, Severity
from observability.catalog.component import ExternalMetric, Plot

_TARGET = ("job", "instance", "env")
#: The collector's own metrics carry the component that reports them. Its counters have no
#: ``_total`` (it serves them so, and Prometheus keeps the names it is given).
_COLLECTOR = (*_TARGET, "exporter", "data_type")


def _collector_metric(name: str, *labels: str) -> ExternalMetric:
    return ExternalMetric(name, (*_COLLECTOR, *labels), "OpenTelemetry Collector (own metrics)")


def _fluent_bit_metric(name: str) -> ExternalMetric:
    # Its ServiceMonitor adds no env: each cluster's Prometheus scrapes its own nodes.
    return ExternalMetric(name, ("job", "instance", "name", "pod", "namespace"), "Fluent Bit")


_LOGS_EXPORTER = 'exporter="elasticsearch"'
#: A dashboard's selectors name the job and the environment (the dashboard's $env).
_OTELCOL = 'job="otelcol", env=~"$env"'
#: Grafana's rate window (at least four scrapes).
_RATE = "$__rate_interval"
_WAITING = (
    f'sum by (job, env) (otelcol_exporter_queue_size{{{_LOGS_EXPORTER}, data_type="logs"}}) > 0'
)
_ARRIVING = "sum by (job, env) (rate(otelcol_receiver_accepted_log_records[5m])) > 0"
_SHIPPED = (
    f"sum by (job, env) (rate(otelcol_exporter_sent_log_records{{{_LOGS_EXPORTER}}}[5m])) > 0"
)
_FILL_RATIO = (
    f'max by (job, env) (otelcol_exporter_queue_size{{{_LOGS_EXPORTER}, data_type="logs"}}'
    f' / otelcol_exporter_queue_capacity{{{_LOGS_EXPORTER}, data_type="logs"}})'
)
_WHERE_THE_COLLECTOR_IS = (
    "Locally: `fleet-stack status` (otelcol), its log `.stack/logs/otelcol.log`, its metrics "
    "on http://127.0.0.1:8888/metrics."
)

COLLECTOR = ComponentCatalog(
    name="otelcol",
    description="The local OpenTelemetry Collector: tails the services' logs, receives their "
    "spans, ships both to Elasticsearch through a sending queue on disk.",
    metrics=(
        _collector_metric("otelcol_exporter_queue_size"),
        _collector_metric("otelcol_exporter_queue_capacity"),
        _collector_metric("otelcol_exporter_sent_log_records"),
        _collector_metric("otelcol_exporter_send_failed_log_records"),
        _collector_metric("otelcol_receiver_accepted_log_records", "receiver"),
        _collector_metric("otelcol_scraper_scraped_metric_points", "receiver", "scraper"),
    ),
    alerts=(
        Alert(
            name="OtelCollectorDown",
            expr='up{job="otelcol"} == 0',
            for_="2m",
            severity=Severity.WARNING,
            dashboard="otelcol",
            summary="Prometheus cannot scrape the OpenTelemetry Collector.",
            description=(
                "The collector's metrics have not answered for 2 minutes: no log line or span "
                "is shipped, and the log-pipeline alerts are blind."
            ),
            runbook=(
                "The services keep writing their log files; the collector resumes from its "
                "stored offsets when it is back, and the services' span exporters drop what "
                "they cannot send.\n\n"
                f"1. {_WHERE_THE_COLLECTOR_IS}\n"
                "2. It waits for Elasticsearch at start (its index templates go in first): "
                "`ElasticsearchDown` with this alert means start there."
            ),
        ),
        Alert(
            name="LogsNotShipping",
            dashboard="otelcol",
            expr=f"({_WAITING}\nor\n{_ARRIVING})\nunless\n{_SHIPPED}",
            for_="10m",
            severity=Severity.WARNING,
            summary="Log lines are waiting and none has reached Elasticsearch for 15 minutes.",
            description=(
                "The collector holds or receives log lines but has shipped none for 15 minutes: "
                "the oldest waiting line is at least that old, and searches miss everything "
                "since. Nothing is lost yet: each flush is retried for 30 minutes."
            ),
            runbook=(
                "The lines wait in the collector's queue on disk, then in the log files "
                "themselves; a flush that fails for 30 minutes is dropped (`LogsDropped`).\n\n"
                "1. Is Elasticsearch up? `ElasticsearchDown` fires with this alert when it is "
                "not; `curl http://127.0.0.1:9200/_cluster/health`.\n"
                "2. What does the collector say? Its log names the exporter's error "
                "(`elasticsearch` exporter: a refused bulk request, a mapping error).\n"
                f"3. {_WHERE_THE_COLLECTOR_IS}\n"
                "4. Once it ships again, the backlog drains at several thousand lines a second: "
                "watch `otelcol_exporter_queue_size` fall."
            ),
        ),
        Alert(
            name="LogBufferFillingUp",
            dashboard="otelcol",
            expr=f"{_FILL_RATIO} > 0.5",
            for_="5m",
            severity=Severity.WARNING,
            summary="The collector's log sending queue is over half full.",
            description=(
                "The queue on disk is {{ $value | humanizePercentage }} full. When it is full "
                "the collector stops reading the log files: lines then wait in the files, and "
                "a file rotated away meanwhile is lost."
            ),
            runbook=(
                "The queue fills when Elasticsearch is down or slower than the services write.\n\n"
                "1. Is Elasticsearch down or red (`ElasticsearchDown`)? Bring it back first.\n"
                "2. Is it only slow? Its bulk latency and rejected writes show on its own "
                "`_nodes/stats/thread_pool/write`; the collector's log shows 429 retries.\n"
                f"3. {_WHERE_THE_COLLECTOR_IS}"
            ),
        ),
        Alert(
            name="LogsDropped",
            dashboard="otelcol",
            expr=(
                "sum by (job, env) "
                f"(rate(otelcol_exporter_send_failed_log_records{{{_LOGS_EXPORTER}}}[5m]))"
                " > 0"
            ),
            for_="1m",
            severity=Severity.WARNING,
            summary="The collector dropped log lines Elasticsearch did not take.",
            description=(
                '{{ printf "%.1f" $value }} lines a second failed for good: Elasticsearch refused '
                "them (a mapping conflict) or a flush kept failing for 30 minutes."
            ),
            runbook=(
                "Dropped lines are gone from the log store; the services' log files still hold "
                "them until they rotate.\n\n"
                "1. The collector's log names each refused document and Elasticsearch's reason "
                "(`include_source_on_error`): a field of another type than the index mapping "
                "means a log schema and the index template disagree (`dashboard-gen check`).\n"
                "2. A long outage (`LogsNotShipping` before this): the lines of its first "
                "minutes are lost; re-read them from the files if they matter.\n"
                f"3. {_WHERE_THE_COLLECTOR_IS}"
            ),
        ),
    ),
    panels=(
        Plot(
            "Log lines read /s",
            f"sum by (receiver) (rate(otelcol_receiver_accepted_log_records{{{_OTELCOL}}}[{_RATE}]))",
            "ops",
            "{{receiver}}",
            "Lines the filelog receivers read from the services' log files.",
        ),
        Plot(
            "Log lines shipped /s",
            f"sum(rate(otelcol_exporter_sent_log_records{{{_OTELCOL}, {_LOGS_EXPORTER}}}[{_RATE}]))",
            "ops",
            "shipped",
            "Lines Elasticsearch took. Flat at 0 while lines are read: LogsNotShipping.",
        ),
        Plot(
            "Log lines dropped /s",
            f"sum(rate(otelcol_exporter_send_failed_log_records{{{_OTELCOL}, {_LOGS_EXPORTER}}}[{_RATE}]))",
            "ops",
            "dropped",
            "Lines that failed for good (refused, or retried for 30 minutes): LogsDropped.",
        ),
        Plot(
            "Sending queue fill",
            f"max by (data_type) (otelcol_exporter_queue_size{{{_OTELCOL}, {_LOGS_EXPORTER}}}"
            f" / otelcol_exporter_queue_capacity{{{_OTELCOL}, {_LOGS_EXPORTER}}})",
            "percentunit",
            "{{data_type}}",
            "The on-disk sending queue, logs and traces; full means the receivers wait.",
        ),
        Plot(
            "Scraped",
            f"up{{{_OTELCOL}}}",
            "short",
            "{{instance}}",
            "Whether Prometheus reaches the collector's metrics (1) or not (0).",
        ),
    ),
    metrics_port=8888,
)

ELASTICSEARCH = ComponentCatalog(
    name="elasticsearch",
    description="The log and trace store, its health as the local collector's elasticsearch "
    "receiver sees it (served for Prometheus by the collector's prometheus exporter).",
    metrics=(
        ExternalMetric(
            "elasticsearch_cluster_health",
            (*_TARGET, "status", "otel_scope_name", "otel_scope_version"),
            "OpenTelemetry Collector elasticsearch receiver",
        ),
    ),
    alerts=(
        Alert(
            name="ElasticsearchDown",
            dashboard="elasticsearch",
            # Scraped nothing, rather than "errors": a scrape of a healthy node may fail in
            # part (the local integ-test build answers its root URL 405).
            expr=(
                "sum by (env) (rate(otelcol_scraper_scraped_metric_points"
                '{receiver="elasticsearch"}[1m])) == 0\nor\n'
                'max by (env) (elasticsearch_cluster_health{status="red"}) > 0'
            ),
            for_="2m",
            severity=Severity.CRITICAL,
            summary="Elasticsearch does not answer, or its cluster is red.",
            description=(
                "The collector's health checks of Elasticsearch fail (or report a red "
                "cluster): logs and spans are not stored, only queued. Past 30 minutes the "
                "collector drops what it holds."
            ),
            runbook=(
                "Searches and trace lookups fail meanwhile; the services are not affected.\n\n"
                "1. Is it running? Locally `fleet-stack status` (elasticsearch) and "
                "`.stack/logs/elasticsearch.log`; in a cluster the `elasticsearch-logging` "
                "StatefulSet in `logging`.\n"
                "2. Red but running: `GET _cluster/health?level=indices` names the red index; "
                "`GET _cluster/allocation/explain` says why its shards are unassigned (often a "
                "full disk: the flood-stage watermark makes indices read-only).\n"
                "3. Once green or yellow, `LogsNotShipping` resolves as the queue drains."
            ),
        ),
    ),
    panels=(
        Plot(
            "Cluster health",
            'max by (status) (elasticsearch_cluster_health{job="elasticsearch", env=~"$env"})',
            "short",
            "{{status}}",
            "1 for the cluster's current status (green, yellow, red).",
        ),
        Plot(
            "Health points scraped /s",
            "sum(rate(otelcol_scraper_scraped_metric_points"
            f'{{{_OTELCOL}, receiver="elasticsearch"}}[{_RATE}]))',
            "ops",
            "scraped",
            "What the collector reads of Elasticsearch's stats; 0 means it does not answer.",
        ),
    ),
    metrics_port=8889,
)

FLUENT_BIT = ComponentCatalog(
    name="fluent-bit",
    description="The clusters' log shipper (a DaemonSet): tails the containers' logs, buffers "
    "them on the node's disk, ships them to Elasticsearch.",
    metrics=tuple(
        _fluent_bit_metric(name)
        for name in (
            "fluentbit_input_records_total",
            "fluentbit_output_proc_records_total",
            "fluentbit_output_dropped_records_total",
            "fluentbit_output_retries_failed_total",
            "fluentbit_input_storage_chunks_down",
        )
    ),
    alerts=(
        Alert(
            name="FluentBitNotShipping",
            dashboard="fluent-bit",
            expr=(
                'sum by (job, pod) (rate(fluentbit_input_records_total{job="fluent-bit"}[5m]))'
                " > 0\nunless\n"
                "sum by (job, pod) "
                '(rate(fluentbit_output_proc_records_total{job="fluent-bit"}[5m])) > 0'
            ),
            for_="10m",
            severity=Severity.WARNING,
            summary="A node's Fluent Bit reads logs but has shipped none for 15 minutes.",
            description=(
                "Fluent Bit on {{ $labels.pod }} reads log lines and delivers none: they wait "
                "in its buffer on the node's disk."
            ),
            runbook=(
                "1. Is Elasticsearch up (`ElasticsearchDown`, the `elasticsearch-logging` pod)?\n"
                "2. `kubectl -n logging logs <pod>` names the output's error.\n"
                "3. The buffer is `/var/lib/fluent-bit/buffer` on the node, capped at 2 GB: "
                "`FluentBitBufferFillingUp` warns before it is full."
            ),
        ),
        Alert(
            name="FluentBitBufferFillingUp",
            dashboard="fluent-bit",
            expr='max by (job, pod) (fluentbit_input_storage_chunks_down{job="fluent-bit"}) > 300',
            for_="5m",
            severity=Severity.WARNING,
            summary="A node's Fluent Bit holds over 300 chunks of logs on disk.",
            description=(
                "Fluent Bit on {{ $labels.pod }} holds {{ $value }} chunks (about 2 MB each) "
                "waiting on disk; at its 2 GB limit it drops the oldest."
            ),
            runbook=(
                "The buffer grows when Elasticsearch is down or slower than the node's logs.\n\n"
                "1. `FluentBitNotShipping` or `ElasticsearchDown` with it: fix the store.\n"
                "2. A node with a very chatty pod: find it in the node's `/var/log/containers`."
            ),
        ),
        Alert(
            name="FluentBitDroppingLogs",
            dashboard="fluent-bit",
            expr=(
                "sum by (job, pod) ("
                'rate(fluentbit_output_dropped_records_total{job="fluent-bit"}[5m])'
                ' + rate(fluentbit_output_retries_failed_total{job="fluent-bit"}[5m])) > 0'
            ),
            for_="1m",
            severity=Severity.WARNING,
            summary="A node's Fluent Bit drops log records.",
            description='Fluent Bit on {{ $labels.pod }} drops {{ printf "%.1f" $value }} records/s.',
            runbook=(
                "1. `kubectl -n logging logs <pod>`: a record Elasticsearch refuses (mapping) "
                "is dropped at once; the parsers and the index template must agree "
                "(`dashboard-gen check`).\n"
                "2. A full buffer (`FluentBitBufferFillingUp` before this) drops the oldest."
            ),
        ),
    ),
    panels=(
        Plot(
            "Records read /s",
            f'sum by (pod) (rate(fluentbit_input_records_total{{job="fluent-bit"}}[{_RATE}]))',
            "ops",
            "{{pod}}",
            "Records each node's Fluent Bit reads from the containers' logs.",
        ),
        Plot(
            "Records shipped /s",
            "sum by (pod) "
            f'(rate(fluentbit_output_proc_records_total{{job="fluent-bit"}}[{_RATE}]))',
            "ops",
            "{{pod}}",
            "Records Elasticsearch took, per node.",
        ),
        Plot(
            "Records dropped /s",
            "sum by (pod) ("
            f'rate(fluentbit_output_dropped_records_total{{job="fluent-bit"}}[{_RATE}])'
            f' + rate(fluentbit_output_retries_failed_total{{job="fluent-bit"}}[{_RATE}]))',
            "ops",
            "{{pod}}",
            "Records dropped after an error, or after their retries ran out.",
        ),
        Plot(
            "Chunks waiting on disk",
            'max by (pod) (fluentbit_input_storage_chunks_down{job="fluent-bit"})',
            "short",
            "{{pod}}",
            "Chunks (about 2 MB each) buffered on the node's disk, not in memory.",
        ),
    ),
    kubernetes=True,
)
