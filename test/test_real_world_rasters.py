"""The rasters people actually have, through processing.run and qgis_process (issue 13):
drone and aerial orthomosaics with alpha bands or masks, analysis-ready products stored as
scaled integers, scanned maps with palettes, 32-bit and float64 data, and the inputs and
options that must be refused clearly. Each case runs once per entry point (the ``runner``
fixture); see hostile_helpers.check for what every case asserts (message, no traceback,
inputs byte-identical, no partial output)."""
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp, MaskFlags

import core_helpers as H
from core_helpers import InputGuard
from hostile_helpers import (ALGORITHMS, GR, LBA, SUFFIX, check, cli_arguments,
                             expected_outputs, parse_cli, read, temporary_files)

SCENE = H.scene(60, 100, bands=3, seed=3, low=20.0, high=230.0)
PLACES = (("a", 0, 1.0, 0.0), ("b", 40, 0.8, 20.0))        # name, scene column, gain, offset


@pytest.fixture
def guard():
    return InputGuard()


def colour(col, gain=1.0, offset=0.0, dtype="uint8"):
    return H.cast(SCENE[:, :, col:col + 60] * gain + offset, dtype)


def alpha_of():
    alpha = np.full((60, 60), 255, dtype="uint8")
    alpha[:, :6] = 0
    alpha[:, 6:12] = 128
    return alpha


def run_case(runner, alg_id, inputs, out, guard, folders, **parameters):
    guard.watch(*folders)
    if alg_id == LBA:
        parameters.setdefault("NUMBER_OF_BLOCKS", 4)
    return runner.run(alg_id, dict({"INPUT": inputs, "OUTPUT_FOLDER": str(out)}, **parameters))


def succeeded(outcome, out, guard, inputs, alg_id, warning_needles=()):
    complete = expected_outputs(out, inputs, SUFFIX[alg_id])
    check(outcome, guard=guard, outputs=[out], complete=complete, like=inputs, expect_ok=True,
          warning_needles=warning_needles)
    return complete


def refused(outcome, out, guard, *needles):
    return check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=needles)


# ---------------------------------------------------------------------------------------------
# 1. Alpha bands
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("kind", ["geotiff", "png"])
def test_rgba_orthomosaics(runner, alg_id, kind, tmp_path, guard):
    """RGBA GeoTIFFs (drone software) and RGBA PNGs with a world file: the alpha band is
    copied unchanged, keeps its interpretation, and its transparent pixels (garbage colour
    values here) stay transparent and out of the statistics."""
    folder = tmp_path / "input"
    paths = []
    for name, col, gain, offset in PLACES:
        values, alpha = colour(col, gain, offset), alpha_of()
        values[:, alpha == 0] = 250
        if kind == "geotiff":
            paths.append(H.write_rgba(str(folder / f"{name}.tif"), values, alpha,
                                      H.scene_transform(col)))
        else:
            paths.append(H.write_png(str(folder / f"{name}.png"),
                                     np.concatenate([values, alpha[None]]),
                                     H.scene_transform(col)))
    out = tmp_path / "out"
    options = {"MODEL_IMAGES": paths[:1]} if alg_id == GR else {}
    outcome = run_case(runner, alg_id, paths, out, guard, [folder], **options)
    written = succeeded(outcome, out, guard, paths, alg_id)
    for source, path in zip(paths, written):
        with rasterio.open(path) as dataset:
            assert dataset.count == 4 and dataset.colorinterp[3] == ColorInterp.alpha
            assert MaskFlags.alpha in dataset.mask_flag_enums[0]
            data = dataset.read()
        before = read(source)
        assert np.array_equal(data[3], before[3])
        assert (data[:3, before[3] == 0] == 250).all()          # transparent, as they were
    if alg_id == GR:
        # b is brought back to the scene although its transparent collar is 250 everywhere
        opaque = read(paths[1])[3] != 0
        corrected = read(written[1])[:3].astype(float)
        assert np.abs(corrected - SCENE[:, :, 40:100])[:, opaque].max() <= 2.0


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_reports_of_rgba_images_show_the_colour_bands(runner, alg_id, tmp_path, guard):
    folder = tmp_path / "input"
    paths = [H.write_rgba(str(folder / f"{name}.tif"), colour(col, gain, offset), alpha_of(),
                          H.scene_transform(col)) for name, col, gain, offset in PLACES]
    out, report = tmp_path / "out", tmp_path / "report" / "report.html"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder], REPORT=str(report))
    succeeded(outcome, out, guard, paths, alg_id)
    text = report.read_text(encoding="utf-8")
    assert "Band 3" in text and "Band 4" not in text


