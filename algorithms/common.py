"""What both RadioMatch algorithms do identically.

* the shared parameters (declared once, here) and their help text;
* input layers -> file paths, with clear errors for layers the engine cannot read;
* the polygon mask layer -> a GeoJSON-like FeatureCollection in the rasters' CRS;
* ``QgsProcessingFeedback`` -> the engine's ``progress_callback(fraction, message)``;
* running the engine and turning its errors into ``QgsProcessingException``;
* registering the outputs to load into the project on completion.

Nothing here does numerics, and nothing heavy (numpy, rasterio, scipy, the engine) is imported
at module level: the engine is imported inside :func:`import_core` when an algorithm runs.
"""

import functools
import html
import importlib
import importlib.util
import json
import logging
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsMapLayer,
    QgsMessageLog,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProperty,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsRasterLayer,
    QgsWkbTypes,
    Qgis,
)
from qgis.PyQt.QtCore import QCoreApplication, Qt, QVariant
from qgis.PyQt.QtGui import QIcon

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES_DIR = os.path.join(PLUGIN_DIR, "resources")
HOMEPAGE = "https://github.com/radiomatch/radiomatch"
LOG_TAG = "RadioMatch"
CORE_LOGGER = "radiomatch"

# (module, Debian package) pairs the engine needs.
DEPENDENCIES = (
    ("numpy", "python3-numpy"),
    ("rasterio", "python3-rasterio"),
    ("scipy", "python3-scipy"),
)
APT_COMMAND = "sudo apt install python3-rasterio python3-scipy"

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
SAVE_AS_COG = "SAVE_AS_COG"
REPORT = "REPORT"

MASK_MODES = ("include", "exclude")
# Index 2 (the default) lets the engine choose a type that holds the data ("auto").
CALCULATION_DTYPES = ("float32", "float64", "auto")
# Index 0 means "the dtype of each input" (the engine's output_dtype=None).
OUTPUT_DTYPES = (None, "uint8", "uint16", "int16", "uint32", "int32", "float32", "float64")


def tr(string, context="@default"):
    # pylupdate5 files module-level tr() calls under the context "@default", as stored.
    return QCoreApplication.translate(context, string)


def icon_path(name):
    return os.path.join(RESOURCES_DIR, name)


