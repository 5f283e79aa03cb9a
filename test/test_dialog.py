"""The toolbox dialog, built headless: a short dialog (few widgets before "Advanced"), labels in
a QGIS user's words with a tooltip each, every parameter a standard widget (no custom
wrappers), defaults round-trip, and the batch dialog and modeler widgets work too."""

import ast
import os
import re

import pytest

ALGORITHM_IDS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


@pytest.fixture
def dialog_for(radiomatch_provider, qgis_iface, monkeypatch):
    from qgis.core import QgsApplication

    from processing.gui.AlgorithmDialog import AlgorithmDialog

    # pytest-qgis 2.1.0's stub interface lacks browserModel(), which the 3.22 panel asks for
    if not hasattr(qgis_iface, "browserModel"):
        monkeypatch.setattr(qgis_iface, "browserModel", lambda: None, raising=False)

    dialogs = []

    def build(alg_id):
        alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
        dialog = AlgorithmDialog(alg)
        dialogs.append(dialog)
        return dialog

    yield build
    for dialog in dialogs:
        dialog.close()
        dialog.deleteLater()


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_dialog_has_a_widget_per_parameter(dialog_for, alg_id):
    dialog = dialog_for(alg_id)
    algorithm = dialog.algorithm()
    wrappers = dialog.mainWidget().wrappers
    names = [d.name() for d in algorithm.parameterDefinitions()]
    assert sorted(wrappers) == sorted(names)
    for name in names:
        assert wrappers[name].wrappedWidget() is not None, name
    assert dialog.windowTitle() == algorithm.displayName()


@pytest.mark.parametrize("alg_id, name_default", [(ALGORITHM_IDS[0], "$_Global"),
                                                  (ALGORITHM_IDS[1], "$_Local")])
def test_dialog_defaults_round_trip(dialog_for, tiles, alg_id, name_default):
    from qgis.core import QgsProject

    from processing.gui.AlgorithmDialogBase import AlgorithmDialogBase

    dialog = dialog_for(alg_id)
    # INPUT is mandatory: the dialog refuses to run without it
    with pytest.raises(AlgorithmDialogBase.InvalidParameterValue):
        dialog.createProcessingParameters()
    dialog.setParameters({"INPUT": tiles})
    parameters = dialog.createProcessingParameters()
    assert parameters["OUTPUT_NAME"] == name_default
    assert parameters["MASK_MODE"] == 0
    assert parameters["OUTPUT_DTYPE"] == 0
    assert parameters["SAVE_AS_COG"] is False
    assert parameters["IMAGE_PARALLEL_WORKERS"] == -1   # all the cores QGIS may use
    assert parameters["WINDOW_PARALLEL_WORKERS"] == 0
    assert parameters.get("CUSTOM_NODATA_VALUE") is None
    assert parameters.get("WINDOW_SIZE") is None
    assert parameters.get("VECTOR_MASK") is None
    assert "OUTPUT_FOLDER" in parameters  # a temporary folder unless the user picks one
    # the mosaic is made by default, and opened with the outputs
    mosaic = parameters["MOSAIC"]
    assert mosaic.sink.staticValue() == "TEMPORARY_OUTPUT"
    assert mosaic.destinationProject is QgsProject.instance()
    if alg_id == ALGORITHM_IDS[0]:
        assert not parameters.get("SAVE_ADJUSTMENTS")  # optional, not created by default
    else:
        assert parameters["NUMBER_OF_BLOCKS"] == 100
        assert parameters["ALPHA"] == 1.0
        assert parameters["BLOCK_VALID_PIXEL_THRESHOLD"] == 0.001
        assert not parameters.get("SAVE_BLOCK_MAPS")


def test_dialog_values_round_trip(dialog_for, tiles, tmp_path):
    from qgis.core import QgsProcessingContext

    dialog = dialog_for(ALGORITHM_IDS[1])
    dialog.setParameters({"INPUT": tiles, "NUMBER_OF_BLOCKS": 25, "CORRECTION_METHOD": 1,
                          "ALPHA": 0.4, "OUTPUT_NAME": "x_$",
                          "OUTPUT_FOLDER": str(tmp_path / "out")})
    parameters = dialog.createProcessingParameters()
    assert parameters["NUMBER_OF_BLOCKS"] == 25
    assert parameters["CORRECTION_METHOD"] == 1
    assert parameters["ALPHA"] == pytest.approx(0.4)
    assert parameters["OUTPUT_NAME"] == "x_$"
    assert [str(value) for value in parameters["INPUT"]] == tiles
    ok, message = dialog.algorithm().checkParameterValues(parameters, QgsProcessingContext())
    assert ok, message


