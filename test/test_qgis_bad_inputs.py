"""Bad input through processing.run: a QgsProcessingException whose message names the culprit,
and inputs never modified."""

import hashlib
import os
import shutil
import zipfile

import pytest

ALGORITHMS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def run_expecting_error(alg_id, parameters):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException) as raised:
        processing.run(alg_id, parameters)
    return str(raised.value)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_no_inputs(radiomatch_provider, alg_id, tmp_path):
    for value in ([], None):
        message = run_expecting_error(alg_id, {"INPUT": value,
                                               "OUTPUT_FOLDER": str(tmp_path / "out")})
        assert "No input rasters" in message and "INPUT" in message


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_missing_file(radiomatch_provider, alg_id, tiles, tmp_path):
    missing = str(tmp_path / "nowhere" / "missing.tif")
    message = run_expecting_error(alg_id, {"INPUT": tiles[:2] + [missing],
                                           "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert missing in message and "not found" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_text_file_named_tif(radiomatch_provider, alg_id, tiles, tmp_path):
    fake = tmp_path / "notes.tif"
    fake.write_text("this is not a raster\n")
    message = run_expecting_error(alg_id, {"INPUT": tiles[:2] + [str(fake)],
                                           "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert str(fake) in message and "Cannot read" in message


def test_vector_memory_layer(radiomatch_provider, tiles, tmp_path):
    from qgis.core import QgsVectorLayer

    memory = QgsVectorLayer("Polygon?crs=EPSG:32618", "scratch polygons", "memory")
    assert memory.isValid()
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles[:2] + [memory],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "scratch polygons" in message and "not a raster layer" in message


def test_web_raster_layer(radiomatch_provider, tiles, tmp_path):
    """A non-file raster (XYZ tiles through the WMS provider) is refused by name."""
    from qgis.core import QgsRasterLayer

    xyz = QgsRasterLayer("type=xyz&url=https://tile.openstreetmap.org/{z}/{x}/{y}.png"
                         "&zmax=19&zmin=0", "OpenStreetMap tiles", "wms")
    assert xyz.isValid()
    for alg_id in ALGORITHMS:
        message = run_expecting_error(alg_id, {"INPUT": tiles[:2] + [xyz],
                                               "OUTPUT_FOLDER": str(tmp_path / "out")})
        assert "OpenStreetMap tiles" in message and "not a file-based raster" in message
        assert "'wms'" in message


def test_geopackage_sub_layer_refused(radiomatch_provider, tiles, tmp_path):
    import rasterio
    from qgis.core import QgsRasterLayer

    data, profile = None, None
    with rasterio.open(tiles[0]) as src:
        data, profile = src.read(), src.profile
    gpkg = str(tmp_path / "pack.gpkg")
    profile.update(driver="GPKG", RASTER_TABLE="scene_b", blockxsize=256, blockysize=256)
    with rasterio.open(gpkg, "w", **profile) as dst:
        dst.write(data)
    layer = QgsRasterLayer("GPKG:{}:scene_b".format(gpkg), "packed", "gdal")
    assert layer.isValid(), layer.error().summary()
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles[:2] + [layer],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "scene_b" in message and gpkg in message


def test_raster_inside_zip_refused(radiomatch_provider, tiles, tmp_path):
    """GDAL virtual file paths (/vsizip/) are not plain files; the engine reads files only."""
    from qgis.core import QgsRasterLayer

    archive = str(tmp_path / "tiles.zip")
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(tiles[2], "tile2.tif")
    zipped = QgsRasterLayer("/vsizip/{}/tile2.tif".format(archive), "zipped tile", "gdal")
    assert zipped.isValid()
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles[:2] + [zipped],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "zipped tile" in message and "virtual file system" in message


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_output_equal_to_input(radiomatch_provider, alg_id, tiles):
    before = {path: digest(path) for path in tiles}
    folder = os.path.dirname(tiles[0])
    message = run_expecting_error(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": folder,
                                           "OUTPUT_NAME": "$"})
    assert any(path in message for path in tiles), message
    assert {path: digest(path) for path in tiles} == before
    assert sorted(os.listdir(folder)) == sorted(os.path.basename(p) for p in tiles)


@pytest.mark.parametrize("name, expected", [("same_name", "has no $"),
                                            ("sub/$_x", "not a path")])
def test_bad_output_name(radiomatch_provider, tiles, tmp_path, name, expected):
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles, "OUTPUT_NAME": name,
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert expected in message and "OUTPUT_NAME" in message and name in message


def test_single_input_may_use_a_fixed_name(radiomatch_provider, tiles, tmp_path):
    import processing

    results = processing.run(ALGORITHMS[0], {"INPUT": tiles[:1], "OUTPUT_NAME": "balanced",
                                             "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert results["OUTPUT_LAYERS"] == [str(tmp_path / "out" / "balanced.tif")]


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_mismatched_crs(radiomatch_provider, alg_id, tmp_path, rm):
    paths = rm.write_tiles(tmp_path / "a")
    other = rm.write_tiles(tmp_path / "b", names=["x0", "x1", "odd_crs"], crs="EPSG:32619")[2]
    message = run_expecting_error(alg_id, {"INPUT": paths[:2] + [other],
                                           "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "odd_crs" in message and "CRS" in message


def test_duplicate_names(radiomatch_provider, tiles, tmp_path):
    twin_folder = tmp_path / "twin"
    twin_folder.mkdir()
    twin = str(twin_folder / os.path.basename(tiles[0]))
    shutil.copy(tiles[0], twin)
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles + [twin],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "tile0" in message


def test_malformed_adjustments_file(radiomatch_provider, tiles, tmp_path):
    bad = tmp_path / "adjustments.json"
    bad.write_text("{not json")
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles, "LOAD_ADJUSTMENTS": str(bad),
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert str(bad) in message


def test_missing_block_map(radiomatch_provider, tiles, tmp_path):
    missing = str(tmp_path / "maps" / "reference_block_map.tif")
    message = run_expecting_error(ALGORITHMS[1], {"INPUT": tiles, "LOAD_BLOCK_MAPS": missing,
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert missing in message
