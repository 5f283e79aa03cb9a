"""The HTML run reports of the two algorithms (the optional ``REPORT`` output).

Presentation only: everything shown comes from the engine's ``RunResult`` (``details``,
``warnings``, ``clipped_pixels``, ``nudged_pixels``). The only arithmetic here turns those
numbers into pictures, plus two closed forms derived from engine results:

* Global regression: the statistics after correction, from the statistics before and the
  solved scale ``a`` and offset ``b`` (``mean' = a * mean + b``, ``std' = |a| * std``; before the
  outputs are rounded and clipped to their data type);
* Local block adjustment: the correction at each block centre, from the block maps, alpha and
  the gamma shift ``o`` (gamma: ``ln(M_t + o) / ln(M_loc + o)``, linear: ``M_t / M_loc``, with
  ``M_t = alpha * M_ref + (1 - alpha) * M_loc``), when the engine does not supply it.

A report is one self-contained HTML file: inline CSS and inline SVG charts, no script, no
external file, no matplotlib. Every text goes through ``tr`` (context ``@default``, as
pylupdate5 files module-level ``tr()`` calls).
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
LOG_GUARD = 1e-6          # the engine's guard on ln(M_loc + o) (core/corrections.py)
MAX_LABELLED = 60         # more images than this: no text labels in the charts
MAX_THUMBNAILS = 48       # local maps shown per band at most
MAX_CELLS = 96            # heat maps are sampled down to at most this many cells a side

STYLE = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:16px 0 6px}p.meta{color:#666;margin:0 0 12px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
table.headline td{font-size:14px}tr.flag td{background:#fdecea}span.flag{color:#d62728;font-weight:bold}
ul.warn li{color:#8a4b00}.thumbs{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;text-align:center;font-size:11px}figcaption{max-width:200px;word-break:break-all}
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


def warnings_section(warnings):
    if not warnings:
        return "<h2>{}</h2><p>{}</p>".format(esc(tr("Warnings")), esc(tr("None.")))
    items = "".join("<li>{}</li>".format(esc(w)) for w in warnings)
    return '<h2>{}</h2><ul class="warn">{}</ul>'.format(esc(tr("Warnings")), items)


# ---------------------------------------------------------------------------------------------
# Global regression
# ---------------------------------------------------------------------------------------------
def after_statistics(before, scale, offset):
    """Statistics after ``a * v + b``: mean' = a * mean + b, std' = |a| * std (per band)."""
    means, stds = [], []
    before_means, before_stds = before.get("mean") or [], before.get("std") or []
    for band, a in enumerate(scale):
        b = offset[band] if band < len(offset) else None
        mean = before_means[band] if band < len(before_means) else None
        std = before_stds[band] if band < len(before_stds) else None
        means.append(a * mean + b if is_number(mean) and is_number(a) and is_number(b) else None)
        stds.append(abs(a) * std if is_number(std) and is_number(a) else None)
    return {"mean": means, "std": stds}


def identity_images(adjustments):
    """Names whose every band kept scale 1 and offset 0 (the solver left them unchanged)."""
    return {name for name, values in adjustments.items()
            if all(s == 1.0 for s in values.get("scale") or [None])
            and all(o == 0.0 for o in values.get("offset") or [None])}


def group_info(names, groups):
    """({name: group index 0..}, set of names alone in their group, number of groups)."""
    if not groups or len(groups) != len(names):
        return {}, set(), 0
    order = {}
    for label in groups:
        order.setdefault(label, len(order))
    index = {name: order[label] for name, label in zip(names, groups)}
    sizes = {}
    for label in groups:
        sizes[label] = sizes.get(label, 0) + 1
    alone = {name for name, label in zip(names, groups) if sizes[label] == 1}
    return index, alone, len(order)


def footprint_svg(names, footprints, overlaps, group_of, flagged, width=640, max_height=480):
    """The image footprints (group colours, flagged images outlined in red) and the overlap
    graph (a line between the centres of two overlapping images, wider for more pixel pairs)."""
    boxes = [(name, footprints[name]) for name in names if name in footprints]
    if not boxes:
        return "<p>{}</p>".format(esc(tr("The footprints are not available.")))
    left = min(box[0] for _, box in boxes)
    bottom = min(box[1] for _, box in boxes)
    right = max(box[2] for _, box in boxes)
    top = max(box[3] for _, box in boxes)
    pad = 20
    span_x, span_y = max(right - left, 1e-12), max(top - bottom, 1e-12)
    scale = min((width - 2 * pad) / span_x, (max_height - 2 * pad) / span_y)
    height = span_y * scale + 2 * pad
    width = span_x * scale + 2 * pad

    def point(x, y):
        return pad + (x - left) * scale, pad + (top - y) * scale

    centres = {}
    parts = [svg_open(width, height, tr("Footprints and overlap graph")),
             '<rect width="100%" height="100%" fill="#fff"/>']
    for name, (x0, y0, x1, y1) in boxes:
        colour = CATEGORY_COLOURS[group_of.get(name, 0) % len(CATEGORY_COLOURS)]
        px, py = point(x0, y1)
        w, h = (x1 - x0) * scale, (y1 - y0) * scale
        dash = ' stroke-dasharray="6 3"' if name in flagged else ""
        stroke = FLAG_COLOUR if name in flagged else colour
        parts.append('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" '
                     'fill-opacity="0.12" stroke="{}" stroke-width="{}"{}/>'.format(
                         px, py, w, h, colour, stroke, 2.5 if name in flagged else 1.2, dash))
        centres[name] = point((x0 + x1) / 2, (y0 + y1) / 2)
    largest = max([pairs for _, _, pairs in overlaps if is_number(pairs)] or [1]) or 1
    for first, second, pairs in overlaps:
        if first not in centres or second not in centres:
            continue
        (xa, ya), (xb, yb) = centres[first], centres[second]
        share = math.sqrt(max(pairs, 0) / largest) if is_number(pairs) else 0
        dash = ' stroke-dasharray="4 3"' if not pairs else ""
        parts.append('<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#333" '
                     'stroke-opacity="0.7" stroke-width="{:.2f}"{}/>'.format(
                         xa, ya, xb, yb, 0.8 + 4.5 * share, dash))
    for name, (x, y) in centres.items():
        colour = CATEGORY_COLOURS[group_of.get(name, 0) % len(CATEGORY_COLOURS)]
        parts.append('<circle cx="{:.1f}" cy="{:.1f}" r="4.5" fill="{}" stroke="#fff"/>'.format(
            x, y, FLAG_COLOUR if name in flagged else colour))
        if len(centres) <= MAX_LABELLED:
            parts.append(text(x, y - 8, name, 11, extra=' stroke="#fff" stroke-width="3" '
                              'paint-order="stroke"'))
    parts.append("</svg>")
    return "".join(parts)


def before_after_chart_svg(labels, before, after, title, width=640, height=250):
    """One value per label before (grey ring) and after (coloured dot), joined by a line."""
    values = [v for v in list(before) + list(after) if is_number(v)]
    if not values:
        return ""
    ticks = nice_ticks(min(values + [0.0]), max(values))
    low, high = ticks[0], ticks[-1]
    if high <= low:
        high = low + 1
    labelled = len(labels) <= MAX_LABELLED
    margin_left, margin_right, margin_top = 60, 12, 26
    margin_bottom = 70 if labelled else 20
    plot_w = width - margin_left - margin_right
    plot_h = height - margin_top - margin_bottom
    step = plot_w / max(1, len(labels))

    def y_of(value):
        return margin_top + plot_h * (1 - (value - low) / (high - low))

    parts = [svg_open(width, height, title), '<rect width="100%" height="100%" fill="#fff"/>']
    for tick in ticks:
        y = y_of(tick)
        parts.append('<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#e4e4e4"/>'.format(
            margin_left, width - margin_right, y, y))
        parts.append(text(margin_left - 6, y + 4, "{:g}".format(tick), 10, "end"))
    parts.append('<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#888"/>'.format(
        margin_left, margin_top, margin_top + plot_h))
    for k, (label, value_before, value_after) in enumerate(zip(labels, before, after)):
        x = margin_left + step * (k + 0.5)
        if is_number(value_before) and is_number(value_after):
            parts.append('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" '
                         'stroke="#999" stroke-width="1.5"/>'.format(
                             x, y_of(value_before), y_of(value_after)))
        if is_number(value_before):
            parts.append('<circle cx="{:.1f}" cy="{:.1f}" r="4.5" fill="#fff" stroke="#777" '
                         'stroke-width="1.8"><title>{}</title></circle>'.format(
                             x, y_of(value_before), esc("{}: {:.6g}".format(label, value_before))))
        if is_number(value_after):
            parts.append('<circle cx="{:.1f}" cy="{:.1f}" r="4.5" fill="{}"><title>{}</title>'
                         '</circle>'.format(x, y_of(value_after), CATEGORY_COLOURS[0],
                                            esc("{}: {:.6g}".format(label, value_after))))
        if labelled:
            y = margin_top + plot_h + 12
            parts.append(text(x, y, label, 10, "end",
                              ' transform="rotate(-35 {:.1f} {:.1f})"'.format(x, y)))
    legend_y = 4
    parts.append('<circle cx="{}" cy="{}" r="4.5" fill="#fff" stroke="#777" stroke-width="1.8"/>'
                 .format(width - 190, legend_y + 4))
    parts.append(text(width - 180, legend_y + 8, tr("before"), 10, "start"))
    parts.append('<circle cx="{}" cy="{}" r="4.5" fill="{}"/>'.format(
        width - 110, legend_y + 4, CATEGORY_COLOURS[0]))
    parts.append(text(width - 100, legend_y + 8, tr("after"), 10, "start"))
    parts.append("</svg>")
    return "".join(parts)


def removed_share(before, after):
    """How much of ``before`` is gone in ``after``, as text ("97.5 %"), or a dash."""
    if not (is_number(before) and is_number(after)) or before == 0:
        return "&ndash;"
    return "{:.1f} %".format(100.0 * (1.0 - abs(after) / abs(before)))


def seam_section(details, bands):
    """The headline: the seams before and after, mosaic-wide per band and per overlap."""
    seam = details.get("seam") or {}
    seams = details.get("seams") or []
    parts = ["<h2>{}</h2>".format(esc(tr("Seams before and after")))]
    if not seams:
        parts.append("<p>{}</p>".format(esc(tr("No two images overlap with valid pixels, so "
                                                "there is no seam to measure."))))
        return "".join(parts)
    parts.append("<p>{}</p>".format(esc(tr(
        "A seam is the difference between the mean values of two overlapping images over the "
        "pixels they both cover (the consistent pixels, with robust statistics). The mosaic-wide "
        "figure is the mean of its absolute value over all overlaps, weighted by their pixel "
        "pairs; after the correction it should be close to 0. Values are computed from the "
        "statistics and the fitted corrections, before the outputs are rounded."))))
    rows = ['<tr><th class="l">{}</th><th>{}</th><th>{}</th><th>{}</th></tr>'.format(
        esc(tr("Band")), esc(tr("Mosaic-wide seam before")), esc(tr("After")),
        esc(tr("Removed")))]
    before, after = seam.get("before") or [], seam.get("after") or []
    for band in range(bands):
        first = before[band] if band < len(before) else None
        second = after[band] if band < len(after) else None
        rows.append("<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            band + 1, num(first), num(second), removed_share(first, second)))
    parts.append('<table class="headline">{}</table>'.format("".join(rows)))
    labels = ["{} / {}".format(first, second) for first, second, *_ in seams]
    for band in range(bands):
        parts.append("<h3>{}</h3>".format(esc(tr("Band {}").format(band + 1))))
        parts.append(before_after_chart_svg(
            labels, [abs(entry[2][band]) if band < len(entry[2]) else None for entry in seams],
            [abs(entry[3][band]) if band < len(entry[3]) else None for entry in seams],
            tr("Band {} seams before and after").format(band + 1)))
    return "".join(parts)


def global_regression_html(result, names, summary, version=""):
    """The Global regression report page (a string)."""
    details = getattr(result, "details", None) or {}
    adjustments = details.get("adjustments") or {}
    whole = details.get("whole_stats") or {}
    footprints = details.get("footprints") or {}
    overlaps = details.get("overlaps") or []
    names = list(names) or list(adjustments)
    bands = max([len(v.get("scale") or []) for v in adjustments.values()] or [0])
    group_of, alone, group_count = group_info(names, details.get("groups"))
    identity = identity_images(adjustments)
    separate = alone if group_count > 1 else set()
    flagged = identity | separate
    after = {name: after_statistics(whole[name], adjustments[name].get("scale") or [],
                                    adjustments[name].get("offset") or [])
             for name in names if name in whole and name in adjustments}

    body = [summary_table(list(summary) + [
        (tr("Images"), count(len(names))), (tr("Bands"), count(bands)),
        (tr("Overlapping pairs"), count(len(overlaps))),
        (tr("Overlap groups"), count(group_count) if group_count else "&ndash;")])]
    body.append(seam_section(details, bands))

    body.append("<h2>{}</h2>".format(esc(tr("Footprints and overlap graph"))))
    body.append("<p>{}</p>".format(esc(tr(
        "Each rectangle is an image footprint, coloured by overlap group; a line joins two "
        "overlapping images and is wider for more overlap pixels (dashed: no valid pixel in "
        "common). Images outlined in dashed red were left unchanged (scale 1, offset 0) or form "
        "a group of their own."))))
    body.append(footprint_svg(names, footprints, overlaps, group_of, flagged))
    notes = []
    for name in names:
        if name in identity:
            notes.append(tr("{}: left at identity (scale 1, offset 0).").format(name))
        elif name in separate:
            notes.append(tr("{}: overlaps no other image, balanced on its own.").format(name))
    if group_count > 1:
        notes.append(tr("The images form {} separate groups; each group is balanced on its own "
                        "and the groups are not matched to each other.").format(group_count))
    if notes:
        body.append('<ul>{}</ul>'.format("".join(
            '<li><span class="flag">{}</span></li>'.format(esc(n)) for n in notes)))

    body.append("<h2>{}</h2>".format(esc(tr("Statistics and corrections"))))
    body.append("<p>{}</p>".format(esc(tr(
        "Mean and standard deviation of the valid pixels (inside the polygon mask, if any) "
        "before the correction, and after it as given by scale times value plus offset (before "
        "the outputs are rounded and clipped to their data type)."))))
    header = [tr("Image"), tr("Band"), tr("Group"), tr("Scale"), tr("Offset"), tr("Mean before"),
              tr("Mean after"), tr("Std. dev. before"), tr("Std. dev. after")]
    rows = ["<tr>{}</tr>".format("".join(
        '<th class="{}">{}</th>'.format("l" if i == 0 else "", esc(h))
        for i, h in enumerate(header)))]
    for name in names:
        values = adjustments.get(name, {})
        scale, offset = values.get("scale") or [], values.get("offset") or []
        before = whole.get(name, {})
        later = after.get(name, {"mean": [], "std": []})
        flag = ""
        if name in identity:
            flag = ' <span class="flag">({})</span>'.format(esc(tr("identity")))
        elif name in separate:
            flag = ' <span class="flag">({})</span>'.format(esc(tr("separate group")))
        for band in range(bands):
            def at(values_list):
                return values_list[band] if band < len(values_list) else None
            rows.append('<tr class="{}"><td class="l">{}</td><td>{}</td><td>{}</td><td>{}</td>'
                        '<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'.format(
                            "flag" if name in flagged else "",
                            esc(name) + flag if band == 0 else "", band + 1,
                            group_of[name] + 1 if name in group_of else "&ndash;",
                            num(at(scale)), num(at(offset)),
                            num(at(before.get("mean") or [])), num(at(later["mean"])),
                            num(at(before.get("std") or [])), num(at(later["std"]))))
    body.append("<table>{}</table>".format("".join(rows)))

    if overlaps:
        body.append("<h2>{}</h2>".format(esc(tr("Overlaps"))))
        rejected = {(first, second): shares
                    for first, second, shares in details.get("overlap_rejected") or []}
        seams = {(first, second): (before, after)
                 for first, second, before, after, *_ in details.get("seams") or []}
        rows = ['<tr><th class="l">{}</th><th class="l">{}</th><th>{}</th><th>{}</th>'
                '<th>{}</th></tr>'.format(
                    esc(tr("Image")), esc(tr("Image")), esc(tr("Pixel pairs (band 1)")),
                    esc(tr("Seam before / after, per band")),
                    esc(tr("Pixels rejected by the robust fit, per band")))]
        for first, second, pairs in overlaps:
            shares = rejected.get((first, second))
            shown = ", ".join("{:.1f} %".format(100 * share) for share in shares) if shares \
                else "&ndash;"
            before, after = seams.get((first, second), ([], []))
            seam = ", ".join("{} / {}".format(num(b), num(a)) for b, a in zip(before, after)) \
                or "&ndash;"
            rows.append('<tr><td class="l">{}</td><td class="l">{}</td><td>{}</td><td>{}</td>'
                        '<td>{}</td></tr>'.format(esc(first), esc(second), count(pairs), seam,
                                                  shown))
        body.append("<table>{}</table>".format("".join(rows)))
    body.append(warnings_section(getattr(result, "warnings", None)))
    return html_page(tr("RadioMatch: Global regression report"), subtitle_line(version),
                     body)


# ---------------------------------------------------------------------------------------------
# Local block adjustment
# ---------------------------------------------------------------------------------------------
def to_lists(values):
    """Nested lists from an array-like (``tolist``) or from nested lists."""
    return values.tolist() if hasattr(values, "tolist") else (values or [])


def full_map(entry, rows, cols):
    """rows x cols x bands nested lists from a whole map or from an image's sub-grid
    ``{"row_off", "col_off", "values"}``; cells outside the sub-grid are None."""
    if not isinstance(entry, dict):
        return to_lists(entry)
    values = to_lists(entry.get("values"))
    row_off, col_off = int(entry.get("row_off") or 0), int(entry.get("col_off") or 0)
    full = [[None] * cols for _ in range(rows)]
    for r, row in enumerate(values):
        for c, cell in enumerate(row):
            if 0 <= row_off + r < rows and 0 <= col_off + c < cols:
                full[row_off + r][col_off + c] = cell
    return full


def band_count(block_map):
    for row in block_map:
        for cell in row:
            if isinstance(cell, (list, tuple)):
                return len(cell)
    return 0


def map_band(block_map, band):
    """rows x cols values of one band (None where a block has no value)."""
    return [[(cell[band] if cell is not None and band < len(cell) else None) for cell in row]
            for row in block_map or []]


def finite_values(grids):
    return [v for grid in grids for row in grid for v in row if is_number(v)]


def block_corrections(reference, local, alpha, method, shift):
    """The correction each block centre gets (gamma exponent, or the linear gain)."""
    out = []
    for ref_row, loc_row in zip(reference, local):
        row = []
        for ref, loc in zip(ref_row, loc_row):
            if not (is_number(ref) and is_number(loc)):
                row.append(None)
                continue
            target = alpha * ref + (1.0 - alpha) * loc
            if method == "linear":
                row.append(1.0 if loc == 0 else target / loc)
                continue
            if loc + shift <= 0 or target + shift <= 0:
                row.append(None)
                continue
            denominator = math.log(loc + shift)
            row.append(1.0 if abs(denominator) < LOG_GUARD
                       else math.log(target + shift) / denominator)
        out.append(row)
    return out


def sample_grid(grid):
    """At most MAX_CELLS rows and columns (nearest block) so that huge grids stay small."""
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    step_r = max(1, math.ceil(rows / MAX_CELLS))
    step_c = max(1, math.ceil(cols / MAX_CELLS))
    if step_r == 1 and step_c == 1:
        return grid
    return [row[::step_c] for row in grid[::step_r]]


def heatmap_svg(grid, low, high, colours, canvas=None, outline=None, size=180, label=""):
    """One block map as an SVG heat map (row 0 at the top); blocks without a value are hatched
    grey. ``outline``: an image footprint (left, bottom, right, top) drawn over it."""
    grid = sample_grid(grid)
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    if not rows or not cols:
        return ""
    if canvas and is_number(canvas[2] - canvas[0]) and canvas[2] > canvas[0] \
            and canvas[3] > canvas[1]:
        aspect = (canvas[2] - canvas[0]) / (canvas[3] - canvas[1])
    else:
        aspect = cols / rows
    width, height = (size, size / aspect) if aspect >= 1 else (size * aspect, size)
    cell_w, cell_h = width / cols, height / rows
    span = (high - low) if is_number(high) and is_number(low) and high > low else None
    parts = [svg_open(width, height, label),
             '<rect width="100%" height="100%" fill="url(#rm-nodata)"/>']
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if not is_number(value):
                continue
            t = (value - low) / span if span else 0.5
            parts.append('<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}">'
                         '<title>{:.6g}</title></rect>'.format(
                             c * cell_w, r * cell_h, cell_w + 0.3, cell_h + 0.3,
                             ramp(colours, t), value))
    if outline and canvas and canvas[2] > canvas[0] and canvas[3] > canvas[1]:
        sx = width / (canvas[2] - canvas[0])
        sy = height / (canvas[3] - canvas[1])
        parts.append('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="none" '
                     'stroke="#000" stroke-width="1.2" stroke-dasharray="4 2"/>'.format(
                         (outline[0] - canvas[0]) * sx, (canvas[3] - outline[3]) * sy,
                         (outline[2] - outline[0]) * sx, (outline[3] - outline[1]) * sy))
    parts.append("</svg>")
    return "".join(parts)


def colour_bar_svg(low, high, colours, label, width=300):
    return "".join([
        svg_open(width, 34, label),
        '<rect x="10" y="2" width="{}" height="12" fill="url(#{})" stroke="#999"/>'.format(
            width - 20, GRADIENT_IDS[colours]),
        text(10, 28, "{:.5g}".format(low), 10, "start"),
        text(width / 2, 28, label, 10),
        text(width - 10, 28, "{:.5g}".format(high), 10, "end"),
        "</svg>"])


def figure(svg, caption):
    return "<figure>{}<figcaption>{}</figcaption></figure>".format(svg, esc(caption))


def local_block_adjustment_html(result, names, outputs, summary, alpha=1.0, method="gamma",
                                version=""):
    """The Local block adjustment report page (a string)."""
    details = getattr(result, "details", None) or {}
    reference = to_lists(details.get("reference_map"))
    grid = tuple(details.get("grid") or (len(reference), len(reference[0]) if reference else 0))
    rows, cols = (int(g) if is_number(g) else 0 for g in grid)
    local_maps = {name: full_map(entry, rows, cols)
                  for name, entry in (details.get("local_maps") or {}).items()}
    correction_maps = {name: full_map(entry, rows, cols)
                       for name, entry in (details.get("correction_maps") or {}).items()}
    footprints = details.get("footprints") or {}
    try:
        canvas = tuple(float(v) for v in details.get("canvas"))
    except (TypeError, ValueError):
        canvas = None
    canvas = canvas if canvas and len(canvas) == 4 else None
    shift = details.get("shift") or 0.0
    names = list(names)
    bands = band_count(reference)

    unchanged = details.get("unchanged_pixels") or {}
    guarded = details.get("guarded_pixels") or {}
    clipped = getattr(result, "clipped_pixels", None) or {}
    nudged = getattr(result, "nudged_pixels", None) or {}
    body = [summary_table(list(summary) + [
        (tr("Images"), count(len(names))), (tr("Bands"), count(bands) if bands else "&ndash;"),
        (tr("Block grid (rows x columns)"),
         "{} \u00d7 {}".format(*grid) if all(is_number(g) for g in grid) else "&ndash;"),
        (tr("Grid extent (left, bottom, right, top)"),
         ", ".join("{:.10g}".format(v) for v in canvas) if canvas else "&ndash;"),
        (tr("Gamma shift"), num(shift))])]

    body.append("<h2>{}</h2>".format(esc(tr("Pixels left unchanged or clipped"))))
    body.append("<p>{}</p>".format(esc(tr(
        "Per output: valid pixels without both a reference and a local block mean nearby (left "
        "unchanged), pixels whose local mean made the correction undefined (left unchanged), "
        "values outside the output data type's range (clipped) and valid values equal to "
        "nodata (moved to the nearest other value)."))))
    header = [tr("Image"), tr("Output"), tr("Unchanged (no block mean)"),
              tr("Unchanged (guarded)"), tr("Clipped"), tr("Moved off nodata")]
    rows = ["<tr>{}</tr>".format("".join(
        '<th class="{}">{}</th>'.format("l" if i < 2 else "", esc(h))
        for i, h in enumerate(header)))]
    for name, path in zip(names, outputs):
        numbers = [unchanged.get(path), guarded.get(path), clipped.get(path), nudged.get(path)]
        flagged = any(is_number(v) and v > 0 for v in numbers)
        rows.append('<tr class="{}"><td class="l">{}</td><td class="l">{}</td>{}</tr>'.format(
            "flag" if flagged else "", esc(name), esc(os.path.basename(path)),
            "".join("<td>{}</td>".format(count(v)) for v in numbers)))
    body.append("<table>{}</table>".format("".join(rows)))

    if not reference:
        body.append("<p>{}</p>".format(esc(tr(
            "The engine did not return the block maps; no thumbnails can be drawn."))))
    is_gamma = method != "linear"
    shown = [name for name in names if name in local_maps][:MAX_THUMBNAILS]
    for band in range(bands):
        body.append("<h2>{}</h2>".format(esc(tr("Band {}").format(band + 1))))
        reference_band = map_band(reference, band)
        local_bands = {name: map_band(local_maps[name], band) for name in shown}
        values = finite_values([reference_band] + list(local_bands.values()))
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        body.append("<h3>{}</h3>".format(esc(tr("Block means: reference and local maps"))))
        body.append("<p>{}</p>".format(esc(tr(
            "One cell per block, same colour scale for all maps of the band; hatched: no value. "
            "The dashed rectangle is the image's footprint."))))
        figures = [figure(heatmap_svg(reference_band, low, high, VIRIDIS, canvas,
                                      label=tr("Reference")), tr("Reference"))]
        for name in shown:
            figures.append(figure(heatmap_svg(local_bands[name], low, high, VIRIDIS, canvas,
                                              footprints.get(name), label=name), name))
        body.append('<div class="thumbs">{}</div>'.format("".join(figures)))
        body.append(colour_bar_svg(low, high, VIRIDIS, tr("block mean")))

        corrections = {}
        for name in shown:
            if name in correction_maps:
                corrections[name] = map_band(correction_maps[name], band)
            else:
                corrections[name] = block_corrections(reference_band, local_bands[name],
                                                      float(alpha), method, float(shift))
        values = finite_values(corrections.values())
        spread = max([abs(v - 1.0) for v in values] or [0.0]) or 0.01
        title = tr("Gamma per block") if is_gamma else tr("Linear gain per block")
        body.append("<h3>{}</h3>".format(esc(title)))
        body.append("<p>{}</p>".format(esc(
            tr("The exponent applied at each block centre (1: unchanged; above 1 brightens, "
               "below 1 darkens). Pixels between block centres get interpolated means.")
            if is_gamma else
            tr("The factor applied at each block centre (1: unchanged). Pixels between block "
               "centres get interpolated means."))))
        figures = [figure(heatmap_svg(corrections[name], 1.0 - spread, 1.0 + spread, DIVERGING,
                                      canvas, footprints.get(name), label=name), name)
                   for name in shown]
        body.append('<div class="thumbs">{}</div>'.format("".join(figures)))
        body.append(colour_bar_svg(1.0 - spread, 1.0 + spread, DIVERGING,
                                   tr("gamma") if is_gamma else tr("gain")))
    if len(shown) < len([n for n in names if n in local_maps]):
        body.append("<p>{}</p>".format(esc(tr("Only the first {} images are shown.").format(
            MAX_THUMBNAILS))))
    body.append(warnings_section(getattr(result, "warnings", None)))
    return html_page(tr("RadioMatch: Local block adjustment report"),
                     subtitle_line(version), body)


def write_global_regression_report(path, result, names, summary, version=""):
    return write_html(path, global_regression_html(result, names, summary, version))


def write_local_block_adjustment_report(path, result, names, outputs, summary, alpha=1.0,
                                        method="gamma", version=""):
    return write_html(path, local_block_adjustment_html(result, names, outputs, summary, alpha,
                                                        method, version))
