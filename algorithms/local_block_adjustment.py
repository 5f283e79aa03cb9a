"""Processing algorithm ``radiomatch:localblockadjustment``."""

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
            BLOCK_RULE, self.tr("Block grid"),
            [self.tr("Number of blocks per image (NUMBER_OF_BLOCKS)"),
             self.tr("Rows and columns (BLOCK_ROWS x BLOCK_COLS)"),
             self.tr("Coefficient of variation of the images")], defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            NUMBER_OF_BLOCKS, self.tr("Number of blocks per image"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=100, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            BLOCK_ROWS, self.tr("Block rows"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            BLOCK_COLS, self.tr("Block columns"),
            type=QgsProcessingParameterNumber.Integer, defaultValue=10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            ALPHA, self.tr("Alpha (strength of the correction)"),
            type=QgsProcessingParameterNumber.Double, defaultValue=1.0, minValue=0.0,
            maxValue=1.0))
        self.addParameter(QgsProcessingParameterEnum(
            CORRECTION_METHOD, self.tr("Correction method"), list(CORRECTION_METHODS),
            defaultValue=0))
        self.addParameter(QgsProcessingParameterEnum(
            BLOCK_STATISTICS, self.tr("Block statistics"),
            [self.tr("Robust: leave out block means that disagree (clouds, shadows)"),
             self.tr("All blocks (as spectralmatch)")], defaultValue=0))
        self.addMaskParameters()
        self.addCommonOptions()
        self.addParameter(self._advanced(QgsProcessingParameterNumber(
            BLOCK_VALID_PIXEL_THRESHOLD, self.tr("Minimum fraction of valid pixels per block"),
            type=QgsProcessingParameterNumber.Double, defaultValue=0.001, minValue=0.0,
            maxValue=1.0)))
        self.addParameter(self._advanced(QgsProcessingParameterExtent(
            OVERRIDE_BOUNDS_CANVAS_COORDS, self.tr("Block grid extent (empty: union of inputs)"),
            optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterFile(
            LOAD_BLOCK_MAPS, self.tr("Load reference block map"),
            behavior=QgsProcessingParameterFile.File,
            fileFilter=self.tr("GeoTIFF files (*.tif *.tiff *.TIF *.TIFF)"), optional=True)))
        self.addParameter(self._advanced(QgsProcessingParameterMultipleLayers(
            LOAD_LOCAL_BLOCK_MAPS, self.tr("Load local block maps"), QgsProcessing.TypeFile,
            optional=True)))
        self.addOutputParameters()
        self.addParameter(QgsProcessingParameterFolderDestination(
            SAVE_BLOCK_MAPS, self.tr("Block maps folder"), optional=True,
            createByDefault=False))
        self.addParameter(QgsProcessingParameterBoolean(
            LOAD_BLOCK_MAPS_TO_CANVAS, self.tr("Open the saved block maps"),
            defaultValue=False))
        self.addOutput(QgsProcessingOutputMultipleLayers(
            BLOCK_MAP_LAYERS, self.tr("Block maps")))
        self.addReportParameter()

    def introduction(self):
        return self.tr(
            "<p>Local block adjustment removes the local radiometric differences that remain "
            "between overlapping rasters, typically after <i>Global regression</i> (chain "
            "Global regression's corrected rasters into this algorithm's input). The union of "
            "the images is divided into a grid of blocks; each image gets a map of its block "
            "means (the <i>local</i> map) and the <i>reference</i> map is their average. Both "
            "maps are interpolated bilinearly to every pixel and each pixel is corrected toward "
            "the reference (gamma or linear). Blocks are coarser than overlaps, so adjacent "
            "images sharing a block are corrected even where they do not overlap.</p>"
            "<p>Lists in qgis_process are given by repeating the parameter; enums take their "
            "index.</p>")

    def example(self):
        return ("qgis_process run radiomatch:localblockadjustment -- INPUT=/data/out/a_Global.tif "
                "INPUT=/data/out/b_Global.tif BLOCK_RULE=0 NUMBER_OF_BLOCKS=100 "
                "OUTPUT_FOLDER=/data/out OUTPUT_NAME='$_Local' SAVE_BLOCK_MAPS=/data/out/maps")

    def parameter_help(self):
        text = super().parameter_help()
        text.update({
            BLOCK_RULE: self.tr(
                "How the block grid is chosen: a target number of blocks per image "
                "(NUMBER_OF_BLOCKS, spread over the whole extent in proportion to its shape), "
                "an explicit grid of BLOCK_ROWS by BLOCK_COLS, or a square grid sized from the "
                "coefficient of variation of the images' first band (10 x 10 at CV = 0.36, finer "
                "for more varied images). Ignored when block maps are loaded."),
            NUMBER_OF_BLOCKS: self.tr(
                "Target number of blocks per input image (block grid rule 0). The grid covers "
                "the union of all images, so it has at most this number times the number of "
                "images blocks."),
            BLOCK_ROWS: self.tr("Number of block rows (block grid rule 1)."),
            BLOCK_COLS: self.tr("Number of block columns (block grid rule 1)."),
            ALPHA: self.tr(
                "Blend between no correction (0) and the full correction toward the reference "
                "block means (1)."),
            CORRECTION_METHOD: self.tr(
                "<i>gamma</i>: a power law that brings the local mean to the reference mean "
                "(the method of Yu et al. 2017; robust for reflectance and negative values). "
                "<i>linear</i>: scales each pixel by reference mean / local mean."),
            BLOCK_STATISTICS: self.tr(
                "<i>Robust</i> (default): a block mean that disagrees with the other images' "
                "means of the same block (a cloud, a shadow, a change) is left out of the "
                "reference and of that image's correction, which there follows the neighbouring "
                "blocks; with two images both means of such a block are left out. <i>All "
                "blocks</i>: every block mean counts, exactly as spectralmatch."),
            BLOCK_VALID_PIXEL_THRESHOLD: self.tr(
                "A block gets a mean only if at least this fraction of its pixels is valid "
                "(0 to 1, default 0.001)."),
            OVERRIDE_BOUNDS_CANVAS_COORDS: self.tr(
                "Optional extent of the block grid (xmin, xmax, ymin, ymax), in the rasters' CRS "
                "unless a CRS is given. Empty: the union of the inputs. When block maps are "
                "loaded it must match their extent."),
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
                "Also add the saved block maps to the project when the algorithm finishes."),
            BLOCK_MAP_LAYERS: self.tr("The saved block maps (reference first)."),
        })
        return text

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
        if common.is_unset(parameters, OVERRIDE_BOUNDS_CANVAS_COORDS):
            return None
        extent = self.parameterAsExtent(parameters, OVERRIDE_BOUNDS_CANVAS_COORDS, context,
                                        raster_crs)
        return (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())

    def _block_map_paths(self, parameters, context):
        folder = self.parameterAsFileOutput(parameters, SAVE_BLOCK_MAPS, context)
        if not folder:
            return None, None
        if "$" in folder:
            raise QgsProcessingException(self.tr(
                "The block maps folder '{}' ({}) must not contain '$' (it marks the image name "
                "in the map file names).").format(folder, SAVE_BLOCK_MAPS))
        return folder, (os.path.join(folder, REFERENCE_MAP_NAME),
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

    # -- run --------------------------------------------------------------------------------
    @common.error_printed_once
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        layers, inputs = common.input_layers_and_files(self, parameters, INPUT, context)
        if not inputs:
            raise QgsProcessingException(self.input_problem({}, context))
        folder, outputs = common.output_paths(self, parameters, context, inputs)
        raster_crs = layers[0].crs()
        maps_folder, save_block_maps = self._block_map_paths(parameters, context)
        load_block_maps = self._loaded_maps(parameters, context)
        debug = self.parameterAsBoolean(parameters, DEBUG_LOGS, context)
        report = self.report_path(parameters, context)
        common.refuse_overwriting(
            [(SAVE_BLOCK_MAPS, path) for path in self._maps_to_write(
                save_block_maps, inputs, load_block_maps)] + [(REPORT, report)],
            inputs, outputs)

        kwargs = dict(
            calculation_dtype=CALCULATION_DTYPES[
                self.parameterAsEnum(parameters, CALCULATION_DTYPE, context)],
            output_dtype=OUTPUT_DTYPES[self.parameterAsEnum(parameters, OUTPUT_DTYPE, context)],
            vector_mask=common.vector_mask(self, parameters, context, raster_crs, feedback),
            debug_logs=debug,
            custom_nodata_value=common.optional_double(
                self, parameters, CUSTOM_NODATA_VALUE, context),
            image_parallel_workers=common.workers(
                self, parameters, IMAGE_PARALLEL_WORKERS, context),
            window_parallel_workers=common.workers(
                self, parameters, WINDOW_PARALLEL_WORKERS, context),
            window_size=common.window_size(self, parameters, context),
            save_as_cog=self.parameterAsBoolean(parameters, SAVE_AS_COG, context),
            number_of_blocks=self._number_of_blocks(parameters, context),
            alpha=self.parameterAsDouble(parameters, ALPHA, context),
            correction_method=CORRECTION_METHODS[
                self.parameterAsEnum(parameters, CORRECTION_METHOD, context)],
            save_block_maps=save_block_maps,
            load_block_maps=load_block_maps,
            override_bounds_canvas_coords=self._canvas(parameters, context, raster_crs),
            block_valid_pixel_threshold=self.parameterAsDouble(
                parameters, BLOCK_VALID_PIXEL_THRESHOLD, context),
            block_statistics=BLOCK_STATISTICS_MODES[
                self.parameterAsEnum(parameters, BLOCK_STATISTICS, context)],
        )
        feedback.pushInfo(self.tr("Local block adjustment of {} image(s) into {}").format(
            len(inputs), folder))
        result = common.run_engine(
            "local_block_adjustment", inputs, outputs, kwargs, feedback, debug)
        written = list(getattr(result, "output_images", None) or outputs)
        common.load_on_completion(context, written, OUTPUT_LAYERS)

        block_maps = []
        if save_block_maps is not None:
            block_maps = self._saved_maps(save_block_maps, inputs, load_block_maps)
            if self.parameterAsBoolean(parameters, LOAD_BLOCK_MAPS_TO_CANVAS, context):
                common.load_on_completion(context, block_maps, BLOCK_MAP_LAYERS)
        if report:
            self.write_report(report, lambda path: self._write_report(
                path, result, inputs, written, folder, kwargs), feedback)
        return {
            OUTPUT_FOLDER: folder,
            OUTPUT_LAYERS: written,
            SAVE_BLOCK_MAPS: maps_folder,
            BLOCK_MAP_LAYERS: block_maps,
            REPORT: report,
        }

    def _write_report(self, path, result, inputs, outputs, folder, kwargs):
        from .report import write_local_block_adjustment_report

        blocks = kwargs["number_of_blocks"]
        if isinstance(blocks, tuple):
            rule = self.tr("{} rows x {} columns").format(*blocks)
        elif blocks == "coefficient_of_variation":
            rule = self.tr("from the coefficient of variation")
        else:
            rule = self.tr("{} blocks per image").format(blocks)
        loaded = kwargs["load_block_maps"]
        summary = [
            (self.tr("Output folder"), html.escape(folder)),
            (self.tr("Block grid rule"), html.escape(
                self.tr("loaded block maps") if loaded else rule)),
            (self.tr("Correction method"), html.escape(kwargs["correction_method"])),
            (self.tr("Alpha"), "{:g}".format(kwargs["alpha"])),
            (self.tr("Polygon mask"), self.tr("yes") if kwargs["vector_mask"] else self.tr("no")),
        ]
        write_local_block_adjustment_report(
            path, result, [common.image_name(p) for p in inputs], outputs, summary,
            kwargs["alpha"], kwargs["correction_method"], common.plugin_version())

    @staticmethod
    def _maps_to_write(save_block_maps, inputs, load_block_maps):
        """Every block map file this run may write (the reference, then one per name)."""
        if save_block_maps is None:
            return []
        reference, template = save_block_maps
        names = [common.image_name(path) for path in inputs]
        if load_block_maps and load_block_maps[1]:
            names += [common.image_name(path) for path in load_block_maps[1]]
        return [reference] + [template.replace("$", name) for name in names]

    @staticmethod
    def _saved_maps(save_block_maps, inputs, load_block_maps):
        """The map files this run wrote: the reference, then one per image name."""
        reference, template = save_block_maps
        names = [common.image_name(path) for path in inputs]
        if load_block_maps and load_block_maps[1]:
            names += [common.image_name(path) for path in load_block_maps[1]]
        candidates = [reference] + [template.replace("$", name) for name in names]
        seen = set()
        found = []
        for path in candidates:
            if path not in seen and os.path.isfile(path):
                seen.add(path)
                found.append(path)
        return found