def plugin_version():
    """The ``version`` of metadata.txt (read without configparser's interpolation)."""
    try:
        with open(os.path.join(PLUGIN_DIR, "metadata.txt"), encoding="utf-8") as handle:
            for line in handle:
                if line.strip().startswith("version="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


# ---------------------------------------------------------------------------------------------
# Dependencies (the DataPlotly pattern: the plugin always loads, and says what is missing).
# ---------------------------------------------------------------------------------------------
def _module_available(name):
    if name in sys.modules:
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_dependencies():
    """Names of the engine's Python modules that cannot be found (nothing is imported)."""
    return [module for module, _package in DEPENDENCIES if not _module_available(module)]


def dependency_message(missing=None, error=None):
    missing = missing if missing is not None else missing_dependencies()
    if missing:
        what = tr("RadioMatch cannot run: the Python module(s) {} cannot be imported.").format(
            ", ".join(missing)
        )
    else:
        what = tr("RadioMatch cannot run: its engine could not be imported.")
    if error is not None:
        what += " ({})".format(error)
    return what + " " + tr(
        "RadioMatch needs numpy, rasterio and scipy in the Python that QGIS uses. On Debian or "
        "Ubuntu install them with: {}  (python3-numpy comes with them), then restart QGIS. "
        "Do not pip-install rasterio into QGIS: its wheels bundle another GDAL."
    ).format(APT_COMMAND)


def log_missing_dependencies():
    """Write the dependency warning to the QGIS message log; return True if something is missing."""
    missing = missing_dependencies()
    if missing:
        QgsMessageLog.logMessage(dependency_message(missing), LOG_TAG, Qgis.Warning)
    return bool(missing)


def import_core():
    """Import the engine package (``radiomatch.core``) or raise a helpful QgsProcessingException."""
    package = (__package__ or "").rpartition(".")[0]  # "radiomatch"
    try:
        return importlib.import_module(package + ".core" if package else "core")
    except ImportError as err:
        raise QgsProcessingException(dependency_message(error=err)) from err


# ---------------------------------------------------------------------------------------------
# Help text
# ---------------------------------------------------------------------------------------------
COMMON_HELP = {
    INPUT: tr(
        "The rasters to normalize (GeoTIFF or any other single-file raster GDAL reads): same CRS "
        "and band count, north-up. Their order is the image order of the model. Each image is "
        "named after its file name without extension; names must be unique. An alpha band or a "
        "GDAL mask marks the pixels to leave out and is kept in the outputs, as are the band "
        "descriptions, scale and offset, colour interpretation and tags. Layers that are not "
        "files (WMS, XYZ, virtual or memory layers) and palette rasters are refused."
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
        "a model). They are added to the project when the algorithm finishes."
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
        "Data type of the outputs. <i>Same as input</i> keeps each input's type. Integer "
        "outputs are rounded and clipped to the type's range."
    ),
    CUSTOM_NODATA_VALUE: tr(
        "Optional nodata value used for every band of every input and output instead of the "
        "files' own nodata (nan is accepted for float outputs). Empty: the nodata of the "
        "inputs (all their bands must agree)."
    ),
    SAVE_AS_COG: tr(
        "Write Cloud-Optimized GeoTIFFs (GDAL COG driver, with overviews) instead of tiled "
        "GeoTIFFs."
    ),
    CALCULATION_DTYPE: tr(
        "Floating-point type of the pixel arithmetic (statistics are always accumulated in "
        "float64). <i>Automatic</i> (default): float64 when an input is uint32, int32 or "
        "float64, whose values float32 cannot all hold, else float32. <i>float32</i> "
        "reproduces spectralmatch's arithmetic; on such inputs pixels then change by up to "
        "half a float32 step, with a warning."
    ),
    DEBUG_LOGS: tr("Write detailed engine messages to the log. Never changes the results."),
    IMAGE_PARALLEL_WORKERS: tr(
        "Number of threads processing different images at the same time; with the tile "
        "threads it also sets how many threads GDAL compresses the outputs on. 0: one image "
        "after the other, on one core; -1: one thread per CPU core. Results do not depend on it."
    ),
    WINDOW_PARALLEL_WORKERS: tr(
        "Number of threads processing tiles of the same image at the same time; multiplies the "
        "image threads. 0: one tile after the other; -1: one thread per CPU core. Results do "
        "not depend on it."
    ),
    WINDOW_SIZE: tr(
        "Tile size in pixels used to read and write the images (square tiles). Empty or 0: "
        "automatic (the file's own block size, about 512). Memory use grows with it; results "
        "do not depend on it."
    ),
    REPORT: tr(
        "Optional HTML file receiving a report of the run with charts (one self-contained "
        "file, opened from the Results Viewer). Empty: no report."
    ),
}

HTML_TAG = re.compile(r"<[^>]+>")


def html_to_text(text):
    """Plain text for ``qgis_process help`` (it prints the help string verbatim)."""
    text = re.sub(r"<br\s*/?>|</p>|</h3>", "\n", text)
    text = re.sub(r"<li>", "\n  - ", text)
    text = re.sub(r"<h3>", "\n", text)
    text = HTML_TAG.sub("", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def running_in_qgis_process():
    args = QCoreApplication.arguments()
    return bool(args) and "qgis_process" in os.path.basename(args[0])


def running_in_qgis_process_help():
    return running_in_qgis_process() and "help" in QCoreApplication.arguments()[1:]


def error_printed_once(process_algorithm):
    """qgis_process 3.22 prints the error of a failed algorithm three times: QGIS logs it as a
    critical message, which qgis_process prints, then reports it to the feedback, which prints
    it and logs it again. Decorates ``processAlgorithm`` so that it is printed once: the
    critical-message printer is disconnected as the error leaves the algorithm (the process
    ends with it), and in JSON mode, where the feedback prints nothing, the error is printed
    here."""
    @functools.wraps(process_algorithm)
    def process(self, parameters, context, feedback):
        try:
            return process_algorithm(self, parameters, context, feedback)
        except QgsProcessingException as err:
            if running_in_qgis_process():
                try:
                    QgsApplication.messageLog().messageReceived[
                        str, str, Qgis.MessageLevel].disconnect()
                except TypeError:   # nothing connected
                    pass
                if "--json" in QCoreApplication.arguments():
                    sys.stderr.write("ERROR:\t{}\n".format(err))
                    sys.stderr.flush()
            raise
    return process


# ---------------------------------------------------------------------------------------------
# Raster file lists that are checked without opening QGIS layers
# ---------------------------------------------------------------------------------------------
class RasterFilesParameter(QgsProcessingParameterMultipleLayers):
    """A multiple-raster parameter whose plain file paths are accepted without loading layers.

    QGIS's own check (``checkValueIsAcceptable``, which qgis_process calls on every parameter
    before the algorithm runs, and ``QgsProcessingAlgorithm.checkParameterValues``) turns each
    path into a QgsRasterLayer held by the context. The layer computes band statistics for its
    default renderer and GDAL saves them as ``<input>.aux.xml`` next to the input when the
    context is deleted: a file written into the user's image folder. Paths are therefore only
    accepted here; the algorithm checks them itself (see :func:`input_problem`) with GDAL opened
    read-only, never through a QgsRasterLayer.
    """

    def checkValueIsAcceptable(self, value, context=None):  # noqa: N802
        items = value if isinstance(value, (list, tuple)) else [value]
        if items and all(isinstance(item, str) for item in items):
            if any(item.strip() for item in items):
                return True
            return bool(self.flags() & QgsProcessingParameterDefinition.FlagOptional)
        return super().checkValueIsAcceptable(value, context)

    def clone(self):
        copy = RasterFilesParameter(self.name(), self.description(), self.layerType(),
                                    self.defaultValue(), self.flags()
                                    & QgsProcessingParameterDefinition.FlagOptional)
        copy.setFlags(self.flags())
        copy.setMinimumNumberInputs(self.minimumNumberInputs())
        copy.setHelp(self.help())
        copy.setMetadata(self.metadata())
        return copy


# ---------------------------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------------------------
class RadioMatchAlgorithm(QgsProcessingAlgorithm):
    """Shared behaviour of the RadioMatch algorithms (QGIS ``algs/qgis`` style)."""

    ICON = "radiomatch.svg"
    DEFAULT_OUTPUT_NAME = "$"
    HELP_ANCHOR = ""

    # -- identity ---------------------------------------------------------------------------
    def tr(self, string, context=""):
        return QCoreApplication.translate(context or self.__class__.__name__, string)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def group(self):
        return self.tr("Radiometric normalization", "RadioMatchAlgorithm")

    def groupId(self):  # noqa: N802
        return "radiometricnormalization"

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802
        return icon_path(self.ICON)

    def helpUrl(self):  # noqa: N802
        return HOMEPAGE + "#" + self.HELP_ANCHOR

    # -- help -------------------------------------------------------------------------------
    def introduction(self):
        raise NotImplementedError

    def example(self):
        return ""

    def shortHelpString(self):  # noqa: N802
        parts = [self.introduction()]
        for definition in self.parameterDefinitions():
            parts.append(self._help_entry(definition.name(), definition.description()))
        for definition in self.outputDefinitions():
            if self.parameterDefinition(definition.name()) is None:
                parts.append(self._help_entry(definition.name(), definition.description()))
        if self.example():
            parts.append("<p><b>{}</b><br><code>{}</code></p>".format(
                self.tr("Command line (qgis_process)", "RadioMatchAlgorithm"),
                html.escape(self.example())))
        text = "".join(parts)
        if running_in_qgis_process_help():
            return html_to_text(text)
        return text

    def _help_entry(self, name, description):
        text = self.parameter_help().get(name, "")
        return "<p><b>{}</b> (<code>{}</code>): {}</p>".format(description, name, text)

    def parameter_help(self):
        # translated again here: COMMON_HELP is built at import, maybe before the translator
        return {name: tr(text) for name, text in COMMON_HELP.items()}

    # -- shared parameters (declared once) --------------------------------------------------
    @staticmethod
    def _advanced(definition):
        definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        return definition

    def addInputParameter(self):  # noqa: N802
        self.addParameter(RasterFilesParameter(
            INPUT, self.tr("Input rasters", "RadioMatchAlgorithm"), QgsProcessing.TypeRaster))

    def addMaskParameters(self):  # noqa: N802
        self.addParameter(QgsProcessingParameterFeatureSource(
            VECTOR_MASK, self.tr("Polygon mask for the statistics", "RadioMatchAlgorithm"),
            [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            MASK_MODE, self.tr("Mask mode", "RadioMatchAlgorithm"),
            [self.tr("Include: use only pixels inside the polygons", "RadioMatchAlgorithm"),
             self.tr("Exclude: ignore pixels inside the polygons", "RadioMatchAlgorithm")],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterField(
            MASK_NAME_FIELD, self.tr("Mask field holding image names", "RadioMatchAlgorithm"),
            parentLayerParameterName=VECTOR_MASK, optional=True))

    def addCommonOptions(self):  # noqa: N802
        """Output type, nodata and COG (visible), then the rarely used engine options (advanced)."""
        labels = [self.tr("Same as input", "RadioMatchAlgorithm")] + list(OUTPUT_DTYPES[1:])
        self.addParameter(QgsProcessingParameterEnum(
            OUTPUT_DTYPE, self.tr("Output data type", "RadioMatchAlgorithm"), labels,
            defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            CUSTOM_NODATA_VALUE, self.tr("Nodata value override", "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Double, defaultValue=None, optional=True))
        self.addParameter(QgsProcessingParameterBoolean(
            SAVE_AS_COG, self.tr("Save as Cloud-Optimized GeoTIFF", "RadioMatchAlgorithm"),
            defaultValue=False))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            CALCULATION_DTYPE, self.tr("Calculation data type", "RadioMatchAlgorithm"),
            ["float32", "float64",
             self.tr("Automatic: float64 for 32-bit integer and float64 rasters, else float32",
                     "RadioMatchAlgorithm")],
            defaultValue=2)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            WINDOW_SIZE, self.tr("Tile size in pixels (empty: automatic)", "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=None, optional=True,
            minValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            IMAGE_PARALLEL_WORKERS,
            self.tr("Images processed in parallel (threads; 0 none, -1 all cores)",
                    "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=0, minValue=-1)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            WINDOW_PARALLEL_WORKERS,
            self.tr("Tiles processed in parallel (threads; 0 none, -1 all cores)",
                    "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=0, minValue=-1)))
        self.addParameter(self._advanced(QgsProcessingParameterBoolean(
            DEBUG_LOGS, self.tr("Detailed log messages", "RadioMatchAlgorithm"),
            defaultValue=False)))

    def addOutputParameters(self):  # noqa: N802
        self.addParameter(QgsProcessingParameterString(
            OUTPUT_NAME, self.tr("Output file name ($ = input name)", "RadioMatchAlgorithm"),
            defaultValue=self.DEFAULT_OUTPUT_NAME))
        self.addParameter(QgsProcessingParameterFolderDestination(
            OUTPUT_FOLDER, self.tr("Output folder", "RadioMatchAlgorithm")))
        self.addOutput(QgsProcessingOutputMultipleLayers(
            OUTPUT_LAYERS, self.tr("Corrected rasters", "RadioMatchAlgorithm")))

    def addReportParameter(self):  # noqa: N802
        """REPORT: an optional HTML file (Processing shows it as an HTML output)."""
        self.addParameter(QgsProcessingParameterFileDestination(
            REPORT, self.tr("Report", "RadioMatchAlgorithm"),
            self.tr("HTML files (*.html)", "RadioMatchAlgorithm"), optional=True,
            createByDefault=False))

    def report_path(self, parameters, context):
        """The REPORT file, or None; its folder is created now, so that a run never ends
        without the report it was asked for."""
        path = self.parameterAsFileOutput(parameters, REPORT, context)
        if not path:
            return None
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        except OSError as err:
            raise QgsProcessingException(tr(
                "The report {} cannot be written ({}).").format(path, err)) from err
        return path

    def write_report(self, path, write, feedback):
        """Call ``write(path)``; the corrected rasters are written by then, so say so."""
        feedback.setProgressText(tr("Writing the report"))
        try:
            write(path)
        except OSError as err:
            raise QgsProcessingException(tr(
                "The corrected rasters were written, but the report {} could not be ({}).").format(
                path, err)) from err
        feedback.pushInfo(tr("Report written to {}").format(path))

    # -- validation before the run ----------------------------------------------------------
    def checkParameterValues(self, parameters, context):  # noqa: N802
        """Name the offending file or parameter and the problem instead of QGIS's generic
        "Incorrect parameter value for X"."""
        problem = self.input_problem(parameters, context)
        if problem:
            return False, problem
        for definition in self.parameterDefinitions():
            problem = value_problem(definition, parameters.get(definition.name()))
            if problem:
                return False, problem
        return super().checkParameterValues(parameters, context)

    def validateInputCrs(self, parameters, context):  # noqa: N802
        """Always true: QGIS's check would open every input path as a QgsRasterLayer (see
        :class:`RasterFilesParameter`), the engine refuses rasters in different CRSs with a
        message naming them, and the polygon mask is reprojected."""
        return True

    def input_problem(self, parameters, context):
        """The first problem with the input rasters (a message naming the file), or None.
        Paths are checked with GDAL opened read-only, never loaded as QGIS layers."""
        value = plain_value(parameters.get(INPUT))
        if value is None or value == "" or value == [] or (
                isinstance(value, (list, tuple)) and all(
                    isinstance(item, str) and not item.strip() for item in value)):
            return self.tr("No input rasters: choose at least one raster for {} ({}).",
                           "RadioMatchAlgorithm").format(
                self.parameterDefinition(INPUT).description(), INPUT)
        try:
            input_rasters(self, parameters, INPUT, context)
        except QgsProcessingException as err:
            return str(err)
        return None


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


def unreadable_input_message(value):
    path = value if os.path.exists(value) else value.split("|", 1)[0]
    if not path.startswith("/vsi") and not os.path.exists(path):
        return tr("Input raster not found: {} (no such file).").format(value)
    return tr("Cannot read {} as a raster: GDAL cannot open it (not a raster file, or damaged).").format(
        value)


# ---------------------------------------------------------------------------------------------
# Layers -> files
# ---------------------------------------------------------------------------------------------
def layer_file(layer):
    """The file behind a raster layer; raise QgsProcessingException naming the layer otherwise."""
    name = layer.name()
    if not isinstance(layer, QgsRasterLayer):
        raise QgsProcessingException(tr(
            "Layer '{}' ({}) is not a raster layer.").format(name, layer.source()))
    if not layer.isValid():
        raise QgsProcessingException(unreadable_input_message(layer.source()))
    if layer.providerType() != "gdal":
        raise QgsProcessingException(tr(
            "Layer '{}' is not a file-based raster (data provider '{}'); RadioMatch reads raster "
            "files only. Save the layer as a GeoTIFF first (right-click > Export > Save As...)."
        ).format(name, layer.providerType()))
    source = layer.source()
    base, _, options = source.partition("|")  # GDAL sources may carry "|layername=..." etc.
    match = re.search(r"(?:^|\|)layername=([^|]*)", options)
    sub_layer = match.group(1) if match else ""
    parts = QgsProviderRegistry.instance().decodeUri("gdal", base)
    container = parts.get("path") or base
    if parts.get("layerName"):
        sub_layer = parts.get("layerName")
    path = container
    if parts.get("vsiPrefix") or container.startswith("/vsi"):  # /vsizip/a.zip/b.tif, /vsicurl/
        raise QgsProcessingException(tr(
            "Layer '{}' is read through a GDAL virtual file system ({}); RadioMatch reads plain "
            "raster files only. Extract or save the layer as a GeoTIFF first.").format(
            name, source))
    if not os.path.isfile(container):
        raise QgsProcessingException(tr(
            "Layer '{}' is not a single raster file ({}); RadioMatch reads raster files only. "
            "Save the layer as a GeoTIFF first.").format(name, source))
    if sub_layer and sub_layer != image_name(path):
        raise QgsProcessingException(tr(
            "Layer '{}' is the sub-layer '{}' of {}; RadioMatch reads whole raster files. "
            "Save the layer as a GeoTIFF first.").format(name, sub_layer, path))
    return path


def image_name(path):
    """The engine's name(k): the file's basename without its last extension."""
    return os.path.splitext(os.path.basename(path))[0]


class InputRaster:
    """One input raster resolved to its file: ``path``, and ``crs()`` from the layer when the
    input was a layer, else read from the file with GDAL."""

    def __init__(self, path, layer=None):
        self.path = path
        self.layer = layer
        self._crs = None

    def crs(self):
        if self.layer is not None:
            return self.layer.crs()
        if self._crs is None:
            self._crs = raster_file_crs(self.path) or QgsCoordinateReferenceSystem()
        return self._crs


def _quiet_gdal_open(path):
    """``osgeo.gdal`` and the read-only dataset of ``path`` (None if GDAL cannot open it as a
    raster); ``(None, None)`` without the GDAL Python bindings."""
    try:
        from osgeo import gdal
    except ImportError:
        return None, None
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return gdal, gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY)
    except RuntimeError:  # gdal.UseExceptions() is on
        return gdal, None
    finally:
        gdal.PopErrorHandler()


def raster_file_readable(path):
    """Whether GDAL opens ``path`` as a raster (read-only; True when it cannot be checked)."""
    gdal, dataset = _quiet_gdal_open(path)
    return gdal is None or dataset is not None


def raster_file_crs(path):
    """The CRS of a raster file, read with GDAL read-only (no QgsRasterLayer); None if none."""
    _gdal, dataset = _quiet_gdal_open(path)
    if dataset is None:
        return None
    wkt = dataset.GetProjectionRef()
    dataset = None
    return QgsCoordinateReferenceSystem.fromWkt(wkt) if wkt else None


def gdal_container(value):
    """The file GDAL reads for a dataset name that is not a file itself (a subdataset such as
    ``NETCDF:"file.nc":variable``), or None when GDAL does not open it."""
    _gdal, dataset = _quiet_gdal_open(value)
    if dataset is None:
        return None
    files = dataset.GetFileList() or []
    return files[0] if files else value


def raster_path_file(value):
    """The raster file named by a path string (GDAL URI suffixes such as ``|layername=``
    allowed); raise QgsProcessingException naming it when it is not a readable raster file."""
    if os.path.isfile(value):       # a file whose name holds "|" is that file
        if not raster_file_readable(value):
            raise QgsProcessingException(unreadable_input_message(value))
        return value
    base, _, options = value.partition("|")
    match = re.search(r"(?:^|\|)layername=([^|]*)", options)
    sub_layer = match.group(1) if match else ""
    parts = QgsProviderRegistry.instance().decodeUri("gdal", base)
    path = parts.get("path") or base
    if parts.get("layerName"):
        sub_layer = parts.get("layerName")
    if parts.get("vsiPrefix") or path.startswith("/vsi"):
        raise QgsProcessingException(tr(
            "Input {} is read through a GDAL virtual file system; RadioMatch reads plain raster "
            "files only. Extract or save it as a GeoTIFF first.").format(value))
    if not os.path.exists(path):
        if "url=" in value or "://" in value or "dbname=" in value:
            raise QgsProcessingException(tr(
                "Input {} is not a raster file (a web service or database source); RadioMatch "
                "reads raster files only. Save the layer as a GeoTIFF first.").format(value))
        container = gdal_container(value)
        if container:
            raise QgsProcessingException(tr(
                "Input {} is a GDAL subdataset of {}, not a raster file; RadioMatch reads whole "
                "raster files. Extract it as a GeoTIFF first (Raster > Conversion > Translate, "
                "or gdal_translate).").format(value, container))
        raise QgsProcessingException(unreadable_input_message(value))
    if not os.path.isfile(path):
        raise QgsProcessingException(tr(
            "Input {} is a folder, not a raster file; give the raster files themselves.").format(
            value))
    if sub_layer and sub_layer != image_name(path):
        raise QgsProcessingException(tr(
            "Input {} is the sub-layer '{}' of {}; RadioMatch reads whole raster files. "
            "Save the layer as a GeoTIFF first.").format(value, sub_layer, path))
    if not raster_file_readable(path):
        raise QgsProcessingException(unreadable_input_message(path))
    return path


def input_rasters(alg, parameters, name, context):
    """The :class:`InputRaster` list of a multiple-raster parameter, refusing inputs that are not
    raster files. Layers already in the project or the context are used as they are; a path is
    checked as a file and never loaded as a QgsRasterLayer (see :class:`RasterFilesParameter`)."""
    value = plain_value(parameters.get(name))
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(item, (str, QgsMapLayer)) for item in items):
        # expressions of a model (QgsProperty) and the like: QGIS resolves them to layers
        return [InputRaster(layer_file(layer), layer)
                for layer in alg.parameterAsLayerList(parameters, name, context)]
    rasters = []
    for item in items:
        if isinstance(item, str):
            if not item.strip():
                continue
            layer = QgsProcessingUtils.mapLayerFromString(
                item, context, False, QgsProcessingUtils.LayerHint.Raster)
            if layer is None:
                rasters.append(InputRaster(raster_path_file(item)))
                continue
            item = layer
        rasters.append(InputRaster(layer_file(item), item))
    return rasters


def input_layers_and_files(alg, parameters, name, context):
    """(rasters, paths) of a multiple-raster parameter: :class:`InputRaster` objects (with
    ``crs()``) and their files, refusing inputs that are not raster files."""
    rasters = input_rasters(alg, parameters, name, context)
    return rasters, [raster.path for raster in rasters]


def refuse_overwriting(files, inputs, outputs):
    """Refuse a file the run would write besides the corrected rasters (``files``: (parameter,
    path) pairs: adjustments, block maps, report) when it is one of the input rasters or one
    of the corrected rasters: the engine protects the inputs from the rasters only."""
    protected = {os.path.realpath(path): (True, path) for path in inputs}
    for path in outputs:
        protected.setdefault(os.path.realpath(path), (False, path))
    for parameter, path in files:
        if not path:
            continue
        is_input, other = protected.get(os.path.realpath(path), (None, None))
        if is_input:
            raise QgsProcessingException(tr(
                "The file {} ({}) is the input raster {}; inputs are never overwritten. Choose "
                "another file or folder.").format(path, parameter, other))
        if is_input is False:
            raise QgsProcessingException(tr(
                "The file {} ({}) is also the corrected raster {} of this run. Choose another "
                "file or folder.").format(path, parameter, other))


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


def workers(alg, parameters, name, context):
    """0 -> None (sequential); -1 -> ("thread", "cpu"); n >= 1 -> ("thread", n)."""
    count = alg.parameterAsInt(parameters, name, context)
    if count == 0:
        return None
    if count < 0:
        return ("thread", "cpu")
    return ("thread", count)


def window_size(alg, parameters, context):
    if is_unset(parameters, WINDOW_SIZE):
        return None
    size = alg.parameterAsInt(parameters, WINDOW_SIZE, context)
    return size if size > 0 else None


def output_paths(alg, parameters, context, inputs):
    """(folder, [output path per input]) from OUTPUT_FOLDER and the OUTPUT_NAME pattern."""
    folder = alg.parameterAsFileOutput(parameters, OUTPUT_FOLDER, context)
    if not folder:
        raise QgsProcessingException(tr("No output folder given ({}).").format(OUTPUT_FOLDER))
    pattern = (alg.parameterAsString(parameters, OUTPUT_NAME, context) or "").strip()
    if not pattern:
        pattern = alg.DEFAULT_OUTPUT_NAME
    if re.search(r"\.tiff?$", pattern, re.IGNORECASE):
        pattern = pattern.rsplit(".", 1)[0]
    if pattern.startswith("."):
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) starts with a dot, which makes hidden files that file "
            "browsers and QGIS's browser do not show; remove the dot.").format(
            pattern, OUTPUT_NAME))
    if "/" in pattern or "\\" in pattern:
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) must be a file name, not a path; choose the folder with "
            "{}.").format(pattern, OUTPUT_NAME, OUTPUT_FOLDER))
    if "$" not in pattern and len(inputs) > 1:
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) has no $: with {} inputs every output would get the same "
            "name. Use $ for the input name, e.g. '{}'.").format(
            pattern, OUTPUT_NAME, len(inputs), alg.DEFAULT_OUTPUT_NAME))
    return folder, [
        os.path.join(folder, pattern.replace("$", image_name(path)) + ".tif") for path in inputs
    ]


