"""The known-truth cases and scores of test/known_truth.py, on which `make quality` and the
correctness tests rely: every tile must hold exactly the distortion the case says it applied
to the truth, and every score must read 1 on the inputs, 0 on the truth and the right value
on a known seam. No engine here: numpy and rasterio only.
"""
import os

import numpy as np
import pytest
import rasterio

import known_truth as K

UINT16_ROUNDING = 0.5 + 1e-9


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("known_truth")
    return {name: generator(str(folder / name)) for name, generator in K.CASES.items()}


def expected_input(case, k):
    """The distortion model, written out: gain * illumination * ((1 - cloud) * truth + cloud *
    cloud_level) + offset."""
    seen = case.truth[k]
    if case.cloud is not None:
        seen = (1 - case.cloud[k]) * seen + case.cloud[k] * case.cloud_level[:, None, None]
    if case.illumination is not None:
        seen = case.illumination[k] * seen
    return case.gains[k][:, None, None] * seen + case.offsets[k][:, None, None]


def written_truth(case, folder):
    return K.write_like_inputs(case, case.truth, str(folder))


@pytest.mark.parametrize("name", list(K.CASES))
def test_tiles_hold_the_distorted_truth(cases, name):
    case = cases[name]
    assert len(case.paths) == len(case.truth) == len(case.valid) == len(case.windows) >= 4
    for k, path in enumerate(case.paths):
        values, valid = K.read_tile(path)
        assert values.shape == case.truth[k].shape
        assert np.array_equal(valid, np.broadcast_to(case.valid[k], valid.shape))
        assert case.valid[k].mean() > 0.3
        difference = np.abs(values - expected_input(case, k))[:, case.valid[k]]
        if case.dtype == "uint16":
            assert difference.max() <= UINT16_ROUNDING
        else:
            assert difference.max() <= 1e-6 * np.abs(values[:, case.valid[k]]).max()


@pytest.mark.parametrize("name", list(K.CASES))
def test_tiles_are_tiled_deflate_geotiffs_on_the_scene_grid(cases, name):
    _, _, scene_transform, scene_crs = K.scene()
    for path, (row_off, col_off, rows, cols) in zip(cases[name].paths, cases[name].windows):
        with rasterio.open(path) as dataset:
            assert dataset.driver == "GTiff" and dataset.profile["tiled"]
            assert dataset.compression.name.lower() == "deflate"
            assert dataset.crs == scene_crs and dataset.shape == (rows, cols)
            assert dataset.transform.almost_equals(scene_transform * scene_transform.translation(
                col_off, row_off))
            assert dataset.dtypes[0] == cases[name].dtype


def test_truth_is_the_scene_on_each_tile_grid(cases):
    raw = rasterio.open(K.SCENE_PATH).read().astype(np.float64)
    case = cases["gain_offset_grid"]
    for (row_off, col_off, rows, cols), truth, valid in zip(case.windows, case.truth, case.valid):
        scene_dn = raw[:, row_off:row_off + rows, col_off:col_off + cols]
        assert np.abs(truth / K.DN_SCALE - K.DN_PEDESTAL - scene_dn)[:, valid].max() <= 0.5
        assert np.array_equal(valid, np.all(scene_dn > 0, axis=0))


@pytest.mark.parametrize("name", list(K.CASES))
def test_overlapping_tiles_see_the_same_ground(cases, name):
    case = cases[name]
    pairs = K.overlapping_pairs(case.windows)
    assert pairs
    for i, j, in_i, in_j in pairs:
        both = case.valid[i][in_i] & case.valid[j][in_j]
        assert np.array_equal(case.truth[i][(slice(None),) + in_i][:, both],
                              case.truth[j][(slice(None),) + in_j][:, both])


@pytest.mark.parametrize("name", list(K.CASES))
def test_gains_and_offsets_are_as_documented(cases, name):
    case = cases[name]
    unit = K.REFLECTANCE_SCALE if case.dtype == "float32" else K.DN_SCALE
    assert case.gains.shape == case.offsets.shape == (len(case.paths), case.bands)
    assert 0.7 <= case.gains.min() and case.gains.max() <= 1.3
    assert np.abs(case.gains - 1).min() >= K.MIN_GAIN_CHANGE
    assert -20 * unit <= case.offsets.min() and case.offsets.max() <= 40 * unit


