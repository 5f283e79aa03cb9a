"""The block grid of local block adjustment, block-mean maps, normalised bilinear interpolation
from block centres to pixel centres, and block-map GeoTIFF files (one pixel per block, NaN
nodata; docs/DESIGN.md, "Block maps")."""
import math
import os
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine

from .errors import RadioMatchError

REFERENCE_CV = 45 / 125
BOUNDS_TOLERANCE = 1e-6     # relative to the canvas size


@dataclass(frozen=True)
class BlockGrid:
    """``rows`` x ``cols`` blocks over the canvas (x0, y0, x1, y1); row 0 is the top row."""
    x0: float
    y0: float
    x1: float
    y1: float
    rows: int
    cols: int

    @property
    def width(self):
        return self.x1 - self.x0

    @property
    def height(self):
        return self.y1 - self.y0

    @property
    def block_width(self):
        return self.width / self.cols

    @property
    def block_height(self):
        return self.height / self.rows

    @property
    def transform(self):
        return Affine(self.block_width, 0.0, self.x0, 0.0, -self.block_height, self.y1)

    def block_columns(self, xs):
        """Block column of each x, or -1 outside the canvas."""
        cols = np.floor((xs - self.x0) / self.block_width).astype(np.int64)
        return np.where((xs >= self.x0) & (xs < self.x1), np.clip(cols, 0, self.cols - 1), -1)

    def block_rows(self, ys):
        """Block row of each y, or -1 outside the canvas."""
        rows = np.floor((self.y1 - ys) / self.block_height).astype(np.int64)
        return np.where((ys > self.y0) & (ys <= self.y1), np.clip(rows, 0, self.rows - 1), -1)

    def column_positions(self, xs):
        """Fractional block-centre coordinate of each x (centres at integers), clamped."""
        return np.clip((xs - self.x0) / self.width * self.cols - 0.5, 0, self.cols - 1)

    def row_positions(self, ys):
        return np.clip((self.y1 - ys) / self.height * self.rows - 0.5, 0, self.rows - 1)


class TileBlocks:
    """The blocks the pixel centres of a tile (columns ``xs``, rows ``ys``) fall in: ``row_lo``,
    ``col_lo`` and ``shape`` give the blocks touched (``shape`` None when no pixel centre is on
    the canvas). Block rows and columns are runs of tile rows and columns, so summing a tile
    per block is ``rows @ values @ columns``, with 0/1 matrices gathering the runs (exact for
    integer values in float64, whatever the order). The products go through ``einsum``, not
    BLAS: OpenBLAS would spread them over every core, and a 1-thread run must use one."""

    def __init__(self, grid, xs, ys):
        rows, cols = grid.block_rows(ys), grid.block_columns(xs)
        self.shape = None
        if not (rows >= 0).any() or not (cols >= 0).any():
            return
        self.row_lo, self.col_lo = int(rows[rows >= 0].min()), int(cols[cols >= 0].min())
        self.shape = (int(rows.max()) - self.row_lo + 1, int(cols.max()) - self.col_lo + 1)
        on_rows, on_cols = np.flatnonzero(rows >= 0), np.flatnonzero(cols >= 0)
        self.rows = np.zeros((self.shape[0], len(ys)))
        self.rows[rows[on_rows] - self.row_lo, on_rows] = 1.0
        self.columns = np.zeros((len(xs), self.shape[1]))
        self.columns[on_cols, cols[on_cols] - self.col_lo] = 1.0

    def sum(self, values):
        """Per block the sum of ``values`` (rows, cols), in float64; pixels off the canvas are
        left out."""
        by_rows = np.einsum("ij,jk->ik", self.rows, np.asarray(values, dtype=np.float64))
        return np.einsum("ij,jk->ik", by_rows, self.columns)


def check_canvas(bounds, label):
    x0, y0, x1, y1 = bounds
    if not all(math.isfinite(v) for v in bounds) or not (x1 > x0 and y1 > y0):
        raise RadioMatchError(
            f"{label} {tuple(bounds)!r} has no area; it must be (min_x, min_y, max_x, max_y) "
            "with max_x > min_x and max_y > min_y.")
    return tuple(float(v) for v in bounds)


def same_bounds(first, second):
    size = max(first[2] - first[0], first[3] - first[1])
    return all(abs(a - b) <= BOUNDS_TOLERANCE * size for a, b in zip(first, second))