# ---------------------------------------------------------------------------------------------
# Vector mask -> FeatureCollection
# ---------------------------------------------------------------------------------------------
def crs_name(crs):
    """A name the engine (rasterio/PROJ) understands: EPSG code when there is one, else WKT."""
    authid = crs.authid()
    if authid.upper().startswith("EPSG:"):
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL)


def mask_feature_collection(source, target_crs, context, field=None, feedback=None):
    """A GeoJSON-like FeatureCollection of the source's polygons, in ``target_crs``.

    The source comes from ``parameterAsSource``, so "selected features only" is honoured.
    Empty geometries are skipped; curves are segmentized. Properties hold only ``field``.
    """
    transform = None
    source_crs = source.sourceCrs()
    if source_crs.isValid() and target_crs.isValid() and source_crs != target_crs:
        transform = QgsCoordinateTransform(source_crs, target_crs, context.transformContext())
    elif not source_crs.isValid() and feedback is not None:
        feedback.pushWarning(tr(
            "The mask layer has no CRS; its coordinates are taken to be in the rasters' CRS."))
    request = QgsFeatureRequest()
    if field:
        request.setSubsetOfAttributes([field], source.fields())
    else:
        request.setNoAttributes()
    features = []
    repaired = []
    for feature in source.getFeatures(request):
        if feedback is not None and feedback.isCanceled():
            raise QgsProcessingException(tr("Canceled."))
        geometry = feature.geometry()
        if geometry is None or geometry.isNull() or geometry.isEmpty():
            continue
        if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
            raise QgsProcessingException(tr(
                "Mask feature {} of '{}' ({}) is a {}, not a polygon; the polygon mask must hold "
                "polygons only.").format(feature.id(), source.sourceName(), VECTOR_MASK,
                                         QgsWkbTypes.displayString(geometry.wkbType())))
        if QgsWkbTypes.isCurvedType(geometry.wkbType()):
            geometry.convertToStraightSegment()
        if not geometry.isGeosValid():
            # self-intersections and the like: keep the polygonal part of GEOS's repair (what
            # "Fix geometries" does), and say so
            geometry = geometry.makeValid()
            if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
                geometry = geometry.convertToType(QgsWkbTypes.PolygonGeometry, True)
            repaired.append(str(feature.id()))
            if geometry is None or geometry.isNull() or geometry.isEmpty():
                continue
        if transform is not None:
            try:
                geometry.transform(transform)
            except QgsCsException as err:
                raise QgsProcessingException(tr(
                    "Mask feature {} cannot be transformed to the rasters' CRS ({}).").format(
                    feature.id(), err)) from err
        properties = {}
        if field:
            properties[field] = _attribute_value(feature[field])
        features.append({
            "type": "Feature",
            "geometry": json.loads(geometry.asJson()),
            "properties": properties,
        })
    if repaired and feedback is not None:
        feedback.pushWarning(tr(
            "{} mask polygon(s) of '{}' had invalid geometries (self-intersections or the like) "
            "and were repaired as 'Fix geometries' does: feature(s) {}.").format(
            len(repaired), source.sourceName(), ", ".join(repaired[:20])
            + (", ..." if len(repaired) > 20 else "")))
    collection = {"type": "FeatureCollection", "features": features}
    if target_crs.isValid():
        collection["crs"] = {"type": "name", "properties": {"name": crs_name(target_crs)}}
    return collection