# ---------------------------------------------------------------------------------------------
# 2. Per-dataset masks (.msk)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_external_mask_is_kept_in_the_output(runner, alg_id, tmp_path, guard):
    folder = tmp_path / "input"
    keep = np.ones((60, 60), dtype=bool)
    keep[:, :10] = False
    paths = []
    for name, col, gain, offset in PLACES:
        path = H.write_raster(str(folder / f"{name}.tif"), colour(col, gain, offset),
                              H.scene_transform(col))
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False):
            with rasterio.open(path, "r+") as dataset:
                dataset.write_mask(np.where(keep, 255, 0).astype("uint8"))
        assert os.path.isfile(path + ".msk")
        paths.append(path)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder])
    for path in succeeded(outcome, out, guard, paths, alg_id):
        with rasterio.open(path) as dataset:
            assert dataset.mask_flag_enums[0] == [MaskFlags.per_dataset]
            assert np.array_equal(dataset.read_masks(1) != 0, keep)


# ---------------------------------------------------------------------------------------------
# 3, 4, 11: per-band nodata, palettes, complex values: refused, naming the file
# ---------------------------------------------------------------------------------------------
def per_band_nodata(folder):
    return [H.write_hfa(str(folder / f"{name}.img"), colour(col, gain, offset),
                        H.scene_transform(col), (0, 0, 255)) for name, col, gain, offset in PLACES]


def palette(folder):
    plain = H.write_raster(str(folder / "a.tif"), colour(0)[:1], H.scene_transform(0))
    scanned = H.write_raster(str(folder / "scan.tif"), colour(40)[:1], H.scene_transform(40))
    with rasterio.open(scanned, "r+") as dataset:
        dataset.write_colormap(1, {k: (k, 255 - k, 0, 255) for k in range(256)})
    return [plain, scanned]


def complex_values(folder):
    plain = H.write_raster(str(folder / "a.tif"), colour(0)[:1], H.scene_transform(0))
    slc = H.write_raster(str(folder / "slc.tif"), (colour(40)[:1] + 1j).astype("complex64"),
                         H.scene_transform(40))
    return [plain, slc]


@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("make, culprit, needles", [
    (per_band_nodata, 0, ("band 1: 0", "band 3: 255", "one nodata value")),
    (palette, 1, ("palette",)),
    (complex_values, 1, ("complex64",)),
], ids=["per-band-nodata", "palette", "complex"])
def test_rasters_that_cannot_be_balanced_are_refused(runner, alg_id, make, culprit, needles,
                                                     tmp_path, guard):
    folder = tmp_path / "input"
    folder.mkdir()
    paths = make(folder)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder])
    refused(outcome, out, guard, paths[culprit], *needles)


