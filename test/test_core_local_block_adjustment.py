"""Core tests of ``core.local_block_adjustment`` end to end (the block grid, the corrections,
block map files, validity, bad input); the unit tests of its parts are in test_core_blocks.py
and test_core_corrections.py.

Every end-to-end test writes real GeoTIFFs with rasterio into ``tmp_path`` and runs
``core.local_block_adjustment`` on them. The engine is imported as ``core`` (the repository root
is on ``sys.path`` through pytest.ini). Most of these tests pin the reference's block-means
model, so ``run`` asks for ``local_model="block_means"`` unless a test says otherwise; the
surface model (the default) is tested at the end of this file and in test_core_surfaces.py.
"""
import math
import os

import numpy as np
import pytest
import rasterio
from affine import Affine

import core
import core_helpers
from core import CancelledError, RadioMatchError, local_block_adjustment
from core.blocks import grid_shape_for_count

# ---------------------------------------------------------------------------------------------
# Helpers (GeoTIFF writing, reading and checksums from core_helpers): small rasters on a 30 m
# grid in UTM 18N, placed in base-pixel units from (X0, Y1).
# ---------------------------------------------------------------------------------------------
CRS = core_helpers.CRS
X0, Y1 = 500000.0, 4200000.0
PIXEL = 30.0
read = core_helpers.read


def write_image(path, data, *, col=0.0, row=0.0, pixel=PIXEL, nodata=None, dtype=None,
                crs=CRS):
    """Write ``data`` ((rows, cols) or (bands, rows, cols)) with its top-left corner ``col``
    and ``row`` base pixels right of / below (X0, Y1), pixel size ``pixel``."""
    transform = Affine(pixel, 0.0, X0 + col * PIXEL, 0.0, -pixel, Y1 - row * PIXEL)
    return core_helpers.write_raster(str(path), data, transform, crs=crs, nodata=nodata,
                                     dtype=dtype)


def texture(shape, base, spread, seed):
    """Integer-valued float64 texture: base + smooth pattern + noise."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    smooth = np.sin(cols / 7.0) + np.cos(rows / 5.0)
    return np.round(base + spread * (0.5 * smooth + rng.uniform(-1, 1, shape)))


def pixels(path):
    """The pixel array's bytes (outputs compared byte for byte)."""
    data = read(path)
    return data.dtype.str, data.shape, data.tobytes()


def overlap_gap(path_a, path_b, region_a, region_b, nodata=None):
    """|mean(A) - mean(B)| over the same ground region given as array slices of each image."""
    a = read(path_a)[(slice(None),) + region_a].astype(float)
    b = read(path_b)[(slice(None),) + region_b].astype(float)
    keep = np.isfinite(a) & np.isfinite(b)
    if nodata is not None:
        keep &= (a != nodata) & (b != nodata)
    return abs(a[keep].mean() - b[keep].mean())


@pytest.fixture
def pair(tmp_path):
    """Two overlapping 3-band uint16 images, B brighter than A, nodata 0 with a few holes.

    A: 40 rows x 60 cols at (0, 0); B: 40 x 60 at column 40 (overlap: A cols 40-59 = B cols
    0-19). Canvas 100 x 40 pixels (3000 m x 1200 m)."""
    folder = tmp_path / "in"
    folder.mkdir()
    a = np.stack([texture((40, 60), 1000 + 100 * b, 150, seed=b) for b in range(3)])
    b = np.stack([texture((40, 60), 1600 + 100 * b, 150, seed=10 + b) for b in range(3)])
    a[:, 3:6, 50:53] = 0
    b[:, 30:33, 2:5] = 0
    return (write_image(folder / "A.tif", a, nodata=0, dtype="uint16"),
            write_image(folder / "B.tif", b, col=40, nodata=0, dtype="uint16"))


@pytest.fixture
def misaligned(tmp_path):
    """Three single-band images with different pixel sizes and non-aligned grids."""
    folder = tmp_path / "mis"
    folder.mkdir()
    return [
        write_image(folder / "m0.tif", texture((50, 70), 900, 200, 1), nodata=0, dtype="uint16"),
        write_image(folder / "m1.tif", texture((60, 45), 1500, 250, 2), col=37.5, row=11.25,
                    pixel=20.0, nodata=0, dtype="uint16"),
        write_image(folder / "m2.tif", texture((30, 33), 1200, 100, 3), col=19.0, row=-7.0,
                    pixel=45.0, nodata=0, dtype="uint16"),
    ]


def run(inputs, out, **options):
    options.setdefault("local_model", "block_means")
    return local_block_adjustment(list(inputs), str(out), **options)


