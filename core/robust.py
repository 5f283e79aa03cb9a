"""Robust overlap matching: keep the pixel pairs that follow an overlap's dominant radiometric
relation, so that clouds, shadows and land-cover changes present in one image only do not drag
the overlap statistics.

Per overlap and band, a bounded lattice sample of the pairs is fitted with an iteratively
trimmed least-squares line of the second image against the first; a pair is an inlier when its
residual lies within ``INLIER_THRESHOLD`` robust standard deviations (1.4826 x MAD) of the median
residual; the iterations start from a least-median-of-squares line. The statistics are then accumulated over all inlier pairs in a second pass.
"""
import math
from dataclasses import dataclass

import numpy as np

MAX_SAMPLES_PER_PAIR = 8192
MAD_TO_SIGMA = 1.4826
INLIER_THRESHOLD = 4.0
MAX_ITERATIONS = 20
MIN_SAMPLES = 10
CANDIDATE_LINES = 200
SCORING_SAMPLES = 1024


@dataclass(frozen=True)
class LineFit:
    """``second ≈ intercept + slope * first``; inliers lie within ``tolerance`` of ``centre``."""
    intercept: float
    slope: float
    centre: float
    tolerance: float

    def inliers(self, first, second):
        """Computed in float64 whatever the arrays' dtype, in place: it runs on every pair."""
        residual = np.multiply(first, self.slope, dtype=np.float64)
        residual += self.intercept
        np.subtract(second, residual, out=residual, dtype=np.float64)
        residual -= self.centre
        return np.abs(residual, out=residual) <= self.tolerance


def lattice_step(window, max_samples=MAX_SAMPLES_PER_PAIR):
    """The step of a square lattice over ``window`` with at most about ``max_samples`` points."""
    return max(1, math.ceil(math.sqrt(window.width * window.height / max_samples)))


def _least_squares(first, second):
    mean_first, mean_second = first.mean(), second.mean()
    variance = np.square(first - mean_first).mean()
    if variance <= 0:
        return mean_second, 0.0
    slope = ((first - mean_first) * (second - mean_second)).mean() / variance
    return mean_second - slope * mean_first, slope


def _median_line(first, second):
    """Least-median-of-squares start: among lines through deterministic random pairs of samples
    (and the quantile line), the one whose median absolute residual is smallest. It tolerates
    up to half the pairs being outliers, where a mean- or quantile-based start does not."""
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, first.size, (2, CANDIDATE_LINES))
    run = first[b] - first[a]
    usable = run != 0
    slopes = (second[b] - second[a])[usable] / run[usable]
    intercepts = second[a][usable] - slopes * first[a][usable]
    q1_first, median_first, q3_first = np.percentile(first, [25, 50, 75])
    q1_second, median_second, q3_second = np.percentile(second, [25, 50, 75])
    quantile_slope = (q3_second - q1_second) / (q3_first - q1_first)
    slopes = np.append(slopes, quantile_slope)
    intercepts = np.append(intercepts, median_second - quantile_slope * median_first)
    step = max(1, first.size // SCORING_SAMPLES)      # score the candidates on a subsample
    first_scored, second_scored = first[::step], second[::step]
    residuals = second_scored - (intercepts[:, None] + slopes[:, None] * first_scored)
    spread = np.median(np.abs(residuals, out=residuals), axis=1)
    best = int(np.argmin(spread))
    return intercepts[best], slopes[best]


def _band(residual, second, threshold, quantum):
    centre = float(np.median(residual))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(residual - centre)))
    # Integer data fitted almost exactly still carry rounding noise of up to one unit.
    floor = max(quantum, 1e-9 * (abs(float(np.median(second))) + 1.0))
    return centre, threshold * max(spread, floor)


def resolution(dtype, values):
    """The smallest difference the data can express, the floor of an inlier band: 1 for
    integers, a few float ulps of the values' typical magnitude otherwise."""
    if np.issubdtype(np.dtype(dtype), np.integer):
        return 1.0
    typical = float(np.median(np.abs(values))) if np.size(values) else 0.0
    return 8 * np.finfo(dtype).eps * typical


def fit_line(first, second, quantum=0.0, threshold=INLIER_THRESHOLD):
    """Iteratively trimmed fit of ``second`` against ``first`` (1-D float64 arrays, in a fixed
    order; ``quantum`` is the data's step, 1 for integers); None when there are too few samples
    to tell inliers from outliers."""
    if first.size < MIN_SAMPLES or np.percentile(first, 75) == np.percentile(first, 25):
        return None     # too few samples, or no spread to define a relation: keep every pair
    intercept, slope = _median_line(first, second)
    keep = None
    for _ in range(MAX_ITERATIONS):
        residual = second - (intercept + slope * first)
        centre, tolerance = _band(residual, second, threshold, quantum)
        new_keep = np.abs(residual - centre) <= tolerance
        if keep is not None and np.array_equal(new_keep, keep):
            break
        keep = new_keep
        if keep.sum() < 2:
            break
        intercept, slope = _least_squares(first[keep], second[keep])
    centre, tolerance = _band(second - (intercept + slope * first), second, threshold,
                              quantum)
    return LineFit(float(intercept), float(slope), centre, tolerance)


