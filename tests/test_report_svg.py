"""The report's SVG charts: axes that hold every value, labels escaped, marks inside the frame."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from agreementdsl.report import svg


@given(
    low=st.integers(min_value=-(10**12), max_value=10**12),
    span=st.integers(min_value=0, max_value=10**12),
)
def test_the_axis_ticks_always_take_in_the_highest_and_lowest_value(low: int, span: int) -> None:
    # the first chart drawn had its forecast marker above the top tick, cut off: never again
    ticks = svg._ticks(low, low + span)
    assert ticks[0] <= low and ticks[-1] >= low + span
    assert ticks == sorted(ticks) and len(ticks) <= 12


def _points(chart: str) -> list[tuple[float, float]]:
    out = []
    for d in re.findall(r' d="([^"]+)"', chart):
        out += [(float(x), float(y)) for x, y in re.findall(r"(-?[0-9.]+),(-?[0-9.]+)", d)]
    out += [(float(x), float(y)) for x, y in re.findall(r'cx="([0-9.-]+)" cy="([0-9.-]+)"', chart)]
    return out


def test_every_line_and_marker_is_drawn_inside_the_frame() -> None:
    lines = [
        svg.Line("budget", [(0.0, 0), (12.0, 1_740_000_000)], "#000"),
        svg.Line("actual", [(0.0, 0), (10.0, 1_487_000_000)], "#111"),
        svg.Line("path", [(10.0, 1_487_000_000), (12.0, 1_814_000_000)], "#222", True),
    ]
    chart = svg.line_chart(
        "c", "t", [str(m) for m in range(12)], lines, [(12.0, 1_814_000_000, "forecast")]
    )
    for x, y in _points(chart):
        assert svg.LEFT <= x <= svg.WIDTH - svg.RIGHT and svg.TOP <= y <= svg.HEIGHT - svg.BOTTOM


def test_labels_and_titles_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    chart = svg.paired_bars(evil, evil, [(evil, 100, 200)])
    assert "<script>" not in chart and "&lt;script&gt;" in chart
    bars = svg.bar_chart("m", "t", [evil], [5], 3, evil)
    assert "<script>" not in bars


def test_a_long_label_is_cut_to_its_slot() -> None:
    assert (
        svg._fit("Council residential and home care services", 100) == "Council reside…"
    )  # 15 characters in 100 units
    assert svg._fit("Respite", 100) == "Respite"


def test_a_long_legend_wraps_and_the_chart_grows_to_hold_it() -> None:
    from agreementdsl.report import svg

    six = [(f"partner number {k} of six", svg.PALETTE[k], False) for k in range(6)]
    drawn = svg._svg("x", "t", [], six)
    assert all(f"partner number {k} of six" in drawn for k in range(6))
    height = float(drawn.split('viewBox="0 0 600 ')[1].split('"')[0])
    assert height > svg.HEIGHT  # more than one row of keys
    xs = [float(part.split('"')[0]) for part in drawn.split('<text class="legend" x="')[1:]]
    assert all(x < svg.WIDTH for x in xs)
    assert svg.FORECAST not in svg.PALETTE  # no partner is drawn in the forecast's red


def test_axis_labels_put_the_minus_before_the_pound_sign() -> None:
    from agreementdsl.report import svg

    assert svg._short(-100_000_000) == "−£1.0m"
    assert svg._short(25_000_000) == "£250k"
    assert svg._short(0) == "£0"
