"""Core tests for the rasters people actually have (issue 13): alpha bands, masks, palettes,
per-band nodata, metadata, precision and the inputs that must be refused, through both
algorithms of the engine, on generated files of each kind. Inputs are checksummed before and
after every run (the ``guard`` fixture)."""
import os

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp, MaskFlags

import core_helpers as H
from core import RadioMatchError, global_regression, local_block_adjustment
from core.rasters import open_image

SCENE = H.scene(60, 100, bands=3, seed=3, low=20.0, high=230.0)
LEFT, RIGHT = 0, 40                  # scene columns of image a and b (60 x 60 each)
GAIN, OFFSET = 0.8, 20.0             # b = GAIN * scene + OFFSET


@pytest.fixture
def guard():
    keeper = H.InputGuard()
    yield keeper
    keeper.verify()


def gr(inputs, out, **options):
    options.setdefault("specify_model_images", ("include", ["a"]))
    return global_regression(inputs, os.fspath(out), **options)


def lba(inputs, out, **options):
    options.setdefault("number_of_blocks", (2, 3))
    return local_block_adjustment(inputs, os.fspath(out), **options)


ALGORITHMS = {"global": gr, "local": lba}


def colour(col, dtype="uint8", gain=1.0, offset=0.0):
    return H.cast(SCENE[:, :, col:col + 60] * gain + offset, dtype)


def open_dataset(path):
    return rasterio.open(path)


def nothing_written(folder):
    return not os.path.exists(folder) or not os.listdir(folder)


# ---------------------------------------------------------------------------------------------
# 1. Alpha bands: a mask, never corrected, copied unchanged, colour interpretation kept
# ---------------------------------------------------------------------------------------------
def alpha_of(col):
    """Transparent collar (0) on the left, feathered (128) next to it, opaque elsewhere."""
    alpha = np.full((60, 60), 255, dtype="uint8")
    alpha[:, :6] = 0
    alpha[:, 6:12] = 128
    alpha[50:, 30:40] = 0            # inside the overlap for b
    return alpha


@pytest.fixture
def rgba(tmp_path, guard):
    """Two RGBA GeoTIFFs; b's transparent pixels hold garbage (250) in the overlap, which
    must not enter the statistics."""
    folder = tmp_path / "rgba"
    a = H.write_rgba(str(folder / "a.tif"), colour(LEFT), alpha_of(LEFT),
                     H.scene_transform(LEFT))
    values = colour(RIGHT, gain=GAIN, offset=OFFSET)
    alpha = alpha_of(RIGHT)
    values[:, alpha == 0] = 250
    b = H.write_rgba(str(folder / "b.tif"), values, alpha, H.scene_transform(RIGHT))
    guard.watch(folder)
    return a, b


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_alpha_band_is_copied_unchanged_and_keeps_its_interpretation(rgba, tmp_path,
                                                                     algorithm):
    result = ALGORITHMS[algorithm](list(rgba), tmp_path / "out", window_size=16,
                                   image_parallel_workers=("thread", 2))
    for source, path in zip(rgba, result.output_images):
        with open_dataset(path) as dataset:
            assert dataset.count == 4
            assert dataset.colorinterp == (ColorInterp.red, ColorInterp.green,
                                           ColorInterp.blue, ColorInterp.alpha)
            assert MaskFlags.alpha in dataset.mask_flag_enums[0]
            out = dataset.read()
        before = H.read(source)
        assert np.array_equal(out[3], before[3])               # the alpha, as it was
        transparent = before[3] == 0
        # without nodata, transparent pixels keep their values and stay transparent
        assert np.array_equal(out[:3, transparent], before[:3, transparent])
    assert not any("no nodata" in message for message in result.warnings)


def test_alpha_band_defines_validity_for_the_model(rgba, tmp_path):
    result = gr(list(rgba), tmp_path / "out")
    adjustment = result.details["adjustments"]["b"]
    assert len(adjustment["scale"]) == 3                      # the colour bands only
    np.testing.assert_allclose(adjustment["scale"], 1 / GAIN, rtol=2e-3)
    out = H.read(result.output_images[1])
    opaque = H.read(rgba[1])[3] != 0
    truth = SCENE[:, :, RIGHT:RIGHT + 60]
    assert np.abs(out[:3].astype(float) - truth)[:, opaque].max() <= 1.0


