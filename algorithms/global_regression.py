"""Processing algorithm ``radiomatch:globalregression``."""

import html
import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from . import common
from .common import (
    CALCULATION_DTYPE,
    CALCULATION_DTYPES,
    CUSTOM_NODATA_VALUE,
    DEBUG_LOGS,
    IMAGE_PARALLEL_WORKERS,
    INPUT,
    OUTPUT_DTYPE,
    OUTPUT_DTYPES,
    OUTPUT_FOLDER,
    OUTPUT_LAYERS,
    REPORT,
    SAVE_AS_COG,
    WINDOW_PARALLEL_WORKERS,
    RadioMatchAlgorithm,
)

MODEL_IMAGES = "MODEL_IMAGES"
MODEL_IMAGES_MODE = "MODEL_IMAGES_MODE"
CUSTOM_MEAN_FACTOR = "CUSTOM_MEAN_FACTOR"
CUSTOM_STD_FACTOR = "CUSTOM_STD_FACTOR"
SAVE_ADJUSTMENTS = "SAVE_ADJUSTMENTS"
LOAD_ADJUSTMENTS = "LOAD_ADJUSTMENTS"

MODEL_IMAGES_MODES = ("include", "exclude")
OVERLAP_STATISTICS = "OVERLAP_STATISTICS"
OVERLAP_STATISTICS_MODES = ("robust", "all_pixels")
ANCHORING = "ANCHORING"
ANCHORINGS = ("set", "per_image")


