"""radiomatch:globalregression through processing.run (pytest-qgis)."""

import hashlib
import json
import os

import numpy as np
import pytest

ALG = "radiomatch:globalregression"


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def run(processing_context, parameters):
    import processing

    return processing.run(ALG, parameters, context=processing_context.context,
                          feedback=processing_context.feedback)


def test_outputs_closer_registered_and_reported(radiomatch_provider, processing_context, tiles,
                                                rm, tmp_path):
    before = {path: digest(path) for path in tiles}
    out = tmp_path / "out"
    results = run(processing_context, {"INPUT": tiles, "OUTPUT_FOLDER": str(out)})

    expected = [str(out / "tile{}_Global.tif".format(k)) for k in range(3)]
    assert results["OUTPUT_LAYERS"] == expected
    assert results["OUTPUT_FOLDER"] == str(out)
    assert "SAVE_ADJUSTMENTS" in results and results["SAVE_ADJUSTMENTS"] is None
    assert all(os.path.isfile(path) for path in expected)
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in expected)
    # inputs untouched
    assert {path: digest(path) for path in tiles} == before

    # the radiometry of the overlaps became much closer
    difference_in = rm.overlap_difference(tiles)
    difference_out = rm.overlap_difference(expected)
    assert difference_in > 100
    assert difference_out < 0.1 * difference_in

    # same grid, CRS and nodata as the inputs
    for source, target in zip(tiles, expected):
        data_in, transform_in, nodata_in = rm.read_band(source)
        data_out, transform_out, nodata_out = rm.read_band(target)
        assert data_out.shape == data_in.shape and data_out.dtype == data_in.dtype
        assert transform_out == transform_in and nodata_out == nodata_in

    # processing.run gives plain paths: no mosaic, and nothing is opened in a project
    assert results["MOSAIC"] is None
    assert processing_context.context.layersToLoadOnCompletion() == {}

    # progress: stages named, monotonic, ends at 100; the solution is logged per band
    feedback = processing_context.feedback
    assert any("statistics" in text.lower() for text in feedback.texts)
    assert any("appl" in text.lower() for text in feedback.texts)
    values = feedback.progress_values
    assert values and values == sorted(values) and values[-1] == 100
    assert any(line.startswith("tile1, band 1: scale") for line in feedback.infos)


def test_output_name_dtype_and_cog(radiomatch_provider, processing_context, tiles, rm, tmp_path):
    import rasterio

    out = tmp_path / "out"
    results = run(processing_context, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(out), "OUTPUT_NAME": "norm_$.tif",
        "OUTPUT_DTYPE": 6,  # float32
        "CALCULATION_DTYPE": 1,  # float64
        "SAVE_AS_COG": True,
    })
    expected = [str(out / "norm_tile{}.tif".format(k)) for k in range(3)]
    assert results["OUTPUT_LAYERS"] == expected
    for path in expected:
        with rasterio.open(path) as src:
            assert src.dtypes[0] == "float32"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert rm.overlap_difference(expected) < 0.1 * rm.overlap_difference(tiles)


def test_window_size_and_threads_do_not_change_results(radiomatch_provider, tiles, tmp_path, rm):
    import processing

    first = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a")})
    second = processing.run(ALG, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"), "WINDOW_SIZE": 16,
        "IMAGE_PARALLEL_WORKERS": 2, "WINDOW_PARALLEL_WORKERS": -1, "DEBUG_LOGS": True,
    })
    for a, b in zip(first["OUTPUT_LAYERS"], second["OUTPUT_LAYERS"]):
        assert np.array_equal(rm.read_band(a)[0], rm.read_band(b)[0])


@pytest.fixture
def engine_calls(monkeypatch):
    """Record the engine calls the algorithm makes (and still run them)."""
    import radiomatch.core as core

    calls = []
    real = core.global_regression

    def spy(input_images, output_images, **kwargs):
        calls.append((input_images, output_images, kwargs))
        return real(input_images, output_images, **kwargs)

    monkeypatch.setattr(core, "global_regression", spy)
    return calls


