"""What both algorithms share: planning a run (inputs, outputs, validation), the apply pass that
streams every image through a correction, and the bookkeeping of one run (warnings, temporary
outputs removed on failure or cancel, published only when every output is complete)."""
import logging
import os
from dataclasses import dataclass

import numpy as np
from rasterio.errors import RasterioIOError
from rasterio.windows import intersect

from . import cluster
from .errors import RadioMatchError
from .masks import load_vector_mask
from .parallel import Progress, ThreadRunner, resolve_workers, working_environment
from .rasters import (check_compatible, open_image, read_alpha, read_mask, read_tile,
                      resolve_input_paths, resolve_nodata, resolve_output_paths,
                      resolve_window_size, tile_size_for, tile_windows)
from .writing import (OutputFile, OutputRaster, TemporaryNames, check_nodata_fits,
                      gdal_failures, gdal_message, make_output_folder, output_profile,
                      publish_all, replace_file, resolve_dtype, to_output_dtype, write_failure)

LOGGER = logging.getLogger("radiomatch")
# float32 holds every value of the other input types exactly (24 significant bits)
NEEDS_FLOAT64 = ("uint32", "int32", "float64")


class RunResult(list):
    """The output paths in input order, which is what the reference's functions return (so
    scripts written for spectralmatch iterate, index and compare it unchanged), carrying the
    run's ``warnings``, the per-output counts ``clipped_pixels`` and ``nudged_pixels``
    ({path: count}) and the algorithm's ``details``."""

    def __init__(self, output_images, warnings, clipped_pixels=None, nudged_pixels=None,
                 details=None):
        super().__init__(output_images)
        self.warnings = warnings
        self.clipped_pixels = {} if clipped_pixels is None else clipped_pixels
        self.nudged_pixels = {} if nudged_pixels is None else nudged_pixels
        self.details = {} if details is None else details

    @property
    def output_images(self):
        """The output paths as a plain list."""
        return list(self)

    def __repr__(self):
        return (f"RunResult({list(self)!r}, warnings={self.warnings!r}, "
                f"details={sorted(self.details)!r})")


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


def resolve_calculation_dtype(calculation_dtype, images, warnings):
    """"auto" (or None): float64 when an input holds values that float32 cannot represent
    (32-bit integers, float64), else float32, the reference's type. An explicit float32 is
    kept (the reference's numbers), with a warning for such inputs."""
    wide = [image for image in images if image.dtype in NEEDS_FLOAT64]
    if calculation_dtype is None or calculation_dtype == "auto":
        return "float64" if wide else "float32"
    calculation_dtype = resolve_dtype(calculation_dtype, "calculation_dtype")
    if not np.issubdtype(np.dtype(calculation_dtype), np.floating):
        raise RadioMatchError(
            f"calculation_dtype must be a floating-point type or \"auto\", not "
            f"{calculation_dtype!r}.")
    if calculation_dtype == "float32" and wide:
        warnings.append(
            f"calculation_dtype float32 cannot represent every {wide[0].dtype} value of "
            f"{wide[0].path!r}{' and other images' if len(wide) > 1 else ''} (it keeps 24 "
            "significant bits): pixels change by up to half a float32 step even where no "
            "correction applies. Use float64, or \"auto\" (the default).")
    return calculation_dtype


