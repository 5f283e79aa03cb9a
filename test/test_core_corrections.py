"""core/corrections.py: the local corrections as array functions (gamma with one shift per
run, and linear), their fixed points, alpha blend and guards."""
import numpy as np
import pytest

from core.corrections import gamma_correction, gamma_shift, linear_correction


def test_gamma_fixed_point_local_mean_maps_to_reference_mean():
    local = np.array([[[150.0, 80.0, 3000.0, 2.5]]])
    reference = np.array([[[200.0, 60.0, 2500.0, 7.0]]])
    out, unchanged, guarded = gamma_correction(local.copy(), reference, local, 1.0, 0.0)
    np.testing.assert_allclose(out, reference, rtol=1e-12)
    assert not unchanged.any() and not guarded.any()
    # ... and with a shift (one per run), too.
    out, _, _ = gamma_correction(local.copy(), reference, local, 1.0, 12.5)
    np.testing.assert_allclose(out, reference, rtol=1e-12)
    # Without a shift, v = 1 is a fixed point of every gamma curve.
    ones = np.ones_like(local)
    out, _, _ = gamma_correction(ones, reference, local, 1.0, 0.0)
    np.testing.assert_allclose(out, 1.0, rtol=1e-12)


def test_gamma_identity_where_reference_equals_local_and_for_alpha_zero():
    values = np.array([[[17.0, 250.0, 999.0]]], dtype=np.float32)
    local = np.array([[[120.0, 300.0, 800.0]]], dtype=np.float32)
    reference = np.array([[[220.0, 150.0, 810.0]]], dtype=np.float32)
    out, _, _ = gamma_correction(values, local.copy(), local, np.float32(1.0), np.float32(0.0))
    assert np.array_equal(out, values)                       # one image: Ref = L -> unchanged
    out, _, _ = gamma_correction(values, reference, local, np.float32(0.0), np.float32(0.0))
    assert np.array_equal(out, values)                       # alpha = 0: identity
    # The same with a run shift that is not exactly representable: (v + o) - o would round v.
    reflectance = np.array([[[0.1, 0.123456, 0.7]]], dtype=np.float32)
    shift = np.float32(1.8999913)
    out, _, _ = gamma_correction(reflectance, local.copy(), local, np.float32(1.0), shift)
    assert np.array_equal(out, reflectance)
    out, _, _ = gamma_correction(reflectance, reference, local, np.float32(0.0), shift)
    assert np.array_equal(out, reflectance)


def test_gamma_alpha_blends_targets():
    local = np.array([100.0, 400.0])
    reference = np.array([300.0, 200.0])
    out, _, _ = gamma_correction(local.copy(), reference, local, 0.25, 0.0)
    np.testing.assert_allclose(out, 0.25 * reference + 0.75 * local, rtol=1e-12)
    out, _, _ = linear_correction(local.copy(), reference, local, 0.25)
    np.testing.assert_allclose(out, 0.25 * reference + 0.75 * local, rtol=1e-12)


def test_gamma_missing_means_unchanged_and_flagged():
    values = np.array([5.0, 6.0, 7.0])
    reference = np.array([np.nan, 10.0, 10.0])
    local = np.array([8.0, np.nan, 9.0])
    out, unchanged, guarded = gamma_correction(values, reference, local, 1.0, 0.0)
    assert unchanged.tolist() == [True, True, False]
    assert out[:2].tolist() == [5.0, 6.0] and out[2] != 7.0
    out, unchanged, _ = linear_correction(values, reference, local, 1.0)
    assert unchanged.tolist() == [True, True, False]
    assert out[:2].tolist() == [5.0, 6.0] and out[2] == pytest.approx(7.0 * 10.0 / 9.0)


def test_gamma_guard_near_log_zero():
    # M_loc + o = 1 -> ln = 0: gamma taken as 1 (pixel unchanged), counted as guarded.
    values = np.array([0.5, 3.0])
    out, unchanged, guarded = gamma_correction(values, np.array([5.0, 5.0]),
                                               np.array([1.0, 4.0]), 1.0, 0.0)
    assert guarded.tolist() == [True, False] and not unchanged.any()
    assert out[0] == 0.5 and np.isfinite(out).all()


def test_gamma_shift_rule():
    assert gamma_shift(5.0, 1.0) == 0.0          # typical DN data: no shift (= REF)
    assert gamma_shift(2.0, 1.0) == 0.0
    assert gamma_shift(0.25, 1.0) == 1.75        # reflectance: shifted values >= 2
    assert gamma_shift(-40.0, 1.0) == 42.0


def test_linear_correction_formula_and_zero_guard():
    values = np.array([10.0, 20.0, 30.0])
    out, unchanged, guarded = linear_correction(values, np.array([50.0, 50.0, 50.0]),
                                                np.array([25.0, 100.0, 0.0]), 1.0)
    assert out.tolist() == [20.0, 10.0, 30.0]
    assert guarded.tolist() == [False, False, True] and not unchanged.any()