def test_mask_field_widget_follows_mask_layer(dialog_for):
    """MASK_NAME_FIELD is linked to VECTOR_MASK (the field list comes from the chosen layer)."""
    dialog = dialog_for(ALGORITHM_IDS[0])
    definition = dialog.algorithm().parameterDefinition("MASK_NAME_FIELD")
    assert definition.parentLayerParameterName() == "VECTOR_MASK"
    assert "MASK_NAME_FIELD" in dialog.mainWidget().wrappers


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_batch_and_modeler_widgets(radiomatch_provider, qgis_iface, alg_id):
    """Standard parameter types only: every parameter has a batch and a modeler widget."""
    from qgis.core import QgsApplication, QgsProcessingContext
    from qgis.gui import (QgsGui, QgsProcessingGui, QgsProcessingParameterWidgetContext)

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    registry = QgsGui.processingGuiRegistry()
    context = QgsProcessingContext()
    for definition in alg.parameterDefinitions():
        if definition.isDestination():
            continue  # batch and modeler panels handle destinations themselves
        for kind in (QgsProcessingGui.Batch, QgsProcessingGui.Modeler):
            wrapper = registry.createParameterWidgetWrapper(definition, kind)
            assert wrapper is not None, (definition.name(), kind)
            wrapper.setWidgetContext(QgsProcessingParameterWidgetContext())
            widget = wrapper.createWrappedWidget(context)
            assert widget is not None, (definition.name(), kind)


def test_runs_in_a_background_task_like_the_dialog(radiomatch_provider, processing_context,
                                                   tiles, rm, tmp_path):
    """The toolbox runs algorithms in a QgsProcessingAlgRunnerTask (a worker thread); the
    layers are opened afterwards, on the main thread, by QGIS's post-processing."""
    import time

    from qgis.core import (QgsApplication, QgsProcessingAlgRunnerTask,
                           QgsProcessingOutputLayerDefinition, QgsProject)

    from processing.gui.Postprocessing import handleAlgorithmResults

    alg = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM_IDS[0])
    out = tmp_path / "out"
    project = QgsProject()
    context, feedback = processing_context.context, processing_context.feedback
    task = QgsProcessingAlgRunnerTask(alg, {
        "INPUT": tiles, "OUTPUT_FOLDER": str(out), "DEBUG_LOGS": True,
        "WINDOW_PARALLEL_WORKERS": 2, "WINDOW_SIZE": 16, "REPORT": str(tmp_path / "r.html"),
        "MOSAIC": QgsProcessingOutputLayerDefinition(str(out / "m.vrt"), project)},
        context, feedback)
    finished = []
    task.executed.connect(lambda ok, results: finished.append((ok, results)))
    QgsApplication.taskManager().addTask(task)
    deadline = time.time() + 120
    while not finished and time.time() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.01)
    assert finished, "the task did not finish"
    ok, results = finished[0]
    assert ok, feedback.errors
    assert results["OUTPUT_LAYERS"] == [str(out / "tile{}_Global.tif".format(k))
                                        for k in range(3)]
    assert rm.overlap_difference(results["OUTPUT_LAYERS"]) < 0.1 * rm.overlap_difference(tiles)
    assert sorted(context.layersToLoadOnCompletion()) == sorted(
        results["OUTPUT_LAYERS"] + [str(out / "m.vrt")])
    assert handleAlgorithmResults(alg, context, feedback)
    group = project.layerTreeRoot().children()[0]
    assert len(group.children()) == 4
    project.clear()


# ---------------------------------------------------------------------------------------------
# A short dialog, in a QGIS user's words
# ---------------------------------------------------------------------------------------------
def widgets_before_advanced(dialog):
    """The parameters whose widgets the dialog shows above its "Advanced Parameters" group, in
    order (the output destinations come after that group in QGIS 3.22)."""
    from qgis.PyQt.QtWidgets import QGroupBox, QScrollArea

    layout = dialog.mainWidget().findChild(QScrollArea).widget().layout()
    position = {}
    for name, wrapper in dialog.mainWidget().wrappers.items():
        widget = wrapper.wrappedWidget()
        while widget is not None and layout.indexOf(widget) < 0:
            widget = widget.parentWidget()
        if widget is not None:
            position[name] = layout.indexOf(widget)
    advanced = next(k for k in range(layout.count())
                    if isinstance(layout.itemAt(k).widget(), QGroupBox))
    return sorted((name for name in position if position[name] < advanced), key=position.get)


