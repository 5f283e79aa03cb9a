"""radiomatch:localblockadjustment through processing.run (pytest-qgis)."""

import os

import numpy as np
import pytest

ALG = "radiomatch:localblockadjustment"


def run(parameters, processing_context=None):
    import processing

    if processing_context is None:
        return processing.run(ALG, parameters)
    return processing.run(ALG, parameters, context=processing_context.context,
                          feedback=processing_context.feedback)


def block_map(path):
    import rasterio

    with rasterio.open(path) as src:
        return src.read(), src.bounds, src.crs


@pytest.fixture
def engine_calls(monkeypatch):
    import radiomatch.core as core

    calls = []
    real = core.local_block_adjustment

    def spy(input_images, output_images, **kwargs):
        calls.append((input_images, output_images, kwargs))
        return real(input_images, output_images, **kwargs)

    monkeypatch.setattr(core, "local_block_adjustment", spy)
    return calls


def test_outputs_closer_and_registered(radiomatch_provider, processing_context, tiles, rm,
                                       tmp_path):
    out = tmp_path / "out"
    results = run({"INPUT": tiles, "OUTPUT_FOLDER": str(out)}, processing_context)
    expected = [str(out / "tile{}_Local.tif".format(k)) for k in range(3)]
    assert results["OUTPUT_LAYERS"] == expected
    assert results["OUTPUT_FOLDER"] == str(out)
    assert results["SAVE_BLOCK_MAPS"] is None and results["BLOCK_MAP_LAYERS"] == []
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in expected)
    assert rm.overlap_difference(expected) < 0.25 * rm.overlap_difference(tiles)

    assert processing_context.context.layersToLoadOnCompletion() == {}
    feedback = processing_context.feedback
    assert feedback.progress_values and feedback.progress_values[-1] == 100
    assert any("local" in text.lower() for text in feedback.texts)


def test_parameters_map_to_engine_arguments(radiomatch_provider, engine_calls, tiles,
                                            tmp_path):
    from radiomatch.algorithms.parameters import qgis_thread_count

    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a")})
    inputs, outputs, kwargs = engine_calls[-1]
    assert inputs == tiles
    assert outputs == [str(tmp_path / "a" / "tile{}_Local.tif".format(k)) for k in range(3)]
    assert callable(kwargs.pop("progress_callback"))
    assert kwargs == dict(
        calculation_dtype="auto", output_dtype=None, vector_mask=None, debug_logs=False,
        custom_nodata_value=None, image_parallel_workers=("thread", qgis_thread_count()),
        window_parallel_workers=None, window_size=None, save_as_cog=False, number_of_blocks=100,
        alpha=1.0,
        correction_method="gamma", save_block_maps=None, load_block_maps=None,
        override_bounds_canvas_coords=None, block_valid_pixel_threshold=0.001,
        block_statistics="robust", local_model="surface", dask_scheduler=None)

    maps = tmp_path / "maps"
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"), "BLOCK_RULE": 1,
         "BLOCK_ROWS": 3, "BLOCK_COLS": 5, "NUMBER_OF_BLOCKS": 7, "ALPHA": 0.5,
         "CORRECTION_METHOD": 1, "BLOCK_VALID_PIXEL_THRESHOLD": 0.25, "OUTPUT_DTYPE": 7,
         "WINDOW_SIZE": 0, "IMAGE_PARALLEL_WORKERS": 3, "SAVE_BLOCK_MAPS": str(maps),
         "OUTPUT_NAME": "$_balanced", "BLOCK_STATISTICS": 1, "LOCAL_MODEL": 1})
    _inputs, outputs, kwargs = engine_calls[-1]
    assert outputs[0] == str(tmp_path / "b" / "tile0_balanced.tif")
    assert kwargs["number_of_blocks"] == (3, 5)
    assert kwargs["alpha"] == 0.5 and kwargs["correction_method"] == "linear"
    assert kwargs["block_valid_pixel_threshold"] == 0.25
    assert kwargs["block_statistics"] == "all_blocks"
    assert kwargs["local_model"] == "block_means"
    assert kwargs["output_dtype"] == "float64"
    assert kwargs["window_size"] is None  # 0 means automatic
    assert kwargs["image_parallel_workers"] == ("thread", 3)
    assert kwargs["save_block_maps"] == (str(maps / "reference_block_map.tif"),
                                         str(maps / "$_block_map.tif"))

    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "c"), "BLOCK_RULE": 2})
    assert engine_calls[-1][2]["number_of_blocks"] == "coefficient_of_variation"

    reference = str(maps / "reference_block_map.tif")
    local = [str(maps / "tile{}_block_map.tif".format(k)) for k in range(3)]
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "d"), "LOAD_BLOCK_MAPS": reference,
         "LOAD_LOCAL_BLOCK_MAPS": local, "LOCAL_MODEL": 1})
    assert engine_calls[-1][2]["load_block_maps"] == (reference, local)
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "e"), "LOAD_LOCAL_BLOCK_MAPS": local[1:],
         "LOCAL_MODEL": 1})
    assert engine_calls[-1][2]["load_block_maps"] == (None, local[1:])
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "f"), "LOAD_BLOCK_MAPS": reference,
         "LOCAL_MODEL": 1})
    assert engine_calls[-1][2]["load_block_maps"] == (reference, None)


