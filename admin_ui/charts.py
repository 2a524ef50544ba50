"""Line charts drawn on the server as SVG text, for the dashboard to insert as they are.

Each chart is one self-contained `<svg>` with a fixed viewBox: a `<title>` and `<desc>` that
`role="img"` points at (screen readers read them), labelled axes, a legend, and nothing
else: no script, no `<style>` and no `style=""` (a strict CSP would block them; presentation
attributes are not subject to it), no link, image or font to fetch. Every text and attribute
value goes through `escape`, so a label with markup in it is shown, never parsed.

Hand-written rather than pygal, the candidate library: pygal always embeds an inline
`<script>` (its tooltip configuration) and a `<style>` sheet, and its default `js` list
points at a CDN, which is exactly what the panel must not receive. Two line charts are
small enough to draw here.
"""
import math
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Sequence

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 44, 52
COLOURS = ("#2c6ecb", "#d4621c", "#1a7f4e", "#8a3ab9")
X_TICKS = 6
Y_TICKS = 5
DOTS_UP_TO = 62  # days; past that, dots would blur into the line


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]


def line_chart(chart_id: str, title: str, description: str, days: Sequence[date], series: Sequence[Series],
               y_label: str, x_label: str = "Day (UTC)") -> str:
    """One chart of `series` over `days` (one value per day each); returns the SVG text."""
    low, high, step = _y_scale([value for line in series for value in line.values])
    plot = _Plot(len(days), low, high)
    ident = escape(chart_id, quote=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="system-ui, sans-serif" font-size="11" '
        f'fill="#303030">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
        *_y_axis(plot, low, high, step, y_label),
        *_x_axis(plot, days, x_label),
        *(element for index, line in enumerate(series) for element in _line(plot, line, index)),
        *_legend(series),
        "</svg>",
    ]
    return "".join(parts)


class _Plot:
    """Maps day indexes and values to coordinates inside the margins."""

    def __init__(self, count: int, low: float, high: float):
        self.count, self.low, self.high = count, low, high
        self.width, self.height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(self, index: int) -> float:
        if self.count <= 1:
            return LEFT + self.width / 2
        return LEFT + self.width * index / (self.count - 1)

    def y(self, value: float) -> float:
        return TOP + self.height * (self.high - value) / (self.high - self.low)


def _y_scale(values: list) -> tuple[int, int, int]:
    """A round step and the multiples of it that enclose every value and zero."""
    low, high = min([0, *values]), max([0, *values])
    step = _nice_step((high - low) / (Y_TICKS - 1) or 1)
    return math.floor(low / step) * step, max(math.ceil(high / step) * step, step), step


def _nice_step(raw: float) -> int:
    magnitude = 10 ** max(math.floor(math.log10(raw)), 0)
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _y_axis(plot: _Plot, low: int, high: int, step: int, label: str) -> list[str]:
    parts = []
    for value in range(low, high + 1, step):
        y = _n(plot.y(value))
        colour = "#8c8c8c" if value == 0 else "#e3e3e3"
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{colour}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">{value:,}</text>')
    middle = _n(TOP + plot.height / 2)
    parts.append(f'<text x="14" y="{middle}" text-anchor="middle" transform="rotate(-90 14 {middle})">'
                 f'{escape(label)}</text>')
    return parts


def _x_axis(plot: _Plot, days: Sequence[date], label: str) -> list[str]:
    bottom = TOP + plot.height
    parts = [f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#8c8c8c" stroke-width="1"/>']
    for index in _tick_indexes(len(days)):
        x = _n(plot.x(index))
        # The last date ends at the plot's edge: centred, it would spill out of the viewBox.
        anchor = "end" if index == len(days) - 1 and index > 0 else "middle"
        parts.append(f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}" stroke="#8c8c8c" stroke-width="1"/>')
        parts.append(f'<text x="{x}" y="{bottom + 16}" text-anchor="{anchor}">{escape(days[index].isoformat())}</text>')
    parts.append(f'<text x="{_n(LEFT + plot.width / 2)}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>')
    return parts


def _tick_indexes(count: int) -> list[int]:
    if count <= X_TICKS:
        return list(range(count))
    return sorted({round(i * (count - 1) / (X_TICKS - 1)) for i in range(X_TICKS)})


def _line(plot: _Plot, series: Series, index: int) -> list[str]:
    colour = COLOURS[index % len(COLOURS)]
    points = [(_n(plot.x(i)), _n(plot.y(value))) for i, value in enumerate(series.values)]
    parts = [f'<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" '
             f'points="{" ".join(f"{x},{y}" for x, y in points)}"/>']
    if len(points) <= DOTS_UP_TO:
        parts.extend(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>' for x, y in points)
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], WIDTH - RIGHT
    for index in reversed(range(len(series))):
        label = series[index].label
        x -= 18 + 7 * len(label)  # about one average glyph per character at 11 px
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="35">{escape(label)}</text>')
    return parts


def _n(value: float) -> str:
    """Coordinates with one decimal at most: shorter text, no visible difference."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