# ---------------------------------------------------------------------------------------------
# 5. Metadata
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_scaled_reflectance_keeps_its_metadata(runner, alg_id, tmp_path, guard):
    folder = tmp_path / "input"
    paths = []
    for name, col, gain, offset in PLACES:
        path = H.write_raster(str(folder / f"{name}.tif"),
                              H.cast(SCENE[:, :, col:col + 60] * 20 * gain + offset, "int16"),
                              H.scene_transform(col), nodata=-9999)
        with rasterio.open(path, "r+") as dataset:
            dataset.scales, dataset.offsets = (1e-4,) * 3, (-0.1,) * 3
            for band, text in enumerate(("B02 blue", "B03 green", "B04 red"), start=1):
                dataset.set_band_description(band, text)
            dataset.update_tags(PRODUCT_TYPE="S2MSI2A", AREA_OR_POINT="Point")
            dataset.colorinterp = (ColorInterp.blue, ColorInterp.green, ColorInterp.red)
        paths.append(path)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder], SAVE_AS_COG=True)
    for source, path in zip(paths, succeeded(outcome, out, guard, paths, alg_id)):
        with rasterio.open(path) as dataset, rasterio.open(source) as before:
            assert dataset.scales == (1e-4,) * 3 and dataset.offsets == (-0.1,) * 3
            assert dataset.descriptions == ("B02 blue", "B03 green", "B04 red")
            assert dataset.tags()["PRODUCT_TYPE"] == "S2MSI2A"
            assert dataset.tags()["AREA_OR_POINT"] == "Point"
            assert dataset.colorinterp == before.colorinterp
            assert dataset.transform == before.transform


# ---------------------------------------------------------------------------------------------
# 6. Precision
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["uint32", "float64"])
def test_wide_values_of_a_model_image_are_kept_exactly(runner, dtype, tmp_path, guard):
    folder = tmp_path / "input"
    paths = []
    for name, col, _gain, _offset in PLACES:
        values = SCENE[:, :, col:col + 60] * 1000.0
        values = values / 7.0 + 1e-3 if dtype == "float64" else values + 200_000_001
        paths.append(H.write_raster(str(folder / f"{name}.tif"), values.astype(dtype),
                                    H.scene_transform(col), nodata=0))
    out = tmp_path / "out"
    outcome = run_case(runner, GR, paths, out, guard, [folder], MODEL_IMAGES=paths)
    for source, path in zip(paths, succeeded(outcome, out, guard, paths, GR)):
        assert np.array_equal(read(source), read(path))
    forced = tmp_path / "forced"
    outcome = runner.run(GR, {"INPUT": paths, "OUTPUT_FOLDER": str(forced), "MODEL_IMAGES": paths,
                              "CALCULATION_DTYPE": 0})
    succeeded(outcome, forced, guard, paths, GR, warning_needles=["float32", paths[0]])


# ---------------------------------------------------------------------------------------------
# 7, 12: the mask field
# ---------------------------------------------------------------------------------------------
def field_mask(path, value):
    x0, y0 = H.ORIGIN[0] + 40 * H.PIXEL, H.ORIGIN[1] - 30 * H.PIXEL
    polygon = {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 40, y0], [x0 + 40, y0 + 40],
                                                   [x0, y0 + 40], [x0, y0]]]}
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    return H.write_json(str(path), {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32618"}},
        "features": [{"type": "Feature", "properties": {"image": value}, "geometry": polygon}]})


def plain_pair(folder):
    return [H.write_raster(str(folder / f"{name}.tif"), colour(col, gain, offset),
                           H.scene_transform(col), nodata=0) for name, col, gain, offset in PLACES]


@pytest.mark.parametrize("mode", [0, 1], ids=["include", "exclude"])
def test_mask_field_values_that_name_no_image_are_warned(runner, mode, tmp_path, guard):
    paths = plain_pair(tmp_path / "input")
    mask = field_mask(tmp_path / "masks" / "clouds.geojson", "B.TIF, scene_9")
    out = tmp_path / "out"
    outcome = run_case(runner, GR, paths, out, guard, [tmp_path / "input", tmp_path / "masks"],
                       VECTOR_MASK=mask, MASK_MODE=mode, MASK_NAME_FIELD="image")
    succeeded(outcome, out, guard, paths, GR, warning_needles=["'B.TIF'", "'scene_9'"])