def test_block_maps_saved_loaded_and_opened(radiomatch_provider, processing_context, tiles,
                                            rm, tmp_path):
    maps = tmp_path / "maps"
    first = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"), "BLOCK_RULE": 1,
                 "BLOCK_ROWS": 4, "BLOCK_COLS": 6, "SAVE_BLOCK_MAPS": str(maps),
                 "LOAD_BLOCK_MAPS_TO_CANVAS": True}, processing_context)
    reference = str(maps / "reference_block_map.tif")
    local = [str(maps / "tile{}_block_map.tif".format(k)) for k in range(3)]
    assert first["SAVE_BLOCK_MAPS"] == str(maps)
    assert first["BLOCK_MAP_LAYERS"] == [reference] + local
    values, bounds, crs = block_map(reference)
    assert values.shape == (1, 4, 6)  # rows x columns as asked
    assert crs.to_epsg() == 32618
    assert bounds.left == pytest.approx(rm.ORIGIN_X) and bounds.top == pytest.approx(rm.ORIGIN_Y)

    # asked for, the maps open (in the context's project: processing.run names none); the
    # corrected rasters follow the mosaic's choice, here none
    to_load = processing_context.context.layersToLoadOnCompletion()
    assert sorted(to_load) == sorted([reference] + local)
    for path in [reference] + local:
        assert to_load[path].outputName == "BLOCK_MAP_LAYERS"
        assert to_load[path].project is processing_context.context.project()

    # loading the saved maps (grid from the files, rule ignored) reproduces the outputs
    second = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
                  "LOAD_BLOCK_MAPS": reference, "LOAD_LOCAL_BLOCK_MAPS": local})
    for a, b in zip(first["OUTPUT_LAYERS"], second["OUTPUT_LAYERS"]):
        assert np.array_equal(rm.read_band(a)[0], rm.read_band(b)[0])
    # ... and differs from a run on another grid
    third = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "c"), "BLOCK_RULE": 1,
                 "BLOCK_ROWS": 2, "BLOCK_COLS": 2})
    assert not np.array_equal(rm.read_band(first["OUTPUT_LAYERS"][1])[0],
                              rm.read_band(third["OUTPUT_LAYERS"][1])[0])


def test_maps_not_opened_unless_asked(radiomatch_provider, processing_context, tiles, tmp_path):
    maps = tmp_path / "maps"
    results = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"),
                   "SAVE_BLOCK_MAPS": str(maps)}, processing_context)
    assert len(results["BLOCK_MAP_LAYERS"]) == 4
    to_load = processing_context.context.layersToLoadOnCompletion()
    assert to_load == {}


def test_number_of_blocks_and_cv_rule(radiomatch_provider, tiles, tmp_path):
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"), "NUMBER_OF_BLOCKS": 3,
         "SAVE_BLOCK_MAPS": str(tmp_path / "m1")})
    values, _bounds, _crs = block_map(str(tmp_path / "m1" / "reference_block_map.tif"))
    assert values.shape[1] * values.shape[2] == 9  # 3 per image x 3 images, square canvas

    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"), "BLOCK_RULE": 2,
         "SAVE_BLOCK_MAPS": str(tmp_path / "m2")})
    values, _bounds, _crs = block_map(str(tmp_path / "m2" / "reference_block_map.tif"))
    assert values.shape[1] == values.shape[2]  # the coefficient-of-variation grid is square


def test_override_extent(radiomatch_provider, tiles, rm, tmp_path):
    x0, x1 = rm.ORIGIN_X - 300.0, rm.ORIGIN_X + 96 * rm.PIXEL + 300.0
    y0, y1 = rm.ORIGIN_Y - 96 * rm.PIXEL - 600.0, rm.ORIGIN_Y + 150.0
    extent = "{},{},{},{} [EPSG:32618]".format(x0, x1, y0, y1)
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"),
         "OVERRIDE_BOUNDS_CANVAS_COORDS": extent, "SAVE_BLOCK_MAPS": str(tmp_path / "m")})
    _values, bounds, _crs = block_map(str(tmp_path / "m" / "reference_block_map.tif"))
    assert (bounds.left, bounds.bottom, bounds.right, bounds.top) == pytest.approx(
        (x0, y0, x1, y1))

    # an extent in another CRS is reprojected to the rasters' CRS (its bounding box)
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject,
                           QgsRectangle)

    to_degrees = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32618"),
                                        QgsCoordinateReferenceSystem("EPSG:4326"),
                                        QgsProject.instance())
    box = to_degrees.transformBoundingBox(QgsRectangle(x0, y0, x1, y1))
    extent = "{},{},{},{} [EPSG:4326]".format(box.xMinimum(), box.xMaximum(), box.yMinimum(),
                                              box.yMaximum())
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
         "OVERRIDE_BOUNDS_CANVAS_COORDS": extent, "SAVE_BLOCK_MAPS": str(tmp_path / "m2")})
    _values, bounds, _crs = block_map(str(tmp_path / "m2" / "reference_block_map.tif"))
    assert bounds.left == pytest.approx(x0, abs=50) and bounds.top == pytest.approx(y1, abs=50)
    assert bounds.right == pytest.approx(x1, abs=50)


