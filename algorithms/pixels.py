"""Rasters read at reduced resolution with GDAL, read-only: the one contrast stretch of a run's
outputs, and the report's mosaic thumbnails, histograms and measured seams.

A decimated read (nearest pixel) computes no statistics, so GDAL writes nothing next to the
files. numpy is imported here, and this module only when a run has finished, so that the
plugin loads without it. North-up rasters in one CRS (the engine refuses others) are placed
on a common grid by their bounds alone.
"""

import base64
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice
from qgis.PyQt.QtGui import QImage

# Pixels read per raster at most (a 512 x 512 sample), and for all rasters of a run together.
MAX_PIXELS = 512 * 512
TOTAL_PIXELS = 8_000_000
STRETCH_PERCENTS = (2.0, 98.0)
HISTOGRAM_BINS = 64
HISTOGRAM_PERCENTS = (0.5, 99.5)


class Reduced:
    """One raster at reduced resolution: ``values`` and ``valid`` (bands x rows x columns, the
    file's own data type and a validity mask: nodata, mask or alpha, and NaN left out),
    ``bounds`` (left, bottom, right, top), ``size`` (full columns, rows) and ``alpha`` (the
    0-based index of its alpha band, or None)."""

    def __init__(self, values, valid, bounds, size, alpha):
        self.values, self.valid, self.bounds, self.size, self.alpha = (
            values, valid, bounds, size, alpha)

    @property
    def data_bands(self):
        return [band for band in range(self.values.shape[0]) if band != self.alpha]


def _read(path, max_pixels):
    from osgeo import gdal

    dataset = gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY)
    if dataset is None:
        return None
    width, height = dataset.RasterXSize, dataset.RasterYSize
    factor = max(1.0, math.sqrt(width * height / float(max_pixels)))
    columns, rows = max(1, int(round(width / factor))), max(1, int(round(height / factor)))
    values, valid, alpha = [], [], None
    for index in range(dataset.RasterCount):
        band = dataset.GetRasterBand(index + 1)
        if band.GetColorInterpretation() == gdal.GCI_AlphaBand:
            alpha = index
        data = band.ReadAsArray(buf_xsize=columns, buf_ysize=rows)
        mask = band.GetMaskBand().ReadAsArray(buf_xsize=columns, buf_ysize=rows) > 0
        if data.dtype.kind == "f":
            mask &= np.isfinite(data)
        values.append(data)
        valid.append(mask)
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    bounds = (x0, y0 + dy * height, x0 + dx * width, y0)
    dataset = None
    return Reduced(np.stack(values), np.stack(valid), bounds, (width, height), alpha)


def read_reduced(paths, threads=1):
    """A :class:`Reduced` per path (None for a file GDAL cannot open), read on ``threads``
    threads, with at most :data:`MAX_PIXELS` per raster and :data:`TOTAL_PIXELS` for all."""
    budget = max(1024, min(MAX_PIXELS, TOTAL_PIXELS // max(1, len(paths))))
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(paths) or 1))) as pool:
        return list(pool.map(lambda path: _read(path, budget), paths))


def _pooled(images, band):
    parts = [image.values[band][image.valid[band]] for image in images
             if image is not None and band < image.values.shape[0]]
    return np.concatenate(parts) if parts else np.empty(0)


def stretch_limits(images, percents=STRETCH_PERCENTS):
    """(low, high) per band of the pixels of all ``images`` together (a cumulative cut; high
    above low), or None for a band without a valid pixel."""
    bands = max([image.values.shape[0] for image in images if image is not None] or [0])
    limits = []
    for band in range(bands):
        values = _pooled(images, band)
        if not values.size:
            limits.append(None)
            continue
        low, high = (float(v) for v in np.percentile(values, percents))
        limits.append((low, high if high > low else low + 1.0))
    return limits


def display_bands(image):
    """0-based bands shown: red, green, blue = bands 1, 2, 3, else the first band as grey."""
    bands = image.data_bands
    return bands[:3] if len(bands) >= 3 else bands[:1]


# ---------------------------------------------------------------------------------------------
# A common grid over the union of the rasters
# ---------------------------------------------------------------------------------------------
class Grid:
    """A north-up grid of ``columns`` x ``rows`` cells over ``bounds``."""

    def __init__(self, bounds, columns, rows):
        self.bounds, self.columns, self.rows = bounds, columns, rows