def test_mask_field_that_does_not_exist_is_refused(runner, tmp_path, guard):
    paths = plain_pair(tmp_path / "input")
    mask = field_mask(tmp_path / "masks" / "clouds.geojson", "b")
    out = tmp_path / "out"
    outcome = run_case(runner, GR, paths, out, guard, [tmp_path / "input", tmp_path / "masks"],
                       VECTOR_MASK=mask, MASK_MODE=1, MASK_NAME_FIELD="scene")
    refused(outcome, out, guard, "'scene'", "MASK_NAME_FIELD", "image")


# ---------------------------------------------------------------------------------------------
# 9. The block grid
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [{"NUMBER_OF_BLOCKS": 10_000_000},
                                     {"NUMBER_OF_BLOCKS": 1_000_000_000},
                                     {"BLOCK_RULE": 1, "BLOCK_ROWS": 61, "BLOCK_COLS": 10}],
                         ids=["1e7", "1e9", "rows"])
def test_a_block_grid_finer_than_the_pixels_is_refused(runner, options, tmp_path, guard):
    paths = plain_pair(tmp_path / "input")
    out = tmp_path / "out"
    started = time.monotonic()
    outcome = run_case(runner, LBA, paths, out, guard, [tmp_path / "input"], **options)
    refused(outcome, out, guard, "finer than the pixels", "60 x 100")
    assert time.monotonic() - started < 60


