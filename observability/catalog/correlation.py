"""The names that tie metrics, logs and traces together, declared once for every hop."""

from __future__ import annotations

#: The log field (ECS) carrying the trace id, in the app's JSON, the parsers' output,
#: Elasticsearch, Kibana searches and Grafana's Elasticsearch data source.
TRACE_ID_FIELD = "trace.id"
#: The log field carrying the span id.
SPAN_ID_FIELD = "span.id"
#: The exemplar label carrying the trace id (Prometheus label names cannot contain dots), in the
#: app's exemplars and in Grafana's ``exemplarTraceIdDestinations``.
TRACE_ID_EXEMPLAR_LABEL = "trace_id"
#: The log field naming the service, equal to the Prometheus ``job`` label's value.
SERVICE_FIELD = "service.name"
#: The Prometheus label that names the service on every series we scrape.
SERVICE_LABEL = "job"
#: The label telling environments apart (``local``, ``dev``, ``aws``), added at scrape time.
ENVIRONMENT_LABEL = "env"

#: Where logs and spans land in Elasticsearch (locally through the OpenTelemetry Collector,
#: on Kubernetes through Fluent Bit): index names start with these, so ``<prefix>*`` finds them.
LOG_INDEX_PREFIX = "fleet-logs"
TRACE_INDEX_PREFIX = "fleet-traces"
#: Ids of the Kibana data view over the logs and of the Grafana data sources, so links resolve.
KIBANA_LOG_DATA_VIEW_ID = "fleet-logs"
GRAFANA_PROMETHEUS_UID = "prometheus"
GRAFANA_LOGS_UID = "fleet-logs"
GRAFANA_TRACES_UID = "jaeger"
