#!/usr/bin/python3
"""Write resources/radiomatch_global_then_local.model3, the ready-made Processing model
"Global regression, then Local block adjustment".

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/make_model.py [--output PATH]

The model is built with the QGIS API (as the graphical modeler would) from the algorithms'
current definitions: every child parameter that is not connected gets the algorithm's default.
Model inputs: the raster files, the number of blocks per image and alpha. Model outputs: the
folder of the balanced rasters (required), their mosaic (created by default) and the two
optional HTML reports. Global regression's corrected rasters go to a temporary folder and feed
Local block adjustment through OUTPUT_LAYERS.

The model's input is a list of files (QgsProcessing.TypeFile), not of raster layers: to check
a raster-layer value, QGIS opens each path as a layer, which writes band statistics
(``<input>.aux.xml``) next to the user's images; the algorithms check the files themselves.
"""

import argparse
import os
import sys

# A fixed QHash seed: Qt then writes the XML attributes in the same order on every run, so the
# same definitions give the same file.
os.environ.setdefault("QT_HASH_SEED", "0")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "resources", "radiomatch_global_then_local.model3")
MODEL_NAME = "Balance rasters: global regression then local block adjustment"
MODEL_GROUP = "RadioMatch"


def fill_defaults(child):
    """What the modeler's child dialog does: every parameter not connected gets its default."""
    from qgis.core import (QgsProcessingDestinationParameter,
                           QgsProcessingModelChildParameterSource)

    for definition in child.algorithm().parameterDefinitions():
        if definition.name() in child.parameterSources():
            continue
        if isinstance(definition, QgsProcessingDestinationParameter):
            continue
        child.addParameterSources(definition.name(), [
            QgsProcessingModelChildParameterSource.fromStaticValue(definition.defaultValue())])


def model_output(name, child_id, output_name, mandatory):
    from qgis.core import QgsProcessingModelOutput

    output = QgsProcessingModelOutput(name, name)
    output.setChildId(child_id)
    output.setChildOutputName(output_name)
    output.setMandatory(mandatory)
    return output


def build_model():
    from qgis.core import (QgsProcessing, QgsProcessingModelAlgorithm,
                           QgsProcessingModelChildAlgorithm,
                           QgsProcessingModelChildParameterSource, QgsProcessingModelParameter,
                           QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber)
    from qgis.PyQt.QtCore import QPointF

    model = QgsProcessingModelAlgorithm(MODEL_NAME, MODEL_GROUP)
    model.setHelpContent({
        "ALG_DESC": "Colour-balances overlapping rasters in two steps: Global regression (one "
                    "gain and offset per image and band, from the overlaps) and then Local "
                    "block adjustment (a smooth correction surface per image and band, fitted "
                    "to the overlaps). Each input gets a corrected GeoTIFF in the output "
                    "folder, named <input>_Global_Local.tif, and the mosaic (a GDAL virtual "
                    "raster, the later input over the earlier where they overlap) shows them "
                    "as one picture, opened with them in one layer group and one style.",
        "rasters": "The overlapping raster files to balance (same CRS and band count), in "
                   "mosaic order: Add File(s) or Add Directory.",
        "blocks": "Target number of blocks per image for Local block adjustment.",
        "alpha": "Strength of the local correction (0: none, 1: full).",
        "ALG_CREATOR": "RadioMatch developers",
        "ALG_HELP_CREATOR": "RadioMatch developers",
    })
    inputs = (
        (QgsProcessingParameterMultipleLayers("rasters", "Input raster files",
                                              QgsProcessing.TypeFile), QPointF(120, 60)),
        (QgsProcessingParameterNumber("blocks", "Number of blocks per image",
                                      QgsProcessingParameterNumber.Integer, 100, False, 1),
         QPointF(420, 60)),
        (QgsProcessingParameterNumber("alpha", "Alpha (strength of the local correction)",
                                      QgsProcessingParameterNumber.Double, 1.0, False, 0.0, 1.0),
         QPointF(620, 60)),
    )
    for definition, position in inputs:
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(position)
        model.addModelParameter(definition, component)

    global_step = QgsProcessingModelChildAlgorithm("radiomatch:globalregression")
    global_step.setChildId("global")
    global_step.setDescription("Global regression")
    global_step.setPosition(QPointF(200, 200))
    global_step.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("rasters")])
    global_step.setModelOutputs({
        "Global regression report": model_output("Global regression report", "global",
                                                 "REPORT", False)})
    fill_defaults(global_step)
    model.addChildAlgorithm(global_step)

    local_step = QgsProcessingModelChildAlgorithm("radiomatch:localblockadjustment")
    local_step.setChildId("local")
    local_step.setDescription("Local block adjustment")
    local_step.setPosition(QPointF(420, 340))
    local_step.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("global",
                                                                         "OUTPUT_LAYERS")])
    local_step.addParameterSources(
        "NUMBER_OF_BLOCKS", [QgsProcessingModelChildParameterSource.fromModelParameter("blocks")])
    local_step.addParameterSources(
        "ALPHA", [QgsProcessingModelChildParameterSource.fromModelParameter("alpha")])
    local_step.setModelOutputs({
        "Balanced rasters": model_output("Balanced rasters", "local", "OUTPUT_FOLDER", True),
        "Mosaic": model_output("Mosaic", "local", "MOSAIC", False),
        "Local block adjustment report": model_output("Local block adjustment report", "local",
                                                      "REPORT", False)})
    fill_defaults(local_step)
    model.addChildAlgorithm(local_step)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    from qgis_session import qgis_with_plugin

    with qgis_with_plugin():
        model = build_model()
        for child_id in model.childAlgorithms():
            ok, errors = model.validateChildAlgorithm(child_id)
            if not ok:
                sys.exit("make_model: {}: {}".format(child_id, errors))
        if not model.toFile(args.output):
            sys.exit("make_model: cannot write {}".format(args.output))
    print(args.output)


if __name__ == "__main__":
    main()
