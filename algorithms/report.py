"""The HTML/SVG kit of the run reports: page, tables, numbers, colour ramps and SVG primitives.

A report is one self-contained HTML file: inline CSS and inline SVG charts, no script, no
external file, no matplotlib. Every text goes through ``tr`` (context ``@default``, as
pylupdate5 files module-level ``tr()`` calls). The pages themselves are
``global_regression_report.py`` and ``local_block_adjustment_report.py``; they present the
engine's ``RunResult`` and compute nothing the engine knows.
"""

import datetime
import html
import math
import os

from qgis.PyQt.QtCore import QCoreApplication

# Categorical colours (one per overlap group / image) and the sequential and diverging ramps.
CATEGORY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                    "#17becf", "#bcbd22", "#7f7f7f", "#393b79")
FLAG_COLOUR = "#d62728"
VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
DIVERGING = ((33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43))
MAX_LABELLED = 60         # more images than this: no text labels in the charts

STYLE = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:16px 0 6px}p.meta{color:#666;margin:0 0 12px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
table.headline td{font-size:14px}tr.flag td{background:#fdecea}span.flag{color:#d62728;font-weight:bold}
ul.warn li{color:#8a4b00}.thumbs{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;text-align:center;font-size:11px}figcaption{max-width:320px;word-break:break-all}
figure.wide figcaption{max-width:none;font-size:12px}
img.mosaic{border:1px solid #ccc;image-rendering:pixelated}
p.note{color:#555;font-size:12px}td.t{text-align:left;max-width:640px}
svg text{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif}
"""


def tr(string):
    return QCoreApplication.translate("@default", string)



# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def esc(value):
    return html.escape(str(value), quote=True)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def num(value, digits=6):
    """A number for a table: ``digits`` significant digits, a dash when missing."""
    if not is_number(value):
        return "&ndash;"
    return "{:.{}g}".format(value, digits)


def count(value):
    return "{:,}".format(int(value)).replace(",", "&#8239;") if is_number(value) else "&ndash;"


def ramp(colours, t):
    """The colour at ``t`` in [0, 1] along a list of RGB anchors (linear interpolation)."""
    t = min(1.0, max(0.0, t))
    position = t * (len(colours) - 1)
    index = min(int(position), len(colours) - 2)
    frac = position - index
    low, high = colours[index], colours[index + 1]
    return "#{:02x}{:02x}{:02x}".format(*(int(round(a + (b - a) * frac)) for a, b in zip(low, high)))


def nice_ticks(low, high, count_wanted=5):
    """Round tick values covering [low, high]."""
    if not (is_number(low) and is_number(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count_wanted - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high and len(ticks) < 20:
        ticks.append(round(start + step * len(ticks), 12))
    return ticks


def svg_open(width, height, label):
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            'viewBox="0 0 {w} {h}" role="img" aria-label="{a}">'
            .format(w=int(width), h=int(height), a=esc(label)))


def text(x, y, content, size=11, anchor="middle", extra=""):
    return ('<text x="{:.1f}" y="{:.1f}" font-size="{}" text-anchor="{}"{}>{}</text>'
            .format(x, y, size, anchor, extra, esc(content)))


def gradient(identifier, colours):
    stops = "".join('<stop offset="{:.3f}" stop-color="{}"/>'.format(i / 20, ramp(colours, i / 20))
                    for i in range(21))
    return '<linearGradient id="{}">{}</linearGradient>'.format(identifier, stops)


# Patterns and gradients the charts refer to, defined once per page.
SHARED_DEFS = ('<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" '
               'style="position:absolute" aria-hidden="true"><defs>'
               '<pattern id="rm-nodata" width="6" height="6" patternUnits="userSpaceOnUse">'
               '<rect width="6" height="6" fill="#eee"/><path d="M0 6L6 0" stroke="#ccc"/>'
               '</pattern>' + gradient("rm-sequential", VIRIDIS)
               + gradient("rm-diverging", DIVERGING) + '</defs></svg>')
GRADIENT_IDS = {VIRIDIS: "rm-sequential", DIVERGING: "rm-diverging"}


def html_page(title, subtitle, body):
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<meta name=\"generator\" content=\"RadioMatch\">"
            "<title>{t}</title><style>{s}</style></head><body>{d}"
            "<h1>{t}</h1><p class=\"meta\">{st}</p>{b}</body></html>\n").format(
        t=esc(title), s=STYLE, d=SHARED_DEFS, st=subtitle, b="".join(body))


def write_html(path, page):
    """Write the page under a temporary name, then rename it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, ".{}.{}.partial".format(os.path.basename(path), os.getpid()))
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def subtitle_line(version):
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return esc(tr("RadioMatch {}, report written on {}").format(version, stamp))


def summary_table(rows):
    cells = "".join('<tr><th class="l">{}</th><td class="l">{}</td></tr>'.format(
        esc(label), value) for label, value in rows)
    return "<table>{}</table>".format(cells)


def heading(title, level=2):
    return "<h{0}>{1}</h{0}>".format(level, esc(title))


def paragraph(content):
    return "<p>{}</p>".format(esc(content))


def warnings_section(warnings):
    if not warnings:
        return heading(tr("Warnings")) + paragraph(tr("None."))
    items = "".join("<li>{}</li>".format(esc(w)) for w in warnings)
    return heading(tr("Warnings")) + '<ul class="warn">{}</ul>'.format(items)


def header_row(labels, left=1):
    """A table's header row; the first ``left`` columns are aligned left (names)."""
    return "<tr>{}</tr>".format("".join(
        ('<th class="l">{}</th>' if i < left else "<th>{}</th>").format(esc(label))
        for i, label in enumerate(labels)))


def figure(svg, caption, css_class=""):
    return "<figure{}>{}<figcaption>{}</figcaption></figure>".format(
        ' class="{}"'.format(css_class) if css_class else "", svg, esc(caption))


def inline_image(data_uri, label, css_class=""):
    """An image carried in the page itself (a ``data:`` URI): the report stays one file."""
    return '<img src="{}" alt="{}"{}>'.format(
        data_uri, esc(label), ' class="{}"'.format(css_class) if css_class else "")


def note(content):
    return '<p class="note">{}</p>'.format(esc(content))


def terms_table(terms):
    """A table of (term, meaning) pairs: every word of a page that needs explaining."""
    rows = "".join('<tr><th class="l">{}</th><td class="t">{}</td></tr>'.format(
        esc(term), esc(meaning)) for term, meaning in terms)
    return "<table>{}</table>".format(rows)


def robust_range(values, low=2.0, high=98.0):
    """The ``low`` and ``high`` percentiles of ``values`` (linear interpolation), so that a few
    extreme values do not flatten a colour scale; (None, None) without values."""
    ordered = sorted(v for v in values if is_number(v))
    if not ordered:
        return None, None

    def at(percent):
        position = (len(ordered) - 1) * percent / 100.0
        index = int(position)
        frac = position - index
        upper = ordered[min(index + 1, len(ordered) - 1)]
        return ordered[index] + (upper - ordered[index]) * frac

    return at(low), at(high)
