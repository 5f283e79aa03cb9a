"""The Local block adjustment report page: the seams before and after, the mosaic before and
after, the histograms, the values left unchanged or clipped, and per band heat maps of the
block maps and of the correction each block applies."""

import math

from .report import (DIVERGING, GRADIENT_IDS, VIRIDIS, count, esc, figure, heading, html_page,
                     is_number, num, paragraph, ramp, robust_range, subtitle_line, summary_table,
                     svg_open, terms_table, text, tr, warnings_section)
from .report_sections import (clipped_section, histogram_section, mosaic_section, seam_charts,
                              seam_section)

MAX_THUMBNAILS = 48       # maps shown per band at most
MAX_CELLS = 96            # heat maps are sampled down to at most this many cells a side
HEAT_MAP_SIZE = 300       # pixels on the long side of a heat map


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



def sample_grid(grid):
    """At most MAX_CELLS rows and columns (nearest block) so that huge grids stay small."""
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    step_r = max(1, math.ceil(rows / MAX_CELLS))
    step_c = max(1, math.ceil(cols / MAX_CELLS))
    if step_r == 1 and step_c == 1:
        return grid
    return [row[::step_c] for row in grid[::step_r]]


def heatmap_svg(grid, low, high, colours, canvas=None, outline=None, size=HEAT_MAP_SIZE,
                label=""):
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
            t = (value - low) / span if span else 0.5   # ramp() clamps beyond the scale
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
    """The colour scale from ``low`` to ``high``; values beyond either end take its colour."""
    return "".join([
        svg_open(width, 34, label),
        '<rect x="10" y="2" width="{}" height="12" fill="url(#{})" stroke="#999"/>'.format(
            width - 20, GRADIENT_IDS[colours]),
        text(10, 28, "\u2264 {:.5g}".format(low), 10, "start"),
        text(width / 2, 28, label, 10),
        text(width - 10, 28, "\u2265 {:.5g}".format(high), 10, "end"),
        "</svg>"])


# The correction maps hold one kind of value each run (details["correction_kind"]): the value
# that leaves a pixel unchanged, the centre of the kind's diverging colour scale.
NEUTRAL = {"gamma": 1.0, "gain": 1.0, "offset": 0.0}


def correction_texts(kind):
    """(title, explanation, colour bar label) of the correction heat maps of a kind."""
    if kind == "gamma":
        return (tr("Gamma per block"),
                tr("The exponent each block applies (1: unchanged; above 1 brightens, below 1 "
                   "darkens). Between block centres the correction varies smoothly."),
                tr("gamma"))
    if kind == "offset":
        return (tr("Offset per block"),
                tr("The value each block adds to its pixels (0: unchanged). Between block "
                   "centres the correction varies smoothly."),
                tr("offset"))
    return (tr("Gain per block"),
            tr("The factor each block multiplies its pixels by (1: unchanged). Between block "
               "centres the correction varies smoothly."),
            tr("gain"))


def terms(details, kind):
    """The words of the page that need explaining, for what this run shows."""
    found = [(tr("Block"), tr(
        "One cell of the grid laid over the union of the images; the correction is computed "
        "per block and varies smoothly between block centres."))]
    if details.get("local_model") == "surface":
        found.append((tr("Smooth surfaces"), tr(
            "Per image and band, a low-order polynomial across the image fitted so that "
            "overlapping images agree block by block over the pixels both cover.")))
    if details.get("reference_map") is not None:
        found.append((tr("Block mean, reference map, local map"), tr(
            "The mean of an image's valid pixels in a block (its local map), and the mean of "
            "those means over all images covering the block (the reference map), which the "
            "correction brings each image to.")))
    meanings = {
        "gamma": (tr("Gamma"), tr(
            "The exponent of the power law value' = (value + shift) ^ gamma - shift that brings "
            "a block's local mean to the reference mean.")),
        "gain": (tr("Gain"), tr("The factor a block's pixels are multiplied by.")),
        "offset": (tr("Offset"), tr("The value added to a block's pixels."))}
    found.append(meanings.get(kind, meanings["gain"]))
    if "shift" in details:
        found.append((tr("Gamma shift"), tr(
            "A constant added to every value before the gamma correction and removed after it, "
            "so that the power law only sees values above 1 (needed for data with values at or "
            "below 0, such as reflectance); 0 when all values are above 1 already.")))
    found.append((tr("Unchanged (no block mean)"), tr(
        "Valid values without both a reference and a local block mean nearby: they are left as "
        "they were.")))
    found.append((tr("Unchanged (guarded)"), tr(
        "Values whose local mean made the gamma exponent undefined (its logarithm close to 0): "
        "they are left as they were.")))
    return found


