"""Sparse linear least squares with exact equality constraints, through the KKT system.

Used by the global model (set anchoring) and the local correction surfaces."""
import numpy as np
from scipy.sparse import bmat, diags
from scipy.sparse.linalg import splu

# The regularisation, relative to each unknown's own weight, and the most refinement steps
# that remove it: each one shrinks what remains of it by about this weight over the smallest
# (Jacobi-scaled) eigenvalue of the rows, 1e-8 for a chain of 10,000 images.
PROXIMAL_WEIGHT = 1e-9
REFINEMENT_STEPS = 100


def solve_constrained(matrix, constraints, targets):
    """``delta`` minimising ``|matrix delta - targets|`` subject to ``constraints delta = 0``,
    closest to zero where the rows leave it free, and whether the iteration converged.

    The KKT system is equilibrated (unit diagonal) and regularised twice: a proximal term
    (``PROXIMAL_WEIGHT`` times each unknown's own weight) and a small negative block make it
    quasi-definite, so it factorises in a fill-reducing symmetric order with pivoting only on
    tiny pivots (full partial pivoting for the zero block cost 30x in time on 10,000 images).
    Iterative refinement against the exact system then removes both regularisations until the
    KKT residual no longer shrinks (rounding level)."""
    unknowns = matrix.shape[1]
    normal = (matrix.T @ matrix).tocsr()
    diagonal = normal.diagonal()
    proximal = PROXIMAL_WEIGHT * np.where(diagonal > 0, diagonal, diagonal.max(initial=1.0))
    scale = 1.0 / np.sqrt(diagonal + proximal)
    scaled = constraints @ diags(scale)
    dual_scale = 1.0 / np.sqrt(np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel())
    equilibrate = diags(np.concatenate([scale, dual_scale]))
    exact = equilibrate @ bmat([[normal, constraints.T], [constraints, None]]) @ equilibrate
    regularised = (exact + diags(np.concatenate([scale * scale * proximal,
                                                 -PROXIMAL_WEIGHT * np.ones(len(dual_scale))]))
                   ).tocsc()
    factors = splu(regularised, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.01,
                   options={"SymmetricMode": True})
    rhs = equilibrate @ np.concatenate([matrix.T @ targets, np.zeros(len(dual_scale))])
    solution = np.zeros(len(rhs))
    previous = np.inf
    for _ in range(REFINEMENT_STEPS):
        residual = rhs - exact @ solution
        size = np.max(np.abs(residual), initial=0.0)
        if not size < 0.9 * previous:       # at rounding level: it no longer shrinks
            break
        previous = size
        solution += factors.solve(residual)
    delta = scale * solution[:unknowns]
    converged = previous <= 1e-10 * np.max(np.abs(rhs), initial=0.0)
    return delta, bool(converged and np.all(np.isfinite(delta)))
