"""The internal SLO model the rules are rendered from (Sloth's ``PromSLO``), free of any format.

One ``SLOModel`` per catalog SLO: its identity (Sloth's ``sloth_id``/``sloth_service``/``sloth_slo``
labels), its alert-window table and the thresholds derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.slo import SLO
from observability.diagnostics import CatalogError, Level, Problem
from observability.slo.durations import format_duration, parse_duration
from observability.slo.windows import AlertWindows, BurnSeverity, Window, alert_windows

CHECK = "slo/windows"
#: Sloth's name for an SLI's error ratio over a window.
SLI_RECORD = "slo:sli_error:ratio_rate{window}"


def sli_record(window: str) -> str:
    return SLI_RECORD.format(window=window)


def number(value: float) -> str:
    """A float as PromQL and YAML show it: 12 significant digits, no float noise (0.001, 14.4)."""
    return format(value, ".12g")


@dataclass(frozen=True)
class SLOModel:
    service: ServiceCatalog
    slo: SLO
    windows: AlertWindows

    @property
    def sloth_id(self) -> str:
        return self.slo.slo_id(self.service.name)

    @property
    def labels(self) -> dict[str, str]:
        """The labels Sloth puts on every SLO series (its dashboards select on them)."""
        return {
            "sloth_id": self.sloth_id,
            "sloth_service": self.service.name,
            "sloth_slo": self.slo.name,
        }

    @property
    def selector(self) -> str:
        """The label matchers of this SLO's recorded series, as Sloth writes them."""
        return "{" + ", ".join(f'{k}="{v}"' for k, v in self.labels.items()) + "}"

    @property
    def period(self) -> str:
        return self.windows.period

    @property
    def error_budget(self) -> float:
        """1 - objective, without float noise (0.001 rather than 0.0010000000000000009)."""
        return round(1.0 - self.slo.objective, 12)

    def factor(self, window: Window) -> float:
        return window.factor(self.period)

    def threshold(self, window: Window) -> float:
        """The error ratio above which ``window`` alerts: factor * error budget."""
        return self.factor(window) * self.error_budget

    def exhaustion_days(self, severity: BurnSeverity) -> float:
        """Days until the budget is gone at the slowest burn rate ``severity`` alerts on."""
        slowest = min(self.factor(w) for w in severity.windows)
        return parse_duration(self.period) / 86400 / slowest

    def absent_for(self) -> str:
        """How long the SLI's metrics may be missing before the absent-data alert fires.

        Pyrra's ``AbsentDuration``: treat missing data as a 100% error ratio and ask how long the
        fastest page window would take to fire. Its long window must reach factor * budget, which a
        100% error ratio does after factor * budget * long window (14.4 * 0.001 * 1h ≈ 52 s for
        99.9%, 14.4 * 0.01 * 1h ≈ 9 min for 99%). Waiting that long means the absent alert never
        fires sooner than a real outage would have paged; rounded to the minute, at least 1m.
        """
        quick = self.windows.page.quick
        seconds = self.threshold(quick) * parse_duration(quick.long)
        return format_duration(max(60, round(seconds / 60) * 60))


def service_slo_models(service: ServiceCatalog) -> tuple[SLOModel, ...]:
    """The SLOs of one service with their alert windows, or a CatalogError naming the SLO."""
    models, problems = [], []
    for slo in service.slos:
        try:
            models.append(SLOModel(service, slo, alert_windows(slo.period_days)))
        except ValueError as exc:
            problems.append(Problem(slo.source, CHECK, Level.BUG, f"SLO {slo.name}: {exc}"))
    if problems:
        raise CatalogError(problems)
    return tuple(models)


def slo_models(platform: Platform) -> tuple[SLOModel, ...]:
    return tuple(m for service in platform.services for m in service_slo_models(service))