def test_parameters_map_to_engine_arguments(radiomatch_provider, engine_calls, tiles, tmp_path):
    import processing

    from radiomatch.algorithms.parameters import qgis_thread_count

    processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a")})
    inputs, outputs, kwargs = engine_calls[-1]
    assert inputs == tiles
    assert outputs == [str(tmp_path / "a" / "tile{}_Global.tif".format(k)) for k in range(3)]
    assert callable(kwargs.pop("progress_callback"))
    assert kwargs == dict(
        calculation_dtype="auto", output_dtype=None, vector_mask=None, debug_logs=False,
        custom_nodata_value=None, image_parallel_workers=("thread", qgis_thread_count()),
        window_parallel_workers=None,
        window_size=None, save_as_cog=False, specify_model_images=None, custom_mean_factor=1.0,
        custom_std_factor=1.0, save_adjustments=None, load_adjustments=None,
        overlap_statistics="robust", anchoring="set", dask_scheduler=None)

    processing.run(ALG, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"), "CALCULATION_DTYPE": 1,
        "OUTPUT_DTYPE": 2, "DEBUG_LOGS": True, "CUSTOM_NODATA_VALUE": 0,
        "IMAGE_PARALLEL_WORKERS": 2, "WINDOW_PARALLEL_WORKERS": -1, "WINDOW_SIZE": 32,
        "MODEL_IMAGES": tiles[1:], "MODEL_IMAGES_MODE": 1, "CUSTOM_MEAN_FACTOR": 2.0,
        "CUSTOM_STD_FACTOR": 0.5, "SAVE_ADJUSTMENTS": str(tmp_path / "adj.json"),
        "OVERLAP_STATISTICS": 1, "ANCHORING": 1})
    _inputs, _outputs, kwargs = engine_calls[-1]
    assert kwargs["calculation_dtype"] == "float64"
    assert kwargs["output_dtype"] == "uint16"
    assert kwargs["debug_logs"] is True
    assert kwargs["custom_nodata_value"] == 0
    assert kwargs["image_parallel_workers"] == ("thread", 2)
    assert kwargs["window_parallel_workers"] == ("thread", qgis_thread_count())
    assert kwargs["window_size"] == 32
    assert kwargs["specify_model_images"] == ("exclude", ["tile1", "tile2"])
    assert kwargs["custom_mean_factor"] == 2.0 and kwargs["custom_std_factor"] == 0.5
    assert kwargs["save_adjustments"] == str(tmp_path / "adj.json")
    assert kwargs["overlap_statistics"] == "all_pixels"
    assert kwargs["anchoring"] == "per_image"


def test_model_images_include_and_exclude(radiomatch_provider, tiles, rm, tmp_path):
    """Only tile0 constrains the model: tile0 stays (almost) as it is and the others are fitted
    to it, i.e. they come back to the scene's radiometry. Exclude mode with the complement
    gives the same result."""
    import processing

    include = processing.run(ALG, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "inc"),
        "MODEL_IMAGES": [tiles[0]], "MODEL_IMAGES_MODE": 0})
    exclude = processing.run(ALG, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "exc"),
        "MODEL_IMAGES": tiles[1:], "MODEL_IMAGES_MODE": 1})
    scene = rm.scene()
    for k, path in enumerate(include["OUTPUT_LAYERS"]):
        col, row = rm.TILE_OFFSETS[k]
        truth = scene[row:row + rm.TILE, col:col + rm.TILE]
        error = np.abs(rm.read_band(path)[0].astype(float) - truth).mean()
        assert error < 3.0, (k, error)
        assert np.array_equal(rm.read_band(path)[0],
                              rm.read_band(exclude["OUTPUT_LAYERS"][k])[0])
    # without model images the anchor is the average of all tiles, not tile0
    default = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "all")})
    col, row = rm.TILE_OFFSETS[0]
    truth = scene[row:row + rm.TILE, col:col + rm.TILE]
    assert np.abs(rm.read_band(default["OUTPUT_LAYERS"][0])[0] - truth).mean() > 20


