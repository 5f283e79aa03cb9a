"""The parameters both algorithms share: names (public API), option values, help texts, the
input raster list type, and the checks and conversions of values."""

import os

from qgis.core import (
    QgsApplication,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingUtils,
    QgsProperty,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

# ---------------------------------------------------------------------------------------------
# Parameter names (public API: models, scripts and qgis_process use them).
# ---------------------------------------------------------------------------------------------
INPUT = "INPUT"
OUTPUT_FOLDER = "OUTPUT_FOLDER"
OUTPUT_NAME = "OUTPUT_NAME"
OUTPUT_LAYERS = "OUTPUT_LAYERS"
VECTOR_MASK = "VECTOR_MASK"
MASK_MODE = "MASK_MODE"
MASK_NAME_FIELD = "MASK_NAME_FIELD"
CALCULATION_DTYPE = "CALCULATION_DTYPE"
OUTPUT_DTYPE = "OUTPUT_DTYPE"
DEBUG_LOGS = "DEBUG_LOGS"
CUSTOM_NODATA_VALUE = "CUSTOM_NODATA_VALUE"
IMAGE_PARALLEL_WORKERS = "IMAGE_PARALLEL_WORKERS"
WINDOW_PARALLEL_WORKERS = "WINDOW_PARALLEL_WORKERS"
WINDOW_SIZE = "WINDOW_SIZE"
DASK_SCHEDULER = "DASK_SCHEDULER"
SAVE_AS_COG = "SAVE_AS_COG"
REPORT = "REPORT"
MOSAIC = "MOSAIC"

MASK_MODES = ("include", "exclude")
# Index 2 (the default) lets the engine choose a type that holds the data ("auto").
CALCULATION_DTYPES = ("float32", "float64", "auto")
# Index 0 means "the dtype of each input" (the engine's output_dtype=None).
OUTPUT_DTYPES = (None, "uint8", "uint16", "int16", "uint32", "int32", "float32", "float64")
# The names a QGIS user reads in GDAL's own dialogs, option for option.
GDAL_TYPE_NAMES = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
                   "int32": "Int32", "float32": "Float32", "float64": "Float64"}


def tr(string, context="@default"):
    # pylupdate5 files module-level tr() calls under the context "@default", as stored.
    return QCoreApplication.translate(context, string)