def plan_run(run, input_images, output_images, output_suffix, *, calculation_dtype,
             output_dtype, vector_mask, custom_nodata_value, image_parallel_workers,
             window_parallel_workers, window_size, window_words, side_files=None):
    """Resolve and validate everything that can be checked before any pixel is read, and
    reserve the outputs; ``side_files(images)`` gives the JSON files and block maps the run
    will write, as far as they are known before it starts."""
    warnings = run.warnings
    window_size = resolve_window_size(window_size, window_words)
    workers = (resolve_workers(image_parallel_workers, "image_parallel_workers", warnings)
               * resolve_workers(window_parallel_workers, "window_parallel_workers", warnings))
    input_paths = resolve_input_paths(input_images)
    images = [open_image(path) for path in input_paths]
    check_compatible(images, custom_nodata_value)
    calculation_dtype = resolve_calculation_dtype(calculation_dtype, images, warnings)
    nodata = resolve_nodata(images, custom_nodata_value, warnings)
    output_paths = resolve_output_paths(output_images, input_paths, output_suffix)
    if output_dtype is None:
        output_dtypes = [image.dtype for image in images]
    else:
        output_dtypes = [resolve_dtype(output_dtype, "output_dtype")] * len(images)
    for image, path, dtype in zip(images, output_paths, output_dtypes):
        check_nodata_fits(nodata, dtype, path)
        if image.alpha_band is not None and not np.can_cast(image.dtype, dtype, "safe"):
            raise RadioMatchError(
                f"The alpha band of {image.path!r} ({image.dtype}) cannot be copied unchanged "
                f"into the {dtype} output {path!r}; choose an output data type that holds "
                f"{image.dtype} values.")
    mask = load_vector_mask(vector_mask, images, warnings)
    side_paths = [os.fspath(path) for path in side_files(images)] if side_files else []
    run.start_runner(workers)
    for path in output_paths + side_paths:
        make_output_folder(path)
        run.names.claim(path)
    run.runner.check_paths(images, [run.names.path(path) for path in output_paths])
    return Plan(images, output_paths, output_dtypes, calculation_dtype, nodata, mask, workers,
                window_size)


