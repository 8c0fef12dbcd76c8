"""Server-side SVG line charts for the dashboards: no script, no request, no library.

A chart is one `<svg>` that fills its container's width at a fixed pixel
height. The plot is a nested SVG with a 1000 × 1000 view box stretched to fit
(`preserveAspectRatio="none"`) and strokes that keep their width
(`vector-effect: non-scaling-stroke`); text and markers sit in the outer SVG
at pixel heights and percentage widths, so labels stay legible from a 375 px
phone to a desktop. Missing values break the line instead of pretending zero.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PLOT_UNITS = 1000  # the plot's view box is PLOT_UNITS wide and high
TOP_PX = 16
BOTTOM_PX = 20


@dataclass(frozen=True)
class Series:
    """One line: `values` aligned with the chart's dates (None = no data that day)."""

    name: str
    values: Sequence[float | None]
    css_class: str = "series-a"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _nice_bounds(low: float, high: float) -> tuple[float, float]:
    """Pad a flat or tight range so the line does not sit on the frame."""
    if math.isclose(low, high):
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _segments(values: Sequence[float | None], y: Callable[[float], float], count: int) -> list:
    """Split the line where data is missing; each segment is a list of (x, y) in plot units."""
    segments, current = [], []
    for index, value in enumerate(values):
        if value is None or not math.isfinite(float(value)):
            if current:
                segments.append(current)
            current = []
            continue
        x = PLOT_UNITS * index / max(count - 1, 1)
        current.append((x, y(float(value))))
    if current:
        segments.append(current)
    return segments


def line_chart(
    *,
    title: str,
    dates: Sequence[dt.date],
    series: Sequence[Series],
    value_format: Callable[[float], str],
    height_px: int = 150,
    zero_line: bool = False,
) -> SafeString:
    """Return an accessible SVG line chart of `series` over `dates` (oldest first)."""
    values = [v for s in series for v in _finite(s.values)]
    if not dates or not values:
        return format_html('<p class="chart-empty" role="note">{}: no data yet.</p>', title)
    low, high = min(values), max(values)
    if zero_line:
        low, high = min(low, 0.0), max(high, 0.0)
    low, high = _nice_bounds(low, high)
    plot_px = height_px - TOP_PX - BOTTOM_PX

    def y_units(value: float) -> float:
        return PLOT_UNITS * (high - value) / (high - low)

    def y_px(value: float) -> float:
        return TOP_PX + plot_px * (high - value) / (high - low)

    count = len(dates)
    parts: list[str] = []
    # Gridlines at the bounds' inner quarter points, labelled at the right edge.
    ticks = [low + (high - low) * f for f in (0.1, 0.5, 0.9)]
    grid = "".join(
        f'<line class="grid" x1="0" x2="{PLOT_UNITS}" y1="{y_units(t):.1f}" y2="{y_units(t):.1f}"/>'
        for t in ticks
    )
    if zero_line and low < 0 < high:
        grid += f'<line class="zero" x1="0" x2="{PLOT_UNITS}" y1="{y_units(0):.1f}" y2="{y_units(0):.1f}"/>'
    lines = []
    for s in series:
        for segment in _segments(s.values, y_units, count):
            points = " ".join(f"{x:.1f},{yv:.1f}" for x, yv in segment)
            if len(segment) == 1:
                x, yv = segment[0]
                points = f"{x - 2:.1f},{yv:.1f} {x + 2:.1f},{yv:.1f}"
            lines.append(f'<polyline class="line {escape(s.css_class)}" points="{points}"/>')
    parts.append(
        f'<svg class="plot" x="0" y="{TOP_PX}" width="100%" height="{plot_px}" '
        f'viewBox="0 0 {PLOT_UNITS} {PLOT_UNITS}" preserveAspectRatio="none" aria-hidden="true">'
        f"{grid}{''.join(lines)}</svg>"
    )
    for t in ticks:
        parts.append(
            f'<text class="tick" x="100%" y="{y_px(t) - 3:.1f}" text-anchor="end">'
            f"{escape(value_format(t))}</text>"
        )
    # Date labels: first, middle and last day.
    label_at = sorted({0, (count - 1) // 2, count - 1})
    for index in label_at:
        share = 100 * index / max(count - 1, 1)
        anchor = "start" if index == 0 else "end" if index == count - 1 else "middle"
        parts.append(
            f'<text class="tick" x="{share:.2f}%" y="{height_px - 5}" text-anchor="{anchor}">'
            f"{dates[index]:%b %-d}</text>"
        )
    # The latest value of each series, marked and named in the legend.
    legend = []
    for s in series:
        last_index = next((i for i in range(count - 1, -1, -1) if _finite([s.values[i]])), None)
        if last_index is None:
            continue
        last = float(s.values[last_index])
        share = 100 * last_index / max(count - 1, 1)
        parts.append(
            f'<circle class="dot {escape(s.css_class)}" cx="{share:.2f}%" '
            f'cy="{y_px(last):.1f}" r="3"/>'
        )
        legend.append((s, last))
    legend_text = "".join(
        f'<tspan class="legend {escape(s.css_class)}">{escape(s.name)} '
        f"{escape(value_format(last))}</tspan> "
        for s, last in legend
    )
    parts.append(f'<text class="legend-row" x="0" y="11">{legend_text}</text>')
    summary = "; ".join(
        f"{s.name} from {value_format(_finite(s.values)[0])} to {value_format(last)}"
        for s, last in legend
    )
    description = f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}: {summary}."
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="chart" width="100%" height="{height_px}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(description)}</desc>{''.join(parts)}</svg>"
    )


