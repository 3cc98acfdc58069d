"""Charts drawn on the server as accessible SVG: role="img" with a title and a description.

No JavaScript and no chart library: bars and text in a viewBox that scales with the page.
Right-to-left pages get mirrored charts (the first category on the right). Every chart is
shown with a table of the same numbers, which the page renders beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

Number = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One coloured set of bars; None is a value that is not shown (too few cases)."""

    name: str
    values: Sequence[float | None]
    css: str  # a class from transparency.css: series-1, series-2…


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above value (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _open(chart_id: str, title: str, description: str, width: int, height: int, rtl: bool) -> str:
    return (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'direction="{"rtl" if rtl else "ltr"}" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    rtl: bool,
    number: Number,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """Vertical grouped bars, one group per category (e.g. per Jalali month)."""
    top, bottom, side, other = 24, 44, 48, 12
    plot_w, plot_h = width - side - other, height - top - bottom
    peak = nice_ceiling(max((v for s in series for v in s.values if v is not None), default=0))

    def x(at: float, size: float = 0) -> float:
        # Mirror horizontally on right-to-left pages.
        left = side + at
        return width - left - size if rtl else left

    parts = [_open(chart_id, title, description, width, height, rtl)]
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="chart__grid" x1="{x(0):.1f}" x2="{x(plot_w):.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart__tick" x="{x(-6):.1f}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(number(value))}</text>"
        )
    group = plot_w / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for c, category in enumerate(categories):
        for s, one in enumerate(series):
            value = one.values[c]
            if value is None:
                continue
            h = plot_h * value / peak
            left = c * group + group * 0.1 + s * bar
            parts.append(
                f'<rect class="chart__bar {escape(one.css)}" x="{x(left, bar):.1f}" '
                f'y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}"/>'
            )
        label_x = x(c * group + group / 2)
        parts.append(
            f'<text class="chart__label" x="{label_x:.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def hbar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    rtl: bool,
    number: Number,
    width: int = 640,
) -> Markup:
    """Horizontal grouped bars, one row per label (e.g. per step or age band)."""
    label_w, other, row_h, top = 200, 56, 16 * max(len(series), 1) + 14, 8
    height = top * 2 + row_h * max(len(labels), 1)
    plot_w = width - label_w - other
    peak = nice_ceiling(max((v for s in series for v in s.values if v is not None), default=0))

    def x(at: float, size: float = 0) -> float:
        left = label_w + at
        return width - left - size if rtl else left

    parts = [_open(chart_id, title, description, width, height, rtl)]
    for r, label in enumerate(labels):
        y0 = top + r * row_h
        shown = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text class="chart__label" x="{x(-8):.1f}" y="{y0 + row_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(shown)}</text>'
        )
        for s, one in enumerate(series):
            value = one.values[r]
            y = y0 + 7 + s * 16
            if value is None:
                parts.append(
                    f'<text class="chart__value" x="{x(4):.1f}" y="{y + 11:.1f}" '
                    f'text-anchor="start">–</text>'
                )
                continue
            w = plot_w * value / peak
            parts.append(
                f'<rect class="chart__bar {escape(one.css)}" x="{x(0, w):.1f}" y="{y:.1f}" '
                f'width="{w:.1f}" height="13"/>'
                f'<text class="chart__value" x="{x(w + 4):.1f}" y="{y + 11:.1f}" '
                f'text-anchor="start">{escape(number(value))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
