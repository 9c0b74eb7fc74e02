"""SLO rules as Sloth computes them: the window table (data), the factor maths, the SLI PromQL."""

from observability.slo.model import SLOModel, number, service_slo_models, slo_models
from observability.slo.windows import AlertWindows, BurnSeverity, Window, alert_windows

__all__ = [
    "AlertWindows",
    "BurnSeverity",
    "SLOModel",
    "Window",
    "alert_windows",
    "number",
    "service_slo_models",
    "slo_models",
]
