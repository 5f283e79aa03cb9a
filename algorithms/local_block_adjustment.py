"""Processing algorithm ``radiomatch:localblockadjustment``: its parameters, help, engine
arguments and report summary (the flow of a run is the base class's)."""

import html
import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from .algorithm import RadioMatchAlgorithm
from .inputs import image_name
from .local_block_adjustment_report import local_block_adjustment_html
from .parameters import enum_value, is_unset

BLOCK_RULE = "BLOCK_RULE"
NUMBER_OF_BLOCKS = "NUMBER_OF_BLOCKS"
BLOCK_ROWS = "BLOCK_ROWS"
BLOCK_COLS = "BLOCK_COLS"
ALPHA = "ALPHA"
CORRECTION_METHOD = "CORRECTION_METHOD"
BLOCK_VALID_PIXEL_THRESHOLD = "BLOCK_VALID_PIXEL_THRESHOLD"
OVERRIDE_BOUNDS_CANVAS_COORDS = "OVERRIDE_BOUNDS_CANVAS_COORDS"
SAVE_BLOCK_MAPS = "SAVE_BLOCK_MAPS"
LOAD_BLOCK_MAPS = "LOAD_BLOCK_MAPS"
LOAD_LOCAL_BLOCK_MAPS = "LOAD_LOCAL_BLOCK_MAPS"
LOAD_BLOCK_MAPS_TO_CANVAS = "LOAD_BLOCK_MAPS_TO_CANVAS"
BLOCK_MAP_LAYERS = "BLOCK_MAP_LAYERS"

BLOCK_RULE_COUNT, BLOCK_RULE_ROWS_COLS, BLOCK_RULE_CV = range(3)
CORRECTION_METHODS = ("gamma", "linear")
BLOCK_STATISTICS = "BLOCK_STATISTICS"
BLOCK_STATISTICS_MODES = ("robust", "all_blocks")
LOCAL_MODEL = "LOCAL_MODEL"
LOCAL_MODELS = ("surface", "block_means")
REFERENCE_MAP_NAME = "reference_block_map.tif"
LOCAL_MAP_TEMPLATE = "$_block_map.tif"