# ---------------------------------------------------------------------------------------------
# The block grid
# ---------------------------------------------------------------------------------------------
def test_grid_int_end_to_end_three_images_on_3_to_1_canvas(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [write_image(folder / f"t{k}.tif", texture((30, 30), 500 + 100 * k, 50, k),
                         col=30 * k, nodata=0, dtype="uint16") for k in range(3)]
    result = run(paths, tmp_path / "out", number_of_blocks=100,
                 save_block_maps=(str(tmp_path / "maps" / "ref.tif"),
                                  str(tmp_path / "maps" / "$_map.tif")))
    assert result.details["grid"] == (10, 30)
    with rasterio.open(str(tmp_path / "maps" / "ref.tif")) as dataset:
        assert (dataset.height, dataset.width) == (10, 30)


def test_grid_int_end_to_end_two_images_square_canvas(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    a = write_image(folder / "a.tif", texture((40, 40), 800, 60, 1), nodata=0, dtype="uint16")
    b = write_image(folder / "b.tif", texture((40, 40), 900, 60, 2), col=20, row=20, nodata=0,
                    dtype="uint16")
    result = run([a, b], tmp_path / "out2", number_of_blocks=100)
    assert result.details["grid"] == (14, 14)
    assert result.details["canvas"] == pytest.approx(
        (X0, Y1 - 60 * PIXEL, X0 + 60 * PIXEL, Y1))


def test_grid_tuple_is_rows_then_columns(tmp_path, pair):
    maps = tmp_path / "maps"
    result = run(pair, tmp_path / "out", number_of_blocks=(3, 7),
                 save_block_maps=(str(maps / "ref.tif"), str(maps / "local_$.tif")))
    assert result.details["grid"] == (3, 7)
    for name in ("ref.tif", "local_A.tif", "local_B.tif"):
        with rasterio.open(str(maps / name)) as dataset:
            assert (dataset.height, dataset.width) == (3, 7)


def _cv_images(folder, nodata_pixels=True):
    """Band 1 pooled over two images: half 50, half 150 -> mean 100, std 50, CV 0.5 ->
    round(10 * 0.5 / 0.36) = 14. Each image alone is constant (CV 0 -> 1 x 1); band 2 varies
    wildly (it must be ignored); nodata pixels (0) would change the CV if they counted."""
    folder.mkdir(exist_ok=True)
    a = np.full((2, 20, 20), 50.0)
    b = np.full((2, 20, 20), 150.0)
    a[1] = texture((20, 20), 5000, 4000, 1)
    b[1] = texture((20, 20), 100, 90, 2)
    if nodata_pixels:
        a[:, :4, :4] = 0
        b[:, -4:, -4:] = 0
    return [write_image(folder / "cv_a.tif", a, nodata=0, dtype="uint16"),
            write_image(folder / "cv_b.tif", b, col=20, nodata=0, dtype="uint16")]


def test_grid_coefficient_of_variation_intended_rule(tmp_path):
    paths = _cv_images(tmp_path / "in")
    result = run(paths, tmp_path / "out", number_of_blocks="coefficient_of_variation")
    assert result.details["grid"] == (14, 14)


def test_grid_coefficient_of_variation_other_cv(tmp_path):
    # CV = 0.2 (values 80 and 120) -> round(10 * 0.2 / 0.36) = round(5.56) = 6.
    folder = tmp_path / "in"
    folder.mkdir()
    data = np.full((16, 16), 80.0)
    data[:, 8:] = 120.0
    path = write_image(folder / "one.tif", data, nodata=0, dtype="uint16")
    result = run([path], tmp_path / "out", number_of_blocks="coefficient_of_variation")
    assert result.details["grid"] == (6, 6)


def test_grid_coefficient_of_variation_ignores_debug_logs(tmp_path):
    # The reference's grid depended on debug_logs. It must not.
    paths = _cv_images(tmp_path / "in")
    quiet = run(paths, tmp_path / "o1", number_of_blocks="coefficient_of_variation")
    loud = run(paths, tmp_path / "o2", number_of_blocks="coefficient_of_variation",
               debug_logs=True)
    assert quiet.details["grid"] == loud.details["grid"] == (14, 14)
    for x, y in zip(quiet.output_images, loud.output_images):
        assert pixels(x) == pixels(y)


def test_grid_coefficient_of_variation_with_block_windows(tmp_path):
    # window_size="block" before the grid exists: the CV pass must still run.
    paths = _cv_images(tmp_path / "in")
    plain = run(paths, tmp_path / "o1", number_of_blocks="coefficient_of_variation")
    blocky = run(paths, tmp_path / "o2", number_of_blocks="coefficient_of_variation",
                 window_size="block")
    assert blocky.details["grid"] == (14, 14)
    for x, y in zip(plain.output_images, blocky.output_images):
        assert pixels(x) == pixels(y)


# ---------------------------------------------------------------------------------------------
# End-to-end corrections
# ---------------------------------------------------------------------------------------------
def _constant_pair(tmp_path, low=100, high=400, dtype="uint16"):
    """Two images with the same footprint: every block has L_A = low, L_B = high."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    return (write_image(folder / "low.tif", np.full((2, 24, 32), low), nodata=0, dtype=dtype),
            write_image(folder / "high.tif", np.full((2, 24, 32), high), nodata=0, dtype=dtype))


@pytest.mark.parametrize("method", ["gamma", "linear"])
@pytest.mark.parametrize("alpha, low_target, high_target", [
    (1.0, 250, 250), (0.5, 175, 325), (0.0, 100, 400)])
def test_alpha_blends_towards_reference_mean(tmp_path, method, alpha, low_target, high_target):
    low, high = _constant_pair(tmp_path)
    result = run([low, high], tmp_path / "out", number_of_blocks=(2, 3), alpha=alpha,
                 correction_method=method, output_dtype="float32")
    out_low, out_high = (read(p) for p in result.output_images)
    np.testing.assert_allclose(out_low, low_target, rtol=1e-5)
    np.testing.assert_allclose(out_high, high_target, rtol=1e-5)


def test_alpha_zero_is_identity_on_textured_data(tmp_path, pair):
    result = run(pair, tmp_path / "out", alpha=0.0, number_of_blocks=(4, 10))
    for source, output in zip(pair, result.output_images):
        assert np.array_equal(read(source), read(output))


def test_linear_alpha_is_a_blend_of_identity_and_full_correction(tmp_path, pair):
    outputs = {}
    for alpha in (0.0, 0.5, 1.0):
        result = run(pair, tmp_path / f"out{int(alpha * 10)}", alpha=alpha, correction_method="linear",
                     number_of_blocks=(4, 10), output_dtype="float64",
                     calculation_dtype="float64")
        outputs[alpha] = [read(p) for p in result.output_images]
    for k in range(2):
        valid = read(pair[k]) != 0
        half, none, full = outputs[0.5][k], outputs[0.0][k], outputs[1.0][k]
        np.testing.assert_allclose(half[valid], 0.5 * (none[valid] + full[valid]), rtol=1e-9)
        assert not np.allclose(full[valid], none[valid])


def test_linear_correction_end_to_end_pulls_means_together(tmp_path, pair):
    region_a, region_b = (slice(None), slice(40, 60)), (slice(None), slice(0, 20))
    before = overlap_gap(*pair, region_a, region_b, nodata=0)
    result = run(pair, tmp_path / "out", correction_method="linear", number_of_blocks=(4, 10))
    after = overlap_gap(*result.output_images, region_a, region_b, nodata=0)
    assert before > 500 and after < 0.2 * before


def test_gamma_block_covered_by_one_image_is_unchanged(tmp_path, pair):
    """Grid 4 x 10 over the 100 x 40 pixel canvas: 10 x 10 pixel blocks. A alone covers block
    columns 0-3, B alone 6-9. Pixels whose four surrounding block centres are single-image
    blocks (A columns 0-34, B columns 26-59) must come out exactly as they went in."""
    result = run(pair, tmp_path / "out", number_of_blocks=(4, 10))
    out_a, out_b = (read(p) for p in result.output_images)
    in_a, in_b = read(pair[0]), read(pair[1])
    assert np.array_equal(out_a[:, :, :35], in_a[:, :, :35])
    assert np.array_equal(out_b[:, :, 26:], in_b[:, :, 26:])
    # ... while the shared blocks are corrected: A brighter, B darker in the overlap.
    assert out_a[:, :, 45:].astype(float).mean() > in_a[:, :, 45:].astype(float).mean() + 100
    assert out_b[:, :, :15].astype(float).mean() < in_b[:, :, :15].astype(float).mean() - 100
    assert result.details["shift"] == 0.0


def test_one_image_blocks_unchanged_with_a_gamma_shift(tmp_path):
    """Reflectance in [0, 1] needs a shift (o = 2 - min); gamma = 1 must still be exact."""
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(3)
    a = 0.10 + 0.05 * rng.random((2, 40, 60))
    b = 0.35 + 0.05 * rng.random((2, 40, 60))
    paths = [write_image(folder / "ra.tif", a, nodata=float("nan"), dtype="float32"),
             write_image(folder / "rb.tif", b, col=40, nodata=float("nan"), dtype="float32")]
    result = run(paths, tmp_path / "out", number_of_blocks=(4, 10))
    assert result.details["shift"] > 1.5
    out_a, out_b = (read(p) for p in result.output_images)
    assert np.array_equal(out_a[:, :, :35], read(paths[0])[:, :, :35])
    assert np.array_equal(out_b[:, :, 26:], read(paths[1])[:, :, 26:])
    assert out_a[:, :, 45:].mean() > read(paths[0])[:, :, 45:].mean() + 0.05
    identity = run(paths, tmp_path / "alpha0", number_of_blocks=(4, 10), alpha=0.0)
    for source, output in zip(paths, identity.output_images):
        assert np.array_equal(read(source), read(output))


def test_gamma_pulls_overlap_means_together(tmp_path, pair):
    region_a, region_b = (slice(None), slice(40, 60)), (slice(None), slice(0, 20))
    before = overlap_gap(*pair, region_a, region_b, nodata=0)
    result = run(pair, tmp_path / "out", number_of_blocks=(4, 10))
    after = overlap_gap(*result.output_images, region_a, region_b, nodata=0)
    assert before > 500 and after < 0.2 * before


def test_single_image_is_unchanged(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_image(folder / "solo.tif", texture((37, 53), 700, 300, 5), nodata=0,
                       dtype="uint16")
    result = run([path], tmp_path / "out")
    assert np.array_equal(read(path), read(result.output_images[0]))
    assert result.details["grid"] == grid_shape_for_count(100, 1, 53.0, 37.0) == (8, 12)


@pytest.mark.parametrize("options", [
    {"window_size": 37},
    {"window_size": (64, 17)},
    {"window_size": "block"},
    {"image_parallel_workers": ("thread", 2), "window_parallel_workers": ("thread", 2),
     "window_size": 16},
    {"window_parallel_workers": ("process", 2), "window_size": (13, 29)},
])
def test_window_size_and_workers_do_not_change_outputs(tmp_path, misaligned, options):
    reference = run(misaligned, tmp_path / "ref", number_of_blocks=30)
    other = run(misaligned, tmp_path / "other", number_of_blocks=30, **options)
    assert other.details["grid"] == reference.details["grid"]
    assert list(other.details["unchanged_pixels"].values()) == \
        list(reference.details["unchanged_pixels"].values())
    for x, y in zip(reference.output_images, other.output_images):
        assert pixels(x) == pixels(y)
    # The comparison is meaningful: the images were really corrected.
    assert any(not np.array_equal(read(src), read(out))
               for src, out in zip(misaligned, reference.output_images))


def test_window_invariance_with_float_reflectance_and_linear(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    # Multiples of 1/1024: block sums are exact in float64 whatever the tile order.
    a = np.round(texture((45, 50), 300, 80, 7)) / 1024
    b = np.round(texture((45, 50), 500, 80, 8)) / 1024
    paths = [write_image(folder / "ra.tif", a, nodata=-1.0, dtype="float32"),
             write_image(folder / "rb.tif", b, col=20, row=9, nodata=-1.0, dtype="float32")]
    for method in ("gamma", "linear"):
        first = run(paths, tmp_path / f"{method}1", number_of_blocks=(5, 7),
                    correction_method=method)
        second = run(paths, tmp_path / f"{method}2", number_of_blocks=(5, 7),
                     correction_method=method, window_size=(11, 6),
                     window_parallel_workers=("thread", 2))
        for x, y in zip(first.output_images, second.output_images):
            assert pixels(x) == pixels(y)


def test_reflectance_float32_in_unit_interval(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(3)
    a = np.clip(0.10 + 0.05 * rng.random((2, 30, 40)), 0, 1)
    b = np.clip(0.35 + 0.05 * rng.random((2, 30, 40)), 0, 1)
    a[:, :2, :2] = np.nan
    paths = [write_image(folder / "refl_a.tif", a, nodata=float("nan"), dtype="float32"),
             write_image(folder / "refl_b.tif", b, col=20, nodata=float("nan"), dtype="float32")]
    region_a, region_b = (slice(None), slice(20, 40)), (slice(None), slice(0, 20))
    before = overlap_gap(*paths, region_a, region_b)
    result = run(paths, tmp_path / "out", number_of_blocks=(3, 6))
    shift = result.details["shift"]
    lowest = min(np.nanmin(read(p)) for p in paths)
    assert shift == pytest.approx(2.0 - lowest, rel=1e-6)      # every shifted value >= 1 + 1
    for path in result.output_images:
        data = read(path)
        assert np.isfinite(data).sum() == data.size - (8 if "refl_a" in path else 0)
        assert (data[np.isfinite(data)] > -0.5).all() and (data[np.isfinite(data)] < 1.5).all()
    assert np.isnan(read(result.output_images[0])[:, :2, :2]).all()     # NaN nodata kept
    after = overlap_gap(*result.output_images, region_a, region_b)
    assert after < 0.2 * before
    assert sum(result.details["guarded_pixels"].values()) == 0


@pytest.mark.parametrize("dtype, nodata", [("int16", -32768), ("float32", -9999.0)])
def test_negative_values(tmp_path, dtype, nodata):
    folder = tmp_path / "in"
    folder.mkdir()
    a = texture((30, 40), -300, 100, 11)
    b = texture((30, 40), 200, 100, 12)
    a[0, 0] = nodata
    paths = [write_image(folder / "neg_a.tif", a, nodata=nodata, dtype=dtype),
             write_image(folder / "neg_b.tif", b, col=20, nodata=nodata, dtype=dtype)]
    region_a, region_b = (slice(None), slice(20, 40)), (slice(None), slice(0, 20))
    before = overlap_gap(*paths, region_a, region_b, nodata=nodata)
    for window_size in (None, 7):
        result = run(paths, tmp_path / f"out{window_size}", number_of_blocks=(3, 6),
                     window_size=window_size)
        lowest = min(read(p)[read(p) != nodata].min() for p in paths)
        assert lowest < 0
        assert result.details["shift"] == pytest.approx(2.0 - float(lowest))
        assert result.details["shift"] > 0
        outputs = [read(p) for p in result.output_images]
        for data in outputs:
            assert np.isfinite(data).all()
        assert outputs[0][0, 0, 0] == nodata
        assert np.count_nonzero(outputs[0] == nodata) == 1
        assert np.count_nonzero(outputs[1] == nodata) == 0
        after = overlap_gap(*result.output_images, region_a, region_b, nodata=nodata)
        assert after < 0.2 * before
        if window_size is None:
            first = [pixels(p) for p in result.output_images]
        else:
            assert [pixels(p) for p in result.output_images] == first   # one shift per run


# ---------------------------------------------------------------------------------------------
# Block means accumulated in float64 (float32 sums lose pixels past 2 ** 24)
# ---------------------------------------------------------------------------------------------
def test_block_mean_of_more_than_2_pow_24_pixels_is_exact(tmp_path):
    size = 4200                 # 17.64 M pixels > 16 777 216, in one block
    assert size * size > 2 ** 24
    folder = tmp_path / "in"
    folder.mkdir()
    path = str(folder / "big.tif")
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="uint16", crs=CRS,
                   transform=Affine(PIXEL, 0, X0, 0, -PIXEL, Y1), nodata=0, tiled=True,
                   blockxsize=1024, blockysize=1024, compress="DEFLATE")
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(np.full((1, size, size), 1234, dtype=np.uint16))
    maps = tmp_path / "maps"
    result = run([path], tmp_path / "out", number_of_blocks=(1, 1), window_size=1400,
                 save_block_maps=(str(maps / "ref.tif"), str(maps / "$_local.tif")))
    for name in ("ref.tif", "big_local.tif"):
        with rasterio.open(str(maps / name)) as dataset:
            assert dataset.read().tolist() == [[[1234.0]]]
    assert result.details["grid"] == (1, 1)


# ---------------------------------------------------------------------------------------------
# Block map files (docs/DESIGN.md, "Block maps"): saving, format, loading
# ---------------------------------------------------------------------------------------------
def test_block_map_files_hold_one_pixel_per_block_with_nan_nodata(tmp_path, pair):
    maps = tmp_path / "maps"
    result = run(pair, tmp_path / "out", number_of_blocks=(3, 7),
                 save_block_maps=(str(maps / "reference.tif"), str(maps / "L_$_map.tif")))
    canvas = (X0, Y1 - 40 * PIXEL, X0 + 100 * PIXEL, Y1)
    assert result.details["canvas"] == pytest.approx(canvas)
    assert sorted(os.listdir(maps)) == ["L_A_map.tif", "L_B_map.tif", "reference.tif"]
    width, height = canvas[2] - canvas[0], canvas[3] - canvas[1]
    for name in ("reference.tif", "L_A_map.tif", "L_B_map.tif"):
        with rasterio.open(str(maps / name)) as dataset:
            assert dataset.driver == "GTiff"
            assert (dataset.height, dataset.width, dataset.count) == (3, 7, 3)
            assert dataset.dtypes == ("float32",) * 3
            assert dataset.nodata is not None and math.isnan(dataset.nodata)
            assert dataset.transform.almost_equals(
                Affine(width / 7, 0.0, X0, 0.0, -height / 3, Y1), precision=1e-9)
            assert dataset.crs == rasterio.crs.CRS.from_string(CRS)
            values = dataset.read()
        if name == "L_A_map.tif":      # A covers x < 60 pixels = block columns 0-4 only
            assert np.isfinite(values[:, :, :5]).all() and np.isnan(values[:, :, 5:]).all()
            # Block (0, 0) is 14.29 x 13.33 pixels: pixel centres in rows 0-12, columns 0-13.
            block = read(pair[0])[0, :13, :14].astype(float)
            assert values[0, 0, 0] == pytest.approx(block[block != 0].mean(), rel=1e-6)
        if name == "L_B_map.tif":      # B covers x >= 40 pixels = block columns 2-6
            assert np.isnan(values[:, :, :2]).all() and np.isfinite(values[:, :, 2:]).all()
        if name == "reference.tif":
            assert np.isfinite(values).all()
    with rasterio.open(str(maps / "reference.tif")) as ref, \
            rasterio.open(str(maps / "L_A_map.tif")) as la, \
            rasterio.open(str(maps / "L_B_map.tif")) as lb:
        stack = np.stack([la.read(), lb.read()]).astype(float)
        np.testing.assert_allclose(ref.read(), np.nanmean(stack, axis=0), rtol=1e-6)


def test_block_maps_in_calculation_dtype(tmp_path, pair):
    maps = tmp_path / "maps"
    run(pair, tmp_path / "out", number_of_blocks=(2, 2), calculation_dtype="float64",
        save_block_maps=(str(maps / "r.tif"), str(maps / "$.tif")))
    with rasterio.open(str(maps / "r.tif")) as dataset:
        assert dataset.dtypes[0] == "float64"


def test_save_block_maps_bare_file_names(tmp_path, pair, monkeypatch):
    # No directory component (REF crashes with os.makedirs('')).
    monkeypatch.chdir(tmp_path)
    run(pair, tmp_path / "out", number_of_blocks=(2, 2), save_block_maps=("ref.tif", "$.tif"))
    assert {"ref.tif", "A.tif", "B.tif"} <= set(os.listdir(tmp_path))


def _save(tmp_path, inputs, **options):
    maps = tmp_path / "maps"
    result = run(inputs, tmp_path / "saved", save_block_maps=(str(maps / "ref.tif"),
                                                              str(maps / "local_$.tif")),
                 **options)
    return result, str(maps / "ref.tif"), sorted(str(maps / f) for f in os.listdir(maps)
                                                 if f.startswith("local_"))


@pytest.mark.parametrize("which", ["both", "reference", "locals"])
def test_save_then_load_block_maps_reproduces_outputs(tmp_path, misaligned, which):
    saved, ref, locals_ = _save(tmp_path, misaligned, number_of_blocks=(5, 7))
    assert len(locals_) == 3
    load = {"both": (ref, locals_), "reference": (ref, None), "locals": (None, locals_)}[which]
    loaded = run(misaligned, tmp_path / "loaded", load_block_maps=load,
                 number_of_blocks=3)            # ignored: the grid comes from the maps
    assert loaded.details["grid"] == (5, 7)
    assert loaded.details["canvas"] == pytest.approx(saved.details["canvas"], abs=1e-6)
    assert loaded.details["shift"] == saved.details["shift"]
    for x, y in zip(saved.output_images, loaded.output_images):
        assert pixels(x) == pixels(y)


def test_save_then_load_awkward_grid_and_negative_data(tmp_path):
    """A canvas width not divisible by the block count, a gamma shift, float data."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [write_image(folder / "p.tif", texture((41, 53), -20, 30, 1) / 7, nodata=-999.0,
                         dtype="float32"),
             write_image(folder / "q.tif", texture((37, 47), 10, 30, 2) / 3, col=21.3, row=8.7,
                         pixel=31.7, nodata=-999.0, dtype="float32")]
    saved, ref, locals_ = _save(tmp_path, paths, number_of_blocks=(7, 9))
    assert saved.details["shift"] > 0
    for load in ((ref, locals_), (ref, None), (None, locals_)):
        loaded = run(paths, tmp_path / f"loaded{len(os.listdir(tmp_path))}",
                     load_block_maps=load)
        for x, y in zip(saved.output_images, loaded.output_images):
            assert pixels(x) == pixels(y)


