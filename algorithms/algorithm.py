"""The base class of the RadioMatch algorithms: the one processAlgorithm flow, the shared
parameters and help, validation before the run, and loading the outputs."""

import functools
import html
import os
import re
import sys
import time

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProcessing,
    QgsProcessingAlgorithm,
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
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .about import HOMEPAGE, icon_path, plugin_version
from .engine import engine_function, run_engine
from .inputs import (image_name, input_layers_and_files, input_rasters, output_paths,
                     refuse_overwriting)
from .layers import RunLayers
from .mask import vector_mask
from .mosaic import build_mosaic, check_mosaic_path
from .parameters import (
    CALCULATION_DTYPE,
    CALCULATION_DTYPES,
    COMMON_HELP,
    CUSTOM_NODATA_VALUE,
    DASK_SCHEDULER,
    DEBUG_LOGS,
    GDAL_TYPE_NAMES,
    IMAGE_PARALLEL_WORKERS,
    INPUT,
    MASK_MODE,
    MASK_NAME_FIELD,
    MOSAIC,
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
    destination_project,
    enum_value,
    optional_double,
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
    algorithm's own engine arguments -> the shared ones -> run the engine -> the mosaic -> the
    algorithm's own outputs -> the layers opened -> report. Each algorithm declares its
    parameters and help and fills in the hooks below (``engine``, ``engine_arguments``,
    ``partners_loaded``, ``one_input_hint``, ``ignored_parameters``, ``files_written``,
    ``start_message``, ``own_results``, ``side_layers``, ``report_summary``, ``report_page``).
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
        command_line = running_in_qgis_process_help()
        parts = [self.introduction()]
        # qgis_process prints each parameter's help (its tooltip) under "Arguments" itself
        if not command_line:
            for definition in self.parameterDefinitions():
                parts.append(self._help_entry(definition.name(), definition.description()))
        for definition in self.outputDefinitions():
            if self.parameterDefinition(definition.name()) is None:
                parts.append(self._help_entry(definition.name(), definition.description()))
        if not command_line:
            return "".join(parts)
        # what only the command line needs stays out of the dialog's help panel
        parts.append("<p>{}</p>".format(self.tr(
            "Lists are given by repeating the parameter; enums take the index of their option; "
            "MOSAIC is written only when given.", "RadioMatchAlgorithm")))
        parts.append("<p><b>{}</b><br><code>{}</code></p>".format(
            self.tr("Command line (qgis_process)", "RadioMatchAlgorithm"),
            html.escape(self.example())))
        return html_to_text("".join(parts))

    def _help_entry(self, name, description):
        text = self.parameter_help().get(name, "")
        return "<p><b>{}</b> (<code>{}</code>): {}</p>".format(description, name, text)

    def parameter_help(self):
        # translated again here: COMMON_HELP is built at import, maybe before the translator
        return {name: tr(text) for name, text in COMMON_HELP.items()}

    def addParameter(self, definition, createOutput=True):  # noqa: N802,N803
        """Every parameter gets its help as its tooltip (dialog, batch and modeler), as plain
        text: ``qgis_process help`` prints it as it is."""
        definition.setHelp(html_to_text(self.parameter_help().get(definition.name(), "")))
        return super().addParameter(definition, createOutput)

    # -- shared parameters (declared once) --------------------------------------------------
    @staticmethod
    def _advanced(definition):
        definition.setFlags(definition.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        return definition

    def addInputParameter(self):  # noqa: N802
        self.addParameter(RasterFilesParameter(
            INPUT, self.tr("Input rasters", "RadioMatchAlgorithm"), QgsProcessing.TypeRaster))

    def addMaskParameters(self):  # noqa: N802
        """The polygon mask (advanced)."""
        self.addParameter(self._advanced(QgsProcessingParameterFeatureSource(
            VECTOR_MASK, self.tr("Polygon mask for the statistics", "RadioMatchAlgorithm"),
            [QgsProcessing.TypeVectorPolygon], optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            MASK_MODE, self.tr("Mask mode", "RadioMatchAlgorithm"),
            [self.tr("Include: use only pixels inside the polygons", "RadioMatchAlgorithm"),
             self.tr("Exclude: ignore pixels inside the polygons", "RadioMatchAlgorithm")],
            defaultValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterField(
            MASK_NAME_FIELD, self.tr("Mask field holding image names", "RadioMatchAlgorithm"),
            parentLayerParameterName=VECTOR_MASK, optional=True)))

    def addCommonOptions(self):  # noqa: N802
        """Output type, nodata and COG, then the engine's own options (all advanced)."""
        labels = [self.tr("Same as input", "RadioMatchAlgorithm")] + [
            GDAL_TYPE_NAMES[dtype] for dtype in OUTPUT_DTYPES[1:]]
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            OUTPUT_DTYPE, self.tr("Output data type", "RadioMatchAlgorithm"), labels,
            defaultValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            CUSTOM_NODATA_VALUE, self.tr("Nodata value override", "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Double, defaultValue=None, optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterBoolean(
            SAVE_AS_COG, self.tr("Save as Cloud-Optimized GeoTIFF", "RadioMatchAlgorithm"),
            defaultValue=False)))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            CALCULATION_DTYPE, self.tr("Calculation data type", "RadioMatchAlgorithm"),
            [GDAL_TYPE_NAMES["float32"], GDAL_TYPE_NAMES["float64"],
             self.tr("Automatic: Float64 for 32-bit integer and Float64 rasters, else Float32",
                     "RadioMatchAlgorithm")],
            defaultValue=2)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            WINDOW_SIZE, self.tr("Tile size in pixels (empty: automatic)", "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=None, optional=True,
            minValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            IMAGE_PARALLEL_WORKERS,
            self.tr("Images processed in parallel (threads; -1 all cores, 0 none)",
                    "RadioMatchAlgorithm"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=-1, minValue=-1)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            WINDOW_PARALLEL_WORKERS,
            self.tr("Tiles processed in parallel (threads; -1 all cores, 0 none)",
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
        """The file name (the last parameter before the advanced ones, so that it stands next to
        the output folder, which Processing lists after them), the output folder, the mosaic and
        the report."""
        self.addParameter(QgsProcessingParameterString(
            OUTPUT_NAME, self.tr("Output file name ($ = input name)", "RadioMatchAlgorithm"),
            defaultValue=self.DEFAULT_OUTPUT_NAME))
        self.addParameter(QgsProcessingParameterFolderDestination(
            OUTPUT_FOLDER, self.tr("Output folder", "RadioMatchAlgorithm")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            MOSAIC, self.tr("Mosaic", "RadioMatchAlgorithm"), optional=True,
            createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            REPORT, self.tr("Report", "RadioMatchAlgorithm"),
            self.tr("HTML files (*.html)", "RadioMatchAlgorithm"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputMultipleLayers(
            OUTPUT_LAYERS, self.tr("Corrected rasters", "RadioMatchAlgorithm")))

    # -- the one flow of a run ----------------------------------------------------------------
    @error_printed_once
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        rasters, inputs = input_layers_and_files(self, parameters, INPUT, context)
        problem = self.count_problem(len(inputs), parameters, context)
        if problem:
            raise QgsProcessingException(problem)
        folder, outputs = output_paths(self, parameters, context, inputs)
        raster_crs = rasters[0].crs()
        arguments = self.engine_arguments(parameters, context, inputs, raster_crs)
        report = self.report_path(parameters, context)
        mosaic = self.parameterAsOutputLayer(parameters, MOSAIC, context) or None
        check_mosaic_path(mosaic)
        refuse_overwriting(self.files_written(arguments, inputs)
                           + [(MOSAIC, mosaic), (REPORT, report)], inputs, outputs)
        for warning in self.ignored_parameters(parameters, context):
            feedback.pushWarning(warning)
        arguments.update(self.common_arguments(parameters, context, raster_crs, feedback))
        feedback.pushInfo(self.start_message(len(inputs), folder))
        result = run_engine(engine_function(self.engine), inputs, outputs, arguments, feedback)
        written = result.output_images
        if mosaic:
            feedback.setProgressText(tr("Building the mosaic"))
            for warning in build_mosaic(mosaic, written):
                feedback.pushWarning(warning)
        results = {OUTPUT_FOLDER: folder, OUTPUT_LAYERS: written, MOSAIC: mosaic}
        results.update(self.own_results(parameters, context, feedback, arguments, inputs, result))
        project = destination_project(parameters, MOSAIC)
        side_layers = self.side_layers(parameters, context, results)
        after = None
        if project is not None or report:
            from .pixels import read_reduced

            feedback.setProgressText(tr("Reading the corrected rasters at reduced resolution"))
            after = read_reduced(written, run_threads(arguments))
        if project is not None or side_layers:
            self.open_layers(context, project, rasters[0], written, mosaic, side_layers, after)
        results[REPORT] = report
        if report:
            self.write_report(report, result, inputs, after, folder, arguments, feedback)
        return results

    def open_layers(self, context, project, first, written, mosaic, side_layers, after):
        """Open the run's rasters when the algorithm finishes, in one group: the mosaic, the
        corrected rasters (in ``project``, the user's choice, with one renderer; under a mosaic,
        hidden, and the last input on top as in the mosaic), then ``side_layers`` ((path,
        output name) pairs the user asked to open, as QGIS shows them)."""
        from .pixels import stretch_limits

        run = RunLayers("{} ({})".format(self.displayName(), time.strftime("%H:%M:%S")),
                        stretch_limits(after) if after is not None else [],
                        first.layer.id() if first.layer is not None else None)
        if project is not None:
            if mosaic:
                run.add(context, project, mosaic, self.tr("Mosaic", "RadioMatchAlgorithm"),
                        MOSAIC)
            for path in reversed(written):
                run.add(context, project, path, image_name(path), OUTPUT_LAYERS,
                        visible=not mosaic)
        for path, output_name in side_layers:
            run.add(context, project or context.project(), path, image_name(path), output_name,
                    styled=False)

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

    def partners_loaded(self, parameters, context):
        """Whether statistics loaded from an earlier run give a single input partners."""
        return False

    def one_input_hint(self):
        """How a single input could be balanced (the end of the one-input message)."""
        raise NotImplementedError

    def ignored_parameters(self, parameters, context):
        """Warnings for values the user set that the run will not use."""
        return []

    def files_written(self, arguments, inputs):
        """(parameter, path) of each file the run writes besides the corrected rasters."""
        return []

    def start_message(self, count, folder):
        """The first line of the log: what runs, on how many images, into which folder."""
        raise NotImplementedError

    def own_results(self, parameters, context, feedback, arguments, inputs, result):
        """The algorithm's own outputs after the run (a dict), logged as they say."""
        return {}

    def side_layers(self, parameters, context, results):
        """(path, output name) of other rasters of the run the user asked to open."""
        return []

    def report_summary(self, arguments, folder):
        """(label, HTML value) rows that open the report: the settings of the run."""
        raise NotImplementedError

    def report_page(self, result, names, outputs, summary, version, pictures):
        """The report page (HTML text) of a run; ``pictures``: a ``pixels.Pictures``."""
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

    def write_report(self, path, result, inputs, after, folder, arguments, feedback):
        """Write the report page, with the inputs read at reduced resolution; the corrected
        rasters are written by then, so say so."""
        from .pixels import Pictures, read_reduced

        feedback.setProgressText(tr("Reading the input rasters at reduced resolution"))
        names = [image_name(p) for p in inputs]
        pictures = Pictures(names, read_reduced(inputs, run_threads(arguments)), after)
        feedback.setProgressText(tr("Writing the report"))
        try:
            write_html(path, self.report_page(
                result, names, result.output_images, self.report_summary(arguments, folder),
                plugin_version(), pictures))
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
        try:
            rasters = input_rasters(self, parameters, INPUT, context)
        except QgsProcessingException as err:
            return str(err)
        return self.count_problem(len(rasters), parameters, context)

    def count_problem(self, count, parameters, context):
        """Why ``count`` input rasters cannot be balanced, or None: none, or one without
        loaded statistics, has nothing to be matched to."""
        label = "{} ({})".format(self.parameterDefinition(INPUT).description(), INPUT)
        if count == 0:
            return self.tr("No input rasters: choose at least two overlapping rasters for {}.",
                           "RadioMatchAlgorithm").format(label)
        if count == 1 and not self.partners_loaded(parameters, context):
            return self.tr(
                "Only one input raster in {}: a single image has no other image to be balanced "
                "against. Choose at least two overlapping rasters, or {}",
                "RadioMatchAlgorithm").format(label, self.one_input_hint())
        return None


def run_threads(arguments):
    """The threads of a run (images x tiles), for reading its rasters again."""
    count = 1
    for key in ("image_parallel_workers", "window_parallel_workers"):
        if arguments.get(key):
            count *= arguments[key][1]
    return count
