"""Local correction surfaces: the default model of local block adjustment.

Per image and band a smooth correction field ``s``, a polynomial of low order in the image's
own coordinates (``u``, ``v`` from -1 to 1 across its extent, ``v`` upwards). It multiplies
(``value * exp(s)``), or adds (``value + s``) when more than a tenth of the compared block
means are not positive (data centred on 0: differences, temperatures in degrees Celsius).

The fields of all images are fitted jointly by least squares to pairwise comparisons: per
block of the grid and per pair of overlapping images, the two images' means over the pixels
that both cover validly (a dense lattice of them, some 400 per block, taken by each image in
its own pass, so nothing is read twice), compared at their centroid: after correction they
should agree.
Comparing the same pixels means a block only half covered by one image, a nodata collar or a
cloud in the other image's part of the block never passes for a radiometric difference; a
block comparison that disagrees with its pair's other blocks (a cloud filling whole blocks)
is left out, round after round. Already seamless images give comparisons of 0,
so their fields stay 0 and they are left as they are.

What the comparisons cannot tell is fixed so: a small ridge on the non-constant terms (a
world-wide gradient common to all images is invisible in relative comparisons, and a field
only seen at one edge must not swing at the other) and, per connected group of images, the
sum of the fields at the images' centres is 0 (the set keeps its level).
"""
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, vstack

from .footprints import connected_groups
from .least_squares import solve_constrained
from .robust import INLIER_THRESHOLD, MAD_TO_SIGMA
from .statistics import overlap_precision

KINDS = ("multiplicative", "additive")
SURFACE_ORDER = 2           # order 1 leaves vignetting, order 3 overfits (make quality)
# Weight of the ridge on each non-constant term, relative to the weight the comparisons give
# that term: it shrinks a well-seen term by about 1 % and holds a barely seen one. On
# illuminated 3 x 3, 2 x 5, 4 x 4 and 1 x 6 layouts 1e-2 kept every error below the exact global
# correction's; 1e-3 let the end tiles of a strip, seen at one edge only, swing at the other
# (error 0.40 against 0.14), and a ridge relative to the mean weight of all terms biased the
# well-seen ones enough for the robust rounds to drop good comparisons.
RIDGE = 1e-2
# Floor of the robust spread of the comparisons' residuals (log units, or relative to the
# typical block mean for additive fields), so that exactly matching images keep every block.
RESIDUAL_FLOOR = 1e-6
ROBUST_ROUNDS = 20
# The lattice of a pair's comparisons samples about this many pixels along a block's side.
SAMPLES_PER_BLOCK_SIDE = 20
GAUSS_NEWTON_STEPS = 20
MIN_PAIR_BLOCKS = 8
MIN_BLOCK_SAMPLES = 10
STEP_TOLERANCE = 1e-12
# Fields multiply unless more than a tenth of the compared block means are not positive.
POSITIVE_SHARE = 0.9


def exponents(order):
    """(p, q) of the monomials u^p v^q of a polynomial of ``order``, by total degree."""
    return [(total - q, q) for total in range(order + 1) for q in range(total + 1)]


def image_coordinates(bounds, xs, ys):
    """Map coordinates to an image's own (u, v), -1 to 1 across (left, bottom, right, top)."""
    left, bottom, right, top = bounds
    return 2.0 * (xs - left) / (right - left) - 1.0, 2.0 * (ys - bottom) / (top - bottom) - 1.0


def _monomials(u, v, order):
    """(points, terms) values of the monomials at points (u, v)."""
    return np.stack([u ** p * v ** q for p, q in exponents(order)], axis=-1)


