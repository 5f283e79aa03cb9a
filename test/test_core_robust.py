"""Robust overlap statistics (issue 4): clouds and shadows present in one image only must not
drag the global regression; on clean data the robust mode agrees with the reference mode."""
import importlib
import json

import numpy as np
import pytest
import rasterio

import core_helpers as H
from core import RadioMatchError, global_regression, local_block_adjustment
from core.robust import fit_line

GAIN, OFFSET = 1.25, 300.0              # tile_b = GAIN * truth + OFFSET
TRUE_SCALE, TRUE_OFFSET = 1 / GAIN, -OFFSET / GAIN


def make_pair(folder, blob=None):
    """tile_a (cols 0-160) as captured, tile_b (cols 100-260) distorted, overlapping over 60
    columns; ``blob`` ("cloud" or "shadow") spoils a disk of tile_b inside the overlap."""
    data = H.scene(200, 260, bands=2, seed=11)
    first = H.write_tile(str(folder / "tile_a.tif"), data, 0, 0, 200, 160, nodata=0)
    distorted = data[:, :, 100:260] * GAIN + OFFSET
    rows, cols = np.mgrid[0:200, 0:160]
    disk = (rows - 100) ** 2 + (cols - 30) ** 2 <= 26 ** 2       # inside the 60-column overlap
    if blob == "cloud":
        distorted[:, disk] += 3000
    elif blob == "shadow":
        distorted[:, disk] *= 0.4
    second = str(folder / "tile_b.tif")
    H.write_raster(second, H.cast(distorted, "uint16"), H.scene_transform(100, 0), nodata=0)
    return [first, second], disk[:, :60].mean()


def scale_and_offset(result):
    entry = result.details["adjustments"]["tile_b"]
    return np.array(entry["scale"]), np.array(entry["offset"])


def run(paths, tmp_path, mode, **options):
    return global_regression(paths, str(tmp_path / mode), overlap_statistics=mode,
                             specify_model_images=("include", ["tile_a"]), **options)


@pytest.mark.parametrize("blob", ["cloud", "shadow"])
def test_robust_mode_recovers_gains_through_a_blob_in_one_image(tmp_path, blob):
    folder = tmp_path / "in"
    paths, share = make_pair(folder, blob)
    assert 0.10 <= share <= 0.20                               # the blob's share of the overlap
    robust = scale_and_offset(run(paths, tmp_path, "robust"))
    reference = scale_and_offset(run(paths, tmp_path, "all_pixels"))
    assert np.all(np.abs(robust[0] / TRUE_SCALE - 1) < 0.01)
    assert np.all(np.abs(robust[1] - TRUE_OFFSET) < 0.01 * abs(TRUE_OFFSET))
    # the reference mode is visibly dragged by the blob
    assert np.all(np.abs(reference[0] / TRUE_SCALE - 1) > 0.05)


def test_both_modes_agree_on_clean_data(tmp_path):
    paths, _ = make_pair(tmp_path / "in")
    robust = scale_and_offset(run(paths, tmp_path, "robust"))
    reference = scale_and_offset(run(paths, tmp_path, "all_pixels"))
    np.testing.assert_allclose(robust[0], reference[0], rtol=1e-3)
    np.testing.assert_allclose(robust[1], reference[1], rtol=1e-3, atol=1e-3 * abs(TRUE_OFFSET))


def test_rejected_share_and_inlier_sizes_are_reported(tmp_path):
    paths, share = make_pair(tmp_path / "in", "cloud")
    saved = tmp_path / "adjustments.json"
    result = run(paths, tmp_path, "robust", save_adjustments=str(saved))
    (first, second, rejected), = result.details["overlap_rejected"]
    assert (first, second) == ("tile_a", "tile_b")
    np.testing.assert_allclose(rejected, share, atol=0.02)
    stored = json.loads(saved.read_text())
    overlap_pixels = 200 * 60
    for band in ("band_0", "band_1"):
        size = stored["tile_a"]["overlap_stats"]["tile_b"][band]["size"]
        assert size == stored["tile_b"]["overlap_stats"]["tile_a"][band]["size"]
        assert size == pytest.approx(overlap_pixels * (1 - share), rel=0.03)