@pytest.mark.parametrize("name", ["cloud", "eight_bands"])
def test_the_cloud_is_in_one_tile_inside_an_overlap(cases, name):
    case = cases[name]
    cloudy = [k for k, opacity in enumerate(case.cloud) if opacity.any()]
    assert len(cloudy) == 1
    k = cloudy[0]
    opacity = case.cloud[k]
    assert opacity.max() == 1.0 and 0 < opacity[opacity > 0].min() < 0.1     # a smooth edge
    assert (opacity > 0).sum() > 1000
    assert np.array_equal(case.scored[k], case.valid[k] & (opacity == 0))
    cloudy_pixels = np.count_nonzero(opacity)
    partners = [j for i, j, in_i, _ in K.overlapping_pairs(case.windows)
                if i == k and np.count_nonzero(opacity[in_i]) == cloudy_pixels]
    partners += [i for i, j, _, in_j in K.overlapping_pairs(case.windows)
                 if j == k and np.count_nonzero(opacity[in_j]) == cloudy_pixels]
    assert partners, "the cloud lies inside an overlap"
    assert (case.cloud_level > np.percentile(np.concatenate(
        [t[:, v] for t, v in zip(case.truth, case.valid)], axis=1), 99, axis=1)).all()


def test_illumination_fields_are_smooth_and_10_to_30_percent(cases):
    case = cases["illumination"]
    for field in case.illumination:
        assert 0.1 - 1e-9 <= field.max() - field.min() <= 0.3 + 1e-9
        assert np.abs(np.diff(field, axis=1)).max() < 0.01
    assert len({round(float(field.std()), 6) for field in case.illumination}) == len(case.paths)


def test_rotated_footprints_leave_nodata_collars(cases):
    case, grid = cases["rotated"], cases["gain_offset_grid"]
    _, scene_valid, _, _ = K.scene()
    for (row_off, col_off, rows, cols), valid in zip(case.windows, case.valid):
        inside_scene = scene_valid[row_off:row_off + rows, col_off:col_off + cols]
        assert (inside_scene & ~valid).mean() > 0.05
        assert not valid[0].all() and not valid[-1].all()
    assert len(case.windows) == len(grid.windows)


@pytest.mark.parametrize("nodata", [K.FLOAT_NODATA, float("nan")])
def test_float_reflectance_has_negatives_and_its_nodata(tmp_path, nodata):
    case = K.float_reflectance(str(tmp_path), nodata=nodata)
    values, valid = K.read_tile(case.paths[0])
    assert np.array_equal(valid[0], case.valid[0]) and not case.valid[0].all()
    assert (values[valid] < 0).any()
    hole = values[0][~case.valid[0]]
    assert np.isnan(hole).all() if np.isnan(nodata) else (hole == nodata).all()


def test_eight_bands_are_distinct_not_copies(cases):
    case = cases["eight_bands"]
    pixels = case.truth[4][:, case.valid[4]]
    assert case.bands == 8
    correlation = np.corrcoef(pixels)
    assert correlation[~np.eye(8, dtype=bool)].max() < 0.9999
    assert np.linalg.matrix_rank(pixels - pixels.mean(axis=1, keepdims=True)) == 8


def test_disconnected_groups_do_not_overlap(cases):
    case = cases["disconnected"]
    assert sorted(set(case.groups)) == [0, 1]
    pairs = {(i, j) for i, j, _, _ in K.overlapping_pairs(K.tile_windows(case.paths))}
    assert pairs and all(case.groups[i] == case.groups[j] for i, j in pairs)
    assert all(any(case.groups[i] == g for i, j in pairs) for g in (0, 1))


@pytest.mark.parametrize("name", list(K.CASES))
def test_inputs_score_one(cases, name):
    case = cases[name]
    assert K.seam_score(case, case.paths) == pytest.approx(1.0, abs=1e-12)
    assert K.error_score(case, case.paths) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", list(K.CASES))
def test_truth_scores_zero(cases, name, tmp_path):
    case = cases[name]
    truth = written_truth(case, tmp_path)
    assert K.seam_score(case, truth) < 1e-3                 # rounding to uint16 only
    assert K.error_score(case, truth) < 1e-3
    assert (K.truth_rmse(case, truth) < 1e-3 * K.distortion_rmse(case)).all()


@pytest.mark.parametrize("name", ["gain_offset_grid", "rotated", "float_reflectance",
                                  "disconnected"])
def test_exact_global_correction_scores_about_zero(cases, name, tmp_path):
    case = cases[name]
    outputs = K.exact_global_outputs(case, str(tmp_path))
    assert K.seam_score(case, outputs) < 1e-3
    assert K.error_score(case, outputs) < 1e-3
    assert (K.truth_rmse(case, outputs) < 0.005 * K.distortion_rmse(case)).all()
    differences = K.overlap_mean_differences(outputs, case.scored)
    assert max(np.abs(d).max() for d in differences.values()) < (
        0.1 if case.dtype == "uint16" else 1e-6)


def test_exact_global_correction_leaves_the_illumination(cases, tmp_path):
    case = cases["illumination"]
    outputs = K.exact_global_outputs(case, str(tmp_path))
    assert 0.1 < K.seam_score(case, outputs) < 0.5
    assert 0.1 < K.error_score(case, outputs) < 0.5


