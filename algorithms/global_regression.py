"""Processing algorithm ``radiomatch:globalregression``: its parameters, help, engine
arguments and report summary (the flow of a run is the base class's)."""

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

from .algorithm import RadioMatchAlgorithm
from .global_regression_report import global_regression_html
from .inputs import image_name, input_layers_and_files
from .parameters import RasterFilesParameter, enum_value

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
        self.addParameter(QgsProcessingParameterEnum(
            ANCHORING, self.tr("What keeps its overall radiometry"),
            [self.tr("The whole set: seamless"),
             self.tr("Each image: a compromise that leaves part of the seams (spectralmatch's "
                     "method)")],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            OVERLAP_STATISTICS, self.tr("Overlap statistics"),
            [self.tr("Robust: ignore pixels that disagree (clouds, shadows, changes)"),
             self.tr("All pixels (spectralmatch's method)")], defaultValue=0))
        self.addParameter(self._advanced(RasterFilesParameter(
            MODEL_IMAGES, self.tr("Model images (empty: all inputs)"), QgsProcessing.TypeRaster,
            optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            MODEL_IMAGES_MODE, self.tr("Model images mode"),
            [self.tr("Include: only these images constrain the model"),
             self.tr("Exclude: these images follow the others")], defaultValue=0)))
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

    def introduction(self):
        return self.tr(
            "<p>Global regression makes overlapping rasters radiometrically consistent. For "
            "every band it solves one <i>scale</i> and <i>offset</i> per image by least squares, "
            "so that the mean and standard deviation of each image match those of its neighbours "
            "in their overlaps, while the whole set (or the model images together) keeps its "
            "overall radiometry. Each input gets "
            "a corrected GeoTIFF (<code>scale &times; value + offset</code>), and the mosaic "
            "shows them as one picture. Images that share no "
            "overlap with the others are solved as separate groups (with a warning). Run "
            "<i>Local block adjustment</i> on the outputs to remove local differences.</p>")

    def example(self):
        return ("qgis_process run radiomatch:globalregression -- INPUT=/data/a.tif "
                "INPUT=/data/b.tif OUTPUT_FOLDER=/data/out OUTPUT_NAME='$_Global' "
                "MOSAIC=/data/out/mosaic.vrt SAVE_ADJUSTMENTS=/data/out/adjustments.json")

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

    # -- a run ----------------------------------------------------------------------------
    def engine(self):
        from ..core import global_regression
        return global_regression

    def partners_loaded(self, parameters, context):
        return bool(self.parameterAsFile(parameters, LOAD_ADJUSTMENTS, context))

    def one_input_hint(self):
        return self.tr(
            "load the statistics of the images it overlaps, saved by an earlier run, with "
            "'Load statistics from an adjustments file' (LOAD_ADJUSTMENTS).")

    def engine_arguments(self, parameters, context, inputs, raster_crs):
        model_images = None
        _model_layers, model_files = input_layers_and_files(self, parameters, MODEL_IMAGES,
                                                            context)
        if model_files:
            mode = enum_value(self, parameters, MODEL_IMAGES_MODE, context, MODEL_IMAGES_MODES)
            model_images = (mode, [image_name(path) for path in model_files])
            self._check_model_images(model_images, inputs)
        return dict(
            specify_model_images=model_images,
            custom_mean_factor=self.parameterAsDouble(parameters, CUSTOM_MEAN_FACTOR, context),
            custom_std_factor=self.parameterAsDouble(parameters, CUSTOM_STD_FACTOR, context),
            save_adjustments=self.parameterAsFileOutput(parameters, SAVE_ADJUSTMENTS, context)
            or None,
            load_adjustments=self.parameterAsFile(parameters, LOAD_ADJUSTMENTS, context) or None,
            overlap_statistics=enum_value(self, parameters, OVERLAP_STATISTICS, context,
                                          OVERLAP_STATISTICS_MODES),
            anchoring=enum_value(self, parameters, ANCHORING, context, ANCHORINGS),
        )

    def files_written(self, arguments, inputs):
        path = arguments["save_adjustments"]
        if not path:
            return []
        return [(SAVE_ADJUSTMENTS, path),
                (SAVE_ADJUSTMENTS, os.path.splitext(path)[0] + ".meta.json")]

    def start_message(self, count, folder):
        return self.tr("Global regression of {} image(s) into {}").format(count, folder)

    def own_results(self, parameters, context, feedback, arguments, inputs, result):
        """Logs the solved scale and offset of every image and band (1-based band numbers)."""
        for name, values in result.details["adjustments"].items():
            pairs = zip(values["scale"], values["offset"])
            for band, (scale, offset) in enumerate(pairs, start=1):
                feedback.pushInfo(self.tr("{}, band {}: scale {:.6g}, offset {:.6g}").format(
                    name, band, scale, offset))
        return {SAVE_ADJUSTMENTS: arguments["save_adjustments"]}

    def report_summary(self, arguments, folder):
        model_images = arguments["specify_model_images"]
        return [
            (self.tr("Output folder"), html.escape(folder)),
            (self.tr("What keeps its overall radiometry"),
             self.tr("the whole set") if arguments["anchoring"] == "set"
             else self.tr("each image")),
            (self.tr("Model images"), html.escape(
                "{}: {}".format(model_images[0], ", ".join(model_images[1]))
                if model_images else self.tr("all inputs"))),
            (self.tr("Polygon mask"),
             self.tr("yes") if arguments["vector_mask"] else self.tr("no")),
            (self.tr("Weights of the overlap means / standard deviations"), "{:g} / {:g}".format(
                arguments["custom_mean_factor"], arguments["custom_std_factor"])),
            (self.tr("Statistics loaded from"), html.escape(arguments["load_adjustments"] or "-")),
        ]

    def report_page(self, result, names, outputs, summary, version, pictures):
        return global_regression_html(result, names, outputs, summary, version, pictures)

    def _check_model_images(self, model_images, inputs):
        """Refuse a model selection that leaves no input in the model, naming the images (model
        images that are not inputs are otherwise ignored with a warning by the engine)."""
        mode, names = model_images
        input_names = [image_name(path) for path in inputs]
        if mode == "include" and not set(names) & set(input_names):
            raise QgsProcessingException(self.tr(
                "None of the model images ({}) is one of the input rasters, so no image would "
                "constrain the model ({}). Choose model images among the inputs.").format(
                ", ".join(names), MODEL_IMAGES))
        if mode == "exclude" and set(input_names) <= set(names):
            raise QgsProcessingException(self.tr(
                "The model images ({}) exclude every input raster, so no image would constrain "
                "the model ({}, {}).").format(", ".join(names), MODEL_IMAGES, MODEL_IMAGES_MODE))
