"""Reading overlaps: the pixel windows of overlapping image pairs, their sampling lattices, and
per tile the first image's pixels in an overlap beside the second image's pixels nearest to
their centres, masked."""
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window, intersect
from rasterio.windows import transform as window_transform

from .footprints import intersection, nearest_indices, overlapping_pairs, window_of_centres_inside
from .rasters import read_tile
from .robust import lattice_step


@dataclass
class PairPlan:
    first: int
    second: int
    window: Window          # pixels of the first image whose centres lie inside the overlap


def plan_pairs(images, skip=None):
    """A :class:`PairPlan` for every overlapping pair (i < j) whose overlap holds pixel centres
    of the first image, except the pairs ``skip(i, j)`` is true for."""
    plans = []
    for i, j in overlapping_pairs([image.bounds for image in images]):
        if skip is not None and skip(i, j):
            continue
        window = window_of_centres_inside(images[i], intersection(images[i].bounds,
                                                                  images[j].bounds))
        if window is not None:
            plans.append(PairPlan(i, j, window))
    return plans


@dataclass
class Lattice:
    """The sampling lattice of an overlap: a grid of pixels of the first image anchored at the
    overlap window (so it does not depend on the tiles) and, row by row and column by column,
    the second image's pixels nearest to them. Each image takes its side of the sample in its
    own pass, so the sample needs no extra read."""
    pair: PairPlan
    first_rows: np.ndarray
    first_cols: np.ndarray
    second_rows: np.ndarray
    second_cols: np.ndarray

    @classmethod
    def of(cls, images, pair, step=None):
        """The lattice of a pair, every ``step`` pixels (default: at most ``MAX_SAMPLES_PER_PAIR``
        pixel pairs, see :func:`robust.lattice_step`)."""
        window, step = pair.window, step or lattice_step(pair.window)
        second_rows, second_cols = nearest_indices(images[pair.first], images[pair.second],
                                                   window)
        first_rows = np.arange(int(window.row_off), int(window.row_off + window.height), step)
        first_cols = np.arange(int(window.col_off), int(window.col_off + window.width), step)
        return cls(pair, first_rows, first_cols, second_rows[::step], second_cols[::step])

    def side(self, k):
        """(rows, cols) of image k's pixels on the lattice."""
        if k == self.pair.first:
            return self.first_rows, self.first_cols
        return self.second_rows, self.second_cols

    def extent(self, k):
        """The window of image k that holds its lattice pixels."""
        rows, cols = self.side(k)
        return Window(int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1),
                      int(rows.max() - rows.min() + 1))

    def take(self, k, window, data, valid, width):
        """Image k's part of the sample inside a tile: (keys, values, valid) with keys the
        first image's pixel indices, so both sides can be matched; None if none lies there."""
        rows, cols = self.side(k)
        in_rows = (rows >= window.row_off) & (rows < window.row_off + window.height)
        in_cols = (cols >= window.col_off) & (cols < window.col_off + window.width)
        if not in_rows.any() or not in_cols.any():
            return None
        keys = (self.first_rows[in_rows][:, None] * width
                + self.first_cols[in_cols][None, :]).ravel()
        index = np.ix_(np.arange(data.shape[0]), rows[in_rows] - int(window.row_off),
                       cols[in_cols] - int(window.col_off))
        bands = data.shape[0]
        return keys, data[index].reshape(bands, -1), valid[index].reshape(bands, -1)

    def matched(self, first_parts, second_parts):
        """Both sides of the sample, from each image's parts (:meth:`take`), in pixel order:
        (keys, first values, second values, both valid), values as float64."""
        first_keys, first, first_valid = _sorted_sample(first_parts)
        second_keys, second, second_valid = _sorted_sample(second_parts)
        if not np.array_equal(first_keys, second_keys):
            raise AssertionError("the two sides of an overlap sample do not match")
        return (first_keys, first.astype(np.float64), second.astype(np.float64),
                first_valid & second_valid)


def _sorted_sample(parts):
    keys = np.concatenate([part[0] for part in parts])
    order = np.argsort(keys, kind="stable")
    values = np.concatenate([part[1] for part in parts], axis=1)[:, order]
    valid = np.concatenate([part[2] for part in parts], axis=1)[:, order]
    return keys[order], values, valid



def read_masked(datasets, plan, image, window):
    """A tile's bands and validity, with the polygon mask applied (statistics only)."""
    data, valid = read_tile(datasets.get(image.path), image, window, plan.nodata)
    if plan.vector_mask is not None:
        valid &= plan.vector_mask.keep(image.name, window_transform(window, image.transform),
                                       (int(window.height), int(window.width)))
    return data, valid


def partner_values(datasets, plan, image, window, data, valid, pair):
    """Image values and the partner's nearest-neighbour samples at the pixels of ``window``
    inside the pair's overlap window: (sub-window, first, second, both valid), or None."""
    if not intersect(window, pair.window):
        return None
    sub = window.intersection(pair.window)
    rows = slice(int(sub.row_off - window.row_off), int(sub.row_off - window.row_off + sub.height))
    cols = slice(int(sub.col_off - window.col_off), int(sub.col_off - window.col_off + sub.width))
    other = plan.images[pair.second]
    other_rows, other_cols = nearest_indices(image, other, sub)
    read_window = Window(int(other_cols.min()), int(other_rows.min()),
                         int(other_cols.max() - other_cols.min() + 1),
                         int(other_rows.max() - other_rows.min() + 1))
    other_data, other_valid = read_masked(datasets, plan, other, read_window)
    other_rows, other_cols = other_rows - read_window.row_off, other_cols - read_window.col_off
    if not (_covers_in_order(other_rows, read_window.height)
            and _covers_in_order(other_cols, read_window.width)):
        # another pixel grid: pick the nearest pixels (an aligned grid reads them in order)
        index = np.ix_(np.arange(other_data.shape[0]), other_rows, other_cols)
        other_data, other_valid = other_data[index], other_valid[index]
    return sub, data[:, rows, cols], other_data, valid[:, rows, cols] & other_valid


def _covers_in_order(indices, count):
    return indices.size == count and np.array_equal(indices, np.arange(count))

