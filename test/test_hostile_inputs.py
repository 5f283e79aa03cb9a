"""Hostile input rasters, through processing.run and qgis_process (issue 5, "Inputs").

Each test runs once per entry point (the ``runner`` fixture) and, where both algorithms read
the inputs the same way, once per algorithm. See hostile_helpers.check for what every case
asserts (message, no traceback, inputs byte-identical, no partial output).
"""
import os
import shutil

import numpy as np
import pytest
import rasterio
from affine import Affine

import core_helpers
from core_helpers import InputGuard
from hostile_helpers import ALGORITHMS, GR, SUFFIX, check, expected_outputs, read


@pytest.fixture
def guard():
    return InputGuard()


def run_case(runner, alg_id, inputs, out, guard, folders, **parameters):
    """Watch ``folders``, run, and return the outcome (checked by the caller)."""
    guard.watch(*folders)
    return runner.run(alg_id, dict({"INPUT": inputs, "OUTPUT_FOLDER": str(out)}, **parameters))


def refused(outcome, out, guard, *needles, any_needles=()):
    return check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=needles,
                 any_needles=any_needles)


# ---------------------------------------------------------------------------------------------
# Inputs that are not usable rasters: refused before anything is written
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("value", [[], [""]], ids=["none", "empty-string"])
def test_no_layers(runner, alg_id, value, tmp_path, guard):
    out = tmp_path / "out"
    outcome = runner.run(alg_id, {"INPUT": value, "OUTPUT_FOLDER": str(out)})
    refused(outcome, out, guard, "INPUT", any_needles=("No input rasters", "not specified"))


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_layer_that_is_not_a_file(runner, alg_id, tiles, tmp_path, guard):
    """An XYZ tile service (WMS provider): a layer object through processing.run, its URI
    through qgis_process."""
    from qgis.core import QgsRasterLayer

    uri = ("type=xyz&url=https://tile.openstreetmap.org/{z}/{x}/{y}.png&zmax=19&zmin=0")
    if runner.name == "processing.run":
        layer = QgsRasterLayer(uri, "OpenStreetMap tiles", "wms")
        assert layer.isValid()
        value, needles = layer, ("OpenStreetMap tiles", "not a file-based raster")
    else:
        value, needles = uri, ("tile.openstreetmap.org", "not a raster file")
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [value], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, *needles)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_missing_file(runner, alg_id, tiles, tmp_path, guard):
    missing = str(tmp_path / "input" / "gone.tif")
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [missing], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, missing, "not found")


