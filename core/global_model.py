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
    """The sparse rows of one band: per used pair a mean row and a std row, then per included
    image a mean and a std anchor row (§2.7), built as whole arrays."""
    first = np.array([o.first for o in overlaps], dtype=np.int64)
    second = np.array([o.second for o in overlaps], dtype=np.int64)
    weight = np.array([o.size[band] for o in overlaps], dtype=np.float64)
    used = (weight > 0) & (included[first] | included[second]) if overlaps else np.zeros(0, bool)
    first, second, weight = first[used], second[used], weight[used]
    kept = [o for o, keep in zip(overlaps, used) if keep]
    mean_first = np.array([o.mean_first[band] for o in kept], dtype=np.float64)
    mean_second = np.array([o.mean_second[band] for o in kept], dtype=np.float64)
    std_first = np.array([o.std_first[band] for o in kept], dtype=np.float64)
    std_second = np.array([o.std_second[band] for o in kept], dtype=np.float64)
    pairs = len(kept)
    mean_rows, std_rows = 2 * np.arange(pairs), 2 * np.arange(pairs) + 1
    # A flat side (std 0) makes "a_i s_ij = a_j s_ji" demand a zero scale of the other image:
    # its contrast cannot be matched against a constant, so that std equation is left out.
    flat = (std_first == 0) | (std_second == 0)
    mean_weight, std_weight = weight * mean_factor, np.where(flat, 0.0, weight * std_factor)
    rows = [mean_rows, mean_rows, mean_rows, mean_rows, std_rows, std_rows]
    cols = [2 * first, 2 * first + 1, 2 * second, 2 * second + 1, 2 * first, 2 * second]
    values = [mean_weight * mean_first, mean_weight, -mean_weight * mean_second, -mean_weight,
              std_weight * std_first, -std_weight * std_second]

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