# ---------------------------------------------------------------------------------------------
# Help text
# ---------------------------------------------------------------------------------------------
COMMON_HELP = {
    INPUT: tr(
        "The rasters to normalize (GeoTIFF or any other single-file raster GDAL reads): same CRS "
        "and band count, north-up. Their order is the image order of the model and of the "
        "mosaic. Each image is named after its file name without extension; names must be "
        "unique. At least two images, unless statistics loaded from an earlier run give a "
        "single one its partners. An alpha band or a GDAL mask marks the pixels to leave out "
        "and is kept in the outputs, as are the band descriptions, scale and offset, colour "
        "interpretation and tags. Layers that are not files (WMS, XYZ, virtual or memory "
        "layers) and palette rasters are refused."
    ),
    OUTPUT_NAME: tr(
        "File name of each output, without folder; <code>$</code> is replaced by the input's "
        "name and <code>.tif</code> is added. It must contain <code>$</code> when there are "
        "several inputs."
    ),
    OUTPUT_FOLDER: tr(
        "Folder the corrected GeoTIFFs are written to (created if needed). Existing files of "
        "the same name are replaced; an output can never be one of the inputs."
    ),
    OUTPUT_LAYERS: tr(
        "The corrected rasters, in input order (connect this output to the next algorithm in "
        "a model). When <i>Open output file after running algorithm</i> is ticked under "
        "<i>Mosaic</i> (in Batch mode: <i>Load layers on completion</i>), they are opened with "
        "the mosaic in one layer group, all with one style."
    ),
    MOSAIC: tr(
        "Optional GDAL virtual raster (.vrt) of the corrected rasters: the whole set as one "
        "layer, without copying a pixel (it reads the corrected GeoTIFFs, so keep them next to "
        "it). The rasters are stacked in input order: where images overlap, the one later in "
        "the input list is shown; nodata and masked pixels show the images below. Created by "
        "default in the dialog, only when given in qgis_process and scripts. Ticking <i>Open "
        "output file after running algorithm</i> opens it with the corrected rasters in one "
        "layer group, all with the same band mapping (the first input layer's, else red, "
        "green, blue = bands 1, 2, 3, or grey for one band) and one contrast stretch (2-98 % "
        "of the pixels of all outputs together), so that no seam is made up by the display."
    ),
    VECTOR_MASK: tr(
        "Optional polygon layer limiting the pixels used for the statistics (all pixels are "
        "still corrected). Any vector layer works, including memory layers; when only "
        "selected features is ticked, only the selection is used. Geometries are reprojected "
        "to the CRS of the first input raster."
    ),
    MASK_MODE: tr(
        "<i>Include</i>: use only pixels whose centre is inside the polygons (e.g. a "
        "land area). <i>Exclude</i>: ignore pixels inside the polygons (e.g. clouds, water)."
    ),
    MASK_NAME_FIELD: tr(
        "Optional field of the mask layer: a polygon then applies only to the image whose name "
        "equals the field value or is one entry of a comma- or semicolon-separated list in it "
        "(e.g. 'tile_1, tile_2'). Empty: every polygon applies to every image."
    ),
    OUTPUT_DTYPE: tr(
        "Data type of the outputs, by GDAL's names (Byte: 8-bit unsigned integers). <i>Same "
        "as input</i> keeps each input's type. Integer outputs are rounded and clipped to the "
        "type's range; the report counts the clipped pixels."
    ),
    CUSTOM_NODATA_VALUE: tr(
        "Optional nodata value used for every band of every input and output instead of the "
        "files' own nodata (nan is accepted for Float32 and Float64 outputs). Empty: the "
        "nodata of the inputs (all their bands must agree)."
    ),
    SAVE_AS_COG: tr(
        "Write Cloud-Optimized GeoTIFFs (GDAL COG driver, with overviews) instead of tiled "
        "GeoTIFFs."
    ),
    CALCULATION_DTYPE: tr(
        "Floating-point type of the pixel arithmetic (statistics are always accumulated in "
        "Float64). <i>Automatic</i> (default): Float64 when an input is UInt32, Int32 or "
        "Float64, whose values Float32 cannot all hold, else Float32. <i>Float32</i> "
        "reproduces spectralmatch's arithmetic; on such inputs pixels then change by up to "
        "half a Float32 step, with a warning."
    ),
    DEBUG_LOGS: tr("Write detailed engine messages to the log. Never changes the results."),
    IMAGE_PARALLEL_WORKERS: tr(
        "Number of threads processing different images at the same time; with the tile "
        "threads it also sets how many threads GDAL compresses the outputs on. -1 (default): "
        "all the cores QGIS may use (Settings > Options > Rendering, <i>Max cores to use</i>); "
        "0: one image after the other, on one core, e.g. to keep QGIS responsive. Results do "
        "not depend on it."
    ),
    WINDOW_PARALLEL_WORKERS: tr(
        "Number of threads processing tiles of the same image at the same time; multiplies the "
        "image threads. 0 (default): one tile after the other; -1: all the cores QGIS may use. "
        "Results do not depend on it."
    ),
    WINDOW_SIZE: tr(
        "Size in pixels of the square tiles the images are read and written in (spectralmatch "
        "calls them windows). Empty or 0: automatic (the file's own block size, about 512). "
        "Memory use grows with it; results do not depend on it."
    ),
    DASK_SCHEDULER: tr(
        "Optional address of a Dask scheduler (e.g. tcp://host:8786) whose workers read the "
        "images, compute their statistics and write the outputs, one image per task; this "
        "machine plans the run, solves the model and renames the finished outputs. The "
        "inputs and the output folder must be paths every worker reaches as this machine does "
        "(a shared file system); the workers need numpy, rasterio and scipy and receive "
        "RadioMatch from this machine. The thread counts then only set GDAL's compression "
        "threads per output. Empty: this machine. The outputs are the same files."
    ),
    REPORT: tr(
        "Optional HTML file receiving a report of the run: the seams before and after, the "
        "mosaic before and after, each image's histograms, the corrections and the clipped "
        "pixels (one self-contained file, opened from the Results Viewer). Empty: no report."
    ),
}


# ---------------------------------------------------------------------------------------------
# Raster file lists that are checked without opening QGIS layers
# ---------------------------------------------------------------------------------------------
class RasterFilesParameter(QgsProcessingParameterMultipleLayers):
    """A multiple-raster parameter whose plain file paths are accepted without loading layers.

    QGIS's own check (``checkValueIsAcceptable``, which qgis_process calls on every parameter
    before the algorithm runs, and ``QgsProcessingAlgorithm.checkParameterValues``) and its
    echo of the value (``valueAsPythonString``: the dialog's log, a model's "Input Parameters")
    turn each path into a QgsRasterLayer held by the context. The layer computes band
    statistics for its default renderer and GDAL saves them as ``<input>.aux.xml`` next to the
    input when the context is deleted: a file written into the user's image folder. Paths are
    therefore only accepted and echoed here; the algorithm checks them itself
    (``inputs.input_rasters``) with GDAL opened read-only, never through a QgsRasterLayer.
    """

    @staticmethod
    def _paths(value):
        """The list of path strings ``value`` is, or None for anything else (layers)."""
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return items if items and all(isinstance(item, str) for item in items) else None

    def checkValueIsAcceptable(self, value, context=None):  # noqa: N802
        paths = self._paths(value)
        if paths is not None:
            if any(path.strip() for path in paths):
                return True
            return bool(self.flags() & QgsProcessingParameterDefinition.FlagOptional)
        return super().checkValueIsAcceptable(value, context)

    def valueAsPythonString(self, value, context):  # noqa: N802
        paths = self._paths(value)
        if paths is not None:
            return QgsProcessingUtils.variantToPythonLiteral(paths)
        return super().valueAsPythonString(value, context)

    def clone(self):
        copy = RasterFilesParameter(self.name(), self.description(), self.layerType(),
                                    self.defaultValue(), self.flags()
                                    & QgsProcessingParameterDefinition.FlagOptional)
        copy.setFlags(self.flags())
        copy.setMinimumNumberInputs(self.minimumNumberInputs())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


