"""Bar charts drawn on the server as SVG: no charting script in the browser, readable when printed.

Each chart is an image with a text alternative (its title and every bar's label and value), and
the page shows the same figures in a table, for screen readers and for copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR = 22  # height of one bar and its gap, px
LABEL_WIDTH = 260
BAR_WIDTH = 360
COLOURS = ("#0b5394", "#7a4b00", "#1e6b1e", "#6a1b9a", "#a30000")


def horizontal(title: str, rows: Sequence[tuple[str, float]], unit: str = "", colour: str = COLOURS[0]) -> Markup:
    """One bar per row, longest value full width; the value is written at the bar's end."""
    top = max((value for _, value in rows), default=0) or 1
    height = BAR * max(len(rows), 1) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 70
    described = "; ".join(f"{label}: {_number(value)}{unit}" for label, value in rows) or "no data yet"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}: {escape(described)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not rows:
        parts.append(f'<text x="0" y="16">{escape("No data yet.")}</text>')
    for index, (label, value) in enumerate(rows):
        y = index * BAR + 4
        length = max(2.0, BAR_WIDTH * value / top) if value else 0.0
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end">{escape(_short(label))}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR - 6}" fill="{colour}"></rect>',
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 14}">{_number(value)}{escape(unit)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Markup:
    """Side-by-side columns per label (a day) for each series (started, decided), with a legend."""
    count = max(len(labels), 1)
    group = max(12, min(36, 720 // count))
    column = max(3, (group - 4) // max(len(series), 1))
    chart_height, base = 160, 180
    width = 40 + group * count
    top = max((value for _, values in series for value in values), default=0) or 1
    described = "; ".join(f"{name}: {sum(values)} in all" for name, values in series)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {base + 44}" width="{width}" height="{base + 44}" '
        f'aria-label="{escape(title)}: {escape(described)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="36" y1="{base}" x2="{width}" y2="{base}" stroke="#4a4a4a"></line>',
        f'<text x="30" y="{base - chart_height + 10}" text-anchor="end">{top}</text>',
        f'<text x="30" y="{base}" text-anchor="end">0</text>',
    ]
    for index, label in enumerate(labels):
        x = 40 + index * group
        for number, (_name, values) in enumerate(series):
            value = values[index]
            height = chart_height * value / top
            parts.append(
                f'<rect x="{x + number * column}" y="{base - height:.1f}" width="{column - 1}" '
                f'height="{height:.1f}" fill="{COLOURS[number % len(COLOURS)]}"></rect>'
            )
        if index % max(1, count // 10) == 0:
            parts.append(f'<text x="{x}" y="{base + 14}">{escape(label)}</text>')
    for number, (name, _values) in enumerate(series):
        x = 40 + number * 150
        parts += [
            f'<rect x="{x}" y="{base + 26}" width="12" height="12" fill="{COLOURS[number % len(COLOURS)]}"></rect>',
            f'<text x="{x + 16}" y="{base + 37}">{escape(name)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