def local_block_adjustment_html(result, names, outputs, summary, version="", pictures=None):
    """The Local block adjustment report page (a string). The seams are the engine's
    (``seams``, ``seam``), else, for the block-means model, measured on ``pictures`` (the
    rasters read at reduced resolution, ``pixels.Pictures``). Block maps (``reference_map``,
    ``local_maps``) are drawn when the engine returns them (the surface model has no reference
    map); the corrections are the engine's ``correction_maps``, of the kind
    ``correction_kind``."""
    details = getattr(result, "details", None) or {}
    reference = to_lists(details.get("reference_map"))
    grid = tuple(details.get("grid") or (len(reference), len(reference[0]) if reference else 0))
    rows, cols = (int(g) if is_number(g) else 0 for g in grid)
    local_maps = {name: full_map(entry, rows, cols)
                  for name, entry in (details.get("local_maps") or {}).items()}
    correction_maps = {name: full_map(entry, rows, cols)
                       for name, entry in (details.get("correction_maps") or {}).items()}
    kind = details.get("correction_kind") or "gamma"
    footprints = details.get("footprints") or {}
    try:
        canvas = tuple(float(v) for v in details.get("canvas"))
    except (TypeError, ValueError):
        canvas = None
    canvas = canvas if canvas and len(canvas) == 4 else None
    names = list(names)
    bands = max([band_count(block_map) for block_map in
                 [reference] + list(local_maps.values()) + list(correction_maps.values())])

    facts = [
        (tr("Images"), count(len(names))), (tr("Bands"), count(bands) if bands else "&ndash;"),
        (tr("Block grid (rows x columns)"),
         "{} \u00d7 {}".format(*grid) if all(is_number(g) for g in grid) else "&ndash;"),
        (tr("Grid extent (left, bottom, right, top)"),
         ", ".join("{:.10g}".format(v) for v in canvas) if canvas else "&ndash;")]
    if details.get("local_model"):
        facts.append((tr("Local model"), esc(
            tr("smooth surfaces fitted to the overlaps") if details["local_model"] == "surface"
            else tr("block means against their average"))))
    if "shift" in details:
        facts.append((tr("Gamma shift"), num(details["shift"])))
    body = [summary_table(list(summary) + facts)]

    seams, seam, measured = details.get("seams"), details.get("seam"), False
    if seams is None and pictures is not None and pictures.grid is not None:
        seams, seam = pictures.measured_seams()
        measured = True
    seam_bands = bands or max([len(entry[2]) for entry in seams or []] or [0])
    body.append(seam_section(seams or [], seam or {}, seam_bands, measured))
    body.append(mosaic_section(pictures))
    body.append(histogram_section(pictures))
    body.append(clipped_section(
        names, outputs, getattr(result, "clipped_pixels", None) or {},
        getattr(result, "nudged_pixels", None) or {}, pictures,
        [(tr("Unchanged (no block mean)"), details.get("unchanged_pixels") or {}),
         (tr("Unchanged (guarded)"), details.get("guarded_pixels") or {})]))
    body.append(seam_charts(seams or [], seam_bands))

    body.append(heading(tr("Blocks")))
    body.append(terms_table(terms(details, kind)))
    if not bands:
        body.append(paragraph(tr(
            "The engine did not return the block maps; no thumbnails can be drawn.")))
    elif not correction_maps:
        body.append(paragraph(tr(
            "The engine did not return the corrections of the blocks.")))
    with_maps = [name for name in names if name in local_maps or name in correction_maps]
    shown = with_maps[:MAX_THUMBNAILS]
    title, explanation, label = correction_texts(kind)
    neutral = NEUTRAL.get(kind, 1.0)
    for band in range(bands):
        body.append(heading(tr("Band {}").format(band + 1)))
        means = [(tr("Reference"), map_band(reference, band), None)] if reference else []
        means += [(name, map_band(local_maps[name], band), footprints.get(name))
                  for name in shown if name in local_maps]
        if means:
            low, high = robust_range(finite_values([grid_band for _, grid_band, _ in means]))
            low, high = (low, high) if low is not None else (0.0, 1.0)
            body.append(heading(tr("Block means: reference and local maps") if reference
                                else tr("Block means of each image"), 3))
            body.append(paragraph(tr(
                "One cell per block, one colour scale for all maps of the band, from 2 % to 98 % "
                "of their values (a few extreme blocks take the end colours instead of "
                "flattening the others); hatched: no value. The dashed rectangle is the "
                "image's footprint.")))
            body.append('<div class="thumbs">{}</div>'.format("".join(
                figure(heatmap_svg(grid_band, low, high, VIRIDIS, canvas, outline,
                                   label=caption), caption)
                for caption, grid_band, outline in means)))
            body.append(colour_bar_svg(low, high, VIRIDIS, tr("block mean")))
        corrections = {name: map_band(correction_maps[name], band)
                       for name in shown if name in correction_maps}
        if corrections:
            deviations = [abs(v - neutral) for v in finite_values(corrections.values())]
            spread = robust_range(deviations, 0.0, 98.0)[1] or 0.01
            body.append(heading(title, 3))
            body.append(paragraph(explanation + " " + tr(
                "The colour scale is centred on the value that changes nothing and reaches 98 % "
                "of the corrections.")))
            body.append('<div class="thumbs">{}</div>'.format("".join(
                figure(heatmap_svg(grid_band, neutral - spread, neutral + spread, DIVERGING,
                                   canvas, footprints.get(name), label=name), name)
                for name, grid_band in corrections.items())))
            body.append(colour_bar_svg(neutral - spread, neutral + spread, DIVERGING, label))
    if len(shown) < len(with_maps):
        body.append(paragraph(tr("Only the first {} images are shown.").format(
            MAX_THUMBNAILS)))
    body.append(warnings_section(getattr(result, "warnings", None)))
    return html_page(tr("RadioMatch: Local block adjustment report"),
                     subtitle_line(version), body)
