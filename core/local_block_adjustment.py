"""Local block adjustment: per-block means of every image are pulled towards the mean of all
images in that block, with a gamma (or linear) correction interpolated smoothly between block
centres (Yu et al. 2017, as in spectralmatch's local_block_adjustment).

plan -> grid (canvas and blocks) -> measure (one streaming pass per image: block sums and counts,
float64, integer counts) -> reference map -> apply (one streaming pass per image).
"""
import os
import threading
from dataclasses import replace

import numpy as np
from rasterio.windows import transform as window_transform

from .blocks import (BlockGrid, BlockMap, check_canvas, check_grid_size, grid_shape_for_count,
                     grid_shape_from_variation, normalised_bilinear, parse_number_of_blocks,
                     read_block_map, same_bounds, write_block_map)
from .corrections import gamma_correction, gamma_shift, linear_correction
from .errors import RadioMatchError
from .parallel import available_memory
from .rasters import image_name, pixel_centres, read_tile
from .robust import reject_outlier_blocks
from .run import Run, plan_run
from .statistics import Moments

STAGES = {"variation": 10, "blocks": 40, "apply": 45, "finish": 5}
GAMMA_EPSILON = 1.0


def _check_options(alpha, correction_method, block_valid_pixel_threshold, save_block_maps,
                   load_block_maps, override_bounds_canvas_coords):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise RadioMatchError(f"alpha must be a number between 0 and 1, not {alpha!r}.")
    if correction_method not in ("gamma", "linear"):
        raise RadioMatchError(
            f"correction_method must be \"gamma\" or \"linear\", not {correction_method!r}.")
    threshold = block_valid_pixel_threshold
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise RadioMatchError(
            f"block_valid_pixel_threshold must be a number between 0 and 1, not {threshold!r}.")
    if save_block_maps is not None:
        if (not isinstance(save_block_maps, (tuple, list)) or len(save_block_maps) != 2
                or not all(isinstance(p, (str, os.PathLike)) for p in save_block_maps)):
            raise RadioMatchError(
                "save_block_maps must be (reference map path, local map template), "
                f"not {save_block_maps!r}.")
        if "$" not in os.path.basename(os.fspath(save_block_maps[1])):
            raise RadioMatchError(
                f"The local block map template {os.fspath(save_block_maps[1])!r} must contain "
                "\"$\" (replaced by each image name), or every map would overwrite the last.")
    if load_block_maps is not None:
        if (not isinstance(load_block_maps, (tuple, list)) or len(load_block_maps) != 2
                or (load_block_maps[0] is not None
                    and not isinstance(load_block_maps[0], (str, os.PathLike)))
                or (load_block_maps[1] is not None
                    and (isinstance(load_block_maps[1], str)
                         or not all(isinstance(p, (str, os.PathLike)) for p in load_block_maps[1])))):
            raise RadioMatchError(
                "load_block_maps must be (reference map path or None, list of local map paths "
                f"or None), not {load_block_maps!r}.")
    if override_bounds_canvas_coords is not None:
        if (not isinstance(override_bounds_canvas_coords, (tuple, list))
                or len(override_bounds_canvas_coords) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in override_bounds_canvas_coords)):
            raise RadioMatchError(
                "override_bounds_canvas_coords must be (min_x, min_y, max_x, max_y), "
                f"not {override_bounds_canvas_coords!r}.")
        check_canvas(override_bounds_canvas_coords, "override_bounds_canvas_coords")


def _block_map_paths(save_block_maps, images):
    """The reference map and the images' local maps a run saves."""
    if save_block_maps is None:
        return []
    reference, template = (os.fspath(path) for path in save_block_maps)
    return [reference] + [template.replace("$", image.name) for image in images]


