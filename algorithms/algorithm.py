"""The base class of the RadioMatch algorithms: the one processAlgorithm flow, the shared
parameters and help, validation before the run, and loading the outputs."""

import functools
import html
import os
import re
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
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
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .about import HOMEPAGE, icon_path, plugin_version
from .engine import engine_function, run_engine
from .inputs import (image_name, input_layers_and_files, input_rasters, output_paths,
                     refuse_overwriting)
from .mask import vector_mask
from .parameters import (
    CALCULATION_DTYPE,
    CALCULATION_DTYPES,
    COMMON_HELP,
    CUSTOM_NODATA_VALUE,
    DASK_SCHEDULER,
    DEBUG_LOGS,
    IMAGE_PARALLEL_WORKERS,
    INPUT,
    MASK_MODE,
    MASK_NAME_FIELD,
    OUTPUT_DTYPE,
    OUTPUT_DTYPES,
    OUTPUT_FOLDER,
    OUTPUT_LAYERS,
    OUTPUT_NAME,
    REPORT,
    SAVE_AS_COG,
    VECTOR_MASK,
    WINDOW_PARALLEL_WORKERS,
    WINDOW_SIZE,
    RasterFilesParameter,
    dask_scheduler,
    enum_value,
    optional_double,
    plain_value,
    tr,
    value_problem,
    window_size,
    workers,
)
from .report import write_html

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
# Base class
# ---------------------------------------------------------------------------------------------
class RadioMatchAlgorithm(QgsProcessingAlgorithm):
    """What both RadioMatch algorithms do the same way, and the one flow of a run.

    :meth:`processAlgorithm` is written once, here (as QGIS's ``GdalAlgorithm`` runs the
    command its algorithms build in ``getConsoleCommands``): inputs -> output paths -> the
    algorithm's own engine arguments -> the shared ones -> run the engine -> load the outputs
    -> the algorithm's own outputs -> report. Each algorithm declares its parameters and help
    and fills in the hooks below (``engine``, ``engine_arguments``, ``files_written``,
    ``start_message``, ``own_results``, ``report_summary``, ``report_page``).
    """

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
        self.addParameter(self._advanced(QgsProcessingParameterString(
            DASK_SCHEDULER, self.tr("Dask scheduler address (empty: this machine)",
                                    "RadioMatchAlgorithm"),
            defaultValue=None, optional=True)))
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

    # -- the one flow of a run ----------------------------------------------------------------
    @error_printed_once
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        rasters, inputs = input_layers_and_files(self, parameters, INPUT, context)
        if not inputs:
            raise QgsProcessingException(self.input_problem({}, context))
        folder, outputs = output_paths(self, parameters, context, inputs)
        raster_crs = rasters[0].crs()
        arguments = self.engine_arguments(parameters, context, inputs, raster_crs)
        report = self.report_path(parameters, context)
        refuse_overwriting(self.files_written(arguments, inputs) + [(REPORT, report)],
                           inputs, outputs)
        arguments.update(self.common_arguments(parameters, context, raster_crs, feedback))
        feedback.pushInfo(self.start_message(len(inputs), folder))
        result = run_engine(engine_function(self.engine), inputs, outputs, arguments, feedback)
        written = result.output_images
        load_on_completion(context, written, OUTPUT_LAYERS)
        results = {OUTPUT_FOLDER: folder, OUTPUT_LAYERS: written}
        results.update(self.own_results(parameters, context, feedback, arguments, inputs, result))
        results[REPORT] = report
        if report:
            self.write_report(report, result, inputs, folder, arguments, feedback)
        return results

    def common_arguments(self, parameters, context, raster_crs, feedback):
        """The engine arguments of the shared parameters (the polygon mask in ``raster_crs``)."""
        return dict(
            calculation_dtype=enum_value(self, parameters, CALCULATION_DTYPE, context,
                                         CALCULATION_DTYPES),
            output_dtype=enum_value(self, parameters, OUTPUT_DTYPE, context, OUTPUT_DTYPES),
            vector_mask=vector_mask(self, parameters, context, raster_crs, feedback),
            debug_logs=self.parameterAsBoolean(parameters, DEBUG_LOGS, context),
            custom_nodata_value=optional_double(self, parameters, CUSTOM_NODATA_VALUE, context),
            image_parallel_workers=workers(self, parameters, IMAGE_PARALLEL_WORKERS, context),
            window_parallel_workers=workers(self, parameters, WINDOW_PARALLEL_WORKERS, context),
            window_size=window_size(self, parameters, context),
            save_as_cog=self.parameterAsBoolean(parameters, SAVE_AS_COG, context),
            dask_scheduler=dask_scheduler(self, parameters, context),
        )

    # -- what each algorithm fills in -------------------------------------------------------
    def engine(self):
        """The engine function, imported here (``from ..core import ...``) so that a missing
        dependency is reported when the algorithm runs, not when the plugin loads."""
        raise NotImplementedError

    def engine_arguments(self, parameters, context, inputs, raster_crs):
        """The engine arguments of the algorithm's own parameters (a dict); raise
        QgsProcessingException for what cannot be run, before anything is written."""
        raise NotImplementedError

    def files_written(self, arguments, inputs):
        """(parameter, path) of each file the run writes besides the corrected rasters."""
        return []

    def start_message(self, count, folder):
        """The first line of the log: what runs, on how many images, into which folder."""
        raise NotImplementedError

    def own_results(self, parameters, context, feedback, arguments, inputs, result):
        """The algorithm's own outputs after the run (a dict), loaded or logged as they say."""
        return {}

    def report_summary(self, arguments, folder):
        """(label, HTML value) rows that open the report: the settings of the run."""
        raise NotImplementedError

    def report_page(self, result, names, outputs, summary, version):
        """The report page (HTML text) of a run."""
        raise NotImplementedError

    # -- the report -------------------------------------------------------------------------
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

    def write_report(self, path, result, inputs, folder, arguments, feedback):
        """Write the report page; the corrected rasters are written by then, so say so."""
        feedback.setProgressText(tr("Writing the report"))
        try:
            write_html(path, self.report_page(
                result, [image_name(p) for p in inputs], result.output_images,
                self.report_summary(arguments, folder), plugin_version()))
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
        ``parameters.RasterFilesParameter``), the engine refuses rasters in different CRSs with a
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
