"""The Global regression report page: the seams before and after, the mosaic before and after,
the histograms and clipped values, the footprints and overlap graph, each image's correction
and statistics, and each overlap."""

import math

from .report import (CATEGORY_COLOURS, FLAG_COLOUR, MAX_LABELLED, count, esc, header_row,
                     heading, html_page, is_number, num, paragraph, subtitle_line, summary_table,
                     svg_open, text, tr, warnings_section)
from .report_sections import (clipped_section, histogram_section, mosaic_section, seam_charts,
                              seam_section)


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
        return paragraph(tr("The footprints are not available."))
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


def global_regression_html(result, names, outputs, summary, version="", pictures=None):
    """The Global regression report page (a string); ``pictures``: the rasters read at reduced
    resolution (``pixels.Pictures``), None when they could not be."""
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
    body.append(seam_section(details.get("seams") or [], details.get("seam") or {}, bands))
    body.append(mosaic_section(pictures))
    body.append(histogram_section(pictures))
    body.append(clipped_section(names, outputs, getattr(result, "clipped_pixels", None) or {},
                                getattr(result, "nudged_pixels", None) or {}, pictures))
    body.append(seam_charts(details.get("seams") or [], bands))

    body.append(heading(tr("Footprints and overlap graph")))
    body.append(paragraph(tr(
        "Each rectangle is an image footprint, coloured by overlap group; a line joins two "
        "overlapping images and is wider for more overlap pixels (dashed: no valid pixel in "
        "common). Images outlined in dashed red were left unchanged (scale 1, offset 0) or form "
        "a group of their own.")))
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

    body.append(heading(tr("Statistics and corrections")))
    body.append(paragraph(tr(
        "Mean and standard deviation of the valid pixels (inside the polygon mask, if any) "
        "before the correction, and after it as given by scale times value plus offset (before "
        "the outputs are rounded and clipped to their data type).")))
    header = [tr("Image"), tr("Band"), tr("Group"), tr("Scale"), tr("Offset"), tr("Mean before"),
              tr("Mean after"), tr("Std. dev. before"), tr("Std. dev. after")]
    rows = [header_row(header)]
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
        body.append(heading(tr("Overlaps")))
        rejected = {(first, second): shares
                    for first, second, shares in details.get("overlap_rejected") or []}
        seams = {(first, second): (before, after)
                 for first, second, before, after, *_ in details.get("seams") or []}
        rows = [header_row([tr("Image"), tr("Image"), tr("Pixel pairs (band 1)"),
                            tr("Seam before / after, per band"),
                            tr("Pixels rejected by the robust fit, per band")], left=2)]
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