def grid_shape_for_count(blocks_per_image, image_count, width, height):
    """The reference's block-count rule: at most ``blocks_per_image * image_count`` blocks, laid
    out to follow the canvas aspect ratio (Python's round, half to even, as the reference)."""
    target = blocks_per_image * image_count
    cols = max(1, round(math.sqrt(target * width / height)))
    rows = max(1, round(target / cols))
    while rows * cols < target:
        if width > height:
            cols += 1
        else:
            rows += 1
    while rows * cols > target:
        if width > height:
            cols -= 1
        else:
            rows -= 1
    return rows, cols


def grid_shape_from_variation(count, mean, std, warnings):
    """The coefficient-of-variation rule on the pooled band-1 pixels of all images."""
    if count == 0 or mean == 0:
        return 10, 10
    if mean < 0:
        warnings.append("The band-1 mean is negative; the coefficient of variation uses its "
                        "absolute value.")
    side = max(1, round(10 * (std / abs(mean)) / REFERENCE_CV))
    return side, side


# Bytes per block and band while the maps are built: the reference map with its sums,
# counts and rounded copies over the whole grid, and for each image, over the blocks it
# touches, its sums and counts, its means, their robust and rounded copies and the
# reference restricted to them.
GRID_BYTES = 64
IMAGE_BLOCK_BYTES = 128


def check_grid_size(grid, images, bands, available_memory):
    """At most one block per pixel of the finest image, and block maps that fit in memory
    (``available_memory`` in bytes, None when unknown): checked before any pixel is read."""
    x_size = min(image.pixel_size[0] for image in images)
    y_size = min(image.pixel_size[1] for image in images)
    max_cols = max(1, math.floor(grid.width / x_size * (1 + 1e-9)))
    max_rows = max(1, math.floor(grid.height / y_size * (1 + 1e-9)))
    if grid.rows > max_rows or grid.cols > max_cols:
        raise RadioMatchError(
            f"The block grid of {grid.rows} x {grid.cols} blocks is finer than the pixels: "
            f"the canvas is {max_rows} x {max_cols} pixels, so it holds at most {max_rows} x "
            f"{max_cols} blocks (one per pixel, {max_rows * max_cols // len(images)} per "
            "image). Choose fewer blocks (number_of_blocks).")
    touched = 0
    for image in images:
        width, height = image.bounds[2] - image.bounds[0], image.bounds[3] - image.bounds[1]
        touched += (min(grid.cols, math.ceil(width / grid.block_width) + 1)
                    * min(grid.rows, math.ceil(height / grid.block_height) + 1))
    needed = bands * (GRID_BYTES * grid.rows * grid.cols + IMAGE_BLOCK_BYTES * touched)
    if available_memory is not None and needed > available_memory:
        raise RadioMatchError(
            f"The block grid of {grid.rows} x {grid.cols} blocks needs about "
            f"{needed / 2 ** 30:.1f} GB of memory for its block maps, more than the "
            f"{available_memory / 2 ** 30:.1f} GB available. Choose fewer blocks "
            "(number_of_blocks).")


def parse_number_of_blocks(number_of_blocks):
    """An int target per image, a (rows, cols) pair, or "coefficient_of_variation"."""
    if number_of_blocks == "coefficient_of_variation":
        return number_of_blocks
    def whole_positive(value):
        return (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and value >= 1)
    if whole_positive(number_of_blocks):
        return int(number_of_blocks)
    if (isinstance(number_of_blocks, (tuple, list)) and len(number_of_blocks) == 2
            and all(whole_positive(v) for v in number_of_blocks)):
        return (int(number_of_blocks[0]), int(number_of_blocks[1]))
    raise RadioMatchError(
        "number_of_blocks must be a positive whole number, a (rows, cols) pair of positive "
        f"whole numbers or \"coefficient_of_variation\"; {number_of_blocks!r} is not.")


