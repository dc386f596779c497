"""The visitor counter as an inline SVG bar chart: one bar per day, drawn by hand.

A plotting library would bring a large dependency (and its fonts and scripts) for a dozen
rectangles, lines and labels. ElementTree writes the markup, so every label and tooltip is
escaped by construction.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from coopspider.monitor.report_data import CounterDay
from coopspider.monitor.vocabulary import number_text

WIDTH = 760
HEIGHT = 280
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 64, 16, 20, 40
_MAX_X_LABELS = 8
_BAR_COLOUR = "#2b6cb0"
_GAP_COLOUR = "#edf2f7"


def nice_ticks(maximum: float, count: int = 5) -> list[int]:
    """Round tick values from 0 covering `maximum`: steps of 1, 2 or 5 times a power of ten."""
    if maximum <= 0:
        return [0, 1]
    raw_step = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    step = max(1, int(step))
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def counter_chart_svg(days: Sequence[CounterDay], *, site: str) -> str:
    """An SVG bar chart of visits per day; a day without data is a pale band the plot's height,
    named "chưa có số liệu" in the legend."""
    ticks = nice_ticks(max((d.visits for d in days if d.visits is not None), default=0))
    plot_width = WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_height = HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    bottom = _MARGIN_TOP + plot_height
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "counter-chart",
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
            "aria-label": f"Lượt truy cập mỗi ngày của {site}",
        },
    )
    ET.SubElement(svg, "title").text = f"Lượt truy cập mỗi ngày — {site}"

    axis = ET.SubElement(svg, "g", {"class": "y-axis", "font-size": "11", "fill": "#4a5568"})
    for tick in ticks:
        y = bottom - plot_height * tick / ticks[-1]
        ET.SubElement(
            axis,
            "line",
            {
                "x1": str(_MARGIN_LEFT),
                "x2": str(WIDTH - _MARGIN_RIGHT),
                "y1": f"{y:.1f}",
                "y2": f"{y:.1f}",
                "stroke": "#e2e8f0",
            },
        )
        label = ET.SubElement(
            axis, "text", {"x": str(_MARGIN_LEFT - 6), "y": f"{y + 4:.1f}", "text-anchor": "end"}
        )
        label.text = number_text(tick)

    bars = ET.SubElement(svg, "g", {"class": "bars"})
    slot = plot_width / max(len(days), 1)
    bar_width = max(1.0, slot * 0.8)
    for index, day in enumerate(days):
        x = _MARGIN_LEFT + index * slot + (slot - bar_width) / 2
        shown = day.day.strftime("%d/%m/%Y")
        if day.visits is None:
            # A pale band the plot's height, not a mark on the zero line: no reading is not 0.
            mark = ET.SubElement(
                bars,
                "rect",
                {
                    "class": "no-data",
                    "x": f"{x:.1f}",
                    "y": str(_MARGIN_TOP),
                    "width": f"{bar_width:.1f}",
                    "height": str(plot_height),
                    "fill": _GAP_COLOUR,
                },
            )
            ET.SubElement(mark, "title").text = f"{shown}: chưa có số liệu"
            continue
        height = plot_height * day.visits / ticks[-1]
        bar = ET.SubElement(
            bars,
            "rect",
            {
                "class": "bar",
                "data-day": day.day.isoformat(),
                "data-visits": str(day.visits),
                "x": f"{x:.1f}",
                "y": f"{bottom - height:.1f}",
                "width": f"{bar_width:.1f}",
                "height": f"{height:.1f}",
                "fill": _BAR_COLOUR,
            },
        )
        ET.SubElement(bar, "title").text = f"{shown}: {number_text(day.visits)} lượt truy cập"

    _legend(svg, gaps=any(day.visits is None for day in days))

    labels = ET.SubElement(svg, "g", {"class": "x-axis", "font-size": "11", "fill": "#4a5568"})
    every = max(1, math.ceil(len(days) / _MAX_X_LABELS))
    for index in range(0, len(days), every):
        x = _MARGIN_LEFT + (index + 0.5) * slot
        label = ET.SubElement(
            labels, "text", {"x": f"{x:.1f}", "y": str(bottom + 18), "text-anchor": "middle"}
        )
        label.text = days[index].day.strftime("%d/%m")
    ET.SubElement(
        svg,
        "line",
        {
            "x1": str(_MARGIN_LEFT),
            "x2": str(WIDTH - _MARGIN_RIGHT),
            "y1": str(bottom),
            "y2": str(bottom),
            "stroke": "#4a5568",
        },
    )
    return ET.tostring(svg, encoding="unicode")


def _legend(svg: ET.Element, *, gaps: bool) -> None:
    """What the colours mean, above the plot: the grey band only when some day has it."""
    legend = ET.SubElement(svg, "g", {"class": "legend", "font-size": "11", "fill": "#4a5568"})
    entries = [(_BAR_COLOUR, "lượt truy cập trong ngày")]
    if gaps:
        entries.append((_GAP_COLOUR, "chưa có số liệu"))
    x = float(_MARGIN_LEFT)
    for colour, text in entries:
        ET.SubElement(
            legend,
            "rect",
            {"x": f"{x:.1f}", "y": "4", "width": "10", "height": "10", "fill": colour,
             "stroke": "#a0aec0"},
        )  # fmt: skip
        label = ET.SubElement(legend, "text", {"x": f"{x + 14:.1f}", "y": "13"})
        label.text = text
        x += 14 + 7 * len(text) + 16