@dataclass
class Surface:
    """One image's correction: ``coefficients[band, term]`` of the monomials of ``order`` in the
    image's coordinates (its ``bounds``)."""
    kind: str
    order: int
    bounds: tuple
    coefficients: np.ndarray

    @classmethod
    def identity(cls, kind, order, bounds, bands):
        return cls(kind, order, tuple(bounds), np.zeros((bands, len(exponents(order)))))

    def is_identity(self):
        return not np.any(self.coefficients)

    def field(self, band, xs, ys):
        """The field of one band on the grid of pixel centres (rows ``ys``, columns ``xs``):
        separable, ``V C U^T`` with the powers of v and u, so each pixel costs a few adds."""
        u, v = image_coordinates(self.bounds, xs, ys)
        powers = np.arange(self.order + 1)
        table = np.zeros((self.order + 1, self.order + 1))
        for (p, q), coefficient in zip(exponents(self.order), self.coefficients[band]):
            table[q, p] = coefficient
        # einsum, not BLAS: OpenBLAS would spread the product over every core
        along_rows = np.einsum("qp,jp->qj", table, u[:, None] ** powers)
        return np.einsum("iq,qj->ij", v[:, None] ** powers, along_rows)

    def at(self, xs, ys):
        """The fields of every band at points: (bands, points)."""
        u, v = image_coordinates(self.bounds, np.asarray(xs, float), np.asarray(ys, float))
        return self.coefficients @ _monomials(u, v, self.order).T

    def apply(self, values, xs, ys, alpha):
        """Corrected values of a (bands, rows, cols) tile in its own dtype; ``alpha`` scales the
        field (1 full correction, 0 none)."""
        corrected = np.empty_like(values)
        for band in range(values.shape[0]):
            field = alpha * self.field(band, xs, ys)
            if self.kind == "multiplicative":
                np.multiply(values[band], np.exp(field).astype(values.dtype), out=corrected[band])
            else:
                np.add(values[band], field.astype(values.dtype), out=corrected[band])
        return corrected

    def correction(self, xs, ys):
        """What the field does at points, (bands, points): the factor or the offset."""
        field = self.at(xs, ys)
        return np.exp(field) if self.kind == "multiplicative" else field


class PairBlocks:
    """Sums over the pixel pairs of a pair's lattice sample that both images cover validly
    (and, with robust statistics, that follow their block's relation), per band and per block
    of the sub-grid that their overlap window touches: the pairs' count, each image's sum of
    values and the sums of the pixel-centre coordinates (the comparison's centroid). ``step``:
    the lattice's step, each sample standing for ``step`` x ``step`` pixels."""

    QUANTITIES = ("count", "first", "second", "x", "y")

    def __init__(self, first, second, row_off, col_off, bands, rows, cols, step):
        self.first, self.second = first, second
        self.row_off, self.col_off, self.step = row_off, col_off, step
        self.sums = np.zeros((len(self.QUANTITIES), bands, rows, cols))

    def add_sample(self, blocks, first, second, keep, xs, ys):
        """Sum sample pixel pairs (bands, samples) into their ``blocks`` (flat index in the
        sub-grid, -1 off it) where ``keep`` (bands, samples); ``xs``, ``ys`` their centres."""
        shape = self.sums.shape[2:]
        size = shape[0] * shape[1]
        for band in range(first.shape[0]):
            use = keep[band] & (blocks >= 0)
            index = blocks[use]
            for quantity, weights in enumerate((None, first[band][use], second[band][use],
                                                xs[use], ys[use])):
                self.sums[quantity, band] += np.bincount(index, weights=weights,
                                                         minlength=size).reshape(shape)


def group_medians(groups, values, count):
    """The median of ``values`` per group label (0 to ``count`` - 1) and the groups' sizes;
    NaN for an empty group."""
    order = np.lexsort((values, groups))
    values = values[order]
    sizes = np.bincount(groups, minlength=count)
    starts = np.cumsum(sizes) - sizes
    medians = np.full(count, np.nan)
    present = sizes > 0
    lower = starts[present] + (sizes[present] - 1) // 2
    upper = starts[present] + sizes[present] // 2
    medians[present] = (values[lower] + values[upper]) / 2
    return medians, sizes