def _attribute_value(value):
    """A plain Python value for the engine (which compares ``str(value)`` with image names)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "toString"):  # QDate, QDateTime, QTime
        try:
            return value.toString(Qt.ISODate)
        except TypeError:
            return value.toString()
    return str(value)


def vector_mask(alg, parameters, context, raster_crs, feedback):
    """The engine's ``vector_mask`` tuple, or None when no mask layer is given."""
    if is_unset(parameters, VECTOR_MASK):
        return None
    source = alg.parameterAsSource(parameters, VECTOR_MASK, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, VECTOR_MASK))
    geometry_type = QgsWkbTypes.geometryType(source.wkbType())
    if geometry_type in (QgsWkbTypes.PointGeometry, QgsWkbTypes.LineGeometry) or (
            geometry_type == QgsWkbTypes.NullGeometry and source.featureCount() > 0):
        kind = {QgsWkbTypes.PointGeometry: tr("points"), QgsWkbTypes.LineGeometry: tr("lines")}
        raise QgsProcessingException(tr(
            "The polygon mask '{}' ({}) holds {}, not polygons; only polygons can mark the "
            "pixels to include or exclude.").format(
            source.sourceName(), VECTOR_MASK, kind.get(geometry_type, tr("no geometries"))))
    mode = MASK_MODES[alg.parameterAsEnum(parameters, MASK_MODE, context)]
    fields = alg.parameterAsFields(parameters, MASK_NAME_FIELD, context)
    field = fields[0] if fields else None
    if field and source.fields().lookupField(field) < 0:
        raise QgsProcessingException(tr(
            "The polygon mask '{}' has no field '{}' ({}); its fields are: {}.").format(
            source.sourceName(), field, MASK_NAME_FIELD,
            ", ".join(source.fields().names()) or tr("none")))
    if not raster_crs.isValid():
        raise QgsProcessingException(tr(
            "The first input raster has no CRS, so the polygon mask cannot be placed on it."))
    collection = mask_feature_collection(source, raster_crs, context, field, feedback)
    feedback.pushInfo(tr("Polygon mask: {} polygon(s), mode '{}'{}.").format(
        len(collection["features"]), mode,
        tr(", matched to images by field '{}'").format(field) if field else ""))
    if field:
        return (mode, collection, field)
    return (mode, collection)