def test_robust_mode_is_independent_of_tiles_and_threads(tmp_path):
    paths, _ = make_pair(tmp_path / "in", "cloud")
    outputs = []
    for label, options in {"auto": {}, "w37": {"window_size": 37},
                           "w64x17": {"window_size": (64, 17)},
                           "threads": {"window_parallel_workers": ("thread", 2)}}.items():
        result = global_regression(paths, str(tmp_path / label), **options)
        outputs.append([H.read(path) for path in result.output_images])
    for other in outputs[1:]:
        for expected, got in zip(outputs[0], other):
            np.testing.assert_array_equal(expected, got)


def test_robust_is_the_default_and_the_mode_is_checked(tmp_path):
    paths, _ = make_pair(tmp_path / "in", "cloud")
    default = global_regression(paths, str(tmp_path / "default"),
                                specify_model_images=("include", ["tile_a"]))
    assert np.all(np.abs(scale_and_offset(default)[0] / TRUE_SCALE - 1) < 0.01)
    with pytest.raises(RadioMatchError, match="overlap_statistics"):
        global_regression(paths, str(tmp_path / "bad"), overlap_statistics="median")
    with rasterio.open(default.output_images[1]) as dataset:
        assert dataset.read().any()


def test_fit_line_rejects_outliers_and_gives_up_without_spread():
    rng = np.random.default_rng(3)
    x = rng.normal(1000, 200, 4000)
    y = 1.3 * x - 50 + rng.normal(0, 2, 4000)
    y[:600] += 900
    fit = fit_line(x, y, quantum=1.0)
    assert fit.slope == pytest.approx(1.3, rel=1e-3)
    inliers = fit.inliers(x, y)
    assert not inliers[:600].any() and inliers[600:].mean() > 0.99
    assert fit_line(np.full(100, 5.0), np.arange(100.0)) is None
    assert fit_line(x[:5], y[:5]) is None


def make_stack(folder, count, cloud=True):
    """``count`` tiles on the same 128 x 128 footprint with the same radiometry; the last one has
    a bright cloud filling block (3, 4) of an 8 x 8 grid (16-pixel blocks)."""
    data = H.scene(128, 128, bands=2, seed=5)
    paths = []
    for k in range(count):
        values = data.copy()
        if cloud and k == count - 1:
            values[:, 48:64, 64:80] += 3000
        path = str(folder / f"img{k}.tif")
        H.write_raster(path, H.cast(values, "uint16"), H.scene_transform(0, 0), nodata=0)
        paths.append(path)
    return paths


def local(paths, folder, **options):
    return local_block_adjustment(paths, str(folder), number_of_blocks=(8, 8),
                                  local_model="block_means", **options)


@pytest.mark.parametrize("count", [2, 3])
def test_a_cloudy_block_does_not_change_the_other_images(tmp_path, count):
    (tmp_path / "clean").mkdir()
    (tmp_path / "cloudy").mkdir()
    clean = local(make_stack(tmp_path / "clean", count, cloud=False), tmp_path / "clean_out")
    cloudy_inputs = make_stack(tmp_path / "cloudy", count)
    robust = local(cloudy_inputs, tmp_path / "robust")
    plain = local(cloudy_inputs, tmp_path / "plain", block_statistics="all_blocks")
    expected = H.read(clean.output_images[0]).astype(float)
    robust_first = H.read(robust.output_images[0]).astype(float)
    plain_first = H.read(plain.output_images[0]).astype(float)
    assert np.abs(robust_first - expected).max() <= 1
    assert np.abs(plain_first - expected)[:, 48:64, 64:80].mean() > 100
    outliers = robust.details["outlier_blocks"]
    assert outliers[f"img{count - 1}"] == 2                  # one block, two bands
    assert outliers["img0"] == (2 if count == 2 else 0)      # two images: neither is trusted
    assert all(value == 0 for value in plain.details["outlier_blocks"].values())


