"""Local corrections as pure array functions: gamma with one shift per run, and linear.

``alpha`` blends the target mean between the local mean (0) and the reference mean (1).
Pixels without an interpolated reference or local mean are left unchanged and counted.
"""
import numpy as np

LOG_GUARD = 1e-6


def gamma_shift(global_minimum, epsilon):
    """One shift for the whole run so that every shifted value is at least 1 + epsilon."""
    return max(0.0, 1.0 + epsilon - float(global_minimum))


def target_mean(reference_mean, local_mean, alpha):
    return alpha * reference_mean + (1.0 - alpha) * local_mean


def gamma_correction(values, reference_mean, local_mean, alpha, shift):
    """out = (v + o) ** (ln(M_t + o) / ln(M_loc + o)) - o.

    Returns (corrected, unchanged, guarded): ``unchanged`` marks pixels without both means,
    ``guarded`` pixels whose ln(M_loc + o) was too close to 0 (gamma taken as 1)."""
    unchanged = np.isnan(reference_mean)
    unchanged |= np.isnan(local_mean)
    # In place where possible: this runs on every pixel of every band.
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = np.log(local_mean + shift)
        guarded = np.abs(denominator) < LOG_GUARD
        guarded &= ~unchanged
        fixed = unchanged | guarded
        gamma = target_mean(reference_mean, local_mean, alpha)
        gamma += shift
        np.log(gamma, out=gamma)
        gamma /= denominator            # unchanged and guarded pixels are set to 1 below
        np.copyto(gamma, 1, where=fixed)
        corrected = values + shift
        np.power(corrected, gamma, out=corrected)
        corrected -= shift
    # gamma = 1 (a block only this image covers, or alpha = 0) is the identity: (v + o) - o
    # would round v in the calculation dtype when the run has a shift.
    fixed |= gamma == 1
    np.copyto(corrected, values, where=fixed)
    return corrected.astype(values.dtype, copy=False), unchanged, guarded


def linear_correction(values, reference_mean, local_mean, alpha):
    """out = v * M_t / M_loc; M_loc = 0 leaves the pixel unchanged (counted as guarded)."""
    unchanged = np.isnan(reference_mean) | np.isnan(local_mean)
    guarded = ~unchanged & (local_mean == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = target_mean(reference_mean, local_mean, alpha) / np.where(guarded, 1.0, local_mean)
    corrected = np.where(unchanged | guarded, values, values * ratio)
    return corrected.astype(values.dtype, copy=False), unchanged, guarded


def block_corrections(reference_mean, local_mean, alpha, shift, method):
    """What each block's correction is, from its reference and local means: the gamma
    exponent ``ln(M_t + o) / ln(M_loc + o)`` (1 where the guard applies) or the linear gain
    ``M_t / M_loc``; NaN where a mean is missing."""
    target = target_mean(reference_mean, local_mean, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "gamma":
            denominator = np.log(local_mean + shift)
            return np.where(np.abs(denominator) < LOG_GUARD, 1.0,
                            np.log(target + shift) / denominator)
        return np.where(local_mean == 0, 1.0, target / local_mean)