# ---------------------------------------------------------------------------------------------
# Feedback, engine errors, logging
# ---------------------------------------------------------------------------------------------
class ProgressAdapter:
    """``progress_callback(fraction, message) -> cancel?`` on top of a QgsProcessingFeedback."""

    def __init__(self, feedback):
        self.feedback = feedback
        self._lock = threading.Lock()
        self._percent = -1.0
        self._message = None

    def __call__(self, fraction=None, message=None):
        with self._lock:
            if message and message != self._message:
                self._message = message
                self.feedback.setProgressText(message)
            if fraction is not None:
                percent = max(0.0, min(100.0, 100.0 * float(fraction)))
                if percent > self._percent:  # never move backwards
                    self._percent = percent
                    self.feedback.setProgress(percent)
        return self.feedback.isCanceled()


class _FeedbackLogHandler(logging.Handler):
    """Forwards the engine's INFO/DEBUG records of this run's thread to the feedback.

    Warnings are not forwarded here: they come back in ``result.warnings`` and are pushed once.
    Records from other threads (engine workers, other runs) are ignored: pushing them would
    mix runs and touch the feedback from threads Processing does not know about.
    """

    def __init__(self, feedback):
        super().__init__(logging.DEBUG)
        self.feedback = feedback
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.thread != self.thread or record.levelno >= logging.WARNING:
            return
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 (logging must never break the run)
            return
        if record.levelno >= logging.INFO:
            self.feedback.pushInfo(message)
        else:
            self.feedback.pushDebugInfo(message)


