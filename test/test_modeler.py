"""The algorithms inside a QgsProcessingModelAlgorithm (what the graphical modeler builds):
"Global regression -> Local block adjustment", connected through OUTPUT_LAYERS."""

import os

import pytest
from make_model import fill_defaults  # the modeler's defaults, as the shipped model has them


def build_model(gr_folder, lba_folder):
    from qgis.core import (QgsProcessing, QgsProcessingModelAlgorithm,
                           QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelOutput,
                           QgsProcessingModelParameter, QgsProcessingParameterMultipleLayers,
                           QgsProcessingParameterNumber)

    model = QgsProcessingModelAlgorithm("Balance tiles", "RadioMatch tests")
    model.addModelParameter(
        QgsProcessingParameterMultipleLayers("rasters", "Rasters", QgsProcessing.TypeRaster),
        QgsProcessingModelParameter("rasters"))
    model.addModelParameter(
        QgsProcessingParameterNumber("blocks", "Blocks per image",
                                     QgsProcessingParameterNumber.Integer, 4),
        QgsProcessingModelParameter("blocks"))

    global_step = QgsProcessingModelChildAlgorithm("radiomatch:globalregression")
    global_step.setChildId("global")
    global_step.setDescription("Global regression")
    global_step.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("rasters")])
    global_step.addParameterSources(
        "OUTPUT_FOLDER", [QgsProcessingModelChildParameterSource.fromStaticValue(gr_folder)])
    fill_defaults(global_step)
    model.addChildAlgorithm(global_step)

    local_step = QgsProcessingModelChildAlgorithm("radiomatch:localblockadjustment")
    local_step.setChildId("local")
    local_step.setDescription("Local block adjustment")
    local_step.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("global",
                                                                         "OUTPUT_LAYERS")])
    local_step.addParameterSources(
        "NUMBER_OF_BLOCKS", [QgsProcessingModelChildParameterSource.fromModelParameter("blocks")])
    local_step.addParameterSources(
        "OUTPUT_FOLDER", [QgsProcessingModelChildParameterSource.fromStaticValue(lba_folder)])
    output = QgsProcessingModelOutput("maps", "Block maps")
    output.setChildId("local")
    output.setChildOutputName("SAVE_BLOCK_MAPS")
    local_step.setModelOutputs({"maps": output})
    fill_defaults(local_step)
    model.addChildAlgorithm(local_step)
    return model


def test_model_chains_global_into_local(radiomatch_provider, tiles, rm, tmp_path):
    import processing
    from qgis.core import (QgsProcessingOutputMultipleLayers,
                           QgsProcessingParameterMultipleLayers)

    gr_folder, lba_folder = str(tmp_path / "global"), str(tmp_path / "local")
    model = build_model(gr_folder, lba_folder)
    assert model.childAlgorithm("global").algorithm() is not None
    assert model.childAlgorithm("local").algorithm() is not None
    assert model.dependsOnChildAlgorithms("local") == {"global"}
    for child_id in ("global", "local"):
        ok, errors = model.validateChildAlgorithm(child_id)
        assert ok, errors
    # the modeler offers GR's multiple-layer output for LBA's multiple-layer input
    sources = model.availableSourcesForChild(
        "local", [QgsProcessingParameterMultipleLayers.typeName()],
        [QgsProcessingOutputMultipleLayers.typeName()])
    assert any(s.outputChildId() == "global" and s.outputName() == "OUTPUT_LAYERS"
               for s in sources)
    # the model exposes the child's optional folder destination as its own parameter
    assert model.parameterDefinition("local:maps") is not None

    maps = str(tmp_path / "maps")
    results = processing.run(model, {"rasters": tiles, "blocks": 50, "local:maps": maps})

    global_outputs = [os.path.join(gr_folder, "tile{}_Global.tif".format(k)) for k in range(3)]
    local_outputs = [os.path.join(lba_folder, "tile{}_Global_Local.tif".format(k))
                     for k in range(3)]
    assert all(os.path.isfile(path) for path in global_outputs + local_outputs)
    assert results["local:maps"] == maps
    assert os.path.isfile(os.path.join(maps, "reference_block_map.tif"))
    values, _transform, _nodata = rm.read_band(os.path.join(maps, "reference_block_map.tif"))
    assert values.size == 144  # 50 per image: 12 x 12 blocks, so "blocks" reached the child
    before = rm.overlap_difference(tiles)
    assert rm.overlap_difference(global_outputs) < 0.1 * before
    # Global regression alone leaves only the outputs' rounding (about 1/3 DN): the local step
    # keeps it there
    assert rm.overlap_difference(local_outputs) < rm.overlap_difference(global_outputs) + 0.1


def test_model_survives_save_and_load(radiomatch_provider, tiles, tmp_path):
    """Parameter names are what a saved .model3 stores: reload it and run it again."""
    import processing
    from qgis.core import QgsProcessingModelAlgorithm

    model = build_model(str(tmp_path / "global"), str(tmp_path / "local"))
    path = str(tmp_path / "balance.model3")
    assert model.toFile(path)
    loaded = QgsProcessingModelAlgorithm()
    assert loaded.fromFile(path)
    assert sorted(loaded.childAlgorithms()) == ["global", "local"]
    processing.run(loaded, {"rasters": tiles, "blocks": 2})
    assert sorted(os.listdir(tmp_path / "local")) == [
        "tile{}_Global_Local.tif".format(k) for k in range(3)]


def test_model_reports_child_errors(radiomatch_provider, processing_context, rm, tmp_path):
    """An engine error inside a child step stops the model with the engine's message."""
    import processing
    from qgis.core import QgsProcessingException

    paths = rm.write_tiles(tmp_path / "a")
    odd = rm.write_tiles(tmp_path / "b", names=["x0", "x1", "odd_crs"], crs="EPSG:32619")[2]
    model = build_model(str(tmp_path / "global"), str(tmp_path / "local"))
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(model, {"rasters": paths[:2] + [odd], "blocks": 2},
                       context=processing_context.context,
                       feedback=processing_context.feedback)
    assert "Global regression" in str(raised.value)
    assert any("odd_crs" in error for error in processing_context.feedback.errors)
    assert not (tmp_path / "local").exists()
