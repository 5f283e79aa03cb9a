"""The toolbox dialog, built headless: every parameter gets a standard widget (no custom
wrappers), defaults round-trip, and the batch and modeler widgets can be created too."""

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
    assert parameters["IMAGE_PARALLEL_WORKERS"] == 0
    assert parameters.get("CUSTOM_NODATA_VALUE") is None
    assert parameters.get("WINDOW_SIZE") is None
    assert parameters.get("VECTOR_MASK") is None
    assert "OUTPUT_FOLDER" in parameters  # a temporary folder unless the user picks one
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
    """The toolbox runs algorithms in a QgsProcessingAlgRunnerTask (a worker thread)."""
    import time

    from qgis.core import QgsApplication, QgsProcessingAlgRunnerTask

    alg = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM_IDS[0])
    out = tmp_path / "out"
    context, feedback = processing_context.context, processing_context.feedback
    task = QgsProcessingAlgRunnerTask(alg, {"INPUT": tiles, "OUTPUT_FOLDER": str(out),
                                            "DEBUG_LOGS": True, "WINDOW_PARALLEL_WORKERS": 2,
                                            "WINDOW_SIZE": 16}, context, feedback)
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
    assert sorted(context.layersToLoadOnCompletion()) == sorted(results["OUTPUT_LAYERS"])
