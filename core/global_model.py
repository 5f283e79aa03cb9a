"""The global least-squares model: one sparse, identity-regularised system per band.

Unknowns per band are ``[a_0, b_0, a_1, b_1, ...]`` (scale and offset of each model image).
The solution is the least-squares solution closest to identity, ``x = x0 + pinv(A)(y - A x0)``,
found with LSQR started at zero on ``delta = x - x0`` (LSQR stays in the row space of A, so the
minimum-norm ``delta`` is what it converges to).
"""
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import lsqr

EXTREME_SCALE = (0.1, 10.0)


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


def _band_system(band, count, included, whole_mean, whole_std, overlaps, mean_factor,
                 std_factor):
    rows, cols, values, targets = [], [], [], []

    def add_row(entries, target):
        row = len(targets)
        for col, value in entries:
            rows.append(row)
            cols.append(col)
            values.append(value)
        targets.append(target)

    total_weight = 0.0
    for overlap in overlaps:
        i, j = overlap.first, overlap.second
        weight = float(overlap.size[band])
        if weight <= 0 or not (included[i] or included[j]):
            continue
        total_weight += weight
        mean_weight, std_weight = weight * mean_factor, weight * std_factor
        add_row([(2 * i, mean_weight * overlap.mean_first[band]), (2 * i + 1, mean_weight),
                 (2 * j, -mean_weight * overlap.mean_second[band]), (2 * j + 1, -mean_weight)],
                0.0)
        add_row([(2 * i, std_weight * overlap.std_first[band]),
                 (2 * j, -std_weight * overlap.std_second[band])], 0.0)
    anchor_weight = total_weight / (2 * count) if total_weight > 0 else 1.0
    for k in np.flatnonzero(included):
        mean, std = whole_mean[k, band], whole_std[k, band]
        add_row([(2 * k, anchor_weight * mean), (2 * k + 1, anchor_weight)], anchor_weight * mean)
        add_row([(2 * k, anchor_weight * std)], anchor_weight * std)
    matrix = csr_matrix((values, (rows, cols)), shape=(len(targets), 2 * count))
    return matrix, np.asarray(targets, dtype=np.float64)


def solve_model(included, whole_mean, whole_std, overlaps, mean_factor=1.0, std_factor=1.0):
    """Scales and offsets for every model image and band (float64)."""
    count, bands = whole_mean.shape
    identity = np.tile([1.0, 0.0], count)
    scales = np.ones((count, bands))
    offsets = np.zeros((count, bands))
    touched = np.zeros(2 * count, dtype=bool)
    converged = True
    for band in range(bands):
        matrix, targets = _band_system(band, count, included, whole_mean, whole_std, overlaps,
                                       mean_factor, std_factor)
        if matrix.nnz == 0:
            continue
        touched |= np.asarray(abs(matrix).sum(axis=0)).ravel() > 0
        residual = targets - matrix @ identity
        # Uniform row scaling leaves the solution unchanged and keeps LSQR's numbers moderate.
        scale = np.abs(matrix.data).max()
        result = lsqr(matrix / scale, residual / scale, atol=1e-15, btol=1e-15, conlim=1e17,
                      iter_lim=max(2000, 40 * count))
        converged &= result[1] not in (3, 7)  # 3: ill-conditioned beyond conlim, 7: iteration limit
        solution = identity + result[0]
        scales[:, band] = solution[0::2]
        offsets[:, band] = solution[1::2]
    unconstrained = [k for k in range(count) if not touched[2 * k] and not touched[2 * k + 1]]
    return ModelSolution(scales, offsets, unconstrained, bool(converged))


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