class Run:
    """One run's shared state. Used as a context manager: on any exception every temporary
    output is removed (once no task is writing any more) and the datasets are closed."""

    def __init__(self, progress_callback, stage_weights, debug_logs, dask_scheduler=None):
        self.warnings = []
        self.progress = Progress(progress_callback, stage_weights)
        self.runner = None
        self.dask_scheduler = dask_scheduler
        self.outputs = []
        self.side_files = []        # (temporary, final) JSON files and block maps
        self.names = TemporaryNames()
        self.debug_logs = debug_logs

    def warn(self, message):
        self.warnings.append(message)
        LOGGER.warning(message)

    def debug(self, message):
        if self.debug_logs:
            LOGGER.info(message)

    def __enter__(self):
        self._environment = working_environment()
        self._environment.__enter__()
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self.runner is not None:
            self.runner.close()
        self._environment.__exit__(exc_type, exc, traceback)
        if exc_type is not None:
            for output in self.outputs:
                output.discard()
        self.names.release()
        return False

    def start_runner(self, workers):
        """Threads of this machine, or the Dask cluster of ``dask_scheduler``."""
        if self.dask_scheduler is None:
            self.runner = ThreadRunner(workers, self.progress)
        else:
            self.runner = cluster.DaskRunner(self.dask_scheduler, self.progress, self.names.run,
                                             self.warn, self.debug)

    def run_tasks(self, function, job, tasks, consume=None):
        """``function(job, task, context)`` for every task on this run's runner, results
        consumed in task order (see :func:`parallel.run_tasks`)."""
        return self.runner.map(function, job, tasks, consume)

    def write_side_file(self, final_path, write):
        """Write a JSON file or block map with ``write(path)`` under a temporary name; it is
        renamed into place by :meth:`publish`, together with the rasters."""
        if not self.names.claimed(final_path):
            make_output_folder(final_path)
            self.names.claim(final_path)
        temporary = self.names.path(final_path)
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
            replace_file(temporary, final_path)

    def image_tiles(self, plan, image, window=None):
        """Processing tiles of an image (or of a pixel window of it)."""
        tile_width, tile_height = tile_size_for(image, plan.window_size, plan.block_size)
        if window is None:
            return tile_windows(0, 0, image.width, image.height, tile_width, tile_height)
        return tile_windows(int(window.col_off), int(window.row_off), int(window.width),
                            int(window.height), tile_width, tile_height)

    def tiles_touching(self, plan, image, windows):
        """The image's own processing tiles (anchored at its origin, so none overlaps another)
        that intersect any of ``windows``, in row-major order."""
        return [tile for tile in self.image_tiles(plan, image)
                if any(intersect(tile, window) for window in windows)]

    def apply_pass(self, plan, correction, message, save_as_cog):
        """Stream every image through ``correction`` (see :class:`ApplyJob`) into its output,
        complete under a temporary name until :meth:`publish`. Returns the result skeleton
        and, per image, the sums of the correction's own counts."""
        tasks, files = [], []
        for k, image in enumerate(plan.images):
            windows = self.image_tiles(plan, image)
            tasks.extend((k, window, index) for index, window in enumerate(windows))
            profile = output_profile(image, plan.output_dtypes[k], plan.nodata, plan.workers)
            files.append(OutputFile.named(plan.output_paths[k], self.names, profile,
                                          save_as_cog, len(windows), image.metadata,
                                          image.alpha_band))
        self.outputs = [OutputRaster(file) for file in files]
        # an output with nodata marks the masked pixels with it; one without keeps the mask
        keeps_mask = [image.has_mask_band and plan.nodata is None for image in plan.images]
        job = ApplyJob(plan, correction, files, keeps_mask)
        clipped, nudged, counts = [0] * len(files), [0] * len(files), [0] * len(files)

        def add(task, result):
            k = task[0]
            clipped[k] += result[0]
            nudged[k] += result[1]
            counts[k] = counts[k] + result[2]

        self.progress.start_stage("apply", message, len(tasks))
        self.runner.map(apply_tile, job, tasks, add,
                        {output.temporary_path: output for output in self.outputs})
        self.progress.start_stage("finish", "Finishing outputs", len(self.outputs))
        for output in self.outputs:
            output.check_complete()
            self.progress.advance()
            self.progress.report()
        result = RunResult(list(plan.output_paths), self.warnings)
        for path, clipped_pixels, nudged_pixels in zip(plan.output_paths, clipped, nudged):
            result.clipped_pixels[path] = clipped_pixels
            result.nudged_pixels[path] = nudged_pixels
            if clipped_pixels:
                self.warn(f"{clipped_pixels} pixel value(s) of {path!r} were outside the output "
                          "data type's range and were clipped.")
            if nudged_pixels:
                self.warn(f"{nudged_pixels} valid pixel value(s) of {path!r} equal to nodata "
                          "were moved to the nearest other value.")
        return result, counts


@dataclass
class ApplyJob:
    """What the apply pass's tasks share: the plan, the correction, the outputs and whether
    each keeps its input's mask. ``correction(k, image, window, values, valid)`` returns the
    corrected values (float arrays in the calculation dtype) and the model's own pixel counts
    (0, or an int64 array; summed per image in task order)."""
    plan: Plan
    correction: object
    outputs: list           # OutputFile per image
    keeps_mask: list


def apply_tile(job, task, context):
    """Correct one tile of an image and write it to the image's output; returns the tile's
    (clipped, nudged, correction counts)."""
    k, window, index = task
    context.check_cancelled()
    plan = job.plan
    image = plan.images[k]
    dataset = context.datasets.get(image.path)
    data, valid = read_tile(dataset, image, window, plan.nodata)
    values = data.astype(plan.calculation_dtype, copy=False)
    corrected, counts = job.correction(k, image, window, values, valid)
    dtype = plan.output_dtypes[k]
    array, clipped, nudged = to_output_dtype(corrected, data, valid, dtype, plan.nodata)
    alpha = (read_alpha(dataset, image, window).astype(dtype, copy=False)
             if image.alpha_band is not None else None)
    mask = read_mask(dataset, image, window) if job.keeps_mask[k] else None
    output = context.output(job.outputs[k])
    if output.write(index, window, array, alpha, mask, context.check_cancelled):
        output.finish()
    return clipped, nudged, counts
