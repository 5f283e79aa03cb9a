"""The global least-squares model: one sparse system per band.

Unknowns per band are ``[a_0, b_0, a_1, b_1, ...]`` (scale and offset of each model image).
The overlap rows ask overlapping images to agree in mean and std. What fixes the level:

* ``"per_image"`` (the reference): every included image adds two anchor rows "keep my own mean
  and std", weighted against the overlap rows. The solution is the least-squares solution
  closest to identity, ``x = x0 + pinv(A)(y - A x0)``, found with LSQR started at zero on
  ``delta = x - x0`` (LSQR stays in the row space of A, so the minimum-norm ``delta`` is what it
  converges to).
* ``"set"``: per connected group, the included images keep their overall mean and std
  together, as two equality constraints; the overlap rows are then free to agree exactly when
  the images differ by a gain and offset.
"""
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import lsqr

from .footprints import connected_groups
from .least_squares import solve_constrained
from .statistics import overlap_precision

EXTREME_SCALE = (0.1, 10.0)
ANCHORINGS = ("set", "per_image")


@dataclass
class OverlapStats:
    """Statistics of one overlap, per band; ``first`` and ``second`` are model indices."""
    first: int
    second: int
    mean_first: np.ndarray
    std_first: np.ndarray
    mean_second: np.ndarray
    std_second: np.ndarray
    size: np.ndarray


@dataclass
class ModelSolution:
    scales: np.ndarray          # (images, bands)
    offsets: np.ndarray         # (images, bands)
    unconstrained: list         # model indices whose parameters stayed at identity (no rows)
    converged: bool


def _overlap_rows(band, overlaps, use, mean_factor, std_factor, centre=0.0, spread=1.0,
                  row_weight=None):
    """The sparse entries of the overlap rows of one band: per used pair a mean row
    (a_i m_ij + b_i = a_j m_ji + b_j) and a std row (a_i s_ij = a_j s_ji), as (rows, cols,
    values, (first, second, pixel pairs)). Rows are weighted by ``row_weight(pixel pairs)`` (the reference: the count itself) and statistics expressed as
    ``(value - centre) / spread`` (the set anchoring's normalised units; the reference's are
    ``centre = 0, spread = 1``, which leaves every number as it was)."""
    first = np.array([o.first for o in overlaps], dtype=np.int64)
    second = np.array([o.second for o in overlaps], dtype=np.int64)
    weight = np.array([o.size[band] for o in overlaps], dtype=np.float64)
    used = use(first, second, weight) if overlaps else np.zeros(0, bool)
    first, second, weight = first[used], second[used], weight[used]
    kept = [o for o, keep in zip(overlaps, used) if keep]
    mean_first = (np.array([o.mean_first[band] for o in kept], dtype=np.float64) - centre) / spread
    mean_second = (np.array([o.mean_second[band] for o in kept], dtype=np.float64) - centre) / spread
    std_first = np.array([o.std_first[band] for o in kept], dtype=np.float64) / spread
    std_second = np.array([o.std_second[band] for o in kept], dtype=np.float64) / spread
    pairs = len(kept)
    mean_rows, std_rows = 2 * np.arange(pairs), 2 * np.arange(pairs) + 1
    # A flat side (std 0) makes "a_i s_ij = a_j s_ji" demand a zero scale of the other image:
    # its contrast cannot be matched against a constant, so that std equation is left out.
    flat = (std_first == 0) | (std_second == 0)
    weighted = weight if row_weight is None else row_weight(weight)
    mean_weight = weighted * mean_factor
    std_weight = np.where(flat, 0.0, weighted * std_factor)
    rows = [mean_rows, mean_rows, mean_rows, mean_rows, std_rows, std_rows]
    cols = [2 * first, 2 * first + 1, 2 * second, 2 * second + 1, 2 * first, 2 * second]
    values = [mean_weight * mean_first, mean_weight, -mean_weight * mean_second, -mean_weight,
              std_weight * std_first, -std_weight * std_second]
    return rows, cols, values, (first, second, weight)