def union_grid(images, max_side):
    present = [image for image in images if image is not None]
    left = min(image.bounds[0] for image in present)
    bottom = min(image.bounds[1] for image in present)
    right = max(image.bounds[2] for image in present)
    top = max(image.bounds[3] for image in present)
    width, height = right - left, top - bottom
    scale = max_side / max(width, height)
    return Grid((left, bottom, right, top), max(1, int(round(width * scale))),
                max(1, int(round(height * scale))))


class Placed:
    """An image on a grid: ``values`` and ``valid`` (bands x rows x columns, float64 and bool)
    of the grid window whose top-left cell is (``row``, ``column``)."""

    def __init__(self, row, column, values, valid):
        self.row, self.column, self.values, self.valid = row, column, values, valid

    def window(self, other):
        """(rows, columns) slices of this placement and of ``other`` over their common cells,
        or None."""
        row0, row1 = max(self.row, other.row), min(self.row + self.valid.shape[1],
                                                   other.row + other.valid.shape[1])
        col0, col1 = max(self.column, other.column), min(self.column + self.valid.shape[2],
                                                         other.column + other.valid.shape[2])
        if row0 >= row1 or col0 >= col1:
            return None
        return ((slice(row0 - self.row, row1 - self.row), slice(col0 - self.column,
                                                               col1 - self.column)),
                (slice(row0 - other.row, row1 - other.row), slice(col0 - other.column,
                                                                 col1 - other.column)))


def on_grid(image, grid):
    """``image`` on ``grid`` as a :class:`Placed` window: each cell whose centre falls in the
    image takes the image's nearest sample."""
    left, bottom, right, top = grid.bounds
    xs = left + (np.arange(grid.columns) + 0.5) * (right - left) / grid.columns
    ys = top - (np.arange(grid.rows) + 0.5) * (top - bottom) / grid.rows
    i_left, i_bottom, i_right, i_top = image.bounds
    bands, rows, columns = image.values.shape
    cols = np.floor((xs - i_left) / (i_right - i_left) * columns).astype(int)
    rws = np.floor((i_top - ys) / (i_top - i_bottom) * rows).astype(int)
    in_cols = np.flatnonzero((cols >= 0) & (cols < columns))
    in_rows = np.flatnonzero((rws >= 0) & (rws < rows))
    if not in_cols.size or not in_rows.size:
        return Placed(0, 0, np.zeros((bands, 0, 0)), np.zeros((bands, 0, 0), dtype=bool))
    cols = cols[in_cols[0]:in_cols[-1] + 1]
    rws = rws[in_rows[0]:in_rows[-1] + 1]
    return Placed(int(in_rows[0]), int(in_cols[0]),
                  image.values[:, rws[:, None], cols[None, :]].astype(np.float64),
                  image.valid[:, rws[:, None], cols[None, :]])


def mosaic(images, grid):
    """The images stacked in order on ``grid`` (a later image over an earlier one where both
    are valid, as the VRT mosaic draws them): (values, valid), bands x rows x columns."""
    bands = max([image.values.shape[0] for image in images if image is not None] or [1])
    values = np.zeros((bands, grid.rows, grid.columns))
    valid = np.zeros((bands, grid.rows, grid.columns), dtype=bool)
    for image in images:
        if image is None:
            continue
        placed = on_grid(image, grid)
        count, rows, columns = placed.valid.shape
        window = (slice(None, count), slice(placed.row, placed.row + rows),
                  slice(placed.column, placed.column + columns))
        np.copyto(values[window], placed.values, where=placed.valid)
        valid[window] |= placed.valid
    return values, valid


def png_data_uri(values, valid, bands, limits):
    """An inline PNG (``data:`` URI) of ``bands`` (three as RGB, one as grey) stretched
    linearly between ``limits`` per band; invalid cells white."""
    channels = []
    for band in (bands * 3)[:3] if len(bands) == 1 else bands:
        low, high = limits[band] if limits[band] else (0.0, 1.0)
        scaled = (values[band] - low) / (high - low) * 255.0
        channels.append(np.clip(np.round(scaled), 0, 255).astype(np.uint8))
    rgb = np.stack(channels, axis=-1)
    shown = np.all(valid[list(bands)], axis=0)
    rgb[~shown] = 255
    rgb = np.ascontiguousarray(rgb)
    rows, columns = rgb.shape[:2]
    image = QImage(rgb.data, columns, rows, 3 * columns, QImage.Format_RGB888)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return "data:image/png;base64," + base64.b64encode(bytes(data)).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Figures for the report