def test_cloud_pixels_are_left_out_of_the_scores(cases, tmp_path):
    case = cases["cloud"]
    outputs = K.exact_global_outputs(case, str(tmp_path))
    scale = K.truth_band_std(case)
    assert K.seam_figure(outputs, scale, case.scored) < 1e-4
    assert K.seam_figure(outputs, scale) > 100 * K.seam_figure(outputs, scale, case.scored)
    assert K.seam_score(case, outputs) < 1e-3 and K.error_score(case, outputs) < 1e-3


def test_distortion_rmse_is_the_rms_of_input_minus_truth(cases):
    case = cases["gain_offset_grid"]
    squares = [[] for _ in range(case.bands)]
    for path, truth, valid in zip(case.paths, case.truth, case.valid):
        values, _ = K.read_tile(path)
        for band in range(case.bands):
            squares[band].append((values[band] - truth[band])[valid] ** 2)
    expected = [np.sqrt(np.concatenate(s).mean()) for s in squares]
    assert K.distortion_rmse(case) == pytest.approx(expected, rel=1e-12)
    assert (K.distortion_rmse(case) > 100 * K.DN_SCALE / 64).all()


def test_seam_sees_a_known_seam(tmp_path):
    case = K.gain_offset_grid(str(tmp_path / "strip"), rows=1, cols=2)
    step = 640.0
    outputs = K.write_like_inputs(case, [case.truth[0], case.truth[1] + step],
                                  str(tmp_path / "out"))
    scale = K.truth_band_std(case)
    assert K.seam_figure(outputs, scale, case.scored) == pytest.approx(np.mean(step / scale),
                                                                       rel=1e-12)
    assert list(K.overlap_mean_differences(outputs, case.scored)) == [(0, 1)]
    assert K.overlap_mean_differences(outputs)[(0, 1)] == pytest.approx([-step] * 3, abs=1e-9)
    assert K.error_score(case, outputs) > 0.01


def test_block_mean_differences_see_a_seam_that_varies_across_the_overlap(cases, tmp_path):
    case = cases["gain_offset_grid"]
    # tile 1 brighter by 40 on its left half only: its blocks there differ by 40 from tile 0
    shifted = [t.copy() for t in case.truth]
    shifted[1][:, :, :shifted[1].shape[2] // 2] += 40.0
    outputs = K.write_like_inputs(case, shifted, str(tmp_path / "step"))
    truth = K.write_like_inputs(case, case.truth, str(tmp_path / "truth"))
    assert K.block_mean_differences(truth, case.scored).max() < 0.5
    differences = K.block_mean_differences(outputs, case.scored)
    assert np.isclose(differences, 40.0, atol=0.5).sum() > 20
    assert K.block_mean_differences([outputs[0], outputs[3]],
                                    [case.scored[0], case.scored[3]]).max() < 0.5


def test_error_allows_one_common_gain_and_offset_only(cases, tmp_path):
    case = cases["gain_offset_grid"]
    common = K.write_like_inputs(case, [2 * t + 500 for t in case.truth], str(tmp_path / "common"))
    assert K.error_score(case, common) < 1e-3
    per_tile = [(1 + 0.05 * (k % 2)) * t for k, t in enumerate(case.truth)]
    off = K.write_like_inputs(case, per_tile, str(tmp_path / "per_tile"))
    assert 0.01 < K.error_score(case, off) < 1
    # in truth units: the same outputs on another overall scale deviate just as much
    rescaled = K.write_like_inputs(case, [3 * t + 1000 for t in per_tile], str(tmp_path / "x3"))
    assert K.truth_rmse(case, rescaled) == pytest.approx(K.truth_rmse(case, off), rel=1e-3)


def test_scores_refuse_rasters_off_the_case_grid(cases, tmp_path):
    case = cases["gain_offset_grid"]
    shifted = os.path.join(str(tmp_path), "shifted.tif")
    with rasterio.open(case.paths[1]) as source:
        profile = source.profile
        profile["transform"] = source.transform * source.transform.translation(0.5, 0)
        with rasterio.open(shifted, "w", **profile) as target:
            target.write(source.read())
    with pytest.raises(ValueError, match="pixel grid"):
        K.seam_figure([case.paths[0], shifted], K.truth_band_std(case))
    with pytest.raises(ValueError, match="rasters for the"):
        K.truth_rmse(case, case.paths[:-1])


def test_seam_yardstick_is_the_truth_mosaic_std(cases):
    case = cases["gain_offset_grid"]
    dn, scene_valid, _, _ = K.scene()
    covered = np.zeros_like(scene_valid)
    for row_off, col_off, rows, cols in case.windows:
        covered[row_off:row_off + rows, col_off:col_off + cols] = True
    expected = K.uint16_truth(dn)[:, covered & scene_valid].std(axis=1)
    assert K.truth_band_std(case) == pytest.approx(expected, rel=1e-12)
