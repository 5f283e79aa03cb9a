"""Inputs through processing.run: a bad one gives a QgsProcessingException whose message names
the culprit; a raster GDAL reads through a virtual file system (/vsizip/...) is used as it is.

The hostile-input battery (test_hostile_*.py) covers the other cases (no inputs, missing,
damaged and fake files, web layers, mixed CRSs, duplicate names, an output that is an input,
bad adjustment files ...) through both processing.run and qgis_process."""

import zipfile

import pytest

ALGORITHMS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


def run_expecting_error(alg_id, parameters):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException) as raised:
        processing.run(alg_id, parameters)
    return str(raised.value)


def test_vector_memory_layer(radiomatch_provider, tiles, tmp_path):
    from qgis.core import QgsVectorLayer

    memory = QgsVectorLayer("Polygon?crs=EPSG:32618", "scratch polygons", "memory")
    assert memory.isValid()
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles[:2] + [memory],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "scratch polygons" in message and "not a raster layer" in message


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


def zipped_tile(tiles, folder):
    archive = str(folder / "tiles.zip")
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(tiles[2], "tile2.tif")
    return "/vsizip/{}/tile2.tif".format(archive)


@pytest.mark.parametrize("as_layer", [True, False], ids=["layer", "path"])
def test_raster_inside_zip_is_read_through_gdal(radiomatch_provider, tiles, tmp_path, as_layer):
    """A GDAL virtual path (/vsizip/, /vsis3/...) is not a file the operating system sees, but
    GDAL reads it, and so does the engine: the outputs are those of the unzipped file."""
    import processing
    from qgis.core import QgsRasterLayer

    zipped = zipped_tile(tiles, tmp_path)
    if as_layer:
        zipped = QgsRasterLayer(zipped, "zipped tile", "gdal")
        assert zipped.isValid()
    plain = processing.run(ALGORITHMS[0], {"INPUT": tiles[:3],
                                           "OUTPUT_FOLDER": str(tmp_path / "plain")})
    report = tmp_path / "report.html"
    virtual = processing.run(ALGORITHMS[0], {"INPUT": tiles[:2] + [zipped], "REPORT": str(report),
                                             "OUTPUT_FOLDER": str(tmp_path / "virtual")})
    assert len(virtual["OUTPUT_LAYERS"]) == 3
    assert "tile2" in report.read_text(encoding="utf-8")
    assert "could not be read" not in report.read_text(encoding="utf-8")
    for one, other in zip(plain["OUTPUT_LAYERS"], virtual["OUTPUT_LAYERS"]):
        with open(one, "rb") as first, open(other, "rb") as second:
            assert first.read() == second.read(), other


def test_missing_raster_inside_zip_is_named(radiomatch_provider, tiles, tmp_path):
    missing = zipped_tile(tiles, tmp_path).replace("tile2.tif", "tile9.tif")
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles[:2] + [missing],
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert missing in message and "GDAL cannot open it" in message


@pytest.mark.parametrize("name, expected", [("same_name", "has no $"),
                                            ("sub/$_x", "not a path")])
def test_bad_output_name(radiomatch_provider, tiles, tmp_path, name, expected):
    message = run_expecting_error(ALGORITHMS[0], {"INPUT": tiles, "OUTPUT_NAME": name,
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert expected in message and "OUTPUT_NAME" in message and name in message


def test_single_input_may_use_a_fixed_name(radiomatch_provider, tiles, tmp_path):
    """One input with its partners' statistics loaded from an earlier run."""
    import processing

    adjustments = str(tmp_path / "adjustments.json")
    processing.run(ALGORITHMS[0], {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "all"),
                                   "SAVE_ADJUSTMENTS": adjustments})
    results = processing.run(ALGORITHMS[0], {"INPUT": tiles[:1], "OUTPUT_NAME": "balanced",
                                             "LOAD_ADJUSTMENTS": adjustments,
                                             "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert results["OUTPUT_LAYERS"] == [str(tmp_path / "out" / "balanced.tif")]


@pytest.mark.parametrize("alg_id, loaded", [(ALGORITHMS[0], "LOAD_ADJUSTMENTS"),
                                            (ALGORITHMS[1], "LOAD_LOCAL_BLOCK_MAPS")])
def test_one_input_without_loaded_statistics_is_refused(radiomatch_provider, tiles, tmp_path,
                                                        alg_id, loaded):
    """A single image has nothing to be balanced against: refused before anything is written,
    naming the parameter that could give it partners."""
    out = tmp_path / "out"
    message = run_expecting_error(alg_id, {"INPUT": tiles[:1], "OUTPUT_FOLDER": str(out)})
    assert "Only one input raster" in message and "INPUT" in message and loaded in message
    assert not out.exists()


def test_missing_block_map(radiomatch_provider, tiles, tmp_path):
    missing = str(tmp_path / "maps" / "reference_block_map.tif")
    message = run_expecting_error(ALGORITHMS[1], {"INPUT": tiles, "LOAD_BLOCK_MAPS": missing,
                                                  "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert missing in message