def test_block_statistics_is_checked(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(RadioMatchError, match="block_statistics"):
        local(make_stack(tmp_path / "in", 2), tmp_path / "out", block_statistics="median")


def make_quad(folder, cloud=False):
    """Four 96 x 96 tiles of a 160 x 160 scene on a 2 x 2 grid (32-pixel overlaps, all four
    in the centre), the last one 30 % brighter; ``cloud`` puts a bright cloud on that one over
    scene block (4, 4) of a 10 x 10 grid, where all four tiles overlap."""
    data = H.scene(160, 160, bands=2, seed=8)
    paths = []
    for k, (row, col, gain) in enumerate([(0, 0, 1.0), (0, 64, 1.05), (64, 0, 0.97),
                                          (64, 64, 1.3)]):
        values = data[:, row:row + 96, col:col + 96] * gain
        if cloud and k == 3:
            values[:, 0:16, 0:16] += 3000
        path = str(folder / f"quad{k}.tif")
        H.write_raster(path, H.cast(values, "uint16"), H.scene_transform(col, row), nodata=0)
        paths.append(path)
    return paths


def test_a_systematically_brighter_image_is_not_an_outlier_where_four_images_meet(tmp_path):
    (tmp_path / "in").mkdir()
    result = local_block_adjustment(make_quad(tmp_path / "in"), str(tmp_path / "out"),
                                    local_model="block_means",
                                    number_of_blocks=(10, 10))
    assert result.details["outlier_blocks"] == {f"quad{k}": 0 for k in range(4)}
    assert not [w for w in result.warnings if "left unchanged" in w]


def test_a_cloud_where_four_images_meet_is_an_outlier_of_its_image_only(tmp_path):
    (tmp_path / "in").mkdir()
    result = local_block_adjustment(make_quad(tmp_path / "in", cloud=True),
                                    str(tmp_path / "out"), local_model="block_means",
                                    number_of_blocks=(10, 10))
    assert result.details["outlier_blocks"] == {"quad0": 0, "quad1": 0, "quad2": 0, "quad3": 2}


def test_statistics_read_each_pixel_once_and_then_only_the_overlaps(tmp_path, monkeypatch):
    """Issue 6: the first pass reads every pixel of every image once, all bands together (the
    overlap samples come from each image's own pass); the second reads overlap areas only."""
    overlaps = importlib.import_module("core.overlaps")
    paths, _ = make_pair(tmp_path)
    stage, reads = ["setup"], []
    real_read_tile = overlaps.read_tile

    def counting_read_tile(dataset, image, window, nodata):
        reads.append((stage[0], image.name, int(window.width) * int(window.height)))
        return real_read_tile(dataset, image, window, nodata)

    def progress(fraction, message):
        stage[0] = message
        return False

    monkeypatch.setattr(overlaps, "read_tile", counting_read_tile)
    global_regression(paths, str(tmp_path / "out"), window_size=64, progress_callback=progress)

    def pixels(stage_prefix, name):
        return sum(n for s, image, n in reads if s.startswith(stage_prefix) and image == name)

    # tile_a and tile_b are 200 x 160 and share 60 columns
    assert pixels("Computing", "tile_a") == pixels("Computing", "tile_b") == 200 * 160
    assert pixels("Measuring", "tile_a") == pixels("Measuring", "tile_b") == 200 * 60


def test_overlap_samples_are_fitted_and_freed_while_the_pass_goes_on(tmp_path, monkeypatch):
    """Issue 6 (bounded memory over many images): along a strip of images, each overlap is
    fitted as soon as both of its images are read, not after the last image, so the samples
    kept at any time do not grow with the number of images."""
    engine = importlib.import_module("core.global_regression")   # the module, not the function
    overlaps = importlib.import_module("core.overlaps")
    data = H.scene(120, 520, bands=2, seed=3)
    paths = [H.write_tile(str(tmp_path / f"strip{k}.tif"), data, 0, 100 * k, 120, 120,
                          gain=1 + 0.05 * k, nodata=0) for k in range(5)]
    events = []
    real_read_tile, real_fit_pair = overlaps.read_tile, engine._fit_pair

    def logging_read_tile(dataset, image, window, nodata):
        events.append(("read", image.name))
        return real_read_tile(dataset, image, window, nodata)

    def logging_fit_pair(lattice, first_parts, second_parts, dtype):
        events.append(("fit", len(first_parts), len(second_parts)))
        return real_fit_pair(lattice, first_parts, second_parts, dtype)

    monkeypatch.setattr(overlaps, "read_tile", logging_read_tile)
    monkeypatch.setattr(engine, "_fit_pair", logging_fit_pair)
    result = global_regression(paths, str(tmp_path / "out"), window_size=64)

    fits = [n for n, event in enumerate(events) if event[0] == "fit"]
    first_reads = {}
    for n, event in enumerate(events):
        if event[0] == "read":
            first_reads.setdefault(event[1], n)
    assert len(fits) == 4
    for k, position in enumerate(fits):
        # the overlap of strip k and strip k+1 is fitted before strip k+2 is read
        if k + 2 < 5:
            assert position < first_reads[f"strip{k + 2}"]
    assert all(event[1] > 0 and event[2] > 0 for event in events if event[0] == "fit")
    assert len(result.details["overlaps"]) == 4
