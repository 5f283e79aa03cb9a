"""What both algorithms share: planning a run (inputs, outputs, validation), the apply pass that
streams every image through a correction, and the bookkeeping of one run (warnings, temporary
outputs removed on failure or cancel, published only when every output is complete)."""
import logging
import os
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from .errors import RadioMatchError
from .masks import load_vector_mask
from .parallel import DatasetCache, Progress, resolve_workers, run_tasks
from .rasters import (check_compatible, open_image, read_tile, resolve_input_paths, resolve_nodata, resolve_output_paths,
                      resolve_window_size, tile_size_for, tile_windows)
from .writing import (OutputRaster, check_nodata_fits, gdal_failures, gdal_message,
                      make_output_folder, output_profile, partial_path, publish_all,
                      remove_stale_partials, resolve_dtype, to_output_dtype, write_failure)

LOGGER = logging.getLogger("radiomatch")

# GDAL keeps written tiles in its block cache until it is full or the file is closed; the
# default (5 % of RAM) made that cache the largest part of a run's memory. Scoped to the run.
WORKING_CACHE_BYTES = 128 * 1024 * 1024


@dataclass
class RunResult:
    """What a run produced: output paths in input order, warnings and per-output counts."""
    output_images: list
    warnings: list
    clipped_pixels: dict = field(default_factory=dict)
    nudged_pixels: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


@dataclass
class Plan:
    images: list
    output_paths: list
    output_dtypes: list
    calculation_dtype: str
    nodata: object
    vector_mask: object
    workers: int
    window_size: object
    block_size: object = None       # (width, height) of a local-adjustment block, for "block"


def plan_run(warnings, input_images, output_images, output_suffix, *, calculation_dtype,
             output_dtype, vector_mask, custom_nodata_value, image_parallel_workers,
             window_parallel_workers, window_size, window_words):
    """Resolve and validate everything that can be checked before any pixel is read."""
    calculation_dtype = resolve_dtype(calculation_dtype, "calculation_dtype")
    if not np.issubdtype(np.dtype(calculation_dtype), np.floating):
        raise RadioMatchError(
            f"calculation_dtype must be a floating-point type, not {calculation_dtype!r}.")
    window_size = resolve_window_size(window_size, window_words)
    workers = (resolve_workers(image_parallel_workers, "image_parallel_workers", warnings)
               * resolve_workers(window_parallel_workers, "window_parallel_workers", warnings))
    input_paths = resolve_input_paths(input_images)
    images = [open_image(path) for path in input_paths]
    check_compatible(images, custom_nodata_value)
    nodata = resolve_nodata(images, custom_nodata_value, warnings)
    output_paths = resolve_output_paths(output_images, input_paths, output_suffix)
    if output_dtype is None:
        output_dtypes = [image.dtype for image in images]
    else:
        output_dtypes = [resolve_dtype(output_dtype, "output_dtype")] * len(images)
    for path, dtype in zip(output_paths, output_dtypes):
        check_nodata_fits(nodata, dtype, path)
        make_output_folder(path)
    mask = load_vector_mask(vector_mask, images, warnings)
    return Plan(images, output_paths, output_dtypes, calculation_dtype, nodata, mask, workers,
                window_size)


