"""The sections both reports open with, the evidence that a run did what it should: the seams
before and after, the mosaic before and after, each image's histograms, and the clipped
values. The pages add what is particular to their algorithm."""

import os

from .report import (CATEGORY_COLOURS, MAX_LABELLED, count, esc, figure, header_row, heading,
                     inline_image, is_number, nice_ticks, note, num, paragraph, svg_open, text,
                     tr)

MAX_SEAM_ROWS = 60        # overlaps listed in the seam table at most (the largest seams first)
MAX_HISTOGRAMS = 48       # images whose histograms are drawn at most
BAND_COLOURS = ("#d62728", "#2ca02c", "#1f77b4")   # red, green, blue of the bands shown


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


def seam_section(seams, seam, bands, measured=False):
    """The headline: the mosaic-wide seam per band, then every overlap's seam per band before
    and after (a table, the largest first). ``seams``: the engine's
    ``[[name_i, name_j, [before per band], [after per band], [pixel pairs per band]], ...]``;
    ``seam``: ``{"before": [...], "after": [...]}``; ``measured``: the figures come from the
    rasters read at reduced resolution rather than from the engine."""
    parts = [heading(tr("Seams before and after"))]
    if not seams:
        parts.append(paragraph(tr("No two images overlap with valid pixels, so there is no seam "
                                  "to measure.")))
        return "".join(parts)
    parts.append(paragraph(tr(
        "A seam is the difference between the mean values of two overlapping images over the "
        "pixels they both cover. The mosaic-wide figure is the mean of its absolute value over "
        "all overlaps, weighted by their pixel pairs; after the correction it should be close "
        "to 0.")))
    parts.append(note(tr(
        "Measured on the input and output rasters read at reduced resolution (the engine "
        "reports no seams for this model), after the outputs were rounded to their data type.")
        if measured else tr(
        "Computed by the engine over the pixels it compared (the consistent pixels, with robust "
        "statistics), from the fitted corrections before the outputs are rounded.")))
    rows = [header_row([tr("Band"), tr("Mosaic-wide seam before"), tr("After"), tr("Removed")])]
    before, after = seam.get("before") or [], seam.get("after") or []
    for band in range(bands):
        first = before[band] if band < len(before) else None
        second = after[band] if band < len(after) else None
        rows.append("<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            band + 1, num(first), num(second), removed_share(first, second)))
    parts.append('<table class="headline">{}</table>'.format("".join(rows)))

    def largest(entry):
        return max([abs(v) for v in entry[2] if is_number(v)] or [0.0])

    listed = sorted(seams, key=largest, reverse=True)[:MAX_SEAM_ROWS]
    header = [tr("Image"), tr("Image")] + [tr("Band {} before / after").format(band + 1)
                                           for band in range(bands)]
    rows = [header_row(header, left=2)]
    for first, second, seam_before, seam_after, *_ in listed:
        cells = "".join("<td>{} / {}</td>".format(
            num(seam_before[band] if band < len(seam_before) else None, 4),
            num(seam_after[band] if band < len(seam_after) else None, 4))
            for band in range(bands))
        rows.append('<tr><td class="l">{}</td><td class="l">{}</td>{}</tr>'.format(
            esc(first), esc(second), cells))
    parts.append('<table class="seams">{}</table>'.format("".join(rows)))
    if len(listed) < len(seams):
        parts.append(note(tr("The {} largest seams of {} overlaps.").format(
            len(listed), len(seams))))
    return "".join(parts)


def seam_charts(seams, bands):
    """Every overlap's seam before and after, one chart per band."""
    if not seams:
        return ""
    parts = [heading(tr("Seams per overlap"))]
    labels = ["{} / {}".format(first, second) for first, second, *_ in seams]
    for band in range(bands):
        parts.append(heading(tr("Band {}").format(band + 1), 3))
        parts.append(before_after_chart_svg(
            labels, [abs(entry[2][band]) if band < len(entry[2]) else None for entry in seams],
            [abs(entry[3][band]) if band < len(entry[3]) else None for entry in seams],
            tr("Band {} seams before and after").format(band + 1)))
    return "".join(parts)


def band_label(bands):
    """'red, green, blue = bands 1, 2, 3' or 'grey = band 1' (0-based ``bands``)."""
    numbers = ", ".join(str(band + 1) for band in bands)
    if len(bands) == 3:
        return tr("red, green, blue = bands {}").format(numbers)
    return tr("grey = band {}").format(numbers)


def mosaic_section(pictures):
    """The mosaic before and after, side by side, with one stretch."""
    parts = [heading(tr("The mosaic before and after"))]
    if pictures is None or not pictures.thumbnails:
        parts.append(paragraph(tr("The rasters could not be read to draw the mosaic.")))
        return "".join(parts)
    parts.append(paragraph(tr(
        "The inputs and the corrected rasters stacked in input order, as the mosaic shows them "
        "(where images overlap, the later one in the input list), at reduced resolution. Both "
        "pictures have the same contrast stretch, the one the layers get in QGIS: 2-98 % of the "
        "pixels of all outputs together ({}).").format(band_label(pictures.bands))))
    before, after = pictures.thumbnails
    parts.append('<div class="thumbs">{}{}</div>'.format(
        figure(inline_image(before, tr("Mosaic of the inputs"), "mosaic"),
               tr("Before: the inputs"), "wide"),
        figure(inline_image(after, tr("Mosaic of the corrected rasters"), "mosaic"),
               tr("After: the corrected rasters"), "wide")))
    return "".join(parts)


def histogram_svg(edges, shares, bands, label, width=300, height=130):
    """Per band shown a line of the share of the image's pixels in each bin: before dashed,
    after solid, one colour per band."""
    margin_left, margin_bottom, margin_top = 8, 18, 6
    plot_w, plot_h = width - 2 * margin_left, height - margin_bottom - margin_top
    peak = max([max(values) for side in shares for band, values in enumerate(side)
                if values and band in bands] or [0.0]) or 1.0
    parts = [svg_open(width, height, label), '<rect width="100%" height="100%" fill="#fff"/>',
             '<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="#888"/>'.format(
                 margin_left, width - margin_left, margin_top + plot_h)]
    for rank, band in enumerate(bands):
        colour = BAND_COLOURS[rank] if len(bands) == 3 else "#444"
        for side, dash in ((shares[0], ' stroke-dasharray="3 2" stroke-opacity="0.7"'),
                           (shares[1], "")):
            values = side[band] if band < len(side) else None
            if not values:
                continue
            step = plot_w / len(values)
            points = " ".join("{:.1f},{:.1f}".format(
                margin_left + step * (k + 0.5), margin_top + plot_h * (1 - v / peak))
                for k, v in enumerate(values))
            parts.append('<polyline points="{}" fill="none" stroke="{}" stroke-width="1.3"{}/>'
                         .format(points, colour, dash))
    band_edges = next((edges[band] for band in bands if edges[band]), None)
    if band_edges:
        parts.append(text(margin_left, height - 4, "{:.4g}".format(band_edges[0]), 10, "start"))
        parts.append(text(width - margin_left, height - 4, "{:.4g}".format(band_edges[-1]), 10,
                          "end"))
    parts.append("</svg>")
    return "".join(parts)


def histogram_section(pictures):
    """Each image's histograms of the bands shown, before (dashed) and after (solid)."""
    parts = [heading(tr("Histograms before and after"))]
    if pictures is None or not pictures.bands:
        parts.append(paragraph(tr("The rasters could not be read to draw the histograms.")))
        return "".join(parts)
    parts.append(paragraph(tr(
        "Per image, the share of its valid pixels at each value ({}), read at reduced "
        "resolution: dashed before, solid after, on one value axis for all images (0.5-99.5 % of "
        "all their pixels). A balanced set has histograms that line up where the images see "
        "the same ground.").format(band_label(pictures.bands))))
    shown = list(zip(pictures.names, pictures.histograms))[:MAX_HISTOGRAMS]
    parts.append('<div class="thumbs">{}</div>'.format("".join(
        figure(histogram_svg(pictures.histogram_edges, shares, pictures.bands,
                             tr("{} histograms").format(name)), name)
        for name, shares in shown)))
    if len(shown) < len(pictures.names):
        parts.append(note(tr("Only the first {} images are shown.").format(MAX_HISTOGRAMS)))
    return "".join(parts)


def clipped_share(clipped, size, valid_share):
    """Clipped values as a share of the image's valid values (``size``: columns, rows, data
    bands; ``valid_share`` estimated from the reduced read)."""
    if not is_number(clipped) or not size:
        return None
    values = size[0] * size[1] * size[2] * (valid_share or 1.0)
    return clipped / values if values else None


def clipped_section(names, outputs, clipped, nudged, pictures, extra=()):
    """Per output the values clipped to the output data type (a count and a share of the
    image), the values moved off nodata and ``extra`` ((label, {output: count}) columns), and
    what to do when values were clipped."""
    parts = [heading(tr("Clipped values"))]
    rows = [header_row([tr("Image"), tr("Output"), tr("Clipped"), tr("Share of the image")]
                       + [label for label, _ in extra] + [tr("Moved off nodata")], left=2)]
    worst = 0.0
    for k, (name, path) in enumerate(zip(names, outputs)):
        size = pictures.sizes[k] if pictures is not None and k < len(pictures.sizes) else None
        share = clipped_share(clipped.get(path), size,
                              pictures.valid_shares[k] if pictures is not None else None)
        worst = max(worst, share or 0.0)
        numbers = [counts.get(path) for _, counts in extra] + [nudged.get(path)]
        flagged = is_number(clipped.get(path)) and clipped.get(path) > 0
        rows.append('<tr class="{}"><td class="l">{}</td><td class="l">{}</td><td>{}</td>'
                    '<td>{}</td>{}</tr>'.format(
                        "flag" if flagged else "", esc(name), esc(os.path.basename(path)),
                        count(clipped.get(path)),
                        "{:.3f} %".format(100 * share) if share is not None else "&ndash;",
                        "".join("<td>{}</td>".format(count(v)) for v in numbers)))
    parts.append("<table>{}</table>".format("".join(rows)))
    parts.append(paragraph(tr(
        "A clipped value was outside the range of the output data type and was set to its "
        "limit (0 or 255 for Byte), so it lost its differences with its neighbours. A value "
        "moved off nodata would have equalled the nodata value and was moved to the nearest "
        "other value.")))
    if worst > 0.001:
        parts.append(paragraph(tr(
            "What to do: more than 0.1 % of an image was clipped. Run again with a wider "
            "Output data type (advanced parameters: UInt16 for Byte inputs, or Float32, which "
            "keeps every value), or, in Global regression, choose as model images those whose "
            "brightness the others should follow, so that fewer images are pushed out of the "
            "range.")))
    elif worst > 0:
        parts.append(paragraph(tr(
            "Less than 0.1 % of any image was clipped: usually saturated pixels (clouds, snow, "
            "glints) pushed past the limit, which nothing needs to be done about.")))
    return "".join(parts)
