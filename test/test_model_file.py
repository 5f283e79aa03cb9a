"""The ready-made model resources/radiomatch_global_then_local.model3 (written by
scripts/make_model.py): it loads with QgsProcessingModelAlgorithm.fromFile and runs."""

import os

import pytest

from make_model import fill_defaults

MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources",
                     "radiomatch_global_then_local.model3")
BALANCED = "local:Balanced rasters"
MOSAIC = "local:Mosaic"
GR_REPORT = "global:Global regression report"
LBA_REPORT = "local:Local block adjustment report"


@pytest.fixture
def model(radiomatch_provider):
    from qgis.core import QgsProcessingModelAlgorithm

    loaded = QgsProcessingModelAlgorithm()
    assert loaded.fromFile(MODEL)
    return loaded


def test_model_file_loads_and_is_valid(model):
    from qgis.core import QgsProcessingModelChildParameterSource as Source

    assert model.name() and model.group() == "RadioMatch"
    assert sorted(model.childAlgorithms()) == ["global", "local"]
    assert model.childAlgorithm("global").algorithmId() == "radiomatch:globalregression"
    assert model.childAlgorithm("local").algorithmId() == "radiomatch:localblockadjustment"
    for child_id in ("global", "local"):
        assert model.childAlgorithm(child_id).algorithm() is not None
        ok, errors = model.validateChildAlgorithm(child_id)
        assert ok, "{} (re-run scripts/make_model.py after adding a parameter)".format(errors)
    assert model.dependsOnChildAlgorithms("local") == {"global"}
    # Local block adjustment reads Global regression's corrected rasters
    sources = model.childAlgorithm("local").parameterSources()["INPUT"]
    assert [(s.source(), s.outputChildId(), s.outputName()) for s in sources] == [
        (Source.ChildOutput, "global", "OUTPUT_LAYERS")]
    # inputs and outputs a user sees
    names = {d.name(): d for d in model.parameterDefinitions()}
    assert {"rasters", "blocks", "alpha", BALANCED, MOSAIC, GR_REPORT, LBA_REPORT} == set(names)
    assert not names[BALANCED].flags() & names[BALANCED].FlagOptional
    # the mosaic is made by default (and opened with the balanced rasters) but optional
    assert names[MOSAIC].flags() & names[MOSAIC].FlagOptional and names[MOSAIC].createByDefault()
    # the input is a list of files: QGIS opens raster-layer values as layers to check them,
    # which writes <input>.aux.xml next to the user's images
    from qgis.core import QgsProcessing
    assert names["rasters"].layerType() == QgsProcessing.TypeFile
    for report in (GR_REPORT, LBA_REPORT):
        assert names[report].flags() & names[report].FlagOptional
        assert not names[report].createByDefault()
    assert {o.name(): o.type() for o in model.outputDefinitions()} == {
        BALANCED: "outputFolder", MOSAIC: "outputRaster", GR_REPORT: "outputHtml",
        LBA_REPORT: "outputHtml"}
    assert model.shortHelpString()
    # no machine-specific path is stored in the model
    with open(MODEL, encoding="utf-8") as handle:
        text = handle.read()
    assert "/tmp" not in text and "/home" not in text and "/work" not in text


def test_model_children_set_every_mandatory_parameter(model):
    """The model sets every mandatory parameter of the algorithms (the modeler refuses a child
    without them): fill_defaults, what the modeler's dialog does, adds none."""
    for child_id in ("global", "local"):
        child = model.childAlgorithm(child_id)
        before = set(child.parameterSources())
        fill_defaults(child)
        added = {name for name in set(child.parameterSources()) - before
                 if not child.algorithm().parameterDefinition(name).flags()
                 & child.algorithm().parameterDefinition(name).FlagOptional}
        assert not added, (
            "{}: mandatory parameters missing from the model, re-run scripts/make_model.py: "
            "{}".format(child_id, sorted(added)))


def test_model_file_runs(model, processing_context, tiles, rm, tmp_path):
    """The model writes the balanced rasters, their mosaic and the reports, and nothing next to
    its inputs (no <input>.aux.xml)."""
    import processing
    from qgis.core import QgsProcessingOutputLayerDefinition, QgsProject

    from processing.gui.Postprocessing import handleAlgorithmResults

    inputs = sorted(os.listdir(tmp_path / "input"))
    out = tmp_path / "balanced"
    mosaic = str(tmp_path / "mosaic.vrt")
    project = QgsProject()
    gr_report, lba_report = str(tmp_path / "global.html"), str(tmp_path / "local.html")
    results = processing.run(model, {
        "rasters": tiles, "blocks": 50, "alpha": 1.0, BALANCED: str(out),
        MOSAIC: QgsProcessingOutputLayerDefinition(mosaic, project),
        GR_REPORT: gr_report, LBA_REPORT: lba_report},
        context=processing_context.context, feedback=processing_context.feedback)
    expected = sorted("tile{}_Global_Local.tif".format(k) for k in range(3))
    assert sorted(os.listdir(out)) == expected
    assert results[BALANCED] == str(out) and results[MOSAIC] == mosaic
    assert results[GR_REPORT] == gr_report and results[LBA_REPORT] == lba_report
    for report in (gr_report, lba_report):
        with open(report, encoding="utf-8") as handle:
            assert handle.read().startswith("<!DOCTYPE html>")
    outputs = [str(out / name) for name in expected]
    assert rm.overlap_difference(outputs) < 0.1 * rm.overlap_difference(tiles)
    # only the final step's rasters open, with their mosaic, in one group
    assert handleAlgorithmResults(model, processing_context.context,
                                  processing_context.feedback)
    group, = project.layerTreeRoot().children()
    assert group.name().startswith("Local block adjustment (")
    assert [node.layer().source() for node in group.children()] == [mosaic] + outputs[::-1]
    project.clear()
    processing_context.context.temporaryLayerStore().removeAllMapLayers()
    assert sorted(os.listdir(tmp_path / "input")) == inputs


def test_model_file_runs_without_reports(model, processing_context, tiles, tmp_path):
    import processing

    out = tmp_path / "balanced"
    results = processing.run(model, {"rasters": tiles, "blocks": 50, "alpha": 0.5,
                                     BALANCED: str(out)},
                             context=processing_context.context,
                             feedback=processing_context.feedback)
    assert len(os.listdir(out)) == 3
    assert not results.get(GR_REPORT) and not results.get(LBA_REPORT)