# ---------------------------------------------------------------------------------------------
def histograms(before, after, bins=HISTOGRAM_BINS):
    """Per band the bin edges over the 0.5-99.5 % range of all images, before and after
    together, and per image the share of its valid pixels in each bin, before and after:
    ``(edges per band, [(before shares per band, after shares per band) per image])``."""
    edges = [np.linspace(*limits, bins + 1) if limits else None
             for limits in stretch_limits(list(before) + list(after), HISTOGRAM_PERCENTS)]

    def shares(image):
        result = []
        for band, band_edges in enumerate(edges):
            if image is None or band_edges is None or band >= image.values.shape[0] \
                    or band == image.alpha:
                result.append(None)
                continue
            values = image.values[band][image.valid[band]]
            counts = np.histogram(np.clip(values, band_edges[0], band_edges[-1]),
                                  band_edges)[0]
            result.append((counts / max(1, values.size)).tolist())
        return result

    return ([e.tolist() if e is not None else None for e in edges],
            [(shares(b), shares(a)) for b, a in zip(before, after)])


def measured_seams(names, before, after, grid):
    """What the engine reports as ``seams`` and ``seam``, measured on ``grid``: per pair of
    images with common valid cells, the difference of their band means there before and after
    (and the common cells per band), and the mosaic-wide mean absolute seam per band weighted
    by common cells."""
    placed = [(on_grid(b, grid), on_grid(a, grid)) if b is not None and a is not None else None
              for b, a in zip(before, after)]
    seams = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if placed[i] is None or placed[j] is None:
                continue
            sides = []
            for which in (0, 1):
                first, second = placed[i][which], placed[j][which]
                window = first.window(second)
                if window is None:
                    break
                bands = min(first.values.shape[0], second.values.shape[0])
                one = first.values[(slice(None, bands),) + window[0]]
                other = second.values[(slice(None, bands),) + window[1]]
                common = (first.valid[(slice(None, bands),) + window[0]]
                          & second.valid[(slice(None, bands),) + window[1]])
                counts = common.reshape(bands, -1).sum(axis=1)
                sides.append(([float(one[b][common[b]].mean() - other[b][common[b]].mean())
                               if counts[b] else math.nan for b in range(bands)], counts))
            if len(sides) < 2 or not sides[0][1].any():
                continue
            seams.append([names[i], names[j], sides[0][0], sides[1][0],
                          sides[0][1].tolist()])
    bands = max([len(entry[2]) for entry in seams] or [0])
    level = {}
    for key, which in (("before", 2), ("after", 3)):
        level[key] = []
        for band in range(bands):
            pairs = [(abs(entry[which][band]), entry[4][band]) for entry in seams
                     if band < len(entry[which]) and entry[4][band]
                     and not math.isnan(entry[which][band])]
            weight = sum(w for _, w in pairs)
            level[key].append(sum(v * w for v, w in pairs) / weight if weight else 0.0)
    return seams, level


def valid_share(image):
    """The share of an image's pixel values that are valid, from its sample (1 if unknown)."""
    if image is None:
        return 1.0
    bands = image.data_bands
    return float(image.valid[bands].mean()) if bands else 1.0


# ---------------------------------------------------------------------------------------------
# What the report shows of the pixels
# ---------------------------------------------------------------------------------------------
THUMBNAIL_SIDE = 440


class Pictures:
    """The pixels' side of a report, from the inputs (``before``) and outputs (``after``) read
    at reduced resolution: the two mosaic thumbnails (inline PNGs, one stretch: the outputs',
    as in QGIS), the histograms, each output's valid share and full size, and on demand the
    seams measured on the thumbnail grid."""

    def __init__(self, names, before, after):
        self.names, self.before, self.after = list(names), before, after
        present = [image for image in after if image is not None]
        self.grid = union_grid(list(before) + list(after), THUMBNAIL_SIDE) if present else None
        self.bands = display_bands(present[0]) if present else []
        self.limits = stretch_limits(after)
        self.thumbnails = None
        if present and all(self.limits[band] for band in self.bands):
            self.thumbnails = tuple(
                png_data_uri(*mosaic(images, self.grid), self.bands, self.limits)
                for images in (before, after))
        self.histogram_edges, self.histograms = histograms(before, after)
        self.valid_shares = [valid_share(image) for image in after]
        self.sizes = [(image.size[0], image.size[1], len(image.data_bands))
                      if image is not None else None for image in after]

    def measured_seams(self):
        return measured_seams(self.names, self.before, self.after, self.grid)