@pytest.mark.parametrize("alg_id, expected", [
    (ALGORITHM_IDS[0], ["INPUT", "ANCHORING", "OVERLAP_STATISTICS", "OUTPUT_NAME"]),
    (ALGORITHM_IDS[1], ["INPUT", "LOCAL_MODEL", "NUMBER_OF_BLOCKS", "ALPHA", "OUTPUT_NAME"])])
def test_short_dialog(dialog_for, alg_id, expected):
    """At most 6 widgets before "Advanced" (the GDAL merge dialog has 4); the file name last,
    next to the output folder, the first output below the group."""
    dialog = dialog_for(alg_id)
    shown = widgets_before_advanced(dialog)
    assert shown == expected and len(shown) <= 6
    outputs = [d.name() for d in dialog.algorithm().destinationParameterDefinitions()]
    assert outputs[:3] == ["OUTPUT_FOLDER", "MOSAIC", "REPORT"]


PARAMETER_ID = re.compile(r"\b[A-Z]+(?:_[A-Z]+)+\b")
GDAL_TYPES = ["Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"]


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_labels_in_a_qgis_users_words_with_tooltips(radiomatch_provider, alg_id):
    """No parameter id in a label or option, capitalised options, GDAL's data type names, no
    spectralmatch word (window, canvas) without its meaning, and a tooltip on every parameter."""
    from qgis.core import QgsApplication, QgsProcessingParameterEnum

    from radiomatch.algorithms.algorithm import html_to_text

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    for definition in alg.parameterDefinitions():
        texts = [definition.description()]
        if isinstance(definition, QgsProcessingParameterEnum):
            texts += definition.options()
            assert all(option[0].isupper() for option in definition.options()), definition.name()
        for text in texts:
            assert not PARAMETER_ID.search(text), (definition.name(), text)
            assert not re.search(r"\b(window|canvas)\b", text, re.I), (definition.name(), text)
        assert definition.help().strip(), definition.name()
        assert definition.help() in definition.toolTip()
        assert definition.help() == html_to_text(alg.parameter_help()[definition.name()])
    assert alg.parameterDefinition("OUTPUT_DTYPE").options() == ["Same as input"] + GDAL_TYPES
    assert alg.parameterDefinition("CALCULATION_DTYPE").options()[:2] == ["Float32", "Float64"]
    # spectralmatch's words appear in the help only with their meaning
    assert "tiles" in alg.parameter_help()["WINDOW_SIZE"]


def test_command_line_notes_only_in_qgis_process_help(radiomatch_provider):
    from qgis.core import QgsApplication

    for alg_id in ALGORITHM_IDS:
        help_text = QgsApplication.processingRegistry().createAlgorithmById(
            alg_id).shortHelpString()
        assert "Command line (qgis_process)" not in help_text
        assert "repeating the parameter" not in help_text


def test_ignored_block_grid_values_are_warned(radiomatch_provider, processing_context, tiles,
                                             tmp_path):
    """Processing cannot hide the block grid numbers the rule does not use: changing one
    gives a warning instead of being ignored silently."""
    import processing

    warnings = processing_context.feedback.warnings
    processing.run(ALGORITHM_IDS[1], {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "a"),
                                      "BLOCK_ROWS": 4},
                   context=processing_context.context, feedback=processing_context.feedback)
    assert any("Block rows (BLOCK_ROWS) = 4 is ignored" in w and "Number of blocks per image"
               in w for w in warnings), warnings
    del warnings[:]
    processing.run(ALGORITHM_IDS[1], {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "b"),
                                      "BLOCK_RULE": 1, "NUMBER_OF_BLOCKS": 30, "BLOCK_ROWS": 4},
                   context=processing_context.context, feedback=processing_context.feedback)
    assert [w for w in warnings if "ignored" in w] == [
        "Number of blocks per image (NUMBER_OF_BLOCKS) = 30 is ignored: the block grid is "
        "chosen by 'Rows and columns' (BLOCK_RULE)."]
    del warnings[:]
    processing.run(ALGORITHM_IDS[1], {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "c"),
                                      "NUMBER_OF_BLOCKS": 30},
                   context=processing_context.context, feedback=processing_context.feedback)
    assert not [w for w in warnings if "ignored" in w]


def test_input_paths_echoed_without_loading_layers(radiomatch_provider, tiles):
    """The dialog's log and a model's "Input Parameters" echo the value: QGIS's own echo of a
    raster list opens every path as a layer (and writes <input>.aux.xml next to it)."""
    from qgis.core import QgsApplication, QgsProcessingContext

    context = QgsProcessingContext()
    alg = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM_IDS[0])
    echoed = alg.parameterDefinition("INPUT").valueAsPythonString(tiles, context)
    assert ast.literal_eval(echoed) == tiles
    assert alg.asPythonCommand({"INPUT": tiles, "OUTPUT_FOLDER": "/x"}, context)
    assert context.temporaryLayerStore().count() == 0