@dataclass
class BlockMap:
    """Block means of one image over the sub-grid it touches: ``values[r, c, band]`` is block
    (row_off + r, col_off + c); NaN means no value. Keeping only the sub-grid keeps memory
    proportional to the image's own blocks, not to the whole mosaic."""
    row_off: int
    col_off: int
    values: np.ndarray

    @classmethod
    def from_full(cls, full):
        """Crop a full-grid map to the bounding box of its valid blocks."""
        valid = ~np.isnan(full).all(axis=2)
        if not valid.any():
            return cls(0, 0, full[:0, :0])
        rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
        return cls(int(rows[0]), int(cols[0]),
                   full[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy())

    def full(self, grid):
        full = np.full((grid.rows, grid.cols, self.values.shape[2]), np.nan)
        rows, cols = self.values.shape[:2]
        full[self.row_off:self.row_off + rows, self.col_off:self.col_off + cols] = self.values
        return full

    def has_values(self):
        return bool(np.isfinite(self.values).any())

    def gather(self, rows, cols):
        """Values at global block indices (rows x cols grid of indices): (bands, rows, cols)."""
        local_rows, local_cols = rows - self.row_off, cols - self.col_off
        height, width = self.values.shape[:2]
        inside = ((local_rows >= 0) & (local_rows < height))[:, None] & \
                 ((local_cols >= 0) & (local_cols < width))[None, :]
        if height == 0 or width == 0:
            return np.full((self.values.shape[2], len(rows), len(cols)), np.nan)
        picked = self.values[np.clip(local_rows, 0, height - 1)[:, None],
                             np.clip(local_cols, 0, width - 1)[None, :]]
        picked = np.moveaxis(picked, 2, 0)
        return np.where(inside[None], picked, np.nan)


def normalised_bilinear(block_map, row_positions, col_positions):
    """Bilinear interpolation from block centres that ignores missing blocks: the weights of
    the valid corners are renormalised; NaN where no corner is valid. (bands, rows, cols).

    The weights are separable, so the numerator and the denominator are interpolated along
    columns on the few block rows the tile touches, then along rows, one run of tile rows
    between two block centres at a time. Both steps use ``a + (b - a) * f``, so a pixel whose
    corners are all valid has a denominator of exactly 1 and each pixel's arithmetic does not
    depend on the tile.
    """
    row0 = np.floor(row_positions).astype(np.int64)
    col0 = np.floor(col_positions).astype(np.int64)
    row_frac, col_frac = row_positions - row0, col_positions - col0
    rows = np.arange(row0.min(), row0.max() + 2)
    cols = np.arange(col0.min(), col0.max() + 2)
    values = block_map.gather(rows, cols)
    valid = ~np.isnan(values)
    col_index = col0 - cols[0]
    # Row positions never decrease down a tile, so each block-row interval is a run of rows.
    starts = np.flatnonzero(np.diff(row0, prepend=row0[0] - 1))
    stops = np.append(starts[1:], len(row0))

    def interpolate(blocks):
        left = blocks[:, :, col_index]
        across = left + (blocks[:, :, col_index + 1] - left) * col_frac
        result = np.empty((blocks.shape[0], len(row0), len(col0)))
        for start, stop in zip(starts, stops):
            upper = across[:, row0[start] - rows[0], None, :]
            lower = across[:, row0[start] - rows[0] + 1, None, :]
            run = result[:, start:stop, :]
            # upper + (lower - upper) * f, written in place (a + b == b + a exactly)
            np.multiply(lower - upper, row_frac[start:stop, None], out=run)
            run += upper
        return result

    numerator = interpolate(np.where(valid, values, 0.0))
    if valid.all():
        return numerator
    denominator = interpolate(valid.astype(np.float64))
    # Where no corner with a weight is valid both sums are exactly 0 (weights are in [0, 1)
    # and a + (b - a) * 0 = a), so 0 / 0 gives the NaN wanted there, in one pass.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(numerator, denominator, out=numerator)


def write_block_map(path, full_values, grid, crs, dtype, tags=None):
    """A block map as a GeoTIFF: one pixel per block, one band per spectral band, NaN nodata,
    with ``tags`` (GDAL dataset metadata) naming the local model that wrote it."""
    profile = {"width": grid.cols, "height": grid.rows,
               "count": full_values.shape[2], "dtype": dtype, "crs": crs,
               "transform": grid.transform, "nodata": float("nan"), "compress": "DEFLATE",
               "predictor": 3}
    with rasterio.open(path, "w", driver="GTiff", **profile) as dataset:
        dataset.write(np.moveaxis(full_values, 2, 0).astype(dtype))
        if tags:
            dataset.update_tags(**tags)


def read_block_map(path):
    """(values (rows, cols, bands) float64 with NaN for missing blocks, bounds, crs, tags)."""
    if not os.path.isfile(path):
        raise RadioMatchError(f"The block map {path!r} does not exist.")
    try:
        with rasterio.open(path) as dataset:
            values = dataset.read().astype(np.float64)
            nodata = dataset.nodata
            transform, bounds, crs = dataset.transform, tuple(dataset.bounds), dataset.crs
            tags = dataset.tags()
    except rasterio.errors.RasterioIOError as error:
        raise RadioMatchError(f"The block map {path!r} cannot be read as a raster ({error}).") from None
    if transform.b != 0 or transform.d != 0:
        raise RadioMatchError(f"The block map {path!r} has a rotated geotransform.")
    if nodata is not None and not math.isnan(nodata):
        values[values == nodata] = np.nan
    return np.moveaxis(values, 0, 2), bounds, crs, tags