class LocalBlockAdjustment(RadioMatchAlgorithm):
    """Block-mean maps and a gamma or linear correction toward their reference mean."""

    ICON = "localblockadjustment.svg"
    DEFAULT_OUTPUT_NAME = "$_Local"
    HELP_ANCHOR = "local-block-adjustment-radiomatchlocalblockadjustment"

    def name(self):
        return "localblockadjustment"

    def displayName(self):  # noqa: N802
        return self.tr("Local block adjustment")

    def shortDescription(self):  # noqa: N802
        return self.tr(
            "Removes local radiometric differences between overlapping rasters with block-mean "
            "maps.")

    def tags(self):
        return self.tr(
            "radiometric,normalization,normalisation,relative,color,colour,balancing,mosaic,"
            "block,local,gamma,seamline,dodging").split(",")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addInputParameter()
        self.addParameter(QgsProcessingParameterEnum(
            LOCAL_MODEL, self.tr("Local model"),
            [self.tr("Smooth surfaces fitted to the overlaps (leaves seamless images unchanged)"),
             self.tr("Block means against their average (spectralmatch's method)")],
            defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            NUMBER_OF_BLOCKS, self.tr("Number of blocks per image"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=100, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            ALPHA, self.tr("Strength of the correction (alpha, 0 to 1)"),
            type=QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0,
            maxValue=1.0))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            BLOCK_RULE, self.tr("Block grid"),
            [self.tr("Number of blocks per image"), self.tr("Rows and columns"),
             self.tr("From the variability of the images (coefficient of variation)")],
            defaultValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            BLOCK_ROWS, self.tr("Block rows"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=10, minValue=1)))
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            BLOCK_COLS, self.tr("Block columns"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=10, minValue=1)))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            CORRECTION_METHOD, self.tr("Correction method (block means model)"),
            [self.tr("Gamma"), self.tr("Linear")], defaultValue=0)))
        self.addParameter(self._advanced(QgsProcessingParameterEnum(
            BLOCK_STATISTICS, self.tr("Block statistics"),
            [self.tr("Robust: leave out blocks that disagree (clouds, shadows)"),
             self.tr("All blocks (spectralmatch's method)")], defaultValue=0)))
        self.addMaskParameters()
        self.addCommonOptions()
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            BLOCK_VALID_PIXEL_THRESHOLD, self.tr("Minimum share of valid pixels per block"),
            type=QgsProcessingParameterNumber.Double, defaultValue=0.001, minValue=0.0,
            maxValue=1.0)))
        self.addParameter(self._advanced(QgsProcessingParameterExtent(
            OVERRIDE_BOUNDS_CANVAS_COORDS,
            self.tr("Extent of the block grid (empty: union of the inputs)"), optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterFile(
            LOAD_BLOCK_MAPS, self.tr("Load reference block map"),
            behavior=QgsProcessingParameterFile.File,
            fileFilter=self.tr("GeoTIFF files (*.tif *.tiff *.TIF *.TIFF)"), optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterMultipleLayers(
            LOAD_LOCAL_BLOCK_MAPS, self.tr("Load local block maps"), QgsProcessing.TypeFile,
            optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterBoolean(
            LOAD_BLOCK_MAPS_TO_CANVAS, self.tr("Open the saved block maps"),
            defaultValue=False)))
        self.addOutputParameters()
        self.addParameter(QgsProcessingParameterFolderDestination(
            SAVE_BLOCK_MAPS, self.tr("Block maps folder"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputMultipleLayers(
            BLOCK_MAP_LAYERS, self.tr("Block maps")))

    def introduction(self):
        return self.tr(
            "<p>Local block adjustment removes the local radiometric differences that remain "
            "between overlapping rasters, typically after <i>Global regression</i> (chain "
            "Global regression's corrected rasters into this algorithm's input). The union of "
            "the images is divided into a grid of blocks. By default each image gets a smooth "
            "correction surface, fitted so that overlapping images agree block by block over "
            "the pixels they both cover; images that already agree are left unchanged. The "
            "<i>block means</i> model (spectralmatch's) instead pulls each image's block means "
            "toward their average over all images (gamma or linear), interpolated bilinearly to "
            "every pixel; its blocks are coarser than overlaps, so adjacent images sharing a "
            "block are corrected even where they do not overlap.</p>")

    def example(self):
        return ("qgis_process run radiomatch:localblockadjustment -- INPUT=/data/out/a_Global.tif "
                "INPUT=/data/out/b_Global.tif NUMBER_OF_BLOCKS=100 OUTPUT_FOLDER=/data/out "
                "OUTPUT_NAME='$_Local' MOSAIC=/data/out/mosaic.vrt SAVE_BLOCK_MAPS=/data/out/maps")

    def parameter_help(self):
        text = super().parameter_help()
        text.update({
            BLOCK_RULE: self.tr(
                "How the block grid is chosen: <i>Number of blocks per image</i> (default: the "
                "number above, spread over the whole extent in proportion to its shape), "
                "<i>Rows and columns</i> (the block rows and columns below), or a square grid "
                "sized from the variability of the images' first band (its coefficient of "
                "variation: 10 x 10 at 0.36, finer for more varied images). The numbers the "
                "rule does not use are ignored, with a warning when they were changed; the "
                "whole rule is ignored when block maps are loaded."),
            NUMBER_OF_BLOCKS: self.tr(
                "Target number of blocks per input image, when the block grid is chosen by "
                "number of blocks (the default). The grid covers the union of all images, so it "
                "has at most this number times the number of images blocks."),
            BLOCK_ROWS: self.tr(
                "Number of block rows, when the block grid is chosen by rows and columns."),
            BLOCK_COLS: self.tr(
                "Number of block columns, when the block grid is chosen by rows and columns."),
            LOCAL_MODEL: self.tr(
                "<i>Smooth surfaces</i> (default): per image and band a smooth correction field "
                "(a low-order polynomial across the image that multiplies the values, or adds to "
                "them for data centred on 0) fitted jointly so that overlapping images agree, "
                "block by block, over the pixels both cover. It assumes the images differ by "
                "slowly varying effects (illumination, vignetting, haze): images that already "
                "agree are left unchanged, and partly covered blocks, nodata collars or a "
                "brighter part of the scene never pass for a difference. <i>Block means</i>: "
                "each image's block means are pulled toward their average over all images "
                "(gamma or linear), exactly as spectralmatch. It assumes every image sees the "
                "same ground in a block, so images that agreed are bent toward each other where "
                "they cover different parts of a block."),
            ALPHA: self.tr(
                "Blend between no correction (0) and the full correction (1)."),
            CORRECTION_METHOD: self.tr(
                "Block means model only. <i>Gamma</i>: a power law that brings the local mean to "
                "the reference mean (the method of Yu et al. 2017; robust for reflectance and "
                "negative values). <i>Linear</i>: scales each pixel by reference mean / local "
                "mean."),
            BLOCK_STATISTICS: self.tr(
                "<i>Robust</i> (default): a block that disagrees with the others (a cloud, a "
                "shadow, a change) is left out: with smooth surfaces a block comparison that "
                "disagrees with the fit of all the others; with block means a block mean that "
                "disagrees with the other images' means of the same block, which is left out of "
                "the reference and of that image's correction (with two images both means). "
                "<i>All blocks</i>: every block counts, exactly as spectralmatch."),
            BLOCK_VALID_PIXEL_THRESHOLD: self.tr(
                "A block gets a mean only if at least this share of its pixels is valid "
                "(0 to 1, default 0.001)."),
            OVERRIDE_BOUNDS_CANVAS_COORDS: self.tr(
                "Optional extent of the block grid (xmin, xmax, ymin, ymax; spectralmatch calls "
                "it the canvas), in the rasters' CRS unless a CRS is given. Empty: the union of "
                "the inputs. When block maps are loaded it must match their extent."),
            LOAD_BLOCK_MAPS: self.tr(
                "Optional reference block map saved by an earlier run "
                "(<code>reference_block_map.tif</code>); the grid then comes from the file."),
            LOAD_LOCAL_BLOCK_MAPS: self.tr(
                "Optional local block maps saved by an earlier run "
                "(<code>&lt;name&gt;_block_map.tif</code>); a map is used for the input whose "
                "name matches. Inputs without a map get one computed on the loaded grid."),
            SAVE_BLOCK_MAPS: self.tr(
                "Optional folder receiving the block maps as GeoTIFFs (one pixel per block, NaN "
                "where a block has no value): <code>reference_block_map.tif</code> and "
                "<code>&lt;name&gt;_block_map.tif</code> per image."),
            LOAD_BLOCK_MAPS_TO_CANVAS: self.tr(
                "Also open the saved block maps when the algorithm finishes, in the run's layer "
                "group."),
            BLOCK_MAP_LAYERS: self.tr("The saved block maps (reference first)."),
        })
        return text

    # -- a run ----------------------------------------------------------------------------
    def engine(self):
        from ..core import local_block_adjustment
        return local_block_adjustment

    def partners_loaded(self, parameters, context):
        return not (is_unset(parameters, LOAD_BLOCK_MAPS)
                    and is_unset(parameters, LOAD_LOCAL_BLOCK_MAPS))

    def one_input_hint(self):
        return self.tr(
            "load the block maps of the images it overlaps, saved by an earlier run, with "
            "'Load local block maps' (LOAD_LOCAL_BLOCK_MAPS).")

    def ignored_parameters(self, parameters, context):
        """The block grid values the run does not use, when they were changed: Processing
        cannot hide a widget in the dialog, so they would otherwise be ignored silently."""
        if self.partners_loaded(parameters, context):
            names = (BLOCK_RULE, NUMBER_OF_BLOCKS, BLOCK_ROWS, BLOCK_COLS)
            reason = self.tr("the block grid comes from the loaded block maps")
        else:
            rule = self.parameterAsEnum(parameters, BLOCK_RULE, context)
            names = [name for name, used in ((NUMBER_OF_BLOCKS, BLOCK_RULE_COUNT),
                                             (BLOCK_ROWS, BLOCK_RULE_ROWS_COLS),
                                             (BLOCK_COLS, BLOCK_RULE_ROWS_COLS)) if used != rule]
            reason = self.tr("the block grid is chosen by '{}' ({})").format(
                self.parameterDefinition(BLOCK_RULE).options()[rule], BLOCK_RULE)
        warnings = []
        for name in names:
            definition = self.parameterDefinition(name)
            if is_unset(parameters, name):
                continue
            value = self.parameterAsInt(parameters, name, context)
            if value != definition.defaultValue():
                warnings.append(self.tr("{} ({}) = {} is ignored: {}.").format(
                    definition.description(), name, value, reason))
        return warnings

    def engine_arguments(self, parameters, context, inputs, raster_crs):
        return dict(
            save_block_maps=self._block_map_paths(parameters, context),
            load_block_maps=self._loaded_maps(parameters, context),
            number_of_blocks=self._number_of_blocks(parameters, context),
            alpha=self.parameterAsDouble(parameters, ALPHA, context),
            correction_method=enum_value(self, parameters, CORRECTION_METHOD, context,
                                         CORRECTION_METHODS),
            override_bounds_canvas_coords=self._canvas(parameters, context, raster_crs),
            block_valid_pixel_threshold=self.parameterAsDouble(
                parameters, BLOCK_VALID_PIXEL_THRESHOLD, context),
            block_statistics=enum_value(self, parameters, BLOCK_STATISTICS, context,
                                        BLOCK_STATISTICS_MODES),
            local_model=enum_value(self, parameters, LOCAL_MODEL, context, LOCAL_MODELS),
        )

    def files_written(self, arguments, inputs):
        return [(SAVE_BLOCK_MAPS, path) for path in self._map_files(arguments, inputs)]

    def start_message(self, count, folder):
        return self.tr("Local block adjustment of {} image(s) into {}").format(count, folder)

    def own_results(self, parameters, context, feedback, arguments, inputs, result):
        """The saved block maps (reference first)."""
        block_maps = []
        if arguments["save_block_maps"] is not None:
            block_maps = [path for path in dict.fromkeys(self._map_files(arguments, inputs))
                          if os.path.isfile(path)]
        folder = self.parameterAsFileOutput(parameters, SAVE_BLOCK_MAPS, context) or None
        return {SAVE_BLOCK_MAPS: folder, BLOCK_MAP_LAYERS: block_maps}

    def side_layers(self, parameters, context, results):
        if not self.parameterAsBoolean(parameters, LOAD_BLOCK_MAPS_TO_CANVAS, context):
            return []
        return [(path, BLOCK_MAP_LAYERS) for path in results[BLOCK_MAP_LAYERS]]

    def report_summary(self, arguments, folder):
        blocks = arguments["number_of_blocks"]
        if isinstance(blocks, tuple):
            rule = self.tr("{} rows x {} columns").format(*blocks)
        elif blocks == "coefficient_of_variation":
            rule = self.tr("from the coefficient of variation")
        else:
            rule = self.tr("{} blocks per image").format(blocks)
        rows = [
            (self.tr("Output folder"), html.escape(folder)),
            (self.tr("Block grid rule"), html.escape(
                self.tr("loaded block maps") if arguments["load_block_maps"] else rule)),
            (self.tr("Alpha"), "{:g}".format(arguments["alpha"])),
            (self.tr("Polygon mask"),
             self.tr("yes") if arguments["vector_mask"] else self.tr("no")),
        ]
        if arguments["local_model"] == "block_means":
            rows.insert(2, (self.tr("Correction method"),
                            html.escape(arguments["correction_method"])))
        return rows

    def report_page(self, result, names, outputs, summary, version, pictures):
        return local_block_adjustment_html(result, names, outputs, summary, version, pictures)

    # -- parameter conversion ---------------------------------------------------------------
    def _number_of_blocks(self, parameters, context):
        rule = self.parameterAsEnum(parameters, BLOCK_RULE, context)
        if rule == BLOCK_RULE_ROWS_COLS:
            return (self.parameterAsInt(parameters, BLOCK_ROWS, context),
                    self.parameterAsInt(parameters, BLOCK_COLS, context))
        if rule == BLOCK_RULE_CV:
            return "coefficient_of_variation"
        return self.parameterAsInt(parameters, NUMBER_OF_BLOCKS, context)

    def _canvas(self, parameters, context, raster_crs):
        if is_unset(parameters, OVERRIDE_BOUNDS_CANVAS_COORDS):
            return None
        extent = self.parameterAsExtent(parameters, OVERRIDE_BOUNDS_CANVAS_COORDS, context,
                                        raster_crs)
        return (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())

    def _block_map_paths(self, parameters, context):
        """The engine's (reference map, local map template) in SAVE_BLOCK_MAPS, or None."""
        folder = self.parameterAsFileOutput(parameters, SAVE_BLOCK_MAPS, context)
        if not folder:
            return None
        if "$" in folder:
            raise QgsProcessingException(self.tr(
                "The block maps folder '{}' ({}) must not contain '$' (it marks the image name "
                "in the map file names).").format(folder, SAVE_BLOCK_MAPS))
        return (os.path.join(folder, REFERENCE_MAP_NAME),
                os.path.join(folder, LOCAL_MAP_TEMPLATE))

    def _loaded_maps(self, parameters, context):
        reference = self.parameterAsFile(parameters, LOAD_BLOCK_MAPS, context) or None
        local = [path for path in self.parameterAsFileList(
            parameters, LOAD_LOCAL_BLOCK_MAPS, context) if path] or None
        for path in ([reference] if reference else []) + (local or []):
            if not os.path.isfile(path):
                raise QgsProcessingException(self.tr("Block map not found: {}").format(path))
        if reference is None and local is None:
            return None
        return (reference, local)

    @staticmethod
    def _map_files(arguments, inputs):
        """Every block map file the run may write: the reference, then one per image name (the
        inputs', then those of the loaded local maps)."""
        if arguments["save_block_maps"] is None:
            return []
        reference, template = arguments["save_block_maps"]
        loaded = arguments["load_block_maps"]
        names = [image_name(path) for path in inputs + list(loaded and loaded[1] or [])]
        return [reference] + [template.replace("$", name) for name in names]