def test_save_then_load_adjustments(radiomatch_provider, tiles, rm, tmp_path):
    import processing

    saved = tmp_path / "model" / "adjustments.json"
    os.makedirs(saved.parent)
    first = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"),
                                 "SAVE_ADJUSTMENTS": str(saved)})
    assert first["SAVE_ADJUSTMENTS"] == str(saved)
    with open(saved, encoding="utf-8") as handle:
        document = json.load(handle)
    assert sorted(document) == ["tile0", "tile1", "tile2"]
    assert set(document["tile1"]["adjustments"]["band_0"]) == {"scale", "offset"}

    second = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
                                  "LOAD_ADJUSTMENTS": str(saved)})
    for a, b in zip(first["OUTPUT_LAYERS"], second["OUTPUT_LAYERS"]):
        assert np.abs(rm.read_band(a)[0].astype(int) - rm.read_band(b)[0].astype(int)).max() <= 1


def test_weight_factors_reach_the_engine(radiomatch_provider, tiles, rm, tmp_path):
    import processing

    default = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a")})
    weighted = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
                                    "CUSTOM_MEAN_FACTOR": 0.0, "CUSTOM_STD_FACTOR": 0.0})
    # without overlap equations nothing ties the images together: identity
    for source, path in zip(tiles, weighted["OUTPUT_LAYERS"]):
        assert np.array_equal(rm.read_band(source)[0], rm.read_band(path)[0])
    assert not np.array_equal(rm.read_band(default["OUTPUT_LAYERS"][1])[0],
                              rm.read_band(tiles[1])[0])


def test_custom_nodata_value(radiomatch_provider, tmp_path, rm):
    """Tiles whose nodata tags differ are refused unless CUSTOM_NODATA_VALUE overrides them."""
    import processing
    import rasterio
    from qgis.core import QgsProcessingException

    paths = rm.write_tiles(tmp_path / "in")
    with rasterio.open(paths[2], "r+") as dst:
        dst.nodata = 65535
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(ALG, {"INPUT": paths, "OUTPUT_FOLDER": str(tmp_path / "a")})
    assert "nodata" in str(raised.value).lower()
    results = processing.run(ALG, {"INPUT": paths, "OUTPUT_FOLDER": str(tmp_path / "b"),
                                   "CUSTOM_NODATA_VALUE": 0})
    assert all(rm.read_band(path)[2] == 0 for path in results["OUTPUT_LAYERS"])


def test_disconnected_images_warn(radiomatch_provider, processing_context, tmp_path, rm):
    """Engine warnings arrive as Processing warnings."""
    paths = rm.write_tiles(tmp_path / "in", offsets=((0, 0), (32, 0), (0, 200)),
                           gains=rm.GAINS)
    run(processing_context, {"INPUT": paths, "OUTPUT_FOLDER": str(tmp_path / "out")})
    warnings = processing_context.feedback.warnings
    assert any("group" in warning for warning in warnings), warnings


def test_layers_as_input(radiomatch_provider, tiles, tmp_path, rm):
    """Layer objects (as the dialog passes them) work as well as paths."""
    import processing
    from qgis.core import QgsRasterLayer

    layers = [QgsRasterLayer(path, "layer{}".format(k)) for k, path in enumerate(tiles)]
    assert all(layer.isValid() for layer in layers)
    results = processing.run(ALG, {"INPUT": layers, "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert [os.path.basename(p) for p in results["OUTPUT_LAYERS"]] == [
        "tile0_Global.tif", "tile1_Global.tif", "tile2_Global.tif"]


def test_cancel_removes_outputs(radiomatch_provider, processing_context, tiles, tmp_path):
    from qgis.core import QgsProcessingException

    processing_context.feedback.cancel()
    out = tmp_path / "out"
    with pytest.raises(QgsProcessingException) as raised:
        run(processing_context, {"INPUT": tiles, "OUTPUT_FOLDER": str(out)})
    assert "cancel" in str(raised.value).lower()
    assert not out.exists() or os.listdir(out) == []


def test_temporary_output_folder(radiomatch_provider, tiles, rm):
    """The dialog's default OUTPUT_FOLDER is TEMPORARY_OUTPUT: a fresh folder is made."""
    import processing

    results = processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": "TEMPORARY_OUTPUT"})
    folder = results["OUTPUT_FOLDER"]
    assert folder != "TEMPORARY_OUTPUT" and os.path.isdir(folder)
    assert results["OUTPUT_LAYERS"] == [os.path.join(folder, "tile{}_Global.tif".format(k))
                                        for k in range(3)]
    assert all(os.path.isfile(path) for path in results["OUTPUT_LAYERS"])