class GlobalRegression(RadioMatchAlgorithm):
    """One gain and offset per image and band, solved by least squares from the overlaps."""

    ICON = "globalregression.svg"
    DEFAULT_OUTPUT_NAME = "$_Global"
    HELP_ANCHOR = "global-regression-radiomatchglobalregression"

    def name(self):
        return "globalregression"

    def displayName(self):  # noqa: N802
        return self.tr("Global regression")

    def shortDescription(self):  # noqa: N802
        return self.tr(
            "Makes overlapping rasters radiometrically consistent with one gain and offset per "
            "image and band.")

    def tags(self):
        return self.tr(
            "radiometric,normalization,normalisation,relative,color,colour,balancing,mosaic,"
            "regression,gain,offset,histogram,matching,overlap,seamline").split(",")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addInputParameter()
        self.addParameter(common.RasterFilesParameter(
            MODEL_IMAGES, self.tr("Model images (empty: all inputs)"), QgsProcessing.TypeRaster,
            optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            MODEL_IMAGES_MODE, self.tr("Model images mode"),
            [self.tr("Include: only these images constrain the model"),
             self.tr("Exclude: these images follow the others")], defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            ANCHORING, self.tr("What keeps its overall radiometry"),
            [self.tr("The whole set: seamless"),
             self.tr("Each image: a compromise that leaves part of the seams (as spectralmatch)")],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            OVERLAP_STATISTICS, self.tr("Overlap statistics"),
            [self.tr("Robust: ignore pixels that disagree (clouds, shadows, changes)"),
             self.tr("All pixels (as spectralmatch)")], defaultValue=0))
        self.addMaskParameters()
        self.addCommonOptions()
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            CUSTOM_MEAN_FACTOR, self.tr("Weight of the overlap means"),
            type=QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            CUSTOM_STD_FACTOR, self.tr("Weight of the overlap standard deviations"),
            type=QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0)))
        self.addParameter(self._advanced(QgsProcessingParameterFile(
            LOAD_ADJUSTMENTS, self.tr("Load statistics from an adjustments file"),
            behavior=QgsProcessingParameterFile.File, extension="json", optional=True)))
        self.addOutputParameters()
        self.addParameter(QgsProcessingParameterFileDestination(
            SAVE_ADJUSTMENTS, self.tr("Adjustments file"), self.tr("JSON files (*.json)"),
            optional=True, createByDefault=False))
        self.addReportParameter()

    def introduction(self):
        return self.tr(
            "<p>Global regression makes overlapping rasters radiometrically consistent. For "
            "every band it solves one <i>scale</i> and <i>offset</i> per image by least squares, "
            "so that the mean and standard deviation of each image match those of its neighbours "
            "in their overlaps, while the whole set (or the model images together) keeps its "
            "overall radiometry. Each input gets "
            "a corrected GeoTIFF (<code>scale &times; value + offset</code>). Images that share no "
            "overlap with the others are solved as separate groups (with a warning). Run "
            "<i>Local block adjustment</i> on the outputs to remove local differences.</p>"
            "<p>Lists in qgis_process are given by repeating the parameter; enums take their "
            "index.</p>")

    def example(self):
        return ("qgis_process run radiomatch:globalregression -- INPUT=/data/a.tif "
                "INPUT=/data/b.tif OUTPUT_FOLDER=/data/out OUTPUT_NAME='$_Global' "
                "SAVE_ADJUSTMENTS=/data/out/adjustments.json")

    def parameter_help(self):
        text = super().parameter_help()
        text.update({
            MODEL_IMAGES: self.tr(
                "Optional rasters (normally some of the inputs) that choose which images "
                "constrain the solution; all inputs are corrected anyway. Empty: every input "
                "constrains it."),
            MODEL_IMAGES_MODE: self.tr(
                "<i>Include</i>: only the model images keep their overall radiometry and the "
                "others are fitted to them (one model image comes out unchanged). "
                "<i>Exclude</i>: the model images are fitted to the others."),
            ANCHORING: self.tr(
                "<i>The whole set</i> (default): the model images keep their mean and standard "
                "deviation together, exactly, and every overlap is free to agree: where the "
                "images differ by a gain and an offset the seams disappear. <i>Each image</i>: "
                "every model image also tries to keep its own mean and standard deviation, "
                "against the overlaps, so the result is a compromise that leaves part of every "
                "seam; it reproduces spectralmatch's numbers."),
            OVERLAP_STATISTICS: self.tr(
                "<i>Robust</i> (default): in each overlap, only the pixel pairs that follow the "
                "two images' dominant radiometric relation enter the statistics, so a cloud, a "
                "shadow or a change present in one image only does not bias the result. "
                "<i>All pixels</i>: every valid pair counts, exactly as spectralmatch; use it for "
                "clean overlaps when you need the reference's numbers."),
            CUSTOM_MEAN_FACTOR: self.tr(
                "Weight of the overlap-mean equations relative to the standard-deviation ones "
                "and, when each image keeps its radiometry, to those anchoring equations "
                "(default 1; the least-squares weight is its square; 0: means are not matched)."),
            CUSTOM_STD_FACTOR: self.tr(
                "Weight of the overlap standard-deviation equations (default 1; 0: contrasts are "
                "not matched, only offsets change)."),
            SAVE_ADJUSTMENTS: self.tr(
                "Optional JSON file receiving the scales, offsets and statistics (the "
                "spectralmatch layout), e.g. to reuse the statistics later."),
            LOAD_ADJUSTMENTS: self.tr(
                "Optional adjustments JSON from an earlier run: its stored statistics are reused "
                "(images not among the inputs still constrain the model) and the model is solved "
                "again."),
        })
        return text

    @common.error_printed_once
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        layers, inputs = common.input_layers_and_files(self, parameters, INPUT, context)
        if not inputs:
            raise QgsProcessingException(self.input_problem({}, context))
        folder, outputs = common.output_paths(self, parameters, context, inputs)

        model_images = None
        _model_layers, model_files = common.input_layers_and_files(
            self, parameters, MODEL_IMAGES, context)
        if model_files:
            mode = MODEL_IMAGES_MODES[self.parameterAsEnum(parameters, MODEL_IMAGES_MODE, context)]
            model_images = (mode, [common.image_name(path) for path in model_files])
            self._check_model_images(model_images, inputs)

        save_adjustments = self.parameterAsFileOutput(parameters, SAVE_ADJUSTMENTS, context) or None
        load_adjustments = self.parameterAsFile(parameters, LOAD_ADJUSTMENTS, context) or None
        debug = self.parameterAsBoolean(parameters, DEBUG_LOGS, context)
        report = self.report_path(parameters, context)
        common.refuse_overwriting(
            [(SAVE_ADJUSTMENTS, save_adjustments),
             (SAVE_ADJUSTMENTS, save_adjustments and os.path.splitext(save_adjustments)[0]
              + ".meta.json"),
             (REPORT, report)], inputs, outputs)

        kwargs = dict(
            calculation_dtype=CALCULATION_DTYPES[
                self.parameterAsEnum(parameters, CALCULATION_DTYPE, context)],
            output_dtype=OUTPUT_DTYPES[self.parameterAsEnum(parameters, OUTPUT_DTYPE, context)],
            vector_mask=common.vector_mask(self, parameters, context, layers[0].crs(), feedback),
            debug_logs=debug,
            custom_nodata_value=common.optional_double(
                self, parameters, CUSTOM_NODATA_VALUE, context),
            image_parallel_workers=common.workers(
                self, parameters, IMAGE_PARALLEL_WORKERS, context),
            window_parallel_workers=common.workers(
                self, parameters, WINDOW_PARALLEL_WORKERS, context),
            window_size=common.window_size(self, parameters, context),
            save_as_cog=self.parameterAsBoolean(parameters, SAVE_AS_COG, context),
            specify_model_images=model_images,
            custom_mean_factor=self.parameterAsDouble(parameters, CUSTOM_MEAN_FACTOR, context),
            custom_std_factor=self.parameterAsDouble(parameters, CUSTOM_STD_FACTOR, context),
            save_adjustments=save_adjustments,
            load_adjustments=load_adjustments,
            overlap_statistics=OVERLAP_STATISTICS_MODES[
                self.parameterAsEnum(parameters, OVERLAP_STATISTICS, context)],
            anchoring=ANCHORINGS[self.parameterAsEnum(parameters, ANCHORING, context)],
        )
        feedback.pushInfo(self.tr("Global regression of {} image(s) into {}").format(
            len(inputs), folder))
        result = common.run_engine("global_regression", inputs, outputs, kwargs, feedback, debug)
        written = list(getattr(result, "output_images", None) or outputs)
        self._report_adjustments(result, feedback)
        if report:
            self.write_report(report, lambda path: self._write_report(
                path, result, inputs, folder, kwargs), feedback)

        common.load_on_completion(context, written, OUTPUT_LAYERS)
        return {
            OUTPUT_FOLDER: folder,
            OUTPUT_LAYERS: written,
            SAVE_ADJUSTMENTS: save_adjustments,
            REPORT: report,
        }

    def _write_report(self, path, result, inputs, folder, kwargs):
        from .report import write_global_regression_report

        model_images = kwargs["specify_model_images"]
        summary = [
            (self.tr("Output folder"), html.escape(folder)),
            (self.tr("What keeps its overall radiometry"),
             self.tr("the whole set") if kwargs["anchoring"] == "set" else self.tr("each image")),
            (self.tr("Model images"), html.escape(
                "{}: {}".format(model_images[0], ", ".join(model_images[1]))
                if model_images else self.tr("all inputs"))),
            (self.tr("Polygon mask"), self.tr("yes") if kwargs["vector_mask"] else self.tr("no")),
            (self.tr("Weights of the overlap means / standard deviations"), "{:g} / {:g}".format(
                kwargs["custom_mean_factor"], kwargs["custom_std_factor"])),
            (self.tr("Statistics loaded from"), html.escape(kwargs["load_adjustments"] or "-")),
        ]
        write_global_regression_report(path, result, [common.image_name(p) for p in inputs],
                                       summary, common.plugin_version())

    def _check_model_images(self, model_images, inputs):
        """Refuse a model selection that leaves no input in the model, naming the images (model
        images that are not inputs are otherwise ignored with a warning by the engine)."""
        mode, names = model_images
        input_names = [common.image_name(path) for path in inputs]
        if mode == "include" and not set(names) & set(input_names):
            raise QgsProcessingException(self.tr(
                "None of the model images ({}) is one of the input rasters, so no image would "
                "constrain the model ({}). Choose model images among the inputs.").format(
                ", ".join(names), MODEL_IMAGES))
        if mode == "exclude" and set(input_names) <= set(names):
            raise QgsProcessingException(self.tr(
                "The model images ({}) exclude every input raster, so no image would constrain "
                "the model ({}, {}).").format(", ".join(names), MODEL_IMAGES, MODEL_IMAGES_MODE))

    def _report_adjustments(self, result, feedback):
        """Log the solved scale and offset of every image and band (1-based band numbers)."""
        adjustments = (getattr(result, "details", None) or {}).get("adjustments") or {}
        for name, values in adjustments.items():
            pairs = zip(values.get("scale") or [], values.get("offset") or [])
            for band, (scale, offset) in enumerate(pairs, start=1):
                feedback.pushInfo(self.tr("{}, band {}: scale {:.6g}, offset {:.6g}").format(
                    name, band, scale, offset))