def _load_maps(load_block_maps, images):
    """Loaded reference and local maps, checked against each other and against the images
    (band count, CRS, an extent that has an area and overlaps at least one image)."""
    bands = images[0].count
    if load_block_maps is None:
        return None, {}, None
    reference_path, local_paths = load_block_maps
    loaded = []
    if reference_path is not None:
        loaded.append(("reference", os.fspath(reference_path)))
    loaded += [("local", os.fspath(path)) for path in (local_paths or [])]
    if not loaded:
        return None, {}, None
    reference, locals_by_name, first = None, {}, None
    for kind, path in loaded:
        values, bounds, crs = read_block_map(path)
        if values.shape[2] != bands:
            raise RadioMatchError(
                f"The block map {path!r} has {values.shape[2]} band(s) but the images have {bands}.")
        if not (bounds[2] > bounds[0] and bounds[3] > bounds[1]):
            raise RadioMatchError(
                f"The block map {path!r} covers {bounds}, which has no area; it has no valid "
                "north-up geotransform.")
        if crs is not None and crs != images[0].crs:
            raise RadioMatchError(
                f"The block map {path!r} is in {crs.to_string()} but the images are in "
                f"{images[0].crs.to_string()}.")
        if first is None:
            first = (path, values.shape, bounds)
        elif values.shape != first[1]:
            raise RadioMatchError(
                f"The block map {path!r} has {values.shape[0]} x {values.shape[1]} blocks but "
                f"{first[0]!r} has {first[1][0]} x {first[1][1]}; loaded maps must share one grid.")
        elif not same_bounds(bounds, first[2]):
            raise RadioMatchError(
                f"The block map {path!r} covers {bounds} but {first[0]!r} covers {first[2]}; "
                "loaded maps must share one extent.")
        if kind == "reference":
            reference = values
        else:
            name = image_name(path)
            if name in locals_by_name:
                raise RadioMatchError(f"Two local block maps are named {name!r}.")
            locals_by_name[name] = values
    left, bottom, right, top = first[2]
    if not any(left < image.bounds[2] and right > image.bounds[0]
               and bottom < image.bounds[3] and top > image.bounds[1] for image in images):
        raise RadioMatchError(
            f"The block map {first[0]!r} covers {first[2]}, which overlaps none of the input "
            "images; the loaded maps belong to other images.")
    rows, cols = first[1][:2]
    return reference, locals_by_name, (first[2], rows, cols)


def _match_local_maps(locals_by_name, image_names):
    """Loaded map name -> image name: equal, or the image name followed or preceded by a
    separator (the saved ``$`` template), preferring the longest image name. No substrings."""
    matches = {}
    for map_name in locals_by_name:
        candidates = [name for name in image_names
                      if map_name == name
                      or (map_name.startswith(name) and not map_name[len(name)].isalnum())
                      or (map_name.endswith(name) and not map_name[-len(name) - 1].isalnum())]
        if candidates:
            matches[map_name] = max(candidates, key=len)
    return matches


def _image_subgrid(grid, image):
    """Block rows and columns touched by the image's pixel centres inside the canvas."""
    xs = image.transform.c + (np.arange(image.width) + 0.5) * image.transform.a
    ys = image.transform.f + (np.arange(image.height) + 0.5) * image.transform.e
    cols, rows = grid.block_columns(xs), grid.block_rows(ys)
    cols, rows = cols[cols >= 0], rows[rows >= 0]
    if cols.size == 0 or rows.size == 0:
        return None
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def _tile_blocks(run, plan, grid, k, window, measure_maps):
    """Block sums and counts of one tile (touched blocks only) and its per-band minima."""
    run.progress.check_cancelled()
    image = plan.images[k]
    data, valid = read_tile(run.datasets.get(image.path), image, window, plan.nodata)
    values = data.astype(np.float64, copy=False)
    minima = np.array([np.min(values[b], where=valid[b], initial=np.inf)
                       for b in range(data.shape[0])])
    if not measure_maps:
        return minima, None
    if plan.vector_mask is not None:
        valid &= plan.vector_mask.keep(image.name, window_transform(window, image.transform),
                                       valid.shape[1:])
    xs, ys = pixel_centres(image, window)
    cols, rows = grid.block_columns(xs), grid.block_rows(ys)
    inside_cols, inside_rows = cols >= 0, rows >= 0
    if not inside_cols.any() or not inside_rows.any():
        return minima, None
    row_lo, row_hi = rows[inside_rows].min(), rows[inside_rows].max() + 1
    col_lo, col_hi = cols[inside_cols].min(), cols[inside_cols].max() + 1
    shape = (row_hi - row_lo, col_hi - col_lo)
    flat = (rows - row_lo)[:, None] * shape[1] + (cols - col_lo)[None, :]
    inside = inside_rows[:, None] & inside_cols[None, :]
    sums = np.zeros((data.shape[0],) + shape)
    counts = np.zeros((data.shape[0],) + shape, dtype=np.int64)
    for b in range(data.shape[0]):
        keep = valid[b] & inside
        index = flat[keep]
        size = shape[0] * shape[1]
        sums[b] = np.bincount(index, weights=values[b][keep], minlength=size).reshape(shape)
        counts[b] = np.bincount(index, minlength=size).reshape(shape)
    return minima, (int(row_lo), int(col_lo), sums, counts)


