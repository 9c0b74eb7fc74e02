"""The logs half of dashboard-gen: how log lines become Elasticsearch documents (Fluent Bit on
Kubernetes, the OpenTelemetry Collector locally), the Kibana searches over them, and the
small parsers (KQL, Fluent Bit's classic config) the checks read them back with."""