# ---------------------------------------------------------------------------------------------
# 10. Two runs writing the same outputs
# ---------------------------------------------------------------------------------------------
def slow_tiles(folder, size=240):
    rng = np.random.default_rng(7)
    return [H.write_raster(str(folder / f"{name}.tif"),
                           rng.integers(1, 60000, (1, size, size)).astype("uint16"),
                           H.scene_transform(k * size // 2), nodata=0)
            for k, name in enumerate(("s0", "s1", "s2"))]


def test_a_second_run_on_the_same_outputs_is_refused(runner, qgis_process, tmp_path, guard):
    """A first run (qgis_process, in a process of its own, held still with SIGSTOP once it has
    reserved its outputs) is writing the outputs: the second is refused with a clear message
    and removes nothing; the first then ends whole."""
    paths = slow_tiles(tmp_path / "input")
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    parameters = {"INPUT": paths, "OUTPUT_FOLDER": str(out), "WINDOW_SIZE": 8}
    first = qgis_process.popen(*cli_arguments(GR, parameters), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not temporary_files(str(out)) and first.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        first.send_signal(signal.SIGSTOP)
        assert first.poll() is None, "the first run ended before the second started"
        second = runner.run(GR, parameters)
        held = temporary_files(str(out))
    finally:
        first.send_signal(signal.SIGCONT)
        stdout, stderr = first.communicate(timeout=300)
    assert not second.ok and "another run" in second.text and "Traceback" not in second.text
    assert any(path in second.text for path in expected_outputs(out, paths, "_Global"))
    assert held, "the second run removed the first run's temporary files"
    outcome = parse_cli(subprocess.CompletedProcess(first.args, first.returncode, stdout,
                                                    stderr))
    check(outcome, guard=guard, outputs=[out], complete=expected_outputs(out, paths, "_Global"),
          like=paths, expect_ok=True)


# ---------------------------------------------------------------------------------------------
# 13, 14: names that misled
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_long_file_names(runner, alg_id, tmp_path, guard):
    folder = tmp_path / "input"
    stem = "orthomosaic_flight_" + "x" * 230                 # + "_Local.tif": 259 bytes
    paths = [H.write_raster(str(folder / f"{stem[:-8]}.tif"), colour(0), H.scene_transform(0)),
             H.write_raster(str(folder / "b.tif"), colour(40, 0.8, 20), H.scene_transform(40))]
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder])
    succeeded(outcome, out, guard, paths, alg_id)
    too_long = H.write_raster(str(tmp_path / "long" / f"{stem}.tif"), colour(0),
                              H.scene_transform(0))
    outcome = run_case(runner, alg_id, [too_long, paths[1]], tmp_path / "out2", guard,
                       [tmp_path / "long"])
    refused(outcome, tmp_path / "out2", guard, "bytes long", "shorter")


def test_gdal_subdataset_string(runner, tmp_path, guard):
    from osgeo import gdal

    folder = tmp_path / "input"
    folder.mkdir()
    container = str(folder / "sst.nc")
    if gdal.GetDriverByName("netCDF") is None:
        pytest.skip("GDAL has no netCDF driver")
    dataset = gdal.GetDriverByName("netCDF").Create(container, 8, 8, 1, gdal.GDT_Float32)
    dataset.GetRasterBand(1).WriteArray(np.ones((8, 8), dtype="float32"))
    dataset.SetGeoTransform(H.scene_transform().to_gdal())
    dataset = None
    out = tmp_path / "out"
    outcome = run_case(runner, GR, ['NETCDF:"{}":Band1'.format(container)], out, guard, [folder])
    refused(outcome, out, guard, "subdataset", container)
    assert "not found" not in outcome.text


def test_file_name_with_a_pipe(runner, tmp_path, guard):
    folder = tmp_path / "input"
    paths = [H.write_raster(str(folder / "flight|1.tif"), colour(0), H.scene_transform(0)),
             H.write_raster(str(folder / "flight|2.tif"), colour(40, 0.8, 20),
                            H.scene_transform(40))]
    out = tmp_path / "out"
    outcome = run_case(runner, GR, paths, out, guard, [folder])
    succeeded(outcome, out, guard, paths, GR)


@pytest.mark.parametrize("output_dtype, ok", [(6, True), (0, False)], ids=["float32", "uint16"])
def test_nan_nodata_override(runner, output_dtype, ok, tmp_path, guard, rm):
    """NaN unifies float inputs' nodata; an integer output cannot hold it."""
    paths = rm.write_tiles(tmp_path / "input")
    out = tmp_path / "out"
    outcome = run_case(runner, GR, paths, out, guard, [tmp_path / "input"],
                       CUSTOM_NODATA_VALUE=float("nan") if runner.name == "processing.run"
                       else "nan", OUTPUT_DTYPE=output_dtype)
    if not ok:
        refused(outcome, out, guard, "nan", "uint16")
        return
    for source, path in zip(paths, succeeded(outcome, out, guard, paths, GR)):
        with rasterio.open(path) as dataset:
            assert np.isnan(dataset.nodata)
            assert np.isfinite(dataset.read()).all()       # the inputs' zeros are data now


# ---------------------------------------------------------------------------------------------
# Cosmetic
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_qgis_process_prints_an_error_once(qgis_process, json_output, tiles, tmp_path):
    out = tmp_path / "out"
    proc = qgis_process(*cli_arguments(GR, {"INPUT": [tiles[0], tiles[0]],
                                           "OUTPUT_FOLDER": str(out)}, json_output=json_output))
    assert proc.returncode == 1
    text = proc.stdout + proc.stderr
    assert text.count("is given twice") == 1, text
    assert text.count(tiles[0]) == 1, text


def test_alpha_zero_does_not_warn_about_unchanged_pixels(runner, tmp_path, guard):
    paths = plain_pair(tmp_path / "input")
    out = tmp_path / "out"
    outcome = run_case(runner, LBA, paths, out, guard, [tmp_path / "input"], ALPHA=0,
                       BLOCK_RULE=1, BLOCK_ROWS=1, BLOCK_COLS=1, BLOCK_VALID_PIXEL_THRESHOLD=1)
    for source, path in zip(paths, succeeded(outcome, out, guard, paths, LBA)):
        assert np.array_equal(read(source), read(path))
    assert not any("unchanged" in warning for warning in outcome.warnings)


def test_hidden_output_names_are_refused(runner, tiles, tmp_path, guard):
    out = tmp_path / "out"
    outcome = run_case(runner, GR, tiles, out, guard, [tmp_path / "input"], OUTPUT_NAME=".$")
    refused(outcome, out, guard, "'.$'", "OUTPUT_NAME", "hidden")
