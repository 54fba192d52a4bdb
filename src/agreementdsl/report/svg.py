"""Charts as SVG text, drawn on the server: no script, no network, every label escaped.

Each chart is a function from exact figures (pence) to one `<svg class="chart">` element. The
figures themselves are printed as text beside every chart; the drawing only has to be right to
the pixel, so pence become floats here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..money import format_money

WIDTH, HEIGHT = 600, 290
LEFT, RIGHT, TOP, BOTTOM = 64, 14, 22, 50
# Distinct colours for series and partners; none is the red kept for the forecast outturn.
PALETTE = (
    "#1f5f99",
    "#d9822b",
    "#3a8f5c",
    "#8e5aa8",
    "#2a9d8f",
    "#6b7b8c",
    "#c9a227",
    "#7f4f24",
    "#e377c2",
)
FORECAST = "#b8403a"


@dataclass(frozen=True)
class Line:
    name: str
    points: Sequence[tuple[float, int]]  # (x, pence)
    colour: str
    dashed: bool = False


def _short(pence: float) -> str:
    """An axis label: `£1.5m`, `£250k`, `−£1.0m` (a minus sign before the pound sign)."""
    pounds = pence / 100
    sign = "−" if pounds < 0 else ""
    size = abs(pounds)
    if size >= 1_000_000:
        return f"{sign}£{size / 1_000_000:.1f}m"
    if size >= 1_000:
        return f"{sign}£{size / 1_000:.0f}k"
    return f"{sign}£{size:.0f}" if round(size) else "£0"


def _fit(label: str, width: float) -> str:
    """The label cut to the width it has (about 6.5 units a character), with an ellipsis."""
    room = max(int(width / 6.5), 4)
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 100
    raw = (high - low) / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = (low // step) * step
    ticks, value = [first], first
    while value < high:
        value += step
        ticks.append(value)
    return ticks


class _Frame:
    """Scales from data to pixels, and the axes drawn for them."""

    def __init__(self, x_low: float, x_high: float, y_low: float, y_high: float) -> None:
        ticks = _ticks(min(y_low, 0 if y_low >= 0 else y_low), y_high)
        self.ticks = ticks
        self.y_low, self.y_high = ticks[0], ticks[-1]
        self.x_low, self.x_high = x_low, x_high if x_high > x_low else x_low + 1

    def x(self, value: float) -> float:
        span = self.x_high - self.x_low
        return round(LEFT + (value - self.x_low) / span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        span = self.y_high - self.y_low or 1
        return round(HEIGHT - BOTTOM - (value - self.y_low) / span * (HEIGHT - TOP - BOTTOM), 1)

    def y_axis(self) -> list[str]:
        out = []
        for tick in self.ticks:
            y = self.y(tick)
            out.append(
                f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
                f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{escape(_short(tick))}</text>'
            )
        return out


def _svg(name: str, title: str, body: list[str], legend: list[tuple[str, str, bool]]) -> str:
    """The chart with its legend, which wraps onto further rows (the chart grows to hold them)
    rather than running off the right-hand edge."""
    keys = []
    x: float = LEFT
    row = 0
    for label, colour, dashed in legend:
        width = 34 + 6.5 * len(label)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, row = LEFT, row + 1
        y = HEIGHT - 10 + 18 * row
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        keys.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="3"{dash}/>'
            f'<text class="legend" x="{x + 23}" y="{y + 4}">{escape(label)}</text>'
        )
        x += width
    height = HEIGHT + 18 * row
    return (
        f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>" + "".join(body) + "".join(keys) + "</svg>"
    )


def line_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    lines: Sequence[Line],
    markers: Sequence[tuple[float, int, str]] = (),
) -> str:
    """Lines over the year's months (x = 0 for the year's start, 12 for its end)."""
    values = [v for line in lines for _, v in line.points] + [m[1] for m in markers] + [0]
    frame = _Frame(0, len(labels), min(values), max(values))
    body = frame.y_axis()
    for i, label in enumerate(labels):
        x = frame.x(i + 1)
        body.append(
            f'<text class="tick" x="{x}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    for line in lines:
        if not line.points:
            continue
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{frame.x(x)},{frame.y(v)}"
            for i, (x, v) in enumerate(line.points)
        )
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        body.append(
            f'<path class="series" data-series="{escape(line.name)}" d="{path}" fill="none" '
            f'stroke="{line.colour}" stroke-width="2.5"{dash}><title>{escape(line.name)}</title></path>'
        )
    for x, v, text in markers:
        body.append(
            f'<circle class="marker" cx="{frame.x(x)}" cy="{frame.y(v)}" r="4.5" fill="#b8403a">'
            f"<title>{escape(text)}</title></circle>"
            f'<text class="mark" x="{frame.x(x) - 8}" y="{frame.y(v) - 8}" text-anchor="end">{escape(text)}</text>'
        )
    legend = [(line.name, line.colour, line.dashed) for line in lines]
    return _svg(name, title, body, legend)


def bar_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    bars: Sequence[int],
    reference: int | None = None,
    reference_name: str = "",
) -> str:
    """One bar per label (net expenditure by month), with an optional reference level."""
    frame = _Frame(0, max(len(labels), 1), min([*bars, 0]), max([*bars, reference or 0, 1]))
    body = frame.y_axis()
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    zero = frame.y(0)
    for i, (label, value) in enumerate(zip(labels, bars, strict=True)):
        x = LEFT + i * slot + slot * 0.15
        top = min(frame.y(value), zero)
        height = max(abs(zero - frame.y(value)), 0.5)
        body.append(
            f'<rect class="bar" x="{round(x, 1)}" y="{top}" width="{round(slot * 0.7, 1)}" height="{round(height, 1)}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(format_money(value))}</title></rect>'
            f'<text class="tick" x="{round(x + slot * 0.35, 1)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    legend = [("net expenditure", PALETTE[0], False)]
    if reference is not None:
        y = frame.y(reference)
        body.append(
            f'<line class="reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{PALETTE[1]}" '
            f'stroke-width="2" stroke-dasharray="6 4"><title>{escape(reference_name)}</title></line>'
        )
        legend.append((reference_name, PALETTE[1], True))
    return _svg(name, title, body, legend)


def paired_bars(name: str, title: str, rows: Sequence[tuple[str, int | None, int]]) -> str:
    """Budget and actual side by side for each row (label, budget or None, actual)."""
    values = [v for _, b, a in rows for v in (b or 0, a)]
    frame = _Frame(0, max(len(rows), 1), min([*values, 0]), max([*values, 1]))
    body = frame.y_axis()
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    zero = frame.y(0)
    for i, (label, budget, actual) in enumerate(rows):
        for j, (what, value, colour) in enumerate(
            (("budget", budget, PALETTE[5]), ("actual", actual, PALETTE[0]))
        ):
            if value is None:
                continue
            x = LEFT + i * slot + slot * (0.12 + 0.38 * j)
            top = min(frame.y(value), zero)
            body.append(
                f'<rect class="bar" x="{round(x, 1)}" y="{top}" width="{round(slot * 0.36, 1)}" '
                f'height="{round(max(abs(zero - frame.y(value)), 0.5), 1)}" fill="{colour}">'
                f"<title>{escape(label)} {what}: {escape(format_money(value))}</title></rect>"
            )
        body.append(
            f'<text class="tick" x="{round(LEFT + i * slot + slot / 2, 1)}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(_fit(label, slot))}</text>'
        )
    return _svg(name, title, body, [("budget", PALETTE[5], False), ("actual", PALETTE[0], False)])


def stacked_chart(
    name: str,
    title: str,
    outturns: Sequence[int],
    bands: Sequence[tuple[str, Sequence[int]]],
    kinks: Sequence[tuple[int, str]],
    now: int | None = None,
) -> str:
    """Stacked areas of who pays (above the axis) or gets back (below it) at each outturn."""
    totals = [sum(b[1][i] for b in bands if b[1][i] > 0) for i in range(len(outturns))]
    lows = [sum(b[1][i] for b in bands if b[1][i] < 0) for i in range(len(outturns))]
    frame = _Frame(min(outturns), max(outturns), min([*lows, 0]), max([*totals, 1]))
    body = frame.y_axis()
    for tick in _ticks(min(outturns), max(outturns), 6):
        if min(outturns) <= tick <= max(outturns):
            body.append(
                f'<text class="tick" x="{frame.x(tick)}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(_short(tick))}</text>'
            )
    up = [0] * len(outturns)
    down = [0] * len(outturns)
    legend = []
    for k, (label, values) in enumerate(bands):
        colour = PALETTE[k % len(PALETTE)]
        for sign, base in ((1, up), (-1, down)):
            part = [v if (v > 0 if sign > 0 else v < 0) else 0 for v in values]
            if not any(part):
                continue
            top = [b + p for b, p in zip(base, part, strict=True)]
            xs = [frame.x(o) for o in outturns]
            outline = [f"{x},{frame.y(t)}" for x, t in zip(xs, top, strict=True)]
            back = [f"{x},{frame.y(b)}" for x, b in zip(reversed(xs), reversed(base), strict=True)]
            body.append(
                f'<path class="band" data-series="{escape(label)}" d="M{" L".join(outline + back)} Z" '
                f'fill="{colour}" fill-opacity="0.8" stroke="{colour}"><title>{escape(label)}</title></path>'
            )
            base[:] = top
        legend.append((label, colour, False))
    for outturn, text in kinks:
        x = frame.x(outturn)
        body.append(
            f'<line class="kink" x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#333" '
            f'stroke-dasharray="3 3"><title>{escape(text)}</title></line>'
            f'<text class="mark" x="{x + 3}" y="{TOP + 10}">◆</text>'
        )
    if now is not None and min(outturns) <= now <= max(outturns):
        x = frame.x(now)
        body.append(
            f'<line class="now" x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#b8403a" stroke-width="2">'
            f"<title>forecast outturn {escape(format_money(now))}</title></line>"
        )
        legend.append(("forecast outturn", FORECAST, False))
    return _svg(name, title, body, legend)