def _number_text(value):
    return "{:g}".format(value)


def value_problem(definition, value):
    """A message naming ``definition`` and what is wrong with a number or enum ``value`` (as
    processing.run or qgis_process gives it), or None when it is acceptable or unset."""
    value = plain_value(value)
    if value is None or isinstance(value, QgsProperty) or (
            isinstance(value, str) and not value.strip()):
        return None
    label = "{} ({})".format(definition.description(), definition.name())
    if isinstance(definition, QgsProcessingParameterNumber):
        if isinstance(value, bool):
            return tr("{} must be a number, not {}.").format(label, str(value).lower())
        try:
            number = float(value)
        except (TypeError, ValueError):
            return tr("{} must be a number, not '{}'.").format(label, value)
        integer = definition.dataType() == QgsProcessingParameterNumber.Integer
        if number != number and definition.name() == CUSTOM_NODATA_VALUE:
            return None     # NaN marks the nodata of float outputs; the engine checks the type
        if number != number or number in (float("inf"), float("-inf")):
            return tr("{} must be a finite number, not {}.").format(label, value)
        if integer and number != int(number):
            return tr("{} must be a whole number, not {}.").format(label, value)
        low, high = definition.minimum(), definition.maximum()
        has_low, has_high = low > -1e300, high < 1e300
        if (has_low and number < low) or (has_high and number > high):
            if has_low and has_high:
                return tr("{} must be between {} and {}, not {}.").format(
                    label, _number_text(low), _number_text(high), _number_text(number))
            if has_low:
                return tr("{} must be at least {}, not {}.").format(
                    label, _number_text(low), _number_text(number))
            return tr("{} must be at most {}, not {}.").format(
                label, _number_text(high), _number_text(number))
        return None
    if isinstance(definition, QgsProcessingParameterEnum) and not definition.allowMultiple():
        options = definition.options()
        choices = ", ".join("{}={}".format(index, option) for index, option in enumerate(options))
        if isinstance(value, bool):
            index = None
        else:
            try:
                index = float(value)
            except (TypeError, ValueError):
                index = None
        if index is None or index != int(index) or not 0 <= index < len(options):
            return tr("{} must be the number of one of its options ({}), not '{}'.").format(
                label, choices, value)
    return None


# ---------------------------------------------------------------------------------------------
# Simple parameter conversions
# ---------------------------------------------------------------------------------------------
def plain_value(value):
    """A parameter value without its QVariant wrapper: qgis_process passes ``NAME=`` (nothing
    after the equals sign) as a NULL QVariant, which is None here."""
    if isinstance(value, QVariant):
        return None if value.isNull() or not value.isValid() else value.value()
    return value


def is_unset(parameters, name):
    value = plain_value(parameters.get(name))
    return value is None or (isinstance(value, str) and value.strip() == "")


def optional_double(alg, parameters, name, context):
    if is_unset(parameters, name):
        return None
    return alg.parameterAsDouble(parameters, name, context)


def qgis_thread_count():
    """The cores QGIS may use: its own limit (Settings > Options > Rendering), else all."""
    limit = QgsApplication.maxThreads()
    return limit if limit > 0 else (os.cpu_count() or 1)


def workers(alg, parameters, name, context):
    """0 -> None (sequential); -1 -> ("thread", QGIS's cores); n >= 1 -> ("thread", n)."""
    count = alg.parameterAsInt(parameters, name, context)
    if count == 0:
        return None
    if count < 0:
        return ("thread", qgis_thread_count())
    return ("thread", count)


def dask_scheduler(alg, parameters, context):
    """The scheduler address, or None (this machine)."""
    if is_unset(parameters, DASK_SCHEDULER):
        return None
    return alg.parameterAsString(parameters, DASK_SCHEDULER, context).strip() or None


def destination_project(parameters, name):
    """The project a layer destination is to be opened in, or None: what the dialog's "Open
    output file after running algorithm" and Batch mode's "Load layers on completion" put in
    the value (processing.run and qgis_process give a plain path)."""
    value = plain_value(parameters.get(name))
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        return value.destinationProject
    return None


def window_size(alg, parameters, context):
    if is_unset(parameters, WINDOW_SIZE):
        return None
    size = alg.parameterAsInt(parameters, WINDOW_SIZE, context)
    return size if size > 0 else None


def enum_value(alg, parameters, name, context, values):
    """The engine's value of an enum parameter: ``values`` lists them in option order."""
    return values[alg.parameterAsEnum(parameters, name, context)]
