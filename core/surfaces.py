"""Local correction surfaces: the default model of local block adjustment.

Per image and band a smooth correction field ``s``, a polynomial of low order in the image's
own coordinates (``u``, ``v`` from -1 to 1 across its extent, ``v`` upwards). It multiplies
(``value * exp(s)``), or adds (``value + s``) when more than a tenth of the compared block
means are not positive (data centred on 0: differences, temperatures in degrees Celsius).

The fields of all images are fitted jointly by least squares to pairwise comparisons: per
block of the grid and per pair of overlapping images, the two images' means over the pixels
that both cover validly, compared at their centroid: after correction they should agree. Comparing the same pixels means a block only half covered by one image, a nodata
collar or a cloud in the other image's part of the block never passes for a radiometric
difference; a block comparison that disagrees with the fit of all the others (a cloud filling
whole blocks) is left out, round after round. Already seamless images give comparisons of 0,
so their fields stay 0 and they are left as they are.

What the comparisons cannot tell is fixed so: a small ridge on the non-constant terms (a
world-wide gradient common to all images is invisible in relative comparisons, and a field
only seen at one edge must not swing at the other) and, per connected group of images, the
mean of the fields at the images' centres is 0 (the set keeps its level).
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
# Weight of the ridge on the non-constant terms, relative to the mean weight the comparisons
# give an unknown: 1e-3 to 3e-2 gave the same errors on illuminated 3 x 3, 2 x 5, 4 x 4 and
# 1 x 6 layouts; without it the end tiles of a strip, seen at one edge only, swing at the other.
RIDGE = 1e-2
# Floor of the robust spread of the comparisons' residuals (log units, or relative to the
# typical block mean for additive fields), so that exactly matching images keep every block.
RESIDUAL_FLOOR = 1e-6
ROBUST_ROUNDS = 20
GAUSS_NEWTON_STEPS = 20
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
        return (v[:, None] ** powers) @ table @ (u[:, None] ** powers).T

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
    """Sums over the pixels two images both cover validly, per band and per block of the
    sub-grid that their overlap window touches: pixel count, each image's sum of values and
    the sums of the pixel-centre coordinates (the comparison's centroid)."""

    QUANTITIES = ("count", "first", "second", "x", "y")

    def __init__(self, first, second, row_off, col_off, bands, rows, cols):
        self.first, self.second = first, second
        self.row_off, self.col_off = row_off, col_off
        self.sums = np.zeros((len(self.QUANTITIES), bands, rows, cols))

    def add(self, row_lo, col_lo, sums):
        rows = slice(row_lo - self.row_off, row_lo - self.row_off + sums.shape[2])
        cols = slice(col_lo - self.col_off, col_lo - self.col_off + sums.shape[3])
        self.sums[:, :, rows, cols] += sums


def block_sums(grid, xs, ys, first, second, both):
    """One tile's contribution to :class:`PairBlocks`: (row_lo, col_lo, sums (quantity, band,
    rows, cols)) over the blocks it touches, or None when none of its pixels is on the canvas.
    Sums of integer data are exact in float64, so the result does not depend on the tiles."""
    touched = grid.tile_blocks(xs, ys)
    if touched is None:
        return None
    row_lo, col_lo, shape, flat, inside = touched
    size = shape[0] * shape[1]
    x_grid = np.broadcast_to(xs[None, :], flat.shape)
    y_grid = np.broadcast_to(ys[:, None], flat.shape)
    sums = np.zeros((len(PairBlocks.QUANTITIES), first.shape[0]) + shape)
    for band in range(first.shape[0]):
        keep = both[band] & inside
        index = flat[keep]
        for quantity, weights in enumerate((None, first[band][keep], second[band][keep],
                                            x_grid[keep], y_grid[keep])):
            sums[quantity, band] = np.bincount(
                index, weights=None if weights is None else weights.astype(np.float64),
                minlength=size).reshape(shape)
    return row_lo, col_lo, sums


@dataclass
class Comparisons:
    """The block comparisons of one band, one entry each: the two images, the centroid of the
    common pixels, their count and the two images' means over them."""
    first: np.ndarray
    second: np.ndarray
    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    mean_first: np.ndarray
    mean_second: np.ndarray

    @classmethod
    def of_band(cls, pairs, band, min_count):
        parts = {name: [] for name in ("first", "second", "x", "y", "count", "mean_first",
                                       "mean_second")}
        for pair in pairs:
            count, first, second, x, y = (pair.sums[q, band].ravel() for q in range(5))
            used = (count > 0) & (count >= min_count)
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



def surface_kind(comparisons):
    """Multiplicative when at least ``POSITIVE_SHARE`` of the comparisons have two positive
    means (dark blocks of reflectance with negative values do not make the data additive),
    else additive (data centred on 0: differences, temperatures in degrees Celsius)."""
    total = sum(len(c) for c in comparisons)
    positive = sum(int(np.sum((c.mean_first > 0) & (c.mean_second > 0))) for c in comparisons)
    return "multiplicative" if positive >= POSITIVE_SHARE * total else "additive"


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
    free coefficients as sparse (rows, cols, values)."""
    residual = 0.0
    rows, cols, values = [], [], []
    for side, images, means, monomials in sides:
        field = np.einsum("nt,nt->n", monomials, coefficients[images])
        if kind == "multiplicative":
            corrected = means * np.exp(field)
            slope = corrected
        else:
            corrected, slope = means + field, np.ones_like(field)
        residual = residual + side * corrected
        free_rows = np.flatnonzero(free[images] >= 0)
        rows.append(np.repeat(free_rows, terms))
        cols.append((free[images[free_rows]][:, None] * terms + np.arange(terms)).ravel())
        values.append((side * slope[free_rows, None] * monomials[free_rows]).ravel())
    return residual, (np.concatenate(rows), np.concatenate(cols), np.concatenate(values))


def fit_band(bounds, comparisons, kind, order, robust, fixed=None):
    """Fit one band's fields of every image to its comparisons: the corrected means of the two
    images of each comparison should agree, ``m_i exp(s_i) = m_j exp(s_j)`` (or ``m_i + s_i =
    m_j + s_j``), in data units, so a block whose mean is near 0 or negative carries its own
    little weight instead of breaking a logarithm. Gauss-Newton steps for the multiplicative
    fields; robust rounds leave out comparisons beyond ``INLIER_THRESHOLD`` robust standard
    deviations of the fit. ``bounds`` (images, 4); ``fixed`` {image: coefficients (terms,)}
    for images whose surface is given (loaded): the others are fitted against them."""
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
        spread = MAD_TO_SIGMA * np.median(np.abs(residual[kept] - np.median(residual[kept])))
        now_kept = np.abs(residual) <= INLIER_THRESHOLD * max(spread, RESIDUAL_FLOOR * level)
        if np.array_equal(now_kept, kept) or now_kept.sum() < 0.5 * len(kept):
            break
        kept = now_kept
    return BandFit(coefficients, kept, converged)


def _gauss_newton(sides, start, kind, free, terms, weight, kept, comparisons):
    """Coefficients fitted to the kept comparisons from ``start`` (fixed images' coefficients,
    zeros elsewhere, which meet the level constraints), the residuals of every comparison, and
    whether the steps converged."""
    coefficients = start.copy()
    free_images = np.flatnonzero(free >= 0)
    constraints = _level_constraints(comparisons, kept, free, len(free_images) * terms, terms)
    converged = False
    for _ in range(GAUSS_NEWTON_STEPS):
        residual, (rows, cols, values) = _residual_and_rows(sides, coefficients, kind, free,
                                                            terms)
        step, solved = _step(rows, cols, values, weight, kept, -residual,
                             coefficients[free_images], constraints, terms)
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


def _step(rows, cols, values, weight, kept, target, current, constraints, terms):
    """One least-squares step: the weighted comparison rows that are kept and the ridge rows
    (on the non-constant terms of every free image that has comparisons, pulling the
    coefficients after the step towards 0), under the level constraints."""
    unknowns = current.size
    use = kept[rows]
    matrix = csr_matrix((values[use] * weight[rows[use]], (rows[use], cols[use])),
                        shape=(len(kept), unknowns))
    targets = np.where(kept, target * weight, 0.0)
    seen = np.asarray(abs(matrix).sum(axis=0)).ravel().reshape(-1, terms).any(axis=1)
    mean_weight = matrix.multiply(matrix).sum() / max(seen.sum() * terms, 1)
    ridged = np.flatnonzero(seen)
    ridge_cols = (ridged[:, None] * terms + np.arange(1, terms)).ravel()
    strength = np.sqrt(RIDGE * mean_weight)
    ridge = csr_matrix((np.full(ridge_cols.size, strength),
                        (np.arange(ridge_cols.size), ridge_cols)),
                       shape=(ridge_cols.size, unknowns))
    system = vstack([matrix, ridge]).tocsr()
    return solve_constrained(system, constraints,
                             np.concatenate([targets, -strength * current.ravel()[ridge_cols]]))


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