def test_alpha_band_with_nodata_marks_transparent_pixels_as_nodata(tmp_path, guard):
    folder = tmp_path / "in"
    paths = [H.write_rgba(str(folder / f"{name}.tif"), colour(col, gain=gain, offset=offset),
                          alpha_of(col), H.scene_transform(col), nodata=0)
             for name, col, gain, offset in (("a", LEFT, 1.0, 0.0), ("b", RIGHT, GAIN, OFFSET))]
    guard.watch(folder)
    result = gr(paths, tmp_path / "out", save_as_cog=True)
    for source, path in zip(paths, result.output_images):
        out, before = H.read(path), H.read(source)
        transparent = before[3] == 0
        assert (out[:3, transparent] == 0).all() and (out[:3, ~transparent] != 0).all()
        assert np.array_equal(out[3], before[3])


def test_rgb_and_rgba_images_are_balanced_together(rgba, tmp_path):
    plain = H.write_raster(str(tmp_path / "rgb" / "c.tif"), colour(20, gain=1.1),
                           H.scene_transform(20), photometric="RGB")
    result = gr(list(rgba) + [plain], tmp_path / "out")
    assert H.read(result.output_images[2]).shape[0] == 3
    assert H.read(result.output_images[0]).shape[0] == 4


def test_rgba_png_with_a_world_file(tmp_path, guard):
    folder = tmp_path / "png"
    paths = []
    for name, col, gain, offset in (("a", LEFT, 1.0, 0.0), ("b", RIGHT, GAIN, OFFSET)):
        data = np.concatenate([colour(col, gain=gain, offset=offset), alpha_of(col)[None]])
        paths.append(H.write_png(str(folder / f"{name}.png"), data, H.scene_transform(col)))
    assert os.path.isfile(str(folder / "a.wld"))
    guard.watch(folder)
    for algorithm, run in ALGORITHMS.items():
        result = run(paths, tmp_path / algorithm)
        for source, path in zip(paths, result.output_images):
            with open_dataset(path) as dataset:
                assert dataset.driver == "GTiff" and dataset.count == 4
                assert dataset.colorinterp[3] == ColorInterp.alpha
                assert dataset.transform == H.scene_transform(
                    RIGHT if os.path.basename(path).startswith("b") else LEFT)
                assert np.array_equal(dataset.read(4), H.read(source)[3])


def test_alpha_that_the_output_type_cannot_hold_is_refused(tmp_path, guard):
    folder = tmp_path / "in"
    path = H.write_rgba(str(folder / "a.tif"), colour(LEFT, "uint16", gain=100),
                        alpha_of(LEFT).astype("uint16") * 257, H.scene_transform(LEFT))
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="alpha band") as error:
        gr([path], tmp_path / "out", output_dtype="uint8")
    assert path in str(error.value) and "uint8" in str(error.value)
    assert nothing_written(tmp_path / "out")


# ---------------------------------------------------------------------------------------------
# 2. Per-dataset masks (internal, .msk): the output keeps them, or nodata there
# ---------------------------------------------------------------------------------------------
def masked_pair(folder, external=False):
    keep = np.ones((60, 60), dtype=bool)
    keep[:, :8] = False
    keep[40:, 25:35] = False
    a = H.write_tile(str(folder / "a.tif"), SCENE, 0, LEFT, 60, 60, dtype="uint8")
    values = colour(RIGHT, gain=GAIN, offset=OFFSET)
    values[:, ~keep] = 250                                  # collar garbage under the mask
    b = str(folder / "b.tif")
    H.write_raster(b, values, H.scene_transform(RIGHT))
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=not external):
        with rasterio.open(b, "r+") as dataset:
            dataset.write_mask(np.where(keep, 255, 0).astype("uint8"))
    assert os.path.isfile(b + ".msk") == external
    return [a, b], keep