# ---------------------------------------------------------------------------------------------
# Batch mode, with QGIS 3.22's own batch dialog
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def batch_dialog(radiomatch_plugin, qgis_iface, monkeypatch):
    """A batch dialog of Global regression, with the plugin loaded as the desktop loads it
    (initGui); the Results Viewer's list restored afterwards."""
    from qgis.core import QgsApplication, QgsProxyProgressTask
    from qgis.PyQt import sip

    from processing.core.ProcessingResults import resultsList
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog

    if not hasattr(qgis_iface, "browserModel"):
        monkeypatch.setattr(qgis_iface, "browserModel", lambda: None, raising=False)
    monkeypatch.setattr(type(resultsList), "results", [])
    radiomatch_plugin.initGui()
    dialogs = []

    def build():
        alg = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM_IDS[0])
        dialogs.append(BatchAlgorithmDialog(alg))
        return dialogs[-1]

    yield build
    for dialog in dialogs:
        dialog.close()
        dialog.deleteLater()
    # the batch dialog's progress task ends when its feedback is deleted, which QGIS 3.22 does
    # not do here: end it, or QGIS would wait for it when the session exits
    for task in QgsApplication.taskManager().tasks():
        sip.cast(task, QgsProxyProgressTask).finalize(True)
    radiomatch_plugin.unload()
    radiomatch_plugin.initProcessing()


def fill_batch_row(panel, row, values, context):
    for name, value in values.items():
        column = panel.parameter_to_column[name]
        if panel.alg.parameterDefinition(name).isDestination():
            panel.tblParameters.cellWidget(row + 1, column).setValue(value)
        else:
            panel.wrappers[row][column].setParameterValue(value, context)


@pytest.mark.parametrize("load_layers", [True, False])
def test_batch_rows_with_reports(batch_dialog, tiles, rm, tmp_path, load_layers):
    """Two rows, each with a report: the batch ends with the reports in the Results Viewer
    (QGIS 3.22 raised TypeError there), and the layers are opened only when "Load layers on
    completion" is ticked."""
    from qgis.core import QgsProcessingContext, QgsProject

    from processing.core.ProcessingResults import resultsList

    dialog = batch_dialog()
    panel = dialog.mainWidget()
    panel.addRow()
    context = QgsProcessingContext()
    tiles_b = rm.write_tiles(tmp_path / "b", names=["b0", "b1", "b2"])
    for row, inputs in enumerate((tiles, tiles_b)):
        fill_batch_row(panel, row, {
            "INPUT": inputs, "OUTPUT_FOLDER": str(tmp_path / "out{}".format(row)),
            "MOSAIC": str(tmp_path / "out{}".format(row) / "mosaic.vrt"),
            "REPORT": str(tmp_path / "report{}.html".format(row))}, context)
    panel.checkLoadLayersOnCompletion.setChecked(load_layers)
    project = QgsProject.instance()
    before = len(project.mapLayers())
    dialog.runAlgorithm()
    for row in range(2):
        assert os.path.isfile(tmp_path / "report{}.html".format(row))
        assert os.path.isfile(tmp_path / "out{}".format(row) / "mosaic.vrt")
    reports = [result.filename for result in resultsList.getResults()]
    assert reports == [str(tmp_path / "report{}.html".format(row)) for row in range(2)]
    groups = [node for node in project.layerTreeRoot().children()
              if node.name().startswith("Global regression (")]
    try:
        if load_layers:
            assert len(groups) == 2 and len(project.mapLayers()) == before + 8
        else:
            assert not groups and len(project.mapLayers()) == before
    finally:
        for group in groups:
            project.removeMapLayers(group.findLayerIds())
            project.layerTreeRoot().removeChildNode(group)


def test_the_batch_fix_is_needed_and_undone(radiomatch_plugin):
    """The fix applies only where QGIS's addResult has no default timestamp, and unloading
    the plugin restores QGIS's own method."""
    import inspect

    from radiomatch.plugin import results_list_class

    results = results_list_class()
    original = results.addResult
    assert inspect.signature(original).parameters["timestamp"].default is inspect.Parameter.empty
    radiomatch_plugin.initGui()
    try:
        assert results.addResult is not original
        assert inspect.signature(results.addResult).parameters["timestamp"].default is None
    finally:
        radiomatch_plugin.unload()
        radiomatch_plugin.initProcessing()
    assert results.addResult is original