class Run:
    """One run's shared state. Used as a context manager: on any exception every temporary
    output is removed and the datasets are closed."""

    def __init__(self, progress_callback, stage_weights, debug_logs):
        self.warnings = []
        self.progress = Progress(progress_callback, stage_weights)
        self.datasets = DatasetCache()
        self.outputs = []
        self.side_files = []        # (temporary, final) JSON files and block maps
        self.debug_logs = debug_logs

    def warn(self, message):
        self.warnings.append(message)
        LOGGER.warning(message)

    def debug(self, message):
        if self.debug_logs:
            LOGGER.info(message)

    def flush_warnings(self, collected):
        for message in collected:
            self.warn(message)
        collected.clear()

    def __enter__(self):
        self._environment = rasterio.Env(GDAL_CACHEMAX=WORKING_CACHE_BYTES)
        self._environment.__enter__()
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.datasets.close()
        self._environment.__exit__(exc_type, exc, traceback)
        if exc_type is not None:
            for output in self.outputs:
                output.discard()
            for temporary, _ in self.side_files:
                if os.path.exists(temporary):
                    os.remove(temporary)
        return False

    def run_tasks(self, function, tasks, workers, consume=None):
        """:func:`run_tasks` on this run's progress; the stage's dataset handles are closed
        after it, so that handles do not pile up over the stages' thread pools."""
        try:
            return run_tasks(function, tasks, workers, self.progress, consume)
        finally:
            self.datasets.close()

    def write_side_file(self, final_path, write):
        """Write a JSON file or block map with ``write(path)`` under a temporary name; it is
        renamed into place by :meth:`publish`, together with the rasters."""
        make_output_folder(final_path)
        temporary = partial_path(final_path)
        self.side_files.append((temporary, final_path))
        try:
            # rasterio only logs the GDAL errors of a block map's final flush (a full disk)
            with gdal_failures() as failures:
                write(temporary)
        except (OSError, RasterioIOError) as error:
            raise RadioMatchError(f"The file {final_path!r} cannot be written ({error}).") from None
        if failures:
            raise write_failure(final_path, gdal_message(failures[0]))

    def publish(self):
        """Rename every complete output into place, once all of them are complete."""
        publish_all(self.outputs)
        for temporary, final_path in self.side_files:
            os.replace(temporary, final_path)

    def image_tiles(self, plan, image, window=None):
        """Processing tiles of an image (or of a pixel window of it)."""
        tile_width, tile_height = tile_size_for(image, plan.window_size, plan.block_size)
        if window is None:
            return tile_windows(0, 0, image.width, image.height, tile_width, tile_height)
        return tile_windows(int(window.col_off), int(window.row_off), int(window.width),
                            int(window.height), tile_width, tile_height)

    def apply_pass(self, plan, correct_tile, message, save_as_cog):
        """Stream every image through ``correct_tile(k, window, values, valid) -> corrected``
        (float arrays in the calculation dtype) into its output, complete under a temporary
        name until :meth:`publish`. Returns the result skeleton."""
        tasks = []
        for k, image in enumerate(plan.images):
            remove_stale_partials(plan.output_paths[k])
            windows = self.image_tiles(plan, image)
            tasks.extend((k, window) for window in windows)
            profile = output_profile(image, plan.output_dtypes[k], plan.nodata, plan.workers)
            self.outputs.append(OutputRaster(plan.output_paths[k], profile, save_as_cog,
                                             len(windows)))
        self.progress.start_stage("apply", message, len(tasks))

        def apply_tile(task):
            k, window = task
            self.progress.check_cancelled()
            image = plan.images[k]
            data, valid = read_tile(self.datasets.get(image.path), image, window, plan.nodata)
            values = data.astype(plan.calculation_dtype, copy=False)
            corrected = correct_tile(k, window, values, valid)
            array, clipped, nudged = to_output_dtype(corrected, data, valid, plan.output_dtypes[k],
                                               plan.nodata)
            self.outputs[k].write(window, array, clipped, nudged)

        self.run_tasks(apply_tile, tasks, plan.workers)
        self.progress.start_stage("finish", "Finishing outputs", len(self.outputs))
        for output in self.outputs:
            output.finish()
            self.progress.advance()
            self.progress.report()
        result = RunResult(list(plan.output_paths), self.warnings)
        for output in self.outputs:
            result.clipped_pixels[output.final_path] = output.clipped
            result.nudged_pixels[output.final_path] = output.nudged
            if output.clipped:
                self.warn(f"{output.clipped} pixel value(s) of {output.final_path!r} were outside "
                          "the output data type's range and were clipped.")
            if output.nudged:
                self.warn(f"{output.nudged} valid pixel value(s) of {output.final_path!r} equal "
                          "to nodata were moved to the nearest other value.")
        return result
