"""Reading overlaps: the pixel windows of overlapping image pairs, and per tile the first image's
pixels in an overlap beside the second image's pixels nearest to their centres, masked."""
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window, intersect
from rasterio.windows import transform as window_transform

from .footprints import intersection, nearest_indices, overlapping_pairs, window_of_centres_inside
from .rasters import read_tile


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


def read_masked(run, plan, image, window):
    """A tile's bands and validity, with the polygon mask applied (statistics only)."""
    data, valid = read_tile(run.datasets.get(image.path), image, window, plan.nodata)
    if plan.vector_mask is not None:
        valid &= plan.vector_mask.keep(image.name, window_transform(window, image.transform),
                                       (int(window.height), int(window.width)))
    return data, valid


def partner_values(run, plan, image, window, data, valid, pair):
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
    other_data, other_valid = read_masked(run, plan, other, read_window)
    other_rows, other_cols = other_rows - read_window.row_off, other_cols - read_window.col_off
    if not (_covers_in_order(other_rows, read_window.height)
            and _covers_in_order(other_cols, read_window.width)):
        # another pixel grid: pick the nearest pixels (an aligned grid reads them in order)
        index = np.ix_(np.arange(other_data.shape[0]), other_rows, other_cols)
        other_data, other_valid = other_data[index], other_valid[index]
    return sub, data[:, rows, cols], other_data, valid[:, rows, cols] & other_valid


def _covers_in_order(indices, count):
    return indices.size == count and np.array_equal(indices, np.arange(count))

