"""Charts for the program report: pygal SVG, drawn on the server, safe under the app's CSP.

pygal writes a `<script>` (its tooltips) and a `<style>` into every SVG. The page's
Content-Security-Policy (`default-src 'self'`, bot/__init__.py) allows neither inline, so each
chart is cleaned before it is put inline in the page: no script, no style element, no style
attribute, no tooltip layer, no ids that would repeat between charts. The look pygal's
`<style>` gave it comes instead from `/reports/charts.css`, the same CSS pygal writes, served
from this origin (`chart_css`). Every chart is `role="img"` with a label, and the page prints
its numbers in a table beside it for screen readers and for anyone who wants the figures.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal puts a finder for its map plugins (unused here) on sys.meta_path, one without
# `find_spec`: every failed import after it (zoneinfo looking for tzdata, say) then warns,
# and a warning is an error in the tests. Take it off again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

# Dark enough on white for older eyes (WCAG AA for large graphics), told apart by more
# than hue: pygal also varies the dots and dashes per series.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#595959",
    colors=("#1f5fa8", "#b35900", "#2e7d32", "#6a1b9a"),
    font_family="system-ui, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=16,
    value_font_size=14,
    title_font_size=18,
)
_CONFIG = {
    "style": STYLE,
    "js": [],  # no pygal.js from a CDN (and the inline script is removed below)
    "disable_xml_declaration": True,
    "explicit_size": False,  # scales with the page
    "width": 900,
    "height": 340,
    "legend_at_bottom": True,
    "legend_box_size": 16,
    "margin": 12,
}
_CHART_ID = re.compile(r"#chart-[0-9a-f-]{36}")


def _tag(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _clean(svg: str, label: str) -> Markup:
    """The chart as inline SVG with nothing the CSP would block, labelled for screen readers."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            classes = child.get("class", "").split()
            if _tag(child) in ("script", "style") or "tooltip" in classes:
                parent.remove(child)
    for element in root.iter():
        element.attrib.pop("style", None)
        if element is not root:
            element.attrib.pop("id", None)
    root.attrib.pop("id", None)
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("focusable", "false")
    return Markup(ET.tostring(root, encoding="unicode"))  # noqa: S704 (our own SVG, escaped by ET)


def bar_chart(
    label: str, x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, every: int = 1
) -> Markup:
    """Bars per x label for each series (fills per day)."""
    chart = pygal.Bar(
        **_CONFIG,
        x_label_rotation=0,
        show_minor_x_labels=every == 1,
        x_labels_major_every=every,
        truncate_label=-1,
    )
    chart.x_labels = list(x_labels)
    # Counts: whole-number gridlines (pygal would print 0.2, 0.4... for a quiet month).
    top = max((max(values, default=0) for values in series.values()), default=0)
    step = max(1, math.ceil(top / 8))
    chart.y_labels = list(range(0, int(top) + step + 1, step))
    for name, values in series.items():
        chart.add(name, list(values))
    return _clean(chart.render(is_unicode=True), label)


def line_chart(
    label: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    percent: bool = False,
) -> Markup:
    """Lines over time (PDC by class); None leaves a gap where there is no figure."""
    chart = pygal.Line(
        **_CONFIG,
        allow_interruptions=True,
        dots_size=5,
        stroke_style={"width": 3},
        range=(0, 1) if percent else None,
        value_formatter=(lambda v: f"{v:.0%}") if percent else str,
        truncate_label=-1,
    )
    chart.x_labels = list(x_labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _clean(chart.render(is_unicode=True), label)


@functools.cache
def chart_css() -> str:
    """pygal's own CSS for the charts above, scoped to `.pygal-chart` instead of one chart id."""
    chart = pygal.Line(**_CONFIG)
    chart.x_labels = ["a", "b"]
    for n in range(len(STYLE.colors)):
        chart.add(str(n), [n, n + 1])
    root = ET.fromstring(chart.render(is_unicode=True))
    css = "\n".join(element.text or "" for element in root.iter() if _tag(element) == "style")
    return _CHART_ID.sub(".pygal-chart", css)