def sparkline(*, values: Sequence[float], label: str) -> SafeString:
    """Return a small trend line of `values` (oldest first) for a table cell; "" under 2 points.

    Coloured by direction: up from the first value is "pos", down is "neg".
    """
    points = _finite(values)
    if len(points) < 2:
        return mark_safe("")  # noqa: S308 - a constant empty string
    low, high = _nice_bounds(min(points), max(points))

    def y(value: float) -> float:
        return 20 * (high - value) / (high - low)

    coordinates = " ".join(
        f"{100 * index / (len(points) - 1):.2f},{y(value):.2f}"
        for index, value in enumerate(points)
    )
    direction = "pos" if points[-1] > points[0] else "neg" if points[-1] < points[0] else ""
    return format_html(
        '<svg class="spark {}" viewBox="0 0 100 20" preserveAspectRatio="none" role="img" '
        'aria-label="{}"><polyline points="{}"/></svg>',
        direction,
        label,
        coordinates,
    )


def risk_chart(
    *,
    title: str,
    moves_pct: Sequence[float],
    series: Sequence[Series],
    breakevens_pct: Sequence[float] = (),
    marks: Sequence[tuple[str, int, float]] = (),
    value_format: Callable[[float], str],
    height_px: int = 170,
) -> SafeString:
    """Return an SVG of P/L lines over underlying moves (%), with breakevens and marks.

    ``marks`` are (label, index into ``moves_pct``, value): max profit and max
    loss, drawn as dots with their label.
    """
    values = [v for s in series for v in _finite(s.values)]
    count = len(moves_pct)
    if count < 2 or not values:
        return format_html('<p class="chart-empty" role="note">{}: no priced legs.</p>', title)
    low, high = _nice_bounds(min(min(values), 0.0), max(max(values), 0.0))
    plot_px = height_px - TOP_PX - BOTTOM_PX
    first, last = float(moves_pct[0]), float(moves_pct[-1])

    def y_units(value: float) -> float:
        return PLOT_UNITS * (high - value) / (high - low)

    def y_px(value: float) -> float:
        return TOP_PX + plot_px * (high - value) / (high - low)

    def x_share(move: float) -> float:
        return 100 * (move - first) / (last - first)

    zero = (
        f'<line class="zero" x1="0" x2="{PLOT_UNITS}" y1="{y_units(0):.1f}" y2="{y_units(0):.1f}"/>'
    )
    lines = []
    for s in series:
        for segment in _segments(s.values, y_units, count):
            points = " ".join(f"{x:.1f},{yv:.1f}" for x, yv in segment)
            lines.append(f'<polyline class="line {escape(s.css_class)}" points="{points}"/>')
    for move in breakevens_pct:
        x = PLOT_UNITS * (move - first) / (last - first)
        lines.append(
            f'<line class="breakeven" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{PLOT_UNITS}"/>'
        )
    parts = [
        f'<svg class="plot" x="0" y="{TOP_PX}" width="100%" height="{plot_px}" '
        f'viewBox="0 0 {PLOT_UNITS} {PLOT_UNITS}" preserveAspectRatio="none" aria-hidden="true">'
        f"{zero}{''.join(lines)}</svg>"
    ]
    for label, index, value in marks:
        share = x_share(float(moves_pct[index]))
        anchor = "start" if share < 20 else "end" if share > 80 else "middle"
        y = y_px(value)
        parts.append(f'<circle class="dot mark" cx="{share:.2f}%" cy="{y:.1f}" r="3"/>')
        text_y = y - 5 if y > TOP_PX + 12 else y + 13
        parts.append(
            f'<text class="tick mark" x="{share:.2f}%" y="{text_y:.1f}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    for move, anchor in ((first, "start"), (0.0, "middle"), (last, "end")):
        text = "0 %" if move == 0 else f"{'+' if move > 0 else '−'}{abs(move):g} %"
        parts.append(
            f'<text class="tick" x="{x_share(move):.2f}%" y="{height_px - 5}" '
            f'text-anchor="{anchor}">{text}</text>'
        )
    legend = "".join(
        f'<tspan class="legend {escape(s.css_class)}">{escape(s.name)}</tspan> ' for s in series
    )
    if breakevens_pct:
        legend += '<tspan class="legend breakeven-label">┆ breakeven</tspan>'
    parts.append(f'<text class="legend-row" x="0" y="11">{legend}</text>')
    described = "; ".join(
        f"{s.name}: {value_format(min(_finite(s.values)))} to {value_format(max(_finite(s.values)))}"
        for s in series
        if _finite(s.values)
    )
    breakevens = ", ".join(f"{move:+.1f} %" for move in breakevens_pct) or "none in range"
    description = (
        f"P/L across underlying moves from {first:+g} % to {last:+g} %: {described}; "
        f"breakevens at expiry: {breakevens}."
    )
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="chart risk-chart" width="100%" height="{height_px}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(description)}</desc>{''.join(parts)}</svg>"
    )