@pytest.mark.parametrize("external", [False, True], ids=["internal", "msk-file"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_per_dataset_mask_is_kept_in_the_output(tmp_path, guard, algorithm, external):
    paths, keep = masked_pair(tmp_path / "in", external)
    guard.watch(tmp_path / "in")
    result = ALGORITHMS[algorithm](paths, tmp_path / "out", window_size=16,
                                   window_parallel_workers=("thread", 2))
    assert sorted(os.listdir(tmp_path / "out")) == ["a_Global.tif", "b_Global.tif"] \
        if algorithm == "global" else ["a_Local.tif", "b_Local.tif"]   # no .msk beside them
    with open_dataset(result.output_images[1]) as dataset:
        assert dataset.mask_flag_enums[0] == [MaskFlags.per_dataset]
        assert np.array_equal(dataset.read_masks(1) != 0, keep)
        assert (dataset.read()[:, ~keep] == 250).all()          # kept as they were
    if algorithm == "global":
        np.testing.assert_allclose(result.details["adjustments"]["b"]["scale"], 1 / GAIN,
                                   rtol=2e-3)


def test_mask_survives_the_cog_copy(tmp_path, guard):
    paths, keep = masked_pair(tmp_path / "in")
    guard.watch(tmp_path / "in")
    result = gr(paths, tmp_path / "out", save_as_cog=True)
    with open_dataset(result.output_images[1]) as dataset:
        assert dataset.mask_flag_enums[0] == [MaskFlags.per_dataset]
        assert np.array_equal(dataset.read_masks(1) != 0, keep)


def test_masked_pixels_become_nodata_when_the_output_has_nodata(tmp_path, guard):
    paths, keep = masked_pair(tmp_path / "in")
    guard.watch(tmp_path / "in")
    result = gr(paths, tmp_path / "out", custom_nodata_value=0)
    with open_dataset(result.output_images[1]) as dataset:
        out = dataset.read()
        assert dataset.nodata == 0 and MaskFlags.per_dataset not in dataset.mask_flag_enums[0]
    assert (out[:, ~keep] == 0).all() and (out[:, keep] != 0).all()


def test_a_replaced_output_loses_the_side_files_of_the_old_one(tmp_path, guard):
    # an old mask, statistics or overviews next to a replaced output would be read with it
    paths, _ = masked_pair(tmp_path / "in")
    guard.watch(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    for suffix in (".msk", ".aux.xml", ".ovr"):
        (out / ("b_Global.tif" + suffix)).write_text("stale")
    gr(paths, out, custom_nodata_value=0)
    assert sorted(os.listdir(out)) == ["a_Global.tif", "b_Global.tif"]


def test_an_input_named_like_a_side_file_of_an_output_is_never_removed(tmp_path, guard):
    # an .ovr or .msk is a GeoTIFF, which may be given as an input
    folder = tmp_path / "out"
    a = H.write_tile(str(folder / "a.tif"), SCENE, 0, LEFT, 60, 60, dtype="uint8")
    overview = H.write_tile(str(folder / "b_Global.tif.ovr"), SCENE, 0, RIGHT, 60, 60,
                            dtype="uint8")
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="inputs are never overwritten") as error:
        global_regression([a, overview], [str(folder / "a_out.tif"),
                                          str(folder / "b_Global.tif")])
    assert overview in str(error.value)


# ---------------------------------------------------------------------------------------------
# 3. Per-band nodata
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def per_band_nodata(tmp_path, guard):
    """ERDAS Imagine images with nodata 0 in bands 1-2 and 255 in band 3."""
    folder = tmp_path / "img"
    paths = []
    for name, col, gain, offset in (("a", LEFT, 1.0, 0.0), ("b", RIGHT, GAIN, OFFSET)):
        values = colour(col, gain=gain, offset=offset)
        values[2, :4, :] = 255
        paths.append(H.write_hfa(str(folder / f"{name}.img"), values, H.scene_transform(col),
                                 (0, 0, 255)))
    guard.watch(folder)
    return paths


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_per_band_nodata_that_a_geotiff_cannot_hold_is_refused(per_band_nodata, tmp_path,
                                                               algorithm):
    with pytest.raises(RadioMatchError) as error:
        ALGORITHMS[algorithm](per_band_nodata, tmp_path / "out")
    message = str(error.value)
    assert per_band_nodata[0] in message and "band 3: 255" in message and "band 1: 0" in message
    assert nothing_written(tmp_path / "out")


def test_per_band_nodata_with_a_custom_value_is_warned(per_band_nodata, tmp_path):
    result = gr(per_band_nodata, tmp_path / "out", custom_nodata_value=0)
    assert any("replaces the nodata 255 of" in message and per_band_nodata[1] in message
               for message in result.warnings)


# ---------------------------------------------------------------------------------------------
# 4. Palette rasters
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_palette_raster_is_refused(tmp_path, guard, algorithm):
    folder = tmp_path / "in"
    plain = H.write_raster(str(folder / "a.tif"), colour(LEFT)[:1], H.scene_transform(LEFT))
    scanned = H.write_raster(str(folder / "map.tif"), colour(RIGHT)[:1],
                             H.scene_transform(RIGHT))
    with rasterio.open(scanned, "r+") as dataset:
        dataset.write_colormap(1, {k: (k, 255 - k, 0, 255) for k in range(256)})
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="palette") as error:
        ALGORITHMS[algorithm]([plain, scanned], tmp_path / "out")
    assert scanned in str(error.value)


# ---------------------------------------------------------------------------------------------
# 5. Metadata
# ---------------------------------------------------------------------------------------------
def describe(path, scale=1e-4, offset=-0.1, point=True, statistics=True):
    with rasterio.open(path, "r+") as dataset:
        dataset.scales = (scale,) * 3
        dataset.offsets = (offset,) * 3
        dataset.units = ("reflectance",) * 3
        for band, text in enumerate(("Blue", "Green", "Red"), start=1):
            dataset.set_band_description(band, text)
        dataset.update_tags(PRODUCT="L2A", PROCESSING_BASELINE="05.09")
        dataset.update_tags(2, WAVELENGTH="560")
        if statistics:
            dataset.update_tags(1, STATISTICS_MEAN="1234.5")
        if point:
            dataset.update_tags(AREA_OR_POINT="Point")
        dataset.colorinterp = (ColorInterp.blue, ColorInterp.green, ColorInterp.red)


@pytest.fixture
def scaled(tmp_path, guard):
    """int16 reflectance stored as scaled integers (scale 1e-4, offset -0.1), with band
    descriptions, units, tags and pixel-is-point georeferencing."""
    folder = tmp_path / "in"
    paths = [H.write_tile(str(folder / f"{name}.tif"), SCENE * 20, 0, col, 60, 60, gain=gain,
                          offset=offset, dtype="int16", nodata=-9999)
             for name, col, gain, offset in (("a", LEFT, 1.0, 0.0), ("b", RIGHT, GAIN, 300.0))]
    for path in paths:
        describe(path)
    guard.watch(folder)
    return paths


@pytest.mark.parametrize("cog", [False, True], ids=["geotiff", "cog"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_metadata_is_kept(scaled, tmp_path, algorithm, cog):
    result = ALGORITHMS[algorithm](scaled, tmp_path / "out", save_as_cog=cog)
    for source, path in zip(scaled, result.output_images):
        with open_dataset(source) as before, open_dataset(path) as after:
            assert after.scales == (1e-4,) * 3 and after.offsets == (-0.1,) * 3
            assert after.units == ("reflectance",) * 3
            assert after.descriptions == ("Blue", "Green", "Red")
            assert after.colorinterp == (ColorInterp.blue, ColorInterp.green, ColorInterp.red)
            assert after.tags()["PRODUCT"] == "L2A"
            assert after.tags()["PROCESSING_BASELINE"] == "05.09"
            assert after.tags()["AREA_OR_POINT"] == "Point"
            assert after.tags(2)["WAVELENGTH"] == "560"
            assert "STATISTICS_MEAN" not in after.tags(1)   # it described the input's pixels
            assert after.transform == before.transform
            assert after.nodata == -9999


def test_images_with_different_scales_are_refused(scaled, tmp_path, guard):
    other = str(tmp_path / "other" / "c.tif")
    H.write_tile(other, SCENE * 20, 0, 20, 60, 60, dtype="int16", nodata=-9999)
    describe(other, scale=2.75e-5)
    guard.watch(tmp_path / "other")
    with pytest.raises(RadioMatchError, match="scale") as error:
        gr(scaled + [other], tmp_path / "out")
    assert other in str(error.value) and "2.75e-05" in str(error.value)


# ---------------------------------------------------------------------------------------------
# 6. Precision: the calculation type holds the data
# ---------------------------------------------------------------------------------------------
def wide_pair(folder, dtype):
    """a and b on the scene, offset by 2e8 (uint32, int32) or with fractions (float64)."""
    paths = []
    for name, col in (("a", LEFT), ("b", RIGHT)):
        values = SCENE[:, :, col:col + 60] * 1000.0
        if dtype == "float64":
            values = values / 7.0 + 1e-3
        else:
            values = values + 200_000_001
        paths.append(H.write_raster(str(folder / f"{name}.tif"), values.astype(dtype),
                                    H.scene_transform(col), nodata=0))
    return paths


@pytest.mark.parametrize("dtype", ["uint32", "int32", "float64"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_identity_leaves_wide_values_untouched_by_default(tmp_path, guard, algorithm, dtype):
    # a and b show the same scene: global regression keeps scale 1 and offset 0 for both;
    # one image alone is its own reference for local block adjustment (gamma 1)
    paths = wide_pair(tmp_path / "in", dtype)
    guard.watch(tmp_path / "in")
    if algorithm == "global":
        result = gr(paths, tmp_path / "out", specify_model_images=("include", ["a", "b"]))
    else:
        paths = paths[:1]
        result = lba(paths, tmp_path / "out")
    for source, path in zip(paths, result.output_images):
        assert np.array_equal(H.read(source), H.read(path)), path
    assert not any("float32" in message for message in result.warnings)


def test_explicit_float32_on_wide_values_is_reproduced_with_a_warning(tmp_path, guard):
    paths = wide_pair(tmp_path / "in", "uint32")
    guard.watch(tmp_path / "in")
    result = gr(paths, tmp_path / "out", calculation_dtype="float32",
                specify_model_images=("include", ["a", "b"]))
    assert any("float32" in message and paths[0] in message and "uint32" in message
               for message in result.warnings)
    # the reference's float32 arithmetic, as asked: values near 2e8 move to float32 steps
    out, before = H.read(result.output_images[0]), H.read(paths[0])
    assert np.array_equal(out, before.astype("float32").astype("uint32"))
    assert (out != before).mean() > 0.5


def test_uint16_keeps_the_reference_float32_arithmetic(tmp_path, guard):
    folder = tmp_path / "in"
    paths = [H.write_tile(str(folder / f"{name}.tif"), SCENE * 100, 0, col, 60, 60, gain=gain,
                          offset=offset, dtype="uint16", nodata=0)
             for name, col, gain, offset in (("a", LEFT, 1.0, 0.0), ("b", RIGHT, GAIN, OFFSET))]
    guard.watch(folder)
    automatic = lba(paths, tmp_path / "auto", save_block_maps=(str(tmp_path / "m" / "r.tif"),
                                                               str(tmp_path / "m" / "$.tif")))
    explicit = lba(paths, tmp_path / "f32", calculation_dtype="float32")
    for first, second in zip(automatic.output_images, explicit.output_images):
        assert np.array_equal(H.read(first), H.read(second))
    with rasterio.open(str(tmp_path / "m" / "r.tif")) as dataset:
        assert dataset.dtypes[0] == "float32"


# ---------------------------------------------------------------------------------------------
# 11, 13, 14: refused clearly, or accepted where the name misled
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128", "complex_int16"])
def test_complex_values_are_refused(tmp_path, guard, dtype):
    folder = tmp_path / "in"
    path = str(folder / "slc.tif")
    os.makedirs(folder)
    with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=1, dtype=dtype,
                       crs=H.CRS, transform=H.scene_transform()) as dataset:
        if dtype != "complex_int16":
            dataset.write(np.full((1, 8, 8), 3 + 4j, dtype=dtype))
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="complex") as error:
        gr([path], tmp_path / "out")
    assert path in str(error.value)


def test_a_long_output_name_gets_a_short_temporary_name(tmp_path, guard):
    folder = tmp_path / "in"
    long_name = "orthomosaic_" + "x" * 230                  # 242 + "_Global.tif" = 253 bytes
    paths = [H.write_tile(str(folder / f"{long_name}.tif"), SCENE, 0, LEFT, 60, 60,
                          dtype="uint8"),
             H.write_tile(str(folder / "b.tif"), SCENE, 0, RIGHT, 60, 60, dtype="uint8",
                          gain=GAIN, offset=OFFSET)]
    guard.watch(folder)
    seen = []

    def watch(fraction, message):
        seen.extend(os.listdir(tmp_path / "out"))

    result = gr(paths, tmp_path / "out", save_as_cog=True, progress_callback=watch,
                specify_model_images=None)
    assert len(os.path.basename(result.output_images[0]).encode()) == 253
    assert any(name.startswith(".orthomosaic_") and name.endswith(".partial") for name in seen)
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        os.path.basename(path) for path in result.output_images)


def test_an_output_name_longer_than_the_file_system_allows_is_refused_first(tmp_path, guard):
    folder = tmp_path / "in"
    path = H.write_tile(str(folder / ("x" * 250 + ".tif")), SCENE, 0, 0, 60, 60, dtype="uint8")
    guard.watch(folder)
    stages = []
    with pytest.raises(RadioMatchError, match="bytes long") as error:
        gr([path], tmp_path / "out", progress_callback=lambda f, m: stages.append(m))
    assert "x" * 250 + "_Global.tif" in str(error.value)
    assert stages == [] and nothing_written(tmp_path / "out")


def test_gdal_subdataset_string_is_refused_naming_its_container(tmp_path, guard):
    from osgeo import gdal

    folder = tmp_path / "in"
    folder.mkdir()
    container = str(folder / "sst.nc")
    driver = gdal.GetDriverByName("netCDF")
    if driver is None:
        pytest.skip("no netCDF driver")
    dataset = driver.Create(container, 8, 8, 1, gdal.GDT_Float32)
    dataset.GetRasterBand(1).WriteArray(np.ones((8, 8), dtype="float32"))
    dataset.SetGeoTransform(H.scene_transform().to_gdal())
    dataset = None
    guard.watch(folder)
    subdataset = f'NETCDF:"{container}":Band1'
    with pytest.raises(RadioMatchError, match="subdataset") as error:
        gr([subdataset], tmp_path / "out")
    assert container in str(error.value) and "does not exist" not in str(error.value)


def test_input_folder_with_a_dot_in_its_name(tmp_path, guard):
    folder = tmp_path / "survey_2023.v2"
    for name, col in (("a", LEFT), ("b", RIGHT)):
        H.write_tile(str(folder / f"{name}.tif"), SCENE, 0, col, 60, 60, dtype="uint8")
    guard.watch(folder)
    result = gr(str(folder), tmp_path / "out")
    assert [os.path.basename(path) for path in result.output_images] == [
        "a_Global.tif", "b_Global.tif"]


def test_a_file_name_with_a_pipe(tmp_path, guard):
    paths = [H.write_tile(str(tmp_path / "in" / f"flight|{k}.tif"), SCENE, 0, col, 60, 60,
                          dtype="uint8") for k, col in enumerate((LEFT, RIGHT))]
    guard.watch(tmp_path / "in")
    result = gr(paths, tmp_path / "out", specify_model_images=None)
    assert [os.path.basename(path) for path in result.output_images] == [
        "flight|0_Global.tif", "flight|1_Global.tif"]


def test_nan_custom_nodata_unifies_float_outputs_and_is_refused_for_integers(tmp_path, guard):
    folder = tmp_path / "in"
    first = H.write_tile(str(folder / "a.tif"), SCENE, 0, LEFT, 60, 60, dtype="float32",
                         nodata=-9999.0, holes=np.eye(60, dtype=bool))
    second = H.write_tile(str(folder / "b.tif"), SCENE, 0, RIGHT, 60, 60, dtype="float32",
                          holes=np.eye(60, dtype=bool)[::-1], nodata=np.nan)
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="nodata"):
        gr([first, second], tmp_path / "out")                  # -9999 and NaN differ
    result = gr([first, second], tmp_path / "out", custom_nodata_value=float("nan"))
    assert any("replaces the nodata -9999" in message for message in result.warnings)
    with open_dataset(result.output_images[1]) as dataset:
        assert np.isnan(dataset.nodata)
        assert np.isnan(dataset.read(1)[np.eye(60, dtype=bool)[::-1]]).all()
    with pytest.raises(RadioMatchError, match="nan cannot be stored in the uint16"):
        gr([first, second], tmp_path / "out2", custom_nodata_value=float("nan"),
           output_dtype="uint16")


def test_the_same_file_given_twice_is_named_once(tmp_path, guard):
    path = H.write_tile(str(tmp_path / "in" / "a.tif"), SCENE, 0, 0, 60, 60, dtype="uint8")
    guard.watch(tmp_path / "in")
    with pytest.raises(RadioMatchError) as error:
        gr([path, path], tmp_path / "out")
    assert str(error.value).count(path) == 1 and "twice" in str(error.value)


def test_open_image_describes_alpha_and_masks(rgba, tmp_path):
    image = open_image(rgba[0])
    assert (image.count, image.file_count, image.alpha_band) == (3, 4, 4)
    assert not image.has_mask_band
    paths, _ = masked_pair(tmp_path / "m")
    image = open_image(paths[1])
    assert (image.count, image.alpha_band, image.has_mask_band) == (3, None, True)


# ---------------------------------------------------------------------------------------------
# GDAL virtual file systems: inputs read through GDAL, outputs only in a file system folder
# ---------------------------------------------------------------------------------------------
def zipped_pair(folder):
    """a and b (b = GAIN * scene + OFFSET) as files, and the same two inside a zip file."""
    import zipfile

    a = H.write_tile(str(folder / "a.tif"), SCENE, 0, LEFT, 60, 60, dtype="uint8")
    b = str(folder / "b.tif")
    H.write_raster(b, colour(RIGHT, gain=GAIN, offset=OFFSET), H.scene_transform(RIGHT))
    archive = str(folder / "pair.zip")
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(a, "a.tif")
        handle.write(b, "b.tif")
    return [a, b], ["/vsizip/{}/{}".format(archive, name) for name in ("a.tif", "b.tif")]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_inputs_in_a_zip_file_give_the_outputs_of_the_plain_files(tmp_path, guard, algorithm):
    plain, virtual = zipped_pair(tmp_path / "in")
    guard.watch(tmp_path / "in")
    ALGORITHMS[algorithm](plain, tmp_path / "plain")
    result = ALGORITHMS[algorithm](virtual, tmp_path / "virtual")
    assert [os.path.basename(path) for path in result] == sorted(os.listdir(tmp_path / "plain"))
    for name in os.listdir(tmp_path / "plain"):
        with open(tmp_path / "plain" / name, "rb") as one, \
                open(tmp_path / "virtual" / name, "rb") as other:
            assert one.read() == other.read(), name


def test_a_missing_virtual_input_is_named(tmp_path, guard):
    _, virtual = zipped_pair(tmp_path / "in")
    missing = virtual[1].replace("b.tif", "c.tif")
    with pytest.raises(RadioMatchError) as error:
        gr([virtual[0], missing], tmp_path / "out")
    assert repr(missing) in str(error.value) and "cannot be read as a raster" in str(error.value)
    assert nothing_written(tmp_path / "out")


@pytest.mark.parametrize("output", ["/vsis3/bucket/balanced", "/vsimem/balanced/$.tif"])
def test_outputs_in_a_virtual_file_system_are_refused(tmp_path, guard, output):
    plain, _ = zipped_pair(tmp_path / "in")
    with pytest.raises(RadioMatchError, match="is in a GDAL virtual file system; RadioMatch "
                                              "writes its outputs in a folder of a file system"):
        gr(plain, output)