def _per_image_system(band, count, included, whole_mean, whole_std, overlaps, mean_factor,
                      std_factor):
    """The reference's rows of one band: the overlap rows of pairs with an included image, then
    per included image a mean and a std anchor row of weight p = W / 2N, W the
    total weight of the overlap rows and N the number of images (docs/DESIGN.md, "Anchoring")."""
    def use(first, second, weight):
        return (weight > 0) & (included[first] | included[second])

    rows, cols, values, (_, _, weight) = _overlap_rows(band, overlaps, use, mean_factor,
                                                       std_factor)
    pairs = len(weight)
    total_weight = weight.sum()
    anchor_weight = total_weight / (2 * count) if total_weight > 0 else 1.0
    anchored = np.flatnonzero(included)
    mean_anchor = 2 * pairs + 2 * np.arange(len(anchored))
    std_anchor = mean_anchor + 1
    anchor_mean = anchor_weight * whole_mean[anchored, band]
    anchor_std = anchor_weight * whole_std[anchored, band]
    rows += [mean_anchor, mean_anchor, std_anchor]
    cols += [2 * anchored, 2 * anchored + 1, 2 * anchored]
    values += [anchor_mean, np.full(len(anchored), anchor_weight), anchor_std]
    targets = np.zeros(2 * pairs + 2 * len(anchored))
    targets[mean_anchor] = anchor_mean
    targets[std_anchor] = anchor_std
    matrix = csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(len(targets), 2 * count))
    return matrix, targets


def _solve_per_image(band, count, included, whole_mean, whole_std, overlaps, mean_factor,
                     std_factor):
    """(scales, offsets, touched columns, converged) of one band under per-image anchoring."""
    identity = np.tile([1.0, 0.0], count)
    matrix, targets = _per_image_system(band, count, included, whole_mean, whole_std, overlaps,
                                        mean_factor, std_factor)
    if matrix.nnz == 0:
        return identity[0::2], identity[1::2], np.zeros(2 * count, dtype=bool), True
    touched = np.asarray(abs(matrix).sum(axis=0)).ravel() > 0
    residual = targets - matrix @ identity
    # Uniform row scaling leaves the solution unchanged and keeps LSQR's numbers moderate.
    scale = np.abs(matrix.data).max()
    result = lsqr(matrix / scale, residual / scale, atol=1e-15, btol=1e-15, conlim=1e17,
                  iter_lim=max(2000, 40 * count))
    converged = result[1] not in (3, 7)  # 3: ill-conditioned beyond conlim, 7: iteration limit
    solution = identity + result[0]
    return solution[0::2], solution[1::2], touched, converged


def _model_members(groups, included):
    """Per image, whether it is one of its group's model images: the included ones, or every
    image of a group without an included one."""
    has_model = np.bincount(groups, weights=included.astype(float)) > 0
    return included | ~has_model[groups]


def _set_constraints(count, mean_links, std_links, included, mean, std):
    """The set anchoring's constraints (normalised units, on ``delta = x - identity``, so every
    target is 0): per group of images linked by mean rows (an image without links is a group
    of its own), the mean of the model images' corrected means stays the mean of their means;
    per group linked by std rows, likewise for the stds. The two kinds of group are the same
    unless an overlap is flat (its std row is left out) or a custom factor is 0: a constant
    image between two others leaves their contrasts unrelated, so each side keeps its own. A
    group whose model images have no spread at all (a constant image) keeps their scales."""
    mean_groups = connected_groups(count, mean_links)
    std_groups = connected_groups(count, std_links)
    in_mean = np.flatnonzero(_model_members(mean_groups, included))
    in_std = np.flatnonzero(_model_members(std_groups, included))
    spread = np.bincount(std_groups[in_std], weights=np.abs(std[in_std]))
    flat = spread[std_groups[in_std]] == 0
    std_rows = np.where(flat, std_groups.max() + 1 + np.arange(in_std.size), std_groups[in_std])
    rows = np.concatenate([mean_groups[in_mean], mean_groups[in_mean],
                           mean_groups.max() + 1 + std_rows])
    _, rows = np.unique(rows, return_inverse=True)      # number the rows without gaps
    cols = np.concatenate([2 * in_mean, 2 * in_mean + 1, 2 * in_std])
    values = np.concatenate([mean[in_mean], np.ones(in_mean.size),
                             np.where(flat, 1.0, std[in_std])])
    return csr_matrix((values, (rows, cols)), shape=(rows.max() + 1, 2 * count))