def damaged_copy(source, target, how):
    """A GeoTIFF whose header is intact but whose pixels cannot be decoded."""
    if how == "truncated":
        with open(source, "rb") as handle:
            data = handle.read()
        with open(target, "wb") as handle:
            handle.write(data[:len(data) * 2 // 3])
    else:
        # DEFLATE tiles with garbage in the middle of the compressed stream
        with rasterio.open(source) as src:
            profile = dict(src.profile, compress="deflate", tiled=True, blockxsize=32,
                           blockysize=32)
            data = src.read()
        with rasterio.open(target, "w", **profile) as dst:
            dst.write(data)
        with open(target, "r+b") as handle:
            size = os.path.getsize(target)
            handle.seek(size // 2)
            handle.write(bytes(range(7, 250, 3)) * 4)
    return target


@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("how", ["truncated", "corrupt"])
def test_damaged_geotiff(runner, alg_id, how, tiles, tmp_path, guard):
    damaged = damaged_copy(tiles[2], str(tmp_path / "input" / "damaged.tif"), how)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [damaged], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, damaged)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_text_file_named_tif(runner, alg_id, tiles, tmp_path, guard):
    fake = tmp_path / "input" / "notes.tif"
    fake.write_text("this is not a raster\n")
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [str(fake)], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, str(fake), any_needles=("Cannot read", "cannot be read"))


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_mismatched_crs(runner, alg_id, tmp_path, guard, rm):
    paths = rm.write_tiles(tmp_path / "input")
    other = rm.write_tiles(tmp_path / "other", names=["x0", "x1", "odd_crs"],
                           crs="EPSG:32619")[2]
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths[:2] + [other], out, guard,
                       [tmp_path / "input", tmp_path / "other"])
    refused(outcome, out, guard, other, "CRS")


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_mismatched_band_counts(runner, alg_id, tiles, tmp_path, guard, rm):
    data, transform, nodata = rm.read_band(tiles[2])
    two_bands = core_helpers.write_raster(str(tmp_path / "input" / "two_bands.tif"),
                                          np.stack([data, data]), transform, nodata=nodata)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [two_bands], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, two_bands, "bands")


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_differing_nodata_without_override(runner, alg_id, tmp_path, guard, rm):
    paths = rm.write_tiles(tmp_path / "input")
    odd = rm.write_tiles(tmp_path / "other", names=["y0", "y1", "odd_nodata"], nodata=65535)[2]
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths[:2] + [odd], out, guard,
                       [tmp_path / "input", tmp_path / "other"])
    refused(outcome, out, guard, odd, "nodata")


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_rotated_geotransform(runner, alg_id, tiles, tmp_path, guard, rm):
    data, transform, nodata = rm.read_band(tiles[2])
    rotated = core_helpers.write_raster(
        str(tmp_path / "input" / "rotated.tif"), data,
        transform * Affine.rotation(10.0), nodata=nodata)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:2] + [rotated], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, rotated, "rotated")


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_duplicate_names_from_two_folders(runner, alg_id, tiles, tmp_path, guard):
    twin = tmp_path / "twin" / os.path.basename(tiles[0])
    twin.parent.mkdir()
    shutil.copy(tiles[1], twin)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles + [str(twin)], out, guard,
                       [tmp_path / "input", tmp_path / "twin"])
    refused(outcome, out, guard, "tile0", tiles[0], str(twin))


