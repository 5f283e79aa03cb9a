"""Footprints: overlap search, overlap pixel windows and connected groups."""
import math

import numpy as np
from rasterio.windows import Window
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def overlapping_pairs(bounds):
    """Index pairs (i, j), i < j, whose (left, bottom, right, top) boxes overlap with a positive
    area (touching edges do not count). Sort-and-sweep on the left edge: no all-pairs loop."""
    lefts = np.array([box[0] for box in bounds], dtype=float)
    order = np.argsort(lefts, kind="stable")
    active = []
    pairs = []
    for index in order:
        left, bottom, right, top = bounds[index]
        active = [other for other in active if bounds[other][2] > left]
        for other in active:
            _, other_bottom, _, other_top = bounds[other]
            if bottom < other_top and top > other_bottom:
                pairs.append((min(index, other), max(index, other)))
        active.append(index)
    return sorted(pairs)


def intersection(first, second):
    """The intersection of two (left, bottom, right, top) boxes."""
    return (max(first[0], second[0]), max(first[1], second[1]),
            min(first[2], second[2]), min(first[3], second[3]))


def window_of_centres_inside(image, box):
    """The pixel window of ``image`` whose pixel centres lie strictly inside ``box``, or None."""
    left, bottom, right, top = box
    x_size, y_size = image.pixel_size
    x0, y0 = image.transform.c, image.transform.f
    col_start = math.floor((left - x0) / x_size - 0.5) + 1
    col_stop = math.ceil((right - x0) / x_size - 0.5)
    row_start = math.floor((y0 - top) / y_size - 0.5) + 1
    row_stop = math.ceil((y0 - bottom) / y_size - 0.5)
    col_start, row_start = max(col_start, 0), max(row_start, 0)
    col_stop, row_stop = min(col_stop, image.width), min(row_stop, image.height)
    if col_stop <= col_start or row_stop <= row_start:
        return None
    return Window(col_start, row_start, col_stop - col_start, row_stop - row_start)


def nearest_indices(source, target, window):
    """Rows and columns of ``target`` nearest to the pixel centres of ``window`` of ``source``."""
    cols = np.arange(window.col_off, window.col_off + window.width)
    rows = np.arange(window.row_off, window.row_off + window.height)
    xs = source.transform.c + (cols + 0.5) * source.transform.a
    ys = source.transform.f + (rows + 0.5) * source.transform.e
    target_cols = np.floor((xs - target.transform.c) / target.transform.a).astype(np.int64)
    target_rows = np.floor((ys - target.transform.f) / target.transform.e).astype(np.int64)
    return (np.clip(target_rows, 0, target.height - 1), np.clip(target_cols, 0, target.width - 1))


def connected_groups(count, pairs):
    """Group label per image, from the pairs that link images."""
    if not pairs:
        return np.arange(count)
    rows, cols = zip(*pairs)
    graph = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    return labels