def _measure(run, plan, grid, to_map, threshold):
    """Local block maps of the images in ``to_map`` and per-image band minima of all images."""
    tasks = [(k, window) for k, image in enumerate(plan.images)
             for window in run.image_tiles(plan, image)]
    run.progress.start_stage("blocks", "Computing block means", len(tasks))
    results = run.run_tasks(lambda task: _tile_blocks(run, plan, grid, task[0], task[1],
                                                      task[0] in to_map),
                            tasks, plan.workers)
    bands = plan.images[0].count
    minima = np.full((len(plan.images), bands), np.inf)
    accumulators = {}
    for k in to_map:
        subgrid = _image_subgrid(grid, plan.images[k])
        if subgrid is not None:
            row0, row1, col0, col1 = subgrid
            accumulators[k] = (row0, col0, np.zeros((bands, row1 - row0, col1 - col0)),
                               np.zeros((bands, row1 - row0, col1 - col0), dtype=np.int64))
    for (k, _), (tile_minima, blocks) in zip(tasks, results):
        minima[k] = np.minimum(minima[k], tile_minima)
        if blocks is None or k not in accumulators:
            continue
        row0, col0, sums, counts = accumulators[k]
        row_lo, col_lo, tile_sums, tile_counts = blocks
        rows = slice(row_lo - row0, row_lo - row0 + tile_sums.shape[1])
        cols = slice(col_lo - col0, col_lo - col0 + tile_sums.shape[2])
        sums[:, rows, cols] += tile_sums
        counts[:, rows, cols] += tile_counts
    maps = {}
    for k in to_map:
        image = plan.images[k]
        if k not in accumulators:
            maps[k] = BlockMap(0, 0, np.full((0, 0, bands), np.nan))
            continue
        row0, col0, sums, counts = accumulators[k]
        x_size, y_size = image.pixel_size
        minimum_count = threshold * grid.block_width * grid.block_height / (x_size * y_size)
        enough = (counts > 0) & (counts >= minimum_count)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(enough, sums / np.where(counts > 0, counts, 1), np.nan)
        maps[k] = BlockMap(row0, col0, np.moveaxis(means, 0, 2))
    return maps, minima


def _as_stored(values, dtype):
    """Values as a block-map file stores them, so a saved-then-loaded map gives the same
    output as the map computed in memory."""
    return values.astype(dtype).astype(np.float64)


def _variation_grid(run, plan):
    """The coefficient-of-variation rule, streamed over band 1 of every image."""
    # The grid does not exist yet, so window_size="block" has no block size: use automatic tiles.
    tiling = replace(plan, window_size=None) if plan.window_size == "block" else plan
    tasks = [(k, window) for k, image in enumerate(plan.images)
             for window in run.image_tiles(tiling, image)]
    run.progress.start_stage("variation", "Measuring the coefficient of variation", len(tasks))

    def band_one(task):
        k, window = task
        run.progress.check_cancelled()
        image = plan.images[k]
        data, valid = read_tile(run.datasets.get(image.path), image, window, plan.nodata)
        if plan.vector_mask is not None:
            valid &= plan.vector_mask.keep(image.name, window_transform(window, image.transform),
                                           valid.shape[1:])
        return Moments.of_tile(data[:1], valid[:1])

    pooled = Moments(1)
    for moments in run.run_tasks(band_one, tasks, plan.workers):
        pooled.merge(moments)
    return grid_shape_from_variation(int(pooled.count[0]), float(pooled.mean[0]),
                                     float(pooled.std[0]), run.warnings)


def _reference_map(grid, maps, bands):
    """NaN-mean of all local maps, per block and band (unweighted, as the reference)."""
    sums = np.zeros((grid.rows, grid.cols, bands))
    counts = np.zeros((grid.rows, grid.cols, bands), dtype=np.int64)
    for block_map in maps:
        rows, cols = block_map.values.shape[:2]
        region = (slice(block_map.row_off, block_map.row_off + rows),
                  slice(block_map.col_off, block_map.col_off + cols))
        valid = ~np.isnan(block_map.values)
        sums[region] += np.where(valid, block_map.values, 0.0)
        counts[region] += valid
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)


def _reference_for(reference, local_map):
    """The reference restricted to the blocks (and bands) where the image has a local mean, so
    both interpolations use the same support."""
    rows, cols = local_map.values.shape[:2]
    region = reference[local_map.row_off:local_map.row_off + rows,
                       local_map.col_off:local_map.col_off + cols]
    return BlockMap(local_map.row_off, local_map.col_off,
                    np.where(np.isnan(local_map.values), np.nan, region))