@dataclass
class BlockRelations:
    """How the second image's pixels follow the first's in each block of a pair's sub-grid
    (the blocks of its :class:`PairBlocks`, flattened), per band, from the overlap's lattice
    sample: the two images' medians, whose ratio (multiplicative) or difference (additive)
    maps one onto the other (``mapping``), and the centre and robust spread (1.4826 x MAD) of
    the pixel pairs' deviations from that mapping. A pixel pair further than ``limit``
    (``INLIER_THRESHOLD`` spreads, at least the data's resolution) from the centre is left out
    of the block's comparison: a pixel saturated in one image only, a car, a small cloud. NaN
    where a block has fewer than ``MIN_BLOCK_SAMPLES`` samples: its pixel pairs are all kept."""
    median_first: np.ndarray        # (bands, blocks)
    median_second: np.ndarray
    mapping: dict                   # kind -> (bands, blocks)
    centre: dict
    limit: dict

    @classmethod
    def of_sample(cls, blocks, first, second, both, count, floor):
        """From sample pixel pairs (bands, samples) in ``blocks`` (block of each sample, -1 off
        the sub-grid) of a sub-grid of ``count`` blocks; ``floor`` per band."""
        bands = first.shape[0]
        shape = (bands, count)
        median_first, median_second = np.full(shape, np.nan), np.full(shape, np.nan)
        mapping, centre, limit = ({kind: np.full(shape, np.nan) for kind in KINDS}
                                  for _ in range(3))
        for band in range(bands):
            use = both[band] & (blocks >= 0)
            groups, x, y = blocks[use], first[band][use], second[band][use]
            median_x, sizes = group_medians(groups, x, count)
            median_y, _ = group_medians(groups, y, count)
            enough = sizes >= MIN_BLOCK_SAMPLES
            median_first[band] = np.where(enough, median_x, np.nan)
            median_second[band] = np.where(enough, median_y, np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                mapping["multiplicative"][band] = median_second[band] / median_first[band]
            mapping["additive"][band] = median_second[band] - median_first[band]
            for kind in KINDS:
                deviation = _deviation(kind, x, y, mapping[kind][band][groups])
                middle, _ = group_medians(groups, np.nan_to_num(deviation), count)
                mad, _ = group_medians(groups, np.nan_to_num(np.abs(deviation - middle[groups])),
                                       count)
                centre[kind][band] = np.where(enough, middle, np.nan)
                limit[kind][band] = np.where(
                    enough, INLIER_THRESHOLD * np.fmax(MAD_TO_SIGMA * mad, floor[band]), np.nan)
        return cls(median_first, median_second, mapping, centre, limit)

    def positive_share(self):
        """(blocks with two positive medians, blocks with medians), over bands."""
        known = np.isfinite(self.median_first) & np.isfinite(self.median_second)
        return (int(np.sum(known & (self.median_first > 0) & (self.median_second > 0))),
                int(np.sum(known)))

    def inliers(self, kind, blocks, first, second, valid):
        """Which sample pixel pairs (bands, samples) follow their block's relation; ``blocks``
        the block of each (flat index in the sub-grid, -1 off it: kept)."""
        keep = valid.copy()
        index = np.clip(blocks, 0, None)
        for band in range(first.shape[0]):
            deviation = _deviation(kind, first[band], second[band],
                                   self.mapping[kind][band][index])
            deviation -= self.centre[kind][band][index]
            with np.errstate(invalid="ignore"):
                outside = np.abs(deviation) > self.limit[kind][band][index]   # NaN: kept
            keep[band] &= ~(outside & (blocks >= 0))
        return keep


def _deviation(kind, first, second, mapping):
    """How far a pixel pair is from its block's mapping of the first image onto the second."""
    if kind == "multiplicative":
        return second - first * mapping
    return second - first - mapping


@dataclass
class Comparisons:
    """The block comparisons of one band, one entry each: the two images, the centroid of the
    compared sample pixels, their count and the two images' means over them."""
    first: np.ndarray
    second: np.ndarray
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    mean_first: np.ndarray
    mean_second: np.ndarray

    @classmethod
    def of_band(cls, pairs, band, min_pixels):
        """From the pairs' :class:`PairBlocks`: the blocks whose sample stands for at least
        ``min_pixels`` pixels (``count`` is the number of sampled pixel pairs)."""
        parts = {name: [] for name in ("first", "second", "x", "y", "count", "mean_first",
                                       "mean_second")}
        for pair in pairs:
            count, first, second, x, y = (pair.sums[q, band].ravel() for q in range(5))
            used = (count > 0) & (count * pair.step ** 2 >= min_pixels)
            count = count[used]
            parts["first"].append(np.full(count.size, pair.first, dtype=np.int64))
            parts["second"].append(np.full(count.size, pair.second, dtype=np.int64))
            parts["count"].append(count)
            parts["mean_first"].append(first[used] / count)
            parts["mean_second"].append(second[used] / count)
            parts["x"].append(x[used] / count)
            parts["y"].append(y[used] / count)
        empty = {"first": np.int64, "second": np.int64}
        return cls(**{name: (np.concatenate(values) if values
                             else np.zeros(0, dtype=empty.get(name, np.float64)))
                      for name, values in parts.items()})

    def __len__(self):
        return self.count.size



def surface_kind(positive, total):
    """Multiplicative when at least ``POSITIVE_SHARE`` of the ``total`` compared blocks have
    two positive means (dark blocks of reflectance with negative values do not make the data
    additive), else additive (data centred on 0: differences, temperatures in Celsius)."""
    return "multiplicative" if positive >= POSITIVE_SHARE * total else "additive"


def positive_share(comparisons):
    """(comparisons with two positive means, comparisons), over bands."""
    return (sum(int(np.sum((c.mean_first > 0) & (c.mean_second > 0))) for c in comparisons),
            sum(len(c) for c in comparisons))


@dataclass
class BandFit:
    """The fitted coefficients of one band (images, terms) and which comparisons were kept."""
    coefficients: np.ndarray
    kept: np.ndarray
    converged: bool


def _basis(bounds, comparisons, order):
    """Per side of the comparisons (first +1, second -1): (side, images, means, monomials at
    the centroid in that image's coordinates)."""
    sides = []
    for side, images, means in ((1.0, comparisons.first, comparisons.mean_first),
                                (-1.0, comparisons.second, comparisons.mean_second)):
        u, v = image_coordinates(bounds[images].T, comparisons.x, comparisons.y)
        sides.append((side, images, means, _monomials(u, v, order)))
    return sides


def _residual_and_rows(sides, coefficients, kind, free, terms):
    """The comparisons' differences after the current fields, and their derivative in the
    free coefficients as sparse (rows, cols, values). The multiplicative difference is taken
    symmetrically, ``m_i exp(d / 2) - m_j exp(-d / 2)`` with ``d = s_i - s_j``: it depends on
    the fields' difference only (a field common to both images is not seen by a relative
    comparison, so it must not lower the residual either), works for means of any sign and,
    for positive ones, is 0 exactly when ``d = ln(m_j / m_i)``."""
    (_, first, mean_first, basis_first), (_, second, mean_second, basis_second) = sides
    difference = (np.einsum("nt,nt->n", basis_first, coefficients[first])
                  - np.einsum("nt,nt->n", basis_second, coefficients[second]))
    if kind == "multiplicative":
        raised, lowered = mean_first * np.exp(difference / 2), mean_second * np.exp(-difference / 2)
        residual, slope = raised - lowered, (raised + lowered) / 2
    else:
        residual, slope = mean_first - mean_second + difference, np.ones_like(difference)
    rows, cols, values = [], [], []
    for side, images, _, monomials in sides:
        free_rows = np.flatnonzero(free[images] >= 0)
        rows.append(np.repeat(free_rows, terms))
        cols.append((free[images[free_rows]][:, None] * terms + np.arange(terms)).ravel())
        values.append((side * slope[free_rows, None] * monomials[free_rows]).ravel())
    return residual, (np.concatenate(rows), np.concatenate(cols), np.concatenate(values))


def fit_band(bounds, comparisons, kind, order, robust, fixed=None):
    """Fit one band's fields of every image to its comparisons: the corrected means of the two
    images of each comparison should agree, ``m_i exp(s_i) = m_j exp(s_j)`` (or ``m_i + s_i =
    m_j + s_j``), in data units, so a block whose mean is near 0 or negative carries its own
    little weight instead of breaking a logarithm (see :func:`_residual_and_rows`).
    Gauss-Newton steps for the multiplicative fields; robust rounds leave out comparisons that
    disagree with their pair's other blocks (:func:`_consistent`). ``bounds`` (images, 4);
    ``fixed`` {image: coefficients (terms,)} for images whose surface is given (loaded): the
    others are fitted against them."""
    fixed = fixed or {}
    count, terms = len(bounds), len(exponents(order))
    free = np.full(count, -1)
    free_images = [k for k in range(count) if k not in fixed]
    free[free_images] = np.arange(len(free_images))
    start = np.zeros((count, terms))
    for k, coefficients in fixed.items():
        start[k] = coefficients
    sides = _basis(np.asarray(bounds, float), comparisons, order)
    level = _typical_level(comparisons)
    weight = overlap_precision(comparisons.count) / level
    kept = np.ones(len(comparisons), dtype=bool)
    for _ in range(ROBUST_ROUNDS):
        coefficients, residual, converged = _gauss_newton(
            sides, start, kind, free, terms, weight, kept, comparisons)
        if not robust or not kept.any():
            break
        now_kept = _consistent(residual, kept, comparisons, RESIDUAL_FLOOR * level)
        if np.array_equal(now_kept, kept) or now_kept.sum() < 0.5 * len(kept):
            break
        kept = now_kept
    return BandFit(coefficients, kept, converged)


def _consistent(residual, kept, comparisons, floor):
    """The comparisons that agree with their pair's other blocks: within ``INLIER_THRESHOLD``
    robust standard deviations (1.4826 x MAD over the pair's kept blocks) of the pair's
    median residual. Judged per pair, what the smooth fields cannot follow (a trend along an
    overlap) widens that pair's spread instead of cutting off its ends; a cloud filling some
    of an overlap's blocks stays a minority there. Pairs with fewer than ``MIN_PAIR_BLOCKS``
    kept blocks use the spread of all comparisons."""
    pair = comparisons.first * (max(comparisons.second.max(initial=0), 0) + 1) + comparisons.second
    overall = MAD_TO_SIGMA * np.median(np.abs(residual[kept] - np.median(residual[kept])))
    consistent = np.zeros(len(residual), dtype=bool)
    for key in np.unique(pair):
        members = pair == key
        reference = residual[members & kept]
        if reference.size < MIN_PAIR_BLOCKS:
            centre, spread = (np.median(reference) if reference.size else 0.0), overall
        else:
            centre = np.median(reference)
            spread = MAD_TO_SIGMA * np.median(np.abs(reference - centre))
        consistent[members] = (np.abs(residual[members] - centre)
                               <= INLIER_THRESHOLD * max(spread, floor))
    return consistent


def _gauss_newton(sides, start, kind, free, terms, weight, kept, comparisons):
    """Coefficients fitted to the kept comparisons from ``start`` (fixed images' coefficients,
    zeros elsewhere, which meet the level constraints), the residuals of every comparison, and
    whether the steps converged. The ridge is weighed once, on the comparisons as measured,
    so every step minimises the same objective whichever images are fixed."""
    coefficients = start.copy()
    free_images = np.flatnonzero(free >= 0)
    unknowns = len(free_images) * terms
    constraints = _level_constraints(comparisons, kept, free, unknowns, terms)
    _, measured = _residual_and_rows(sides, np.zeros_like(start), kind, free, terms)
    ridge = _ridge(_rows_matrix(measured, weight, kept, unknowns), terms)
    converged = False
    for _ in range(GAUSS_NEWTON_STEPS):
        residual, rows = _residual_and_rows(sides, coefficients, kind, free, terms)
        step, solved = _step(_rows_matrix(rows, weight, kept, unknowns), ridge,
                             np.where(kept, -residual * weight, 0.0),
                             coefficients[free_images], constraints)
        coefficients[free_images] += step.reshape(len(free_images), terms)
        if kind == "additive" or np.max(np.abs(step), initial=0.0) < STEP_TOLERANCE:
            converged = solved
            break
    residual, _ = _residual_and_rows(sides, coefficients, kind, free, terms)
    return coefficients, residual, converged


def _typical_level(comparisons):
    """The unit of the residuals: the median |block mean| of the comparisons."""
    if not len(comparisons):
        return 1.0
    means = np.abs(np.concatenate([comparisons.mean_first, comparisons.mean_second]))
    return max(float(np.median(means)), np.finfo(float).tiny)


def _rows_matrix(rows, weight, kept, unknowns):
    """The weighted comparison rows that are kept, as a sparse matrix."""
    rows, cols, values = rows
    use = kept[rows]
    return csr_matrix((values[use] * weight[rows[use]], (rows[use], cols[use])),
                      shape=(len(kept), unknowns))


def _ridge(matrix, terms):
    """(columns, strengths) of the ridge: each non-constant term that has comparisons,
    ``RIDGE`` times that term's own weight in ``matrix``."""
    own_weight = np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel()
    varying = np.arange(matrix.shape[1]) % terms != 0
    columns = np.flatnonzero(varying & (own_weight > 0))
    return columns, np.sqrt(RIDGE * own_weight[columns])


def _step(matrix, ridge, targets, current, constraints):
    """One least-squares step: the comparison rows and the ridge rows (pulling the
    coefficients after the step towards 0), under the level constraints."""
    columns, strengths = ridge
    rows = csr_matrix((strengths, (np.arange(columns.size), columns)),
                      shape=(columns.size, matrix.shape[1]))
    return solve_constrained(vstack([matrix, rows]).tocsr(), constraints,
                             np.concatenate([targets, -strengths * current.ravel()[columns]]))


def _level_constraints(comparisons, kept, free, unknowns, terms):
    """Per connected group of free images (through kept comparisons) without a fixed image:
    the sum of their fields at their centres is 0."""
    linked = np.column_stack([comparisons.first[kept], comparisons.second[kept]])
    groups = connected_groups(len(free), [tuple(pair) for pair in linked.tolist()])
    anchored = np.zeros(groups.max() + 1, dtype=bool)
    anchored[groups[free < 0]] = True
    members = np.flatnonzero((free >= 0) & ~anchored[groups])
    _, rows = np.unique(groups[members], return_inverse=True)
    return csr_matrix((np.ones(members.size), (rows, free[members] * terms)),
                      shape=(rows.max() + 1 if members.size else 0, unknowns))
