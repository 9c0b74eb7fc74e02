"""A dashboard drawn with matplotlib: every panel where its ``gridPos`` puts it on the
24-column grid, with its title, unit and legend, from the data ``fetch`` read."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.ticker import FuncFormatter

from observability.preview.fetch import PanelData
from observability.preview.units import format_value

WIDTH_INCHES = 20.0
UNIT_HEIGHT_INCHES = 0.34
COLUMNS = 24
#: Room for the value axis' labels, as a fraction of the figure's width.
AXIS_MARGIN = 0.034
BACKGROUND = "#f4f5f5"
PANEL = "#ffffff"
EXEMPLAR = "#c000c0"
COLORS = {"green": "#56a64b", "orange": "#ff9830", "red": "#e02f44"}
_PALETTE = plt.get_cmap("tab10").colors


def _unit(panel: dict) -> str:
    if panel.get("type") == "heatmap":
        return str(panel.get("options", {}).get("yAxis", {}).get("unit", ""))
    return str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", ""))


def _times(values: list[float]) -> list[datetime]:
    return [datetime.fromtimestamp(t, UTC) for t in values]


def _time_axis(ax: Axes, span: tuple[float, float]) -> None:
    if span[1] > span[0]:
        ax.set_xlim(*_times(list(span)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))


def _no_data(ax: Axes, text: str = "No data") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color="#888", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_timeseries(ax: Axes, data: PanelData) -> None:
    unit = _unit(data.panel)
    if not data.series:
        _no_data(ax)
        return
    for i, (name, series, _) in enumerate(data.series[:10]):
        ax.plot(_times(series.times), series.values, lw=1.4, color=_PALETTE[i % 10], label=name)
    if data.exemplars:
        ex = data.exemplars[:300]
        ax.scatter(
            _times([e.time for e in ex]),
            [e.value for e in ex],
            marker="D",
            s=9,
            color=EXEMPLAR,
            label="exemplars (trace)",
            zorder=3,
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    minimum = data.panel.get("fieldConfig", {}).get("defaults", {}).get("min")
    if minimum is not None:
        ax.set_ylim(bottom=minimum)
    _time_axis(ax, data.span)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="upper left", ncol=2, framealpha=0.7)


def _le(series_labels: dict[str, str]) -> float:
    value = series_labels.get("le", "+Inf")
    return math.inf if value in ("+Inf", "Inf") else float(value)


def draw_heatmap(ax: Axes, data: PanelData) -> None:
    buckets = sorted((s for _, s, _ in data.series), key=lambda s: _le(s.labels))
    if not buckets or not buckets[0].times:
        _no_data(ax)
        return
    times = buckets[0].times
    rows = []
    previous = [0.0] * len(times)
    for series in buckets:
        values = [v if not math.isnan(v) else 0.0 for v in series.values[: len(times)]]
        values += [0.0] * (len(times) - len(values))
        rows.append([max(v - p, 0.0) for v, p in zip(values, previous, strict=True)])
        previous = values
    ax.imshow(
        rows,
        aspect="auto",
        origin="lower",
        cmap="Oranges",
        interpolation="nearest",
        norm=PowerNorm(0.4),
        extent=(
            mdates.date2num(_times([times[0]])[0]),
            mdates.date2num(_times([times[-1]])[0]),
            0,
            len(rows),
        ),
    )
    unit = _unit(data.panel)
    labels = [
        format_value(_le(s.labels), unit) if _le(s.labels) != math.inf else "+Inf" for s in buckets
    ]
    step = max(1, len(labels) // 6)
    ax.set_yticks([i + 0.5 for i in range(0, len(labels), step)], labels[::step], fontsize=7)
    bounds = [_le(s.labels) for s in buckets]
    if data.exemplars:
        ex = data.exemplars[:300]
        ys = [
            next((i + 0.5 for i, b in enumerate(bounds) if e.value <= b), len(bounds) - 0.5)
            for e in ex
        ]
        ax.scatter(
            _times([e.time for e in ex]),
            ys,
            marker="D",
            s=9,
            color=EXEMPLAR,
            label="exemplars (trace)",
        )
        ax.legend(fontsize=6.5, loc="upper left")
    _time_axis(ax, data.span)


def _threshold_color(panel: dict, value: float) -> str:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    color = "green"
    for step in steps:
        if step.get("value") is None or value >= step["value"]:
            color = step.get("color", color)
    return COLORS.get(color, color)


def draw_stat(ax: Axes, data: PanelData) -> None:
    unit, colored = (
        _unit(data.panel),
        data.panel.get("options", {}).get("colorMode") == "background",
    )
    values = []
    for name, series, _ in data.series:
        last = next((v for v in reversed(series.values) if not math.isnan(v)), math.nan)
        values.append((name, last))
    if not values:
        _no_data(ax)
        return
    ax.set_xticks([])
    ax.set_yticks([])
    width = 1 / len(values)
    for i, (name, value) in enumerate(values):
        color = _threshold_color(data.panel, value) if colored and not math.isnan(value) else None
        if color:
            ax.add_patch(
                plt.Rectangle(
                    (i * width + 0.01, 0.04),
                    width - 0.02,
                    0.92,
                    color=color,
                    transform=ax.transAxes,
                )
            )
        text_color = "white" if color else "#1f60c4"
        ax.text(
            i * width + width / 2,
            0.55,
            format_value(value, unit),
            ha="center",
            va="center",
            fontsize=16 if len(values) == 1 else 13,
            color=text_color,
            weight="bold",
            transform=ax.transAxes,
        )
        if len(values) > 1:
            ax.text(
                i * width + width / 2,
                0.2,
                name,
                ha="center",
                va="center",
                fontsize=7.5,
                color=text_color,
                transform=ax.transAxes,
            )


def draw_table(ax: Axes, data: PanelData) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    rows = [s.labels for _, s, _ in data.series]
    if not rows:
        _no_data(ax, "Nothing firing")
        return
    columns = sorted({k for r in rows for k in r if k != "__name__"})
    ax.text(
        0.01,
        0.92,
        "   ".join(f"{c:<28}" for c in columns),
        family="monospace",
        fontsize=7,
        weight="bold",
        va="top",
        transform=ax.transAxes,
    )
    for i, row in enumerate(rows[:8]):
        line = "   ".join(f"{row.get(c, ''):<28}" for c in columns)
        ax.text(
            0.01,
            0.78 - i * 0.1,
            line,
            family="monospace",
            fontsize=7,
            va="top",
            transform=ax.transAxes,
        )


def draw_logs(ax: Axes, data: PanelData) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if not data.records:
        _no_data(ax, "No log records")
        return
    for i, record in enumerate(data.records[:14]):
        stamp = str(record.get("@timestamp", ""))[11:19]
        level = str(record.get("log.level", "")).upper()[:5]
        trace = str(record.get("trace.id", ""))
        message = str(record.get("message", "")).replace("\n", " ")[:120]
        line = f"{stamp}  {level:<5}  {message}"
        color = COLORS["red"] if level.startswith(("ERR", "CRIT")) else "#222"
        ax.text(
            0.005,
            0.96 - i * 0.068,
            line,
            family="monospace",
            fontsize=7,
            va="top",
            color=color,
            transform=ax.transAxes,
        )
        if trace:
            ax.text(
                0.995,
                0.96 - i * 0.068,
                f"trace {trace[:16]}…",
                family="monospace",
                fontsize=6.5,
                va="top",
                ha="right",
                color="#1f60c4",
                transform=ax.transAxes,
            )


DRAW = {
    "timeseries": draw_timeseries,
    "heatmap": draw_heatmap,
    "stat": draw_stat,
    "table": draw_table,
    "logs": draw_logs,
}


def draw_dashboard(dashboard: dict, panels: list[PanelData], path: Path, subtitle: str) -> int:
    """Writes the PNG; returns how many panels (row headers aside) it drew."""
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    height = (bottom + 3.6) * UNIT_HEIGHT_INCHES
    fig = plt.figure(figsize=(WIDTH_INCHES, height), facecolor=BACKGROUND)
    fig.text(
        0.01, 1 - 0.6 / height, dashboard.get("title", ""), fontsize=15, weight="bold", va="top"
    )
    fig.text(0.99, 1 - 0.6 / height, subtitle, fontsize=8, ha="right", va="top", color="#555")
    top = 2.6 * UNIT_HEIGHT_INCHES / height
    unit_y = UNIT_HEIGHT_INCHES / height
    drawn = 0
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        left, width = pos["x"] / COLUMNS, pos["w"] / COLUMNS
        y1 = 1 - top - pos["y"] * unit_y
        if panel.get("type") == "row":
            fig.text(
                left + 0.005,
                y1 - unit_y * 0.5,
                panel.get("title", ""),
                fontsize=11,
                weight="bold",
                va="center",
                color="#333",
            )
            continue
        box = fig.add_axes(
            (left + 0.003, y1 - pos["h"] * unit_y + 0.003, width - 0.006, pos["h"] * unit_y - 0.006)
        )
        box.set_facecolor(PANEL)
        box.set_xticks([])
        box.set_yticks([])
        for spine in box.spines.values():
            spine.set_color("#d8d9da")
        title = panel.get("title", "")
        unit = _unit(panel)
        box.text(
            0.01,
            0.985,
            title + (f"  [{unit}]" if unit else ""),
            fontsize=8.5,
            weight="bold",
            va="top",
            transform=box.transAxes,
        )
        if panel.get("links"):
            box.text(
                0.99,
                0.985,
                "↗ logs · traces",
                fontsize=6.5,
                va="top",
                ha="right",
                color="#1f60c4",
                transform=box.transAxes,
            )
        axes = panel.get("type") in ("timeseries", "heatmap")
        margin = AXIS_MARGIN if axes else 0.006
        below = 0.028 * 12 / bottom if axes else 0.006
        inner = fig.add_axes(
            (
                left + 0.003 + margin,
                y1 - pos["h"] * unit_y + below,
                width - 0.009 - margin,
                pos["h"] * unit_y - below - 0.85 * unit_y,
            )
        )
        inner.set_facecolor(PANEL)
        inner.tick_params(labelsize=7)
        for spine in inner.spines.values():
            spine.set_color("#d8d9da" if axes else PANEL)
        data = next(d for d in panels if d.panel is panel)
        DRAW.get(panel.get("type", ""), lambda ax, d: _no_data(ax, "unsupported panel"))(
            inner, data
        )
        drawn += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, facecolor=BACKGROUND)
    plt.close(fig)
    return drawn