# ---------------------------------------------------------------------------------------------
# Unusual but valid inputs: a defined result (and a warning where the specification says so)
# ---------------------------------------------------------------------------------------------
def succeeded(outcome, out, guard, inputs, alg_id, warning_needles=(), others=()):
    complete = expected_outputs(out, inputs, SUFFIX[alg_id])
    check(outcome, guard=guard, outputs=[out], complete=complete, like=inputs, expect_ok=True,
          warning_needles=warning_needles, others=others)
    assert outcome.results["OUTPUT_LAYERS"] == complete
    return complete


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_one_layer(runner, alg_id, tiles, tmp_path, guard):
    """One image has nothing to be matched to: refused, naming what could give it partners
    (statistics loaded from an earlier run)."""
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:1], out, guard, [tmp_path / "input"])
    refused(outcome, out, guard, "Only one input raster", "INPUT",
            "LOAD_ADJUSTMENTS" if alg_id == GR else "LOAD_LOCAL_BLOCK_MAPS")


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_one_layer_with_loaded_statistics(runner, radiomatch_provider, alg_id, tiles, tmp_path,
                                          guard):
    """With its partners' statistics (Global regression's adjustments file, Local block
    adjustment's block maps) saved by an earlier run, one image is balanced like the others."""
    import processing

    saved = tmp_path / "saved"
    if alg_id == GR:
        path = str(saved / "adjustments.json")
        first = processing.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "all"),
                                        "SAVE_ADJUSTMENTS": path})
        loaded = {"LOAD_ADJUSTMENTS": path}
    else:
        first = processing.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "all"),
                                        "SAVE_BLOCK_MAPS": str(saved)})
        loaded = {"LOAD_LOCAL_BLOCK_MAPS": first["BLOCK_MAP_LAYERS"][1:]}
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, tiles[:1], out, guard, [tmp_path / "input"], **loaded)
    written = succeeded(outcome, out, guard, tiles[:1], alg_id)
    assert np.array_equal(read(written[0]), read(first["OUTPUT_LAYERS"][0]))


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_spaces_and_non_ascii_paths(runner, alg_id, tmp_path, guard, rm):
    folder = tmp_path / "données brutes" / "été 2023"
    paths = rm.write_tiles(folder, names=["tuile nord", "tuile_ëst", "瓦片 3"])
    out = tmp_path / "sortie corrigée ø"
    outcome = run_case(runner, alg_id, paths, out, guard, [folder])
    written = succeeded(outcome, out, guard, paths, alg_id)
    assert rm.overlap_difference(written) < rm.overlap_difference(paths)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_image_entirely_nodata(runner, alg_id, tmp_path, guard, rm):
    def blank(k, data):
        if k == 2:
            data[:] = 0

    paths = rm.write_tiles(tmp_path / "input", edit=blank)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [tmp_path / "input"])
    written = succeeded(outcome, out, guard, paths, alg_id, warning_needles=["tile2"])
    assert np.array_equal(read(written[2]), read(paths[2]))  # still all nodata
    assert rm.overlap_difference(written[:2]) < rm.overlap_difference(paths[:2])


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_constant_image(runner, alg_id, tmp_path, guard, rm):
    """A constant image (zero variance) is corrected without breaking its neighbours."""
    def flat(k, data):
        if k == 1:
            data[:] = 1234

    paths = rm.write_tiles(tmp_path / "input", edit=flat)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [tmp_path / "input"])
    needles = ["tile1", "constant"] if alg_id == GR else ()
    written = succeeded(outcome, out, guard, paths, alg_id, warning_needles=needles)
    for path in written:
        values = read(path).astype("float64")
        assert np.isfinite(values).all()
        assert (values[values != 0] > 0).all()
    # the textured images keep (most of) their contrast
    for source, path in ((paths[0], written[0]), (paths[2], written[2])):
        before, after = read(source).astype("float64"), read(path).astype("float64")
        assert after[before != 0].std() > 0.5 * before[before != 0].std(), path


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_nan_and_infinite_values_in_float_data(runner, alg_id, tmp_path, guard, rm):
    bad = np.zeros((rm.TILE, rm.TILE), dtype=bool)
    bad[5:9, 5:40] = True
    bad[30, :] = True

    def poison(k, data):
        data[5:9, 5:20] = np.nan
        data[5:9, 20:30] = np.inf
        data[5:9, 30:40] = -np.inf
        data[30, :] = np.nan

    paths = rm.write_tiles(tmp_path / "input", dtype="float32", nodata=-9999.0, edit=poison)
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [tmp_path / "input"])
    written = succeeded(outcome, out, guard, paths, alg_id)
    for path in written:
        values = read(path)[0]
        assert np.isfinite(values).all(), path
        assert (values[bad] == -9999.0).all()
        assert (values[~bad] != -9999.0).all()
    assert rm.overlap_difference(written) < 0.5 * rm.overlap_difference(paths)


LAYOUTS = {
    # (column, row) of each 48 x 48 tile on a 512 x 512 scene
    "no-overlap": ((0, 0), (300, 0), (0, 300)),
    "two-groups": ((0, 0), (24, 0), (400, 400), (424, 400)),
    "tiny-overlap": ((0, 0), (45, 0), (0, 46)),
}


@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_overlap_layouts(runner, alg_id, layout, tmp_path, guard):
    scene = core_helpers.scene(512, 512)
    gains = (1.0, 1.3, 0.8, 1.1)
    paths = [core_helpers.write_tile(str(tmp_path / "input" / "part{}.tif".format(k)), scene,
                                     row, col, 48, 48, gain=gains[k], offset=100 * k, nodata=0)
             for k, (col, row) in enumerate(LAYOUTS[layout])]
    out = tmp_path / "out"
    outcome = run_case(runner, alg_id, paths, out, guard, [tmp_path / "input"])
    warnings = {("no-overlap", GR): ["overlap"], ("two-groups", GR): ["group"]}
    succeeded(outcome, out, guard, paths, alg_id,
              warning_needles=warnings.get((layout, alg_id), []))