@contextmanager
def engine_log_to_feedback(feedback, debug):
    logger = logging.getLogger(CORE_LOGGER)
    handler = _FeedbackLogHandler(feedback)
    old_level = logger.level
    logger.addHandler(handler)
    if debug:
        logger.setLevel(logging.DEBUG)
    elif logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@contextmanager
def file_size_limit_as_error():
    """Ignore SIGXFSZ during the run (main thread only: qgis_process, scripts). A write past
    the file size limit (``ulimit -f``) then fails with "File too large", which the engine
    reports and cleans up after, instead of the signal killing QGIS and leaving temporary
    files behind."""
    sigxfsz = getattr(signal, "SIGXFSZ", None)
    if sigxfsz is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(sigxfsz)
    if previous is None:  # a handler installed outside Python: leave it alone
        yield
        return
    signal.signal(sigxfsz, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(sigxfsz, previous)


def run_engine(function_name, inputs, outputs, kwargs, feedback, debug=False):
    """Call ``core.<function_name>`` with the feedback adapter; map its errors to Processing's."""
    core = import_core()
    function = getattr(core, function_name, None)
    if function is None:
        raise QgsProcessingException(tr(
            "This RadioMatch installation has no '{}' engine; reinstall the plugin.").format(
            function_name))
    cancelled = getattr(core, "CancelledError", ())
    radiomatch_error = getattr(core, "RadioMatchError", ())
    with engine_log_to_feedback(feedback, debug), file_size_limit_as_error():
        try:
            result = function(inputs, outputs, progress_callback=ProgressAdapter(feedback), **kwargs)
        except cancelled as err:
            raise QgsProcessingException(tr("Canceled: {}").format(err) if str(err)
                                         else tr("Canceled.")) from err
        except radiomatch_error as err:
            raise QgsProcessingException(str(err)) from err
        except OSError as err:
            raise QgsProcessingException(str(err)) from err
    for warning in getattr(result, "warnings", None) or []:
        feedback.pushWarning(str(warning))
    feedback.setProgress(100)
    return result


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------
def load_on_completion(context, paths, output_name):
    """Add rasters to the project when the algorithm finishes (thread-safe: no project access)."""
    for path in paths:
        details = QgsProcessingContext.LayerDetails(
            image_name(path), context.project(), output_name,
            QgsProcessingUtils.LayerHint.Raster)
        context.addLayerToLoadOnCompletion(path, details)