def _solve_set(band, count, included, whole_mean, whole_std, overlaps, mean_factor,
               std_factor):
    """(scales, offsets, touched columns, converged) of one band under set anchoring.

    The overlap rows of every pair are minimised subject to the group constraints holding
    exactly (equality-constrained least squares, through its KKT system). Statistics are in
    units centred on the band's mean whole-image mean and divided by its mean std, so the
    numbers are moderate whatever the data type."""
    centre = float(np.mean(whole_mean[:, band]))
    spread = float(np.mean(whole_std[:, band])) or 1.0
    rows, cols, values, (first, second, _) = _overlap_rows(
        band, overlaps, lambda first, second, weight: weight > 0, mean_factor, std_factor,
        centre, spread, overlap_precision)
    identity = np.tile([1.0, 0.0], count)
    matrix = csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(2 * len(first), 2 * count))
    # a pair links its images by the rows it really has (a weight 0 leaves a row empty)
    has_row = np.asarray(abs(matrix).sum(axis=1)).ravel() > 0
    links = np.stack([first, second], axis=1)
    constraints = _set_constraints(count, links[has_row[0::2]].tolist(),
                                   links[has_row[1::2]].tolist(), included,
                                   (whole_mean[:, band] - centre) / spread,
                                   whole_std[:, band] / spread)
    delta, converged = solve_constrained(matrix, constraints, -(matrix @ identity))
    scales = 1.0 + delta[0::2]
    # back from normalised units: a v + b = centre + spread (a (v - centre) / spread + b')
    offsets = spread * delta[1::2] + centre * (1.0 - scales)
    # every image is constrained: an image without overlaps is a group of its own, kept as it is
    return scales, offsets, np.ones(2 * count, dtype=bool), converged


def solve_model(included, whole_mean, whole_std, overlaps, mean_factor=1.0, std_factor=1.0,
                anchoring="set"):
    """Scales and offsets for every model image and band (float64), under ``anchoring``
    ``"set"`` (each connected group's model images keep their overall mean and std together,
    exactly) or ``"per_image"`` (the reference's anchor rows)."""
    count, bands = whole_mean.shape
    solve_band = _solve_set if anchoring == "set" else _solve_per_image
    scales = np.ones((count, bands))
    offsets = np.zeros((count, bands))
    touched = np.zeros(2 * count, dtype=bool)
    converged = True
    for band in range(bands):
        scales[:, band], offsets[:, band], band_touched, band_converged = solve_band(
            band, count, included, whole_mean, whole_std, overlaps, mean_factor, std_factor)
        touched |= band_touched
        converged &= band_converged
    unconstrained = [k for k in range(count) if not touched[2 * k] and not touched[2 * k + 1]]
    return ModelSolution(scales, offsets, unconstrained, bool(converged))


def overlap_seams(overlaps, scales, offsets):
    """Per overlap (rows) and band (columns), the difference of the first image's mean minus the
    second's over their common pixels, before and after the correction: (before, after)."""
    bands = scales.shape[1]
    first = np.array([o.first for o in overlaps], dtype=np.int64)
    second = np.array([o.second for o in overlaps], dtype=np.int64)
    mean_first = np.array([o.mean_first for o in overlaps], dtype=float).reshape(-1, bands)
    mean_second = np.array([o.mean_second for o in overlaps], dtype=float).reshape(-1, bands)
    after = ((scales[first] * mean_first + offsets[first])
             - (scales[second] * mean_second + offsets[second]))
    return mean_first - mean_second, after


def scale_warnings(names, scales):
    """Warnings for non-positive or extreme scales."""
    warnings = []
    low, high = EXTREME_SCALE
    for k, name in enumerate(names):
        for band, scale in enumerate(scales[k]):
            if scale <= 0:
                warnings.append(
                    f"Image {name!r}, band {band + 1}: the fitted scale {scale:.4g} is not "
                    "positive; the correction inverts its radiometry. Check the overlaps.")
            elif not low <= scale <= high:
                warnings.append(
                    f"Image {name!r}, band {band + 1}: the fitted scale {scale:.4g} is extreme "
                    f"(outside [{low}, {high}]).")
    return warnings