def test_alpha_zero_is_identity_and_methods_differ(radiomatch_provider, tiles, rm, tmp_path):
    none = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"), "ALPHA": 0.0})
    for source, path in zip(tiles, none["OUTPUT_LAYERS"]):
        assert np.array_equal(rm.read_band(source)[0], rm.read_band(path)[0])
    # the correction method is the block-means model's
    gamma = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "g"), "LOCAL_MODEL": 1})
    linear = run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "l"), "CORRECTION_METHOD": 1,
                  "LOCAL_MODEL": 1})
    assert not np.array_equal(rm.read_band(gamma["OUTPUT_LAYERS"][1])[0],
                              rm.read_band(linear["OUTPUT_LAYERS"][1])[0])
    assert rm.overlap_difference(linear["OUTPUT_LAYERS"]) < 0.25 * rm.overlap_difference(tiles)


def test_chain_after_global_regression(radiomatch_provider, tiles, rm, tmp_path):
    """The usual workflow in a script: GR's OUTPUT_LAYERS is LBA's INPUT."""
    import processing

    global_result = processing.run("radiomatch:globalregression",
                                   {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "gr")})
    local_result = run({"INPUT": global_result["OUTPUT_LAYERS"],
                        "OUTPUT_FOLDER": str(tmp_path / "lba")})
    assert [os.path.basename(p) for p in local_result["OUTPUT_LAYERS"]] == [
        "tile{}_Global_Local.tif".format(k) for k in range(3)]
    # Global regression alone leaves only the outputs' rounding (about 1/3 DN): the local step
    # keeps it there
    assert (rm.overlap_difference(local_result["OUTPUT_LAYERS"])
            < rm.overlap_difference(global_result["OUTPUT_LAYERS"]) + 0.1)


def test_bad_block_options(radiomatch_provider, tiles, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    maps = tmp_path / "maps"
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"), "BLOCK_RULE": 1,
         "BLOCK_ROWS": 4, "BLOCK_COLS": 6, "SAVE_BLOCK_MAPS": str(maps)})
    # an override that disagrees with the loaded maps
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
                             "LOAD_BLOCK_MAPS": str(maps / "reference_block_map.tif"),
                             "OVERRIDE_BOUNDS_CANVAS_COORDS": "0,10,0,10 [EPSG:32618]"})
    assert "override" in str(raised.value).lower() or "extent" in str(raised.value).lower()
    # a threshold outside [0, 1] is refused before running
    with pytest.raises(QgsProcessingException):
        processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "c"),
                             "BLOCK_VALID_PIXEL_THRESHOLD": 1.5})
    assert not (tmp_path / "c").exists()
    # a zero-size canvas
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(ALG, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "d"),
                             "OVERRIDE_BOUNDS_CANVAS_COORDS": "5,5,0,10 [EPSG:32618]"})
    assert "canvas" in str(raised.value).lower()


def test_debug_logs_reach_the_processing_log(radiomatch_provider, processing_context, tiles,
                                             tmp_path):
    """DEBUG_LOGS: the engine's detail messages (logger "radiomatch") appear in the log."""
    import logging

    logger = logging.getLogger("radiomatch")
    level_before = logger.level
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "quiet")}, processing_context)
    assert not any("Block grid" in line for line in processing_context.feedback.infos)
    run({"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "verbose"), "DEBUG_LOGS": True},
        processing_context)
    assert any("Block grid" in line for line in processing_context.feedback.infos)
    # the handler is removed and the logger level restored after the run
    assert not any(type(h).__name__ == "_FeedbackLogHandler" for h in logger.handlers)
    assert logger.level == level_before


def test_cancel_during_the_run_leaves_no_output(radiomatch_provider, processing_context, tiles,
                                                tmp_path):
    """Cancelling half way (between tiles) stops the run and removes every partial output."""
    from qgis.core import QgsProcessingException

    feedback = processing_context.feedback
    seen = []

    def cancel_half_way(percent):
        seen.append(percent)
        if percent >= 50 and not feedback.isCanceled():
            feedback.cancel()

    feedback.progressChanged.connect(cancel_half_way)
    out = tmp_path / "out"
    maps = tmp_path / "maps"
    with pytest.raises(QgsProcessingException) as raised:
        run({"INPUT": tiles, "OUTPUT_FOLDER": str(out), "WINDOW_SIZE": 16,
             "SAVE_BLOCK_MAPS": str(maps)}, processing_context)
    feedback.progressChanged.disconnect(cancel_half_way)
    assert "cancel" in str(raised.value).lower()
    assert 50 <= max(seen) < 100
    assert not out.exists() or os.listdir(out) == []
    assert not maps.exists() or os.listdir(maps) == []