def test_loaded_reference_is_used_as_is(tmp_path, pair):
    """A loaded reference map replaces the computed reference: a constant reference of 2000
    pulls every block of both images to 2000."""
    maps = tmp_path / "maps"
    run(pair, tmp_path / "o1", number_of_blocks=(2, 5),
        save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
    with rasterio.open(str(maps / "ref.tif")) as dataset:
        profile = dataset.profile
    with rasterio.open(str(tmp_path / "flat.tif"), "w", **profile) as dataset:
        dataset.write(np.full((3, 2, 5), 2000.0, dtype=np.float32))
    result = run(pair, tmp_path / "o2", load_block_maps=(str(tmp_path / "flat.tif"), None),
                 output_dtype="float32")
    for path, source in zip(result.output_images, pair):
        valid = read(source) != 0
        assert read(path)[valid].mean() == pytest.approx(2000, rel=0.02)


def test_local_maps_are_matched_by_exact_name(tmp_path):
    """img1 must not take img10's map (REF matched by substring, last match wins)."""
    folder = tmp_path / "in"
    folder.mkdir()
    img1 = write_image(folder / "img1.tif", texture((30, 30), 500, 60, 1), nodata=0,
                       dtype="uint16")
    img10 = write_image(folder / "img10.tif", texture((30, 30), 1500, 60, 2), col=15, row=10,
                        nodata=0, dtype="uint16")
    saved, ref, locals_ = _save(tmp_path, [img1, img10], number_of_blocks=(4, 5))
    only_img10 = [p for p in locals_ if p.endswith("local_img10.tif")]
    assert len(only_img10) == 1
    loaded = run([img1, img10], tmp_path / "loaded", load_block_maps=(None, only_img10))
    for x, y in zip(saved.output_images, loaded.output_images):
        assert pixels(x) == pixels(y)
    # Alone, img1 computes its own map and uses img10's only in the reference, which gives the
    # two-image result (REF's substring rule would hand img1 the map of img10).
    alone = run([img1], tmp_path / "alone", load_block_maps=(None, only_img10))
    assert pixels(alone.output_images[0]) == pixels(saved.output_images[0])
    assert pixels(alone.output_images[0]) != pixels(img1)
    # A map named exactly after the image works without the template's prefix, too.
    bare = tmp_path / "bare"
    bare.mkdir()
    os.link(only_img10[0], bare / "img10.tif")
    loaded = run([img1, img10], tmp_path / "loaded_bare",
                 load_block_maps=(None, [str(bare / "img10.tif")]))
    for x, y in zip(saved.output_images, loaded.output_images):
        assert pixels(x) == pixels(y)


def test_a_loaded_map_goes_to_the_longest_image_name_it_matches(tmp_path):
    """"a_1_map" matches both "a" and "a_1" (each followed by a separator): the longest name,
    a_1, takes it, and a computes its own map."""
    folder = tmp_path / "in"
    folder.mkdir()
    a = write_image(folder / "a.tif", texture((30, 30), 500, 60, 1), nodata=0, dtype="uint16")
    a_1 = write_image(folder / "a_1.tif", texture((30, 30), 1500, 60, 2), col=15, row=10,
                      nodata=0, dtype="uint16")
    maps = tmp_path / "maps"
    saved = run([a, a_1], tmp_path / "saved", number_of_blocks=(4, 5),
                save_block_maps=(str(maps / "ref.tif"), str(maps / "$_map.tif")))
    loaded = run([a, a_1], tmp_path / "loaded",
                 load_block_maps=(None, [str(maps / "a_1_map.tif")]))
    for x, y in zip(saved.output_images, loaded.output_images):
        assert pixels(x) == pixels(y)


def test_loaded_local_maps_are_the_ones_used(tmp_path, pair):
    """Swapping the two local maps' names changes the outputs: the loaded maps really drive
    the correction (a matched image does not recompute its map)."""
    saved, ref, locals_ = _save(tmp_path, pair, number_of_blocks=(2, 5))
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    os.link(str(tmp_path / "maps" / "local_A.tif"), swapped / "local_B.tif")
    os.link(str(tmp_path / "maps" / "local_B.tif"), swapped / "local_A.tif")
    loaded = run(pair, tmp_path / "loaded",
                 load_block_maps=(None, [str(swapped / "local_A.tif"),
                                         str(swapped / "local_B.tif")]))
    assert pixels(saved.output_images[0]) != pixels(loaded.output_images[0])


def test_override_canvas_changes_the_grid_canvas(tmp_path, pair):
    default = run(pair, tmp_path / "o1", number_of_blocks=10)
    override = (X0 - 50 * PIXEL, Y1 - 40 * PIXEL, X0 + 100 * PIXEL, Y1)      # 150 x 40 pixels
    maps = tmp_path / "maps"
    moved = run(pair, tmp_path / "o2", number_of_blocks=10, override_bounds_canvas_coords=override,
                save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
    assert moved.details["canvas"] == pytest.approx(override)
    assert moved.details["grid"] == grid_shape_for_count(10, 2, 150 * PIXEL, 40 * PIXEL)
    assert default.details["grid"] == grid_shape_for_count(10, 2, 100 * PIXEL, 40 * PIXEL)
    with rasterio.open(str(maps / "ref.tif")) as dataset:
        assert tuple(dataset.bounds) == pytest.approx(override)
    assert pixels(default.output_images[0]) != pixels(moved.output_images[0])


def test_override_canvas_smaller_than_images_warns_and_drops_outside_pixels(tmp_path, pair):
    override = (X0 + 20 * PIXEL, Y1 - 40 * PIXEL, X0 + 80 * PIXEL, Y1)
    maps = tmp_path / "maps"
    result = run(pair, tmp_path / "out", number_of_blocks=(1, 1),
                 override_bounds_canvas_coords=override,
                 save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
    assert any("beyond the canvas" in w for w in result.warnings)
    a = read(pair[0])[0, :, 20:].astype(float)      # A's pixels inside the canvas only
    with rasterio.open(str(maps / "A.tif")) as dataset:
        assert dataset.read(1)[0, 0] == pytest.approx(a[a != 0].mean(), rel=1e-6)


def test_override_equal_to_loaded_bounds_within_tolerance(tmp_path, misaligned):
    saved, ref, locals_ = _save(tmp_path, misaligned, number_of_blocks=(5, 7))
    with rasterio.open(ref) as dataset:
        bounds = tuple(dataset.bounds)
    nearly = (bounds[0] + 1e-7, bounds[1] - 1e-7, bounds[2] + 2e-7, bounds[3])
    assert nearly != bounds
    loaded = run(misaligned, tmp_path / "loaded", load_block_maps=(ref, locals_),
                 override_bounds_canvas_coords=nearly)
    for x, y in zip(saved.output_images, loaded.output_images):
        assert pixels(x) == pixels(y)
    wrong = (bounds[0] + PIXEL, bounds[1], bounds[2], bounds[3])
    with pytest.raises(RadioMatchError, match="override_bounds_canvas_coords"):
        run(misaligned, tmp_path / "bad", load_block_maps=(ref, locals_),
            override_bounds_canvas_coords=wrong)
    assert not os.path.exists(tmp_path / "bad") or os.listdir(tmp_path / "bad") == []


# ---------------------------------------------------------------------------------------------
# Validity: unchanged pixels, nodata, threshold, vector mask
# ---------------------------------------------------------------------------------------------
def test_pixels_without_a_local_mean_are_unchanged_and_counted(tmp_path):
    """Grid 4 x 4 over 40 x 40 pixels (10 x 10 pixel blocks), threshold 0.1 (10 pixels).
    'sparse' is valid on the top-left block and on 5 pixels of the bottom-right block only: those
    5 pixels have no valid block among their four neighbours and stay unchanged."""
    folder = tmp_path / "in"
    folder.mkdir()
    sparse = np.zeros((40, 40))
    sparse[:10, :10] = texture((10, 10), 300, 50, 1)
    sparse[35:, 35] = [301, 302, 303, 304, 305]
    dense = texture((40, 40), 900, 50, 2)
    paths = [write_image(folder / "sparse.tif", sparse, nodata=0, dtype="uint16"),
             write_image(folder / "dense.tif", dense, nodata=0, dtype="uint16")]
    result = run(paths, tmp_path / "out", number_of_blocks=(4, 4),
                 block_valid_pixel_threshold=0.1)
    out_sparse = read(result.output_images[0])[0]
    assert result.details["unchanged_pixels"] == {result.output_images[0]: 5,
                                                  result.output_images[1]: 0}
    assert out_sparse[35:, 35].tolist() == [301, 302, 303, 304, 305]
    assert (out_sparse[:10, :10] > sparse[:10, :10] + 200).all()       # corrected (towards 600)
    assert (out_sparse[10:35] == 0).all() and (out_sparse[:, 10:35] == 0).all()
    assert any("5 valid pixel" in w for w in result.warnings)


def test_threshold_one_gives_no_local_correction_and_warns(tmp_path, pair):
    # A canvas larger than the images: no block is completely valid for any image.
    override = (X0 - 5 * PIXEL, Y1 - 45 * PIXEL, X0 + 105 * PIXEL, Y1 + 5 * PIXEL)
    result = run(pair, tmp_path / "out", number_of_blocks=(2, 2), block_valid_pixel_threshold=1.0,
                 override_bounds_canvas_coords=override)
    for source, output in zip(pair, result.output_images):
        assert np.array_equal(read(source), read(output))
        valid = np.count_nonzero(read(source) != 0)
        assert result.details["unchanged_pixels"][output] == valid
    assert sum("no block with enough valid pixels" in w for w in result.warnings) == 2


def test_threshold_is_a_fraction_of_the_nominal_block(tmp_path):
    """A 10 x 10 block of which 'corner' covers 30 pixels: kept for tau = 0.3, dropped (NaN)
    for tau = 0.31."""
    folder = tmp_path / "in"
    folder.mkdir()
    big = write_image(folder / "big.tif", np.full((20, 20), 500.0), nodata=0, dtype="uint16")
    corner = write_image(folder / "corner.tif", np.full((5, 6), 100.0), col=14, row=15,
                         nodata=0, dtype="uint16")
    for tau, expect_value in ((0.3, True), (0.31, False)):
        maps = tmp_path / f"maps{int(tau * 100)}"
        run([big, corner], tmp_path / f"out{int(tau * 100)}", number_of_blocks=(2, 2),
            block_valid_pixel_threshold=tau,
            save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
        with rasterio.open(str(maps / "corner.tif")) as dataset:
            value = dataset.read(1)[1, 1]
        assert (value == 100.0) if expect_value else np.isnan(value)


def test_nodata_is_preserved_and_never_produced(tmp_path, pair):
    result = run(pair, tmp_path / "out", number_of_blocks=(4, 10))
    for source, output in zip(pair, result.output_images):
        src, out = read(source), read(output)
        assert np.array_equal(src == 0, out == 0)
        with rasterio.open(output) as dataset:
            assert dataset.nodata == 0 and dataset.dtypes[0] == "uint16"
            assert dataset.transform == rasterio.open(source).transform


def test_nonzero_nodata_is_written_back_unchanged(tmp_path):
    """Nodata 50 lies where a gamma curve moves values: nodata pixels must still be written as
    50, and no valid pixel may become 50."""
    folder = tmp_path / "in"
    folder.mkdir()
    a = texture((20, 30), 300, 100, 1)
    b = texture((20, 30), 900, 100, 2)
    a[5:8, 25:28] = 50
    b[0, 0] = 50
    paths = [write_image(folder / "n1.tif", a, nodata=50, dtype="uint16"),
             write_image(folder / "n2.tif", b, col=20, nodata=50, dtype="uint16")]
    result = run(paths, tmp_path / "out", number_of_blocks=(2, 5))
    for source, output in zip(paths, result.output_images):
        src, out = read(source), read(output)
        assert np.array_equal(src == 50, out == 50)
        assert not np.array_equal(src, out)


def test_custom_nodata_value_excludes_fill_from_block_means(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    data = np.full((20, 20), 400.0)
    data[:, :10] = 7                  # the fill value, not declared in the file
    path = write_image(folder / "fill.tif", data, dtype="uint16")
    maps = tmp_path / "maps"
    result = run([path], tmp_path / "out", number_of_blocks=(1, 1), custom_nodata_value=7,
                 save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
    with rasterio.open(str(maps / "fill.tif")) as dataset:
        assert dataset.read(1)[0, 0] == 400.0
    out = read(result.output_images[0])[0]
    assert (out[:, :10] == 7).all() and (out[:, 10:] == 400).all()


def _mask(mode, left, right, field_value=None):
    feature = {"type": "Feature", "properties": {"image": field_value},
               "geometry": {"type": "Polygon", "coordinates": [[
                   [left, Y1 + 100], [right, Y1 + 100], [right, Y1 - 10000],
                   [left, Y1 - 10000], [left, Y1 + 100]]]}}
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": CRS}}, "features": [feature]}


@pytest.mark.parametrize("mode, expected", [("include", 100.0), ("exclude", 300.0)])
def test_vector_mask_limits_block_statistics(tmp_path, mode, expected):
    folder = tmp_path / "in"
    folder.mkdir()
    data = np.full((20, 20), 300.0)
    data[:, :10] = 100.0
    path = write_image(folder / "half.tif", data, nodata=0, dtype="uint16")
    maps = tmp_path / "maps"
    mask = (mode, _mask(mode, X0 - 100, X0 + 10 * PIXEL))        # the left half
    run([path], tmp_path / "out", number_of_blocks=(1, 1), vector_mask=mask,
        save_block_maps=(str(maps / "ref.tif"), str(maps / "$.tif")))
    with rasterio.open(str(maps / "half.tif")) as dataset:
        assert dataset.read(1)[0, 0] == expected
    # Without a mask, the block mean is 200.
    run([path], tmp_path / "out2", number_of_blocks=(1, 1),
        save_block_maps=(str(maps / "ref2.tif"), str(maps / "$_2.tif")))
    with rasterio.open(str(maps / "half_2.tif")) as dataset:
        assert dataset.read(1)[0, 0] == 200.0


def test_vector_mask_field_filter_limits_only_the_named_image(tmp_path, pair):
    """A polygon over the overlap (x 40-60 pixels = block column 2 of 5), with field value "B",
    excludes only B's overlap pixels from B's block means: A's local map is unchanged and B loses
    block column 2."""
    mask = ("exclude", _mask("exclude", X0 + 40 * PIXEL, X0 + 60 * PIXEL, "B"), "image")
    maps = {}
    for label, options in (("plain", {}), ("masked", {"vector_mask": mask})):
        folder = tmp_path / f"maps_{label}"
        result = run(pair, tmp_path / f"out_{label}", number_of_blocks=(2, 5),
                     save_block_maps=(str(folder / "ref.tif"), str(folder / "$.tif")), **options)
        maps[label] = {name: read(folder / f"{name}.tif") for name in ("A", "B")}
        maps[label]["outputs"] = [read(p) for p in result.output_images]
        unchanged = result.details["unchanged_pixels"]
    assert np.array_equal(maps["plain"]["A"], maps["masked"]["A"], equal_nan=True)
    plain_b, masked_b = maps["plain"]["B"], maps["masked"]["B"]
    assert np.isfinite(plain_b[:, :, 2]).all() and np.isnan(masked_b[:, :, 2]).all()
    assert np.array_equal(plain_b[:, :, 3:], masked_b[:, :, 3:])
    # No block is shared any more, so neither image is corrected; B's pixels at x 40-50 have no
    # B block among their neighbours and are counted as unchanged (3 bands x 400 minus 27 holes).
    for k in range(2):
        assert not np.array_equal(maps["plain"]["outputs"][k], read(pair[k]))
        assert np.array_equal(maps["masked"]["outputs"][k], read(pair[k]))
    assert list(unchanged.values()) == [0, 3 * 40 * 10 - 27]


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, -3, True, False, (0, 5), (5, -1), (2, 3, 4), (2.0, 3),
                                   "abc", 2.5, None, [True, 2]])
def test_bad_number_of_blocks(tmp_path, pair, value):
    with pytest.raises(RadioMatchError, match="number_of_blocks"):
        run(pair, tmp_path / "out", number_of_blocks=value)
    assert not (tmp_path / "out").exists()


def test_alpha_zero_leaves_every_pixel_as_it_was_without_an_unchanged_warning(tmp_path, pair):
    # one block over the canvas, which neither image fills: no local mean anywhere
    options = dict(number_of_blocks=(1, 1), block_valid_pixel_threshold=1.0)
    full = run(pair, tmp_path / "full", alpha=1.0, **options)
    assert any("left unchanged" in message for message in full.warnings)
    none = run(pair, tmp_path / "none", alpha=0.0, **options)
    assert not any("left unchanged" in message for message in none.warnings)
    for source, path in zip(pair, none.output_images):
        assert np.array_equal(read(source), read(path))


@pytest.mark.parametrize("value", [10_000_000, 1_000_000_000, (41, 10), (10, 101)])
def test_a_grid_finer_than_the_pixels_is_refused_before_reading(tmp_path, pair, value):
    # the canvas is 40 x 100 pixels: 1e7 blocks per image once took 7.9 GB, 1e9 got the
    # process killed
    stages = []
    with pytest.raises(RadioMatchError, match="finer than the pixels") as error:
        run(pair, tmp_path / "out", number_of_blocks=value,
            progress_callback=lambda fraction, message: stages.append(message))
    assert "40 x 100" in str(error.value) and "number_of_blocks" in str(error.value)
    assert stages == [] and os.listdir(tmp_path / "out") == []


def test_one_block_per_pixel_is_the_finest_grid(tmp_path, pair):
    result = run(pair, tmp_path / "out", number_of_blocks=(40, 100))
    assert result.details["grid"] == (40, 100)


def test_block_maps_that_would_not_fit_in_memory_are_refused(tmp_path, pair, monkeypatch):
    import importlib

    engine = importlib.import_module("core.local_block_adjustment")   # the module
    monkeypatch.setattr(engine, "available_memory", lambda: 1_000_000)
    with pytest.raises(RadioMatchError, match="memory") as error:
        run(pair, tmp_path / "out", number_of_blocks=(40, 100))
    assert "40 x 100" in str(error.value)
    run(pair, tmp_path / "small", number_of_blocks=(4, 10))


@pytest.mark.parametrize("value", [-0.1, 1.5, True, "0.5", float("nan")])
def test_bad_threshold(tmp_path, pair, value):
    with pytest.raises(RadioMatchError, match="block_valid_pixel_threshold"):
        run(pair, tmp_path / "out", block_valid_pixel_threshold=value)


@pytest.mark.parametrize("value", [-0.1, 1.1, float("nan"), None, True])
def test_bad_alpha(tmp_path, pair, value):
    with pytest.raises(RadioMatchError, match="alpha"):
        run(pair, tmp_path / "out", alpha=value)


def test_bad_correction_method(tmp_path, pair):
    with pytest.raises(RadioMatchError, match="correction_method"):
        run(pair, tmp_path / "out", correction_method="offset")


@pytest.mark.parametrize("bounds", [
    (X0, Y1 - 100, X0, Y1),                  # zero width
    (X0, Y1, X0 + 100, Y1),                  # zero height
    (X0 + 100, Y1 - 100, X0, Y1),            # inverted
    (X0, Y1 - 100, float("inf"), Y1),
])
def test_canvas_of_zero_size(tmp_path, pair, bounds):
    with pytest.raises(RadioMatchError, match="override_bounds_canvas_coords"):
        run(pair, tmp_path / "out", override_bounds_canvas_coords=bounds)


@pytest.mark.parametrize("bounds", [(1, 2, 3), "0 0 1 1", (0, 0, "1", 1)])
def test_malformed_override(tmp_path, pair, bounds):
    with pytest.raises(RadioMatchError, match="override_bounds_canvas_coords"):
        run(pair, tmp_path / "out", override_bounds_canvas_coords=bounds)


def test_canvas_of_zero_size_from_loaded_maps(tmp_path):
    """Loaded maps with no area (no geotransform) are refused, naming the file."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_image(folder / "x.tif", np.full((4, 4), 9.0), nodata=0, dtype="uint16")
    flat = str(tmp_path / "flat_ref.tif")
    with rasterio.open(flat, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
                       crs=CRS, transform=Affine(0.0, 0, X0, 0, -10.0, Y1),
                       nodata=float("nan")) as dataset:
        dataset.write(np.ones((1, 2, 2), dtype=np.float32))
    with pytest.raises(RadioMatchError, match="flat_ref.tif"):
        run([path], tmp_path / "out", load_block_maps=(flat, None))


def test_save_template_without_dollar(tmp_path, pair):
    template = str(tmp_path / "maps" / "local.tif")
    with pytest.raises(RadioMatchError, match=r"\$") as caught:
        run(pair, tmp_path / "out", save_block_maps=(str(tmp_path / "ref.tif"), template))
    assert template in str(caught.value)
    # A "$" only in the folder name does not count: every map would still share one file.
    template = str(tmp_path / "$maps" / "local.tif")
    with pytest.raises(RadioMatchError, match="local.tif"):
        run(pair, tmp_path / "out", save_block_maps=(str(tmp_path / "ref.tif"), template))
    assert not (tmp_path / "out").exists() and not (tmp_path / "ref.tif").exists()


@pytest.mark.parametrize("value", ["ref.tif", ("ref.tif",), ("a.tif", "b_$.tif", "c")])
def test_malformed_save_block_maps(tmp_path, pair, value):
    with pytest.raises(RadioMatchError, match="save_block_maps"):
        run(pair, tmp_path / "out", save_block_maps=value)


@pytest.mark.parametrize("value", ["ref.tif", ("ref.tif", "local.tif"), (None, None, None)])
def test_malformed_load_block_maps(tmp_path, pair, value):
    with pytest.raises(RadioMatchError, match="load_block_maps"):
        run(pair, tmp_path / "out", load_block_maps=value)


def _write_map(path, rows, cols, bands, bounds=(X0, Y1 - 1200, X0 + 3000, Y1), value=500.0):
    x0, y0, x1, y1 = bounds
    with rasterio.open(str(path), "w", driver="GTiff", width=cols, height=rows, count=bands,
                       dtype="float32", crs=CRS, nodata=float("nan"),
                       transform=Affine((x1 - x0) / cols, 0, x0, 0, -(y1 - y0) / rows, y1)) as ds:
        ds.write(np.full((bands, rows, cols), value, dtype=np.float32))
    return str(path)


def test_loaded_maps_disagreeing_shapes(tmp_path, pair):
    ref = _write_map(tmp_path / "ref.tif", 2, 5, 3)
    local = _write_map(tmp_path / "A.tif", 3, 5, 3)
    with pytest.raises(RadioMatchError, match="A.tif"):
        run(pair, tmp_path / "out", load_block_maps=(ref, [local]))
    other = _write_map(tmp_path / "B.tif", 2, 4, 3)
    with pytest.raises(RadioMatchError, match="B.tif"):
        run(pair, tmp_path / "out", load_block_maps=(None, [_write_map(tmp_path / "A2.tif", 2, 5, 3),
                                                            other]))
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_loaded_maps_disagreeing_bounds(tmp_path, pair):
    ref = _write_map(tmp_path / "ref.tif", 2, 5, 3)
    local = _write_map(tmp_path / "A.tif", 2, 5, 3, bounds=(X0, Y1 - 1200, X0 + 3030, Y1))
    with pytest.raises(RadioMatchError, match="A.tif"):
        run(pair, tmp_path / "out", load_block_maps=(ref, [local]))
    # Round-off-sized differences are accepted.
    close = _write_map(tmp_path / "B.tif", 2, 5, 3, bounds=(X0, Y1 - 1200, X0 + 3000 + 1e-7, Y1))
    result = run(pair, tmp_path / "ok", load_block_maps=(ref, [close]))
    assert result.details["grid"] == (2, 5)


@pytest.mark.parametrize("bands", [1, 4])
def test_loaded_maps_band_count_disagreeing_with_inputs(tmp_path, pair, bands):
    ref = _write_map(tmp_path / "ref.tif", 2, 5, bands)
    with pytest.raises(RadioMatchError, match="ref.tif") as caught:
        run(pair, tmp_path / "out", load_block_maps=(ref, None))
    assert "band" in str(caught.value)
    local = _write_map(tmp_path / "A.tif", 2, 5, bands)
    with pytest.raises(RadioMatchError, match="A.tif"):
        run(pair, tmp_path / "out", load_block_maps=(None, [local]))


def test_loaded_maps_with_each_other_band_counts(tmp_path, pair):
    ref = _write_map(tmp_path / "ref.tif", 2, 5, 3)
    local = _write_map(tmp_path / "A.tif", 2, 5, 2)
    with pytest.raises(RadioMatchError, match="A.tif"):
        run(pair, tmp_path / "out", load_block_maps=(ref, [local]))


def test_loaded_map_missing_or_not_a_raster(tmp_path, pair):
    with pytest.raises(RadioMatchError, match="missing.tif"):
        run(pair, tmp_path / "out", load_block_maps=(str(tmp_path / "missing.tif"), None))
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    with pytest.raises(RadioMatchError, match="junk.tif"):
        run(pair, tmp_path / "out", load_block_maps=(None, [str(junk)]))


def test_loaded_map_numeric_nodata_means_no_value(tmp_path, pair):
    """A block map written by another tool with nodata -9999: those blocks have no value (a
    reference of -9999 everywhere leaves every pixel unchanged and counted)."""
    path = str(tmp_path / "ref_nodata.tif")
    with rasterio.open(path, "w", driver="GTiff", width=5, height=2, count=3, dtype="float32",
                       crs=CRS, nodata=-9999.0,
                       transform=Affine(600.0, 0, X0, 0, -600.0, Y1)) as dataset:
        dataset.write(np.full((3, 2, 5), -9999.0, dtype=np.float32))
    result = run(pair, tmp_path / "out", load_block_maps=(path, None))
    assert result.details["shift"] == 0.0
    for source, output in zip(pair, result.output_images):
        assert np.array_equal(read(source), read(output))
        assert result.details["unchanged_pixels"][output] == np.count_nonzero(read(source))


def test_loaded_maps_in_another_crs(tmp_path, pair):
    path = str(tmp_path / "utm17.tif")
    with rasterio.open(path, "w", driver="GTiff", width=5, height=2, count=3, dtype="float32",
                       crs="EPSG:32617", nodata=float("nan"),
                       transform=Affine(600.0, 0, X0, 0, -600.0, Y1)) as dataset:
        dataset.write(np.full((3, 2, 5), 500.0, dtype=np.float32))
    with pytest.raises(RadioMatchError, match="utm17.tif"):
        run(pair, tmp_path / "out", load_block_maps=(path, None))


def test_loaded_maps_covering_none_of_the_inputs(tmp_path, pair):
    far = _write_map(tmp_path / "far.tif", 2, 5, 3, bounds=(X0 + 1e5, Y1 - 1200, X0 + 1e5 + 3000, Y1))
    with pytest.raises(RadioMatchError, match="far.tif"):
        run(pair, tmp_path / "out", load_block_maps=(far, None))
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_unmatched_loaded_local_maps_join_the_reference(tmp_path, misaligned):
    """Local maps of images that are not inputs count in the reference when no reference map
    is loaded: two of three images with all three local maps give the three-image outputs."""
    saved, ref, locals_ = _save(tmp_path, misaligned, number_of_blocks=(5, 7))
    assert saved.details["shift"] == 0.0
    again = tmp_path / "again"
    loaded = run(misaligned[:2], tmp_path / "loaded", load_block_maps=(None, locals_),
                 save_block_maps=(str(again / "ref.tif"), str(again / "re_$.tif")))
    for x, y in zip(saved.output_images[:2], loaded.output_images):
        assert pixels(x) == pixels(y)
    # Matched maps are re-saved under the image name, the unmatched one under its own name.
    assert sorted(os.listdir(again)) == ["re_local_m2.tif", "re_m0.tif", "re_m1.tif", "ref.tif"]
    assert np.array_equal(read(again / "ref.tif"), read(ref), equal_nan=True)
    # Without the third map the reference (and the outputs) differ.
    fewer = run(misaligned[:2], tmp_path / "fewer", load_block_maps=(None, locals_[:2]))
    assert pixels(fewer.output_images[0]) != pixels(saved.output_images[0])


def test_override_disagreeing_with_loaded_maps(tmp_path, pair):
    ref = _write_map(tmp_path / "ref.tif", 2, 5, 3)
    with pytest.raises(RadioMatchError, match="override_bounds_canvas_coords"):
        run(pair, tmp_path / "out", load_block_maps=(ref, None),
            override_bounds_canvas_coords=(X0, Y1 - 1200, X0 + 3000, Y1 + 30))
    result = run(pair, tmp_path / "ok", load_block_maps=(ref, None),
                 override_bounds_canvas_coords=(X0, Y1 - 1200, X0 + 3000, Y1 + 1e-7))
    assert result.details["canvas"] == pytest.approx((X0, Y1 - 1200, X0 + 3000, Y1))


# ---------------------------------------------------------------------------------------------
# Inputs untouched, outputs whole or absent
# ---------------------------------------------------------------------------------------------
def test_inputs_are_byte_identical_after_runs(tmp_path, pair, misaligned):
    guard = core_helpers.InputGuard()
    guard.watch(os.path.dirname(pair[0]), os.path.dirname(misaligned[0]))
    maps = tmp_path / "maps"
    run(pair, tmp_path / "o1", save_block_maps=(str(maps / "r.tif"), str(maps / "$.tif")),
        number_of_blocks="coefficient_of_variation", window_parallel_workers=("thread", 2))
    run(pair, tmp_path / "o2", load_block_maps=(str(maps / "r.tif"),
                                                [str(maps / "A.tif"), str(maps / "B.tif")]),
        correction_method="linear", vector_mask=("include", _mask("include", X0, X0 + 900)))
    run(misaligned, tmp_path / "o3", window_size="block", save_as_cog=True)
    guard.verify()


def test_output_equal_to_input_is_refused(tmp_path, pair):
    guard = core_helpers.InputGuard()
    guard.watch(os.path.dirname(pair[0]))
    with pytest.raises(RadioMatchError, match="A.tif"):
        local_block_adjustment(list(pair), list(pair))
    guard.verify()


def test_output_paths_and_defaults(tmp_path, pair):
    result = local_block_adjustment(list(pair), str(tmp_path / "out"))
    assert result.output_images == [str(tmp_path / "out" / "A_Local.tif"),
                                    str(tmp_path / "out" / "B_Local.tif")]
    assert result.details["grid"] == grid_shape_for_count(100, 2, 3000.0, 1200.0)
    result = local_block_adjustment(list(pair), str(tmp_path / "tpl" / "x_$.tif"))
    assert sorted(os.listdir(tmp_path / "tpl")) == ["x_A.tif", "x_B.tif"]
    assert isinstance(result, core.RunResult)


@pytest.mark.parametrize("when", ["first", "blocks", "apply", "finish"])
@pytest.mark.parametrize("workers", [None, ("thread", 2)])
def test_cancel_leaves_no_output_or_partial_file(tmp_path, pair, when, workers):
    calls = []

    def progress(fraction, message):
        calls.append((fraction, message))
        if when == "first":
            return True
        if when == "blocks":
            return "block" in message.lower()
        if when == "apply":
            return "apply" in message.lower() and len([c for c in calls
                                                       if "apply" in c[1].lower()]) > 2
        return "finish" in message.lower()

    out = tmp_path / "out"
    maps = tmp_path / "maps"
    with pytest.raises(CancelledError):
        run(pair, out, progress_callback=progress, window_size=8, window_parallel_workers=workers,
            save_block_maps=(str(maps / "r.tif"), str(maps / "$.tif")))
    assert calls
    assert not out.exists() or os.listdir(out) == []
    assert not maps.exists() or os.listdir(maps) == []


def test_progress_runs_from_zero_to_one(tmp_path, pair):
    fractions = []
    run(pair, tmp_path / "out", progress_callback=lambda f, m: fractions.append(f), window_size=16)
    assert fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)


# ---------------------------------------------------------------------------------------------
# The surface model (local_model="surface", the default), on real imagery with known truth
# (test/known_truth.py): Global regression first, then Local block adjustment on its outputs.
# ---------------------------------------------------------------------------------------------
import known_truth  # noqa: E402
from core.surfaces import Surface  # noqa: E402


@pytest.fixture
def truth_run(tmp_path):
    """``truth_run(generator, **options)``: (case, global outputs, local result, folder) with
    the case's inputs checksummed before and after."""
    def make(generator, local_options=None, **options):
        folder = tmp_path / generator.__name__
        case = generator(str(folder / "in"), **options)
        guard = core_helpers.InputGuard()
        guard.watch(folder / "in")
        global_outputs = core.global_regression(case.paths, str(folder / "global")).output_images
        guard.watch(folder / "global")
        local = local_block_adjustment(global_outputs, str(folder / "local"),
                                       **(local_options or {}))
        guard.verify()
        return case, global_outputs, local, folder
    return make


def largest_change(first, second, masks=None):
    """Per band, the largest |difference| of two sets of rasters over their valid pixels (and
    ``masks``, per tile, when given)."""
    worst = 0.0
    for k, (a, b) in enumerate(zip(first, second)):
        values_a, valid = known_truth.read_tile(a)
        values_b, _ = known_truth.read_tile(b)
        keep = valid if masks is None else valid & masks[k][None]
        worst = max(worst, float(np.abs(values_b - values_a)[keep].max()))
    return worst


@pytest.mark.parametrize("generator", [known_truth.gain_offset_grid, known_truth.rotated,
                                       known_truth.float_reflectance],
                         ids=["gain_offset", "rotated", "float_reflectance"])
def test_the_surface_model_does_no_harm_to_seamless_images(truth_run, generator):
    case, global_outputs, local, _ = truth_run(generator)
    assert local.details["local_model"] == "surface"
    assert largest_change(global_outputs, local.output_images) <= (
        0.005 * known_truth.distortion_rmse(case).min())
    before = known_truth.overlap_mean_differences(global_outputs, case.scored)
    after = known_truth.overlap_mean_differences(local.output_images, case.scored)
    for pair, difference in before.items():
        assert (np.abs(after[pair]) <= np.abs(difference) + 1e-4 * known_truth.distortion_rmse(case)).all(), pair


@pytest.mark.parametrize("generator", [known_truth.cloud, known_truth.eight_bands],
                         ids=["cloud", "eight_bands"])
def test_a_cloud_filling_blocks_of_an_overlap_changes_no_pixel_outside_it(truth_run, generator):
    case, global_outputs, local, _ = truth_run(generator)
    cloudy = [k for k, opacity in enumerate(case.cloud) if opacity.any()]
    assert len(cloudy) == 1
    # the cloud's comparisons were left out: several blocks of the cloudy tile's overlap
    assert local.details["left_out_blocks"][
        os.path.splitext(os.path.basename(global_outputs[cloudy[0]]))[0]] >= 3 * case.bands
    assert largest_change(global_outputs, local.output_images, case.scored) < 1.0


@pytest.mark.parametrize("generator", [known_truth.illumination,
                                       known_truth.illuminated_reflectance,
                                       known_truth.illuminated_eight_bands],
                         ids=["illumination", "float_reflectance", "eight_bands"])
def test_illumination_fields_are_removed_beyond_the_exact_global_correction(truth_run, tmp_path,
                                                                            generator):
    case, global_outputs, local, folder = truth_run(generator)
    exact = known_truth.exact_global_outputs(case, str(folder / "exact"))
    blocks_before = known_truth.block_mean_differences(global_outputs, case.scored).mean()
    blocks_after = known_truth.block_mean_differences(local.output_images, case.scored).mean()
    assert blocks_after <= blocks_before / 3
    error = known_truth.error_score(case, local.output_images)
    assert error < known_truth.error_score(case, global_outputs)
    assert error < known_truth.error_score(case, exact)
    assert local.details["correction_kind"] == "gain"
    # the engine's own figure, over the comparisons it kept, says so too
    assert all(after < before / 2 for before, after in zip(local.details["block_seam"]["before"],
                                                           local.details["block_seam"]["after"]))


def test_data_centred_on_zero_get_additive_fields(tmp_path):
    """Anomalies around 0 (half the block means negative): each tile carries its own tilted
    additive plane, which the offsets remove."""
    dn, valid, _, _ = known_truth.scene()
    truth = (dn - 120.0) * 0.05
    windows = known_truth.grid_windows(2, 2, 0.4)
    paths = []
    for k, (row, col, height, width) in enumerate(windows):
        rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
        plane = (k - 1.5) * (0.8 * rows - 0.5 * cols)
        values = truth[:, row:row + height, col:col + width] + plane[None]
        paths.append(known_truth.write_tile(str(tmp_path / "in" / f"anomaly_{k}.tif"), values,
                                            valid[row:row + height, col:col + width],
                                            windows[k], "float32", -9999.0))
    result = local_block_adjustment(paths, str(tmp_path / "out"))
    assert result.details["correction_kind"] == "offset"
    before = known_truth.block_mean_differences(paths).mean()
    after = known_truth.block_mean_differences(result.output_images).mean()
    assert after < before / 5


@pytest.mark.parametrize("options", [{"window_size": 37}, {"image_parallel_workers": ("thread", 2)},
                                     {"window_size": (64, 17), "window_parallel_workers": ("thread", 2)}],
                         ids=["37", "threads", "64x17-threads"])
def test_surface_outputs_do_not_depend_on_tiles_or_workers(tmp_path, options):
    case = known_truth.illumination(str(tmp_path / "in"))
    baseline = local_block_adjustment(case.paths, str(tmp_path / "baseline"))
    other = local_block_adjustment(case.paths, str(tmp_path / "other"), **options)
    for first, second in zip(baseline.output_images, other.output_images):
        assert pixels(first) == pixels(second)


def test_saved_surfaces_reload_to_the_same_outputs(tmp_path):
    case = known_truth.illumination(str(tmp_path / "in"), rows=2, cols=2)
    maps = tmp_path / "maps"
    saved = local_block_adjustment(case.paths, str(tmp_path / "first"),
                                   save_block_maps=(str(maps / "mean.tif"), str(maps / "$.tif")))
    names = [os.path.splitext(os.path.basename(path))[0] for path in case.paths]
    with rasterio.open(str(maps / f"{names[0]}.tif")) as dataset:
        assert dataset.tags()["RADIOMATCH_LOCAL_MODEL"] == "surface"
        stored = dataset.read().astype(float)
    # the map holds the factor at every block centre of the image's sub-grid
    correction = saved.details["correction_maps"][names[0]]
    rows, cols = correction["values"].shape[:2]
    np.testing.assert_allclose(
        np.moveaxis(stored, 0, 2)[correction["row_off"]:correction["row_off"] + rows,
                                  correction["col_off"]:correction["col_off"] + cols],
        correction["values"], rtol=1e-6)
    local_maps = [str(maps / f"{name}.tif") for name in names]
    again = local_block_adjustment(case.paths, str(tmp_path / "again"),
                                   load_block_maps=(str(maps / "mean.tif"), local_maps))
    for first, second in zip(saved.output_images, again.output_images):
        assert pixels(first) == pixels(second)
    # two surfaces loaded: those images are as before, the other two are fitted against them
    partial = local_block_adjustment(case.paths, str(tmp_path / "partial"),
                                     load_block_maps=(None, local_maps[:2]))
    for k in (0, 1):
        assert pixels(partial.output_images[k]) == pixels(saved.output_images[k])
    for k in (2, 3):
        assert largest_change(saved.output_images[k:k + 1], partial.output_images[k:k + 1]) < (
            0.002 * known_truth.read_tile(saved.output_images[k])[0].max())


def test_maps_of_one_local_model_are_refused_by_the_other(tmp_path, pair):
    surface_maps = (str(tmp_path / "s" / "mean.tif"), str(tmp_path / "s" / "$.tif"))
    block_maps = (str(tmp_path / "b" / "ref.tif"), str(tmp_path / "b" / "$.tif"))
    local_block_adjustment(list(pair), str(tmp_path / "o1"), save_block_maps=surface_maps)
    run(pair, tmp_path / "o2", save_block_maps=block_maps)
    names = [os.path.splitext(os.path.basename(p))[0] for p in pair]
    with pytest.raises(RadioMatchError, match="saved by the 'surface' local model"):
        run(pair, tmp_path / "o3", load_block_maps=(None, [surface_maps[1].replace("$", n)
                                                            for n in names]))
    with pytest.raises(RadioMatchError, match="saved by the 'block_means' local model"):
        local_block_adjustment(list(pair), str(tmp_path / "o4"),
                               load_block_maps=(block_maps[0], None))


def test_surface_details_describe_the_applied_correction(tmp_path):
    case = known_truth.illumination(str(tmp_path / "in"), rows=2, cols=2)
    result = local_block_adjustment(case.paths, str(tmp_path / "out"))
    details = result.details
    grid_rows, grid_cols = details["grid"]
    x0, y0, x1, y1 = details["canvas"]
    for path in case.paths:
        name = os.path.splitext(os.path.basename(path))[0]
        stored = details["surfaces"][name]
        surface = Surface(stored["kind"], stored["order"], tuple(stored["bounds"]),
                          np.array(stored["coefficients"]))
        correction = details["correction_maps"][name]
        rows, cols = correction["values"].shape[:2]
        xs = x0 + (np.arange(correction["col_off"], correction["col_off"] + cols) + 0.5) * (
            (x1 - x0) / grid_cols)
        ys = y1 - (np.arange(correction["row_off"], correction["row_off"] + rows) + 0.5) * (
            (y1 - y0) / grid_rows)
        points_x, points_y = np.meshgrid(xs, ys)
        np.testing.assert_allclose(
            correction["values"], surface.correction(points_x.ravel(), points_y.ravel())
            .T.reshape(rows, cols, -1), rtol=1e-12)
        # the output is the input times the factor, as the surface says
        values, valid = known_truth.read_tile(path)
        output, _ = known_truth.read_tile(result.output_images[case.paths.index(path)])
        with rasterio.open(path) as dataset:
            pixel_xs, pixel_ys = core.rasters.pixel_centres(
                type("Image", (), {"transform": dataset.transform})(),
                rasterio.windows.Window(0, 0, dataset.width, dataset.height))
        expected = surface.apply(values, pixel_xs, pixel_ys, 1.0)
        np.testing.assert_allclose(output[valid], np.round(expected[valid]), atol=1.0)
    assert all(after < before for before, after in zip(details["seam"]["before"],
                                                       details["seam"]["after"]))
    assert len(details["seams"]) == 6


def test_alpha_scales_the_surfaces(tmp_path):
    case = known_truth.illumination(str(tmp_path / "in"), rows=2, cols=2)
    none = local_block_adjustment(case.paths, str(tmp_path / "none"), alpha=0.0)
    for source, output in zip(case.paths, none.output_images):
        assert pixels(source) == pixels(output)
    full = local_block_adjustment(case.paths, str(tmp_path / "full"))
    half = local_block_adjustment(case.paths, str(tmp_path / "half"), alpha=0.5)
    for k, path in enumerate(case.paths):
        source, valid = known_truth.read_tile(path)
        full_change = np.log(known_truth.read_tile(full.output_images[k])[0][valid] / source[valid])
        half_change = np.log(known_truth.read_tile(half.output_images[k])[0][valid] / source[valid])
        assert np.abs(half_change - full_change / 2).max() < 2e-3


def test_images_without_an_overlap_are_left_as_they_are(tmp_path):
    case = known_truth.disconnected(str(tmp_path / "in"))
    lonely = [case.paths[0], case.paths[2]]          # one tile of each group: no overlap
    result = local_block_adjustment(lonely, str(tmp_path / "out"))
    for source, output in zip(lonely, result.output_images):
        assert pixels(source) == pixels(output)
    assert sum("no local correction" in message for message in result.warnings) == 2
    single = local_block_adjustment(case.paths[:1], str(tmp_path / "single"))
    assert pixels(single.output_images[0]) == pixels(case.paths[0])


def test_pixels_saturated_in_one_image_do_not_bend_the_others(tmp_path):
    """The demo tiles: 4.5-11 % of three tiles' pixels are saturated at 255 in the inputs.
    After Global regression the unsaturated pixels agree; the local step must not bend them
    towards the saturated ones (the block-means model adds more than 1 DN there)."""
    import glob
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "demo_compare", os.path.join(core_helpers.REPO_ROOT, "demo", "compare.py"))
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    inputs = sorted(glob.glob(os.path.join(core_helpers.REPO_ROOT, "demo", "data", "*.tif")))
    global_outputs = core.global_regression(inputs, str(tmp_path / "global")).output_images
    surface = local_block_adjustment(global_outputs, str(tmp_path / "surface")).output_images
    block_means = run(global_outputs, tmp_path / "block_means").output_images

    def unsaturated_seam(paths):
        return np.mean([compare.overlap_difference(paths[i], paths[j], (inputs[i], inputs[j]))
                        for i in range(4) for j in range(i + 1, 4)])

    assert unsaturated_seam(global_outputs) < 0.1
    assert unsaturated_seam(surface) <= unsaturated_seam(global_outputs) + 0.02
    assert unsaturated_seam(block_means) > 1.0
