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
