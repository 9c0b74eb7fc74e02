"""The telemetry catalog: a typed model of what each service emits and promises.

Free of any output format; renderers turn it into artifacts and checks prove them.
"""

from observability.catalog.alerts import Alert, Severity
from observability.catalog.component import ComponentCatalog
from observability.catalog.logs import FieldType, LogField, LogSchema
from observability.catalog.metrics import Label, Metric, MetricKind, Unit
from observability.catalog.service import ExternalMetric, Platform, ServiceCatalog
from observability.catalog.slo import (
    SLO,
    FreshnessSLI,
    LatencySLI,
    Matcher,
    RatioSLI,
    Selector,
    eq,
    ne,
    regex,
)
from observability.catalog.source import SourceRef

__all__ = [
    "SLO",
    "Alert",
    "ComponentCatalog",
    "ExternalMetric",
    "FieldType",
    "FreshnessSLI",
    "Label",
    "LatencySLI",
    "LogField",
    "LogSchema",
    "Matcher",
    "Metric",
    "MetricKind",
    "Platform",
    "RatioSLI",
    "Selector",
    "ServiceCatalog",
    "Severity",
    "SourceRef",
    "Unit",
    "eq",
    "ne",
    "regex",
]