def local_block_adjustment(input_images, output_images, *, calculation_dtype="auto",
                           output_dtype=None, vector_mask=None, debug_logs=False,
                           custom_nodata_value=None, image_parallel_workers=None,
                           window_parallel_workers=None, window_size=None, save_as_cog=False,
                           number_of_blocks=100, alpha=1.0, correction_method="gamma",
                           save_block_maps=None, load_block_maps=None,
                           override_bounds_canvas_coords=None, block_valid_pixel_threshold=0.001,
                           block_statistics="robust", progress_callback=None):
    """Balance images locally, block by block, towards the mean of all images.

    Parameters are spectralmatch's (names, types and defaults); see docs/DESIGN.md for where this
    engine differs. ``details`` of the result hold ``grid`` (rows, cols), ``canvas``, ``shift``,
    per-output counts ``unchanged_pixels`` and ``guarded_pixels``, ``footprints`` ({name: bounds}),
    ``reference_map`` (float64 array rows x cols x bands, NaN = no value) and ``local_maps``
    ({name: {"row_off", "col_off", "values"}}: each image's map over the sub-grid of blocks it
    touches, so memory does not grow with the square of the number of images), and
    ``outlier_blocks`` ({name: count}).

    ``block_statistics="robust"`` (the default, not in the reference) leaves a block mean that
    disagrees with the other images' means of that block (a cloud, a shadow) out of both the
    reference and that image's correction; ``"all_blocks"`` uses every block mean, as the
    reference does. Saved block maps always hold every block mean.
    """
    if block_statistics not in ("robust", "all_blocks"):
        raise RadioMatchError(
            f"block_statistics must be \"robust\" or \"all_blocks\", not {block_statistics!r}.")
    _check_options(alpha, correction_method, block_valid_pixel_threshold, save_block_maps,
                   load_block_maps, override_bounds_canvas_coords)
    blocks_rule = parse_number_of_blocks(number_of_blocks)
    with Run(progress_callback, STAGES, debug_logs) as run:
        plan = plan_run(run, input_images, output_images, "_Local",
                        calculation_dtype=calculation_dtype, output_dtype=output_dtype,
                        vector_mask=vector_mask, custom_nodata_value=custom_nodata_value,
                        image_parallel_workers=image_parallel_workers,
                        window_parallel_workers=window_parallel_workers,
                        window_size=window_size, window_words=("block",),
                        side_files=lambda images: _block_map_paths(save_block_maps, images))
        images = plan.images
        bands = images[0].count
        names = [image.name for image in images]

        loaded_reference, loaded_locals, loaded_grid = _load_maps(load_block_maps, images)
        if loaded_grid is not None:
            canvas, rows, cols = loaded_grid
            if (override_bounds_canvas_coords is not None
                    and not same_bounds(tuple(override_bounds_canvas_coords), canvas)):
                raise RadioMatchError(
                    f"override_bounds_canvas_coords {tuple(override_bounds_canvas_coords)} "
                    f"differs from the extent of the loaded block maps {canvas}.")
        else:
            if override_bounds_canvas_coords is not None:
                canvas = tuple(override_bounds_canvas_coords)
            else:
                boxes = np.array([image.bounds for image in images])
                canvas = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
            rows = cols = None
        canvas = check_canvas(canvas, "The canvas")
        for image in images:
            left, bottom, right, top = image.bounds
            if left < canvas[0] or bottom < canvas[1] or right > canvas[2] or top > canvas[3]:
                run.warn(f"Image {image.name!r} extends beyond the canvas; its pixels outside it "
                         "are left out of the block means and use the nearest edge blocks.")
        if rows is None:
            if blocks_rule == "coefficient_of_variation":
                plan.block_size = None
                rows, cols = _variation_grid(run, plan)
            elif isinstance(blocks_rule, tuple):
                rows, cols = blocks_rule
            else:
                rows, cols = grid_shape_for_count(blocks_rule, len(images),
                                                  canvas[2] - canvas[0], canvas[3] - canvas[1])
        grid = BlockGrid(*canvas, rows, cols)
        if loaded_grid is None:
            check_grid_size(grid, images, bands, available_memory())
        plan.block_size = (grid.block_width, grid.block_height)
        run.debug(f"Block grid: {rows} rows x {cols} columns over {canvas}.")

        matches = _match_local_maps(loaded_locals, names)
        matched_images = {names.index(image) for image in matches.values()}
        to_map = [k for k in range(len(images)) if k not in matched_images]
        maps, minima = _measure(run, plan, grid, set(to_map), block_valid_pixel_threshold)
        for block_map in maps.values():
            block_map.values = _as_stored(block_map.values, plan.calculation_dtype)
        saved_maps = {}
        for map_name, full in loaded_locals.items():
            key = matches.get(map_name, map_name)
            block_map = BlockMap.from_full(full)
            saved_maps[key] = block_map
            if map_name in matches:
                maps[names.index(key)] = block_map
        for k in to_map:
            saved_maps[names[k]] = maps[k]
        used_maps, outliers = dict(saved_maps), {key: 0 for key in saved_maps}
        if block_statistics == "robust":
            cleaned, outliers = reject_outlier_blocks(saved_maps, grid.cols)
            used_maps = {key: replace(saved_maps[key], values=values)
                         for key, values in cleaned.items()}
            for k, name in enumerate(names):
                maps[k] = used_maps[name]
                if outliers[name]:
                    run.debug(f"Image {name!r}: {outliers[name]} block mean(s) disagree with the "
                              "other images and are left out.")
        if loaded_reference is not None:
            reference = loaded_reference
        else:
            reference = _as_stored(_reference_map(grid, used_maps.values(), bands),
                                   plan.calculation_dtype)
        for k, name in enumerate(names):
            if not maps[k].has_values():
                run.warn(f"Image {name!r} has no block with enough valid pixels; it gets no local "
                         "correction.")

        shift = 0.0
        if correction_method == "gamma":
            lowest = [minima.min()] + [np.nanmin(m.values) for m in used_maps.values()
                                       if m.has_values()]
            if np.isfinite(reference).any():
                lowest.append(np.nanmin(reference))
            finite = [value for value in lowest if np.isfinite(value)]
            shift = gamma_shift(min(finite), GAMMA_EPSILON) if finite else 0.0
            if shift:
                run.debug(f"Gamma shift: {shift} (values are shifted to stay above 1).")
        references = {k: _reference_for(reference, maps[k]) for k in range(len(images))}
        calculation = np.dtype(plan.calculation_dtype)
        unchanged_counts = np.zeros(len(images), dtype=np.int64)
        guarded_counts = np.zeros(len(images), dtype=np.int64)
        counts_lock = threading.Lock()

        def correct_tile(k, window, values, valid):
            xs, ys = pixel_centres(images[k], window)
            row_positions, col_positions = grid.row_positions(ys), grid.column_positions(xs)
            reference_mean = normalised_bilinear(references[k], row_positions, col_positions)
            local_mean = normalised_bilinear(maps[k], row_positions, col_positions)
            reference_mean = reference_mean.astype(calculation)
            local_mean = local_mean.astype(calculation)
            if correction_method == "gamma":
                corrected, unchanged, guarded = gamma_correction(
                    values, reference_mean, local_mean, calculation.type(alpha),
                    calculation.type(shift))
            else:
                corrected, unchanged, guarded = linear_correction(
                    values, reference_mean, local_mean, calculation.type(alpha))
            with counts_lock:
                unchanged_counts[k] += np.count_nonzero(unchanged & valid)
                guarded_counts[k] += np.count_nonzero(guarded & valid)
            return corrected

        result = run.apply_pass(plan, correct_tile, "Applying the local corrections", save_as_cog)
        if save_block_maps is not None:
            reference_path, template = (os.fspath(p) for p in save_block_maps)
            run.write_side_file(reference_path, lambda path: write_block_map(
                path, reference, grid, images[0].crs, plan.calculation_dtype))
            for key, block_map in saved_maps.items():
                run.write_side_file(template.replace("$", key), lambda path: write_block_map(
                    path, block_map.full(grid), grid, images[0].crs, plan.calculation_dtype))
        run.publish()
        for k, path in enumerate(plan.output_paths):
            if unchanged_counts[k] and alpha > 0:   # with alpha 0 no pixel is corrected
                run.warn(f"{unchanged_counts[k]} valid pixel value(s) of {path!r} had no reference "
                         "or local block mean nearby and were left unchanged.")
        result.details.update({
            "reference_map": reference,
            "local_maps": {names[k]: {"row_off": maps[k].row_off, "col_off": maps[k].col_off,
                                      "values": maps[k].values} for k in range(len(images))},
            "footprints": {image.name: list(image.bounds) for image in images},
            "outlier_blocks": {name: outliers[name] for name in names},
            "grid": (rows, cols), "canvas": canvas, "shift": shift,
            "unchanged_pixels": dict(zip(plan.output_paths, unchanged_counts.tolist())),
            "guarded_pixels": dict(zip(plan.output_paths, guarded_counts.tolist())),
        })
        run.progress.finish()
        return result
