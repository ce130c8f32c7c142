"""Reports as ONE self-contained HTML file: inline CSS and SVG, no scripts, no external assets.

Readable on a phone (fluid SVG with viewBox, one column under 560 px) and on a desktop, in light and
dark (`prefers-color-scheme`). Colours are the Okabe-Ito palette, distinguishable with the common
colour-vision deficiencies. Every mark has a <title> for hovering and screen readers; since a phone
has no hover, the same words are also on the page, written out or behind a <details> to tap open.
All words, durations and clock times come from `monitor.reports.wording`, like the text report's.

    theme.py   the colours, light and dark, and the page's CSS
    charts.py  the charts as inline SVG (day timeline, sitting minutes per hour) over the worn part of
               the day, their legend, and their marks' words written out for a finger
    page.py    the daily and weekly pages: headline figures, cards, trend rows, footer, the HTML frame

`render_day` and `render_week` are the face; the modules are the layout.
"""

from monitor.reports.html.page import render_day, render_week

__all__ = ["render_day", "render_week"]