BLOCK_OUTLIER_THRESHOLD = 4.0
BLOCK_SPREAD_FLOOR = 1e-3       # relative to the typical block mean


def _shared_block_pairs(block):
    """Index pairs (a, b), a < b, of the entries that lie in the same block, in block order."""
    order = np.argsort(block, kind="stable")
    starts = np.flatnonzero(np.diff(block[order], prepend=-1))
    ends = np.append(starts[1:], block.size)
    firsts, seconds = [], []
    for start, end in zip(starts, ends):
        if end - start >= 2:
            members = order[start:end]
            a, b = np.triu_indices(members.size, k=1)
            firsts.append(members[a])
            seconds.append(members[b])
    if not firsts:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    return np.concatenate(firsts), np.concatenate(seconds)


def _typical_deviation(block, value):
    """1.4826 x the median absolute deviation of block means from their block's median, over
    the blocks two or more images share: how far images that agree still differ, with their
    systematic differences and the blocks they only partly cover."""
    order = np.lexsort((value, block))
    block_sorted, value_sorted = block[order], value[order]
    starts = np.flatnonzero(np.diff(block_sorted, prepend=-1))
    counts = np.diff(np.append(starts, block_sorted.size))
    median = (value_sorted[starts + (counts - 1) // 2] + value_sorted[starts + counts // 2]) / 2
    shared = np.repeat(counts >= 2, counts)
    deviation = value_sorted - np.repeat(median, counts)
    return MAD_TO_SIGMA * float(np.median(np.abs(deviation[shared])))


def reject_outlier_blocks(block_maps, grid_cols, threshold=BLOCK_OUTLIER_THRESHOLD):
    """Block means that disagree with the other images' means of the same block.

    Every pair of images that shares blocks is compared as global regression compares an
    overlap: a robust line of one image's block means against the other's (:func:`fit_line`,
    so a systematic gain or offset between them is agreement), and a shared block whose pair
    lies beyond ``threshold`` robust standard deviations of that line, and beyond ``threshold``
    times the mosaic's typical deviation (:func:`_typical_deviation`: blocks covered in part
    by an image differ by more than noise), is a disagreement. A
    block mean that disagrees with more than half of the images it is compared with is an
    outlier (a cloud, a shadow or a change in that image); with two images both means of such
    a block are outliers, since neither can be trusted. Pairs sharing fewer than
    ``MIN_SAMPLES`` blocks are not judged. Returns {key: values with the outliers set to NaN}
    and {key: number of outlier blocks}; ``block_maps`` is {key: BlockMap}.
    """
    keys = list(block_maps)
    cleaned = {key: block_maps[key].values.copy() for key in keys}
    rejected = {key: 0 for key in keys}
    if not keys:
        return cleaned, rejected
    bands = block_maps[keys[0]].values.shape[2]
    for band in range(bands):
        blocks, values, owners, positions = [], [], [], []
        for index, key in enumerate(keys):
            block_map = block_maps[key]
            band_values = block_map.values[:, :, band]
            rows, cols = np.nonzero(~np.isnan(band_values))
            blocks.append((rows + block_map.row_off) * grid_cols + cols + block_map.col_off)
            values.append(band_values[rows, cols].astype(np.float64))
            owners.append(np.full(rows.size, index))
            positions.append((rows, cols))
        block, value, owner = (np.concatenate(a) for a in (blocks, values, owners))
        first, second = _shared_block_pairs(block)
        if first.size == 0:
            continue
        floor = threshold * max(_typical_deviation(block, value),
                                BLOCK_SPREAD_FLOOR * float(np.median(np.abs(value))))
        judged = np.zeros(value.size, dtype=np.int64)
        disagreements = np.zeros(value.size, dtype=np.int64)
        pair_of = owner[first] * len(keys) + owner[second]
        for pair in np.unique(pair_of):
            members = np.flatnonzero(pair_of == pair)
            a, b = first[members], second[members]
            fit = fit_line(value[a], value[b], 0.0, threshold)
            if fit is None:
                continue
            residual = value[b] - (fit.intercept + fit.slope * value[a]) - fit.centre
            outside = np.abs(residual) > max(fit.tolerance, floor)
            for entries in (a, b):
                judged[entries] += 1
                disagreements[entries] += outside
        outlier = 2 * disagreements > judged
        start = 0
        for index, key in enumerate(keys):
            rows, cols = positions[index]
            mine = outlier[start:start + rows.size]
            start += rows.size
            cleaned[key][rows[mine], cols[mine], band] = np.nan
            rejected[key] += int(mine.sum())
    return cleaned, rejected
