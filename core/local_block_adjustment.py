"""Local block adjustment: what one gain and offset per image cannot remove (vignetting, a
sun-angle gradient, haze), with a correction that varies smoothly across each image.

Two local models (``local_model``):

* ``"surface"`` (default): per image and band a smooth field, a low-order polynomial in the
  image's own coordinates, fitted jointly to pairwise comparisons of the images' means over
  the pixels they both cover, block by block (core/surfaces.py). Only overlaps are read.
* ``"block_means"``: the reference's model (Yu et al. 2017, as spectralmatch's
  local_block_adjustment): each image's block means are pulled towards the mean of all images
  in that block, with a gamma (or linear) correction interpolated between block centres.

plan -> grid (canvas and blocks) -> measure (block comparisons of overlapping pairs, or block
sums of every image) -> model -> apply (one streaming pass per image).
"""
import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
from rasterio.windows import transform as window_transform

from .blocks import (BlockGrid, BlockMap, TileBlocks, check_canvas, check_grid_size, grid_shape_for_count,
                     grid_shape_from_variation, normalised_bilinear, parse_number_of_blocks,
                     read_block_map, same_bounds, write_block_map)
from .corrections import block_corrections, gamma_correction, gamma_shift, linear_correction
from .errors import RadioMatchError
from .overlaps import Lattice, plan_pairs, read_masked
from .parallel import available_memory
from .rasters import image_name, pixel_centres, read_tile
from .robust import reject_outlier_blocks, resolution
from .run import Plan, Run, plan_run
from .statistics import Moments
from .surfaces import (KINDS, SAMPLES_PER_BLOCK_SIDE, SURFACE_ORDER, BlockRelations,
                       Comparisons, PairBlocks, Surface, fit_band, positive_share, surface_kind)

LOCAL_MODELS = ("surface", "block_means")
STAGES = {
    "surface": {"variation": 10, "sampling": 30, "fit": 5, "apply": 50, "finish": 5},
    "block_means": {"variation": 10, "blocks": 40, "apply": 45, "finish": 5},
}
GAMMA_EPSILON = 1.0
# The tags of a saved block map: which local model wrote it and, for a surface, the surface.
MODEL_TAG = "RADIOMATCH_LOCAL_MODEL"
SURFACE_TAG = "RADIOMATCH_SURFACE"


def _check_options(alpha, correction_method, block_valid_pixel_threshold, save_block_maps,
                   load_block_maps, override_bounds_canvas_coords, block_statistics, local_model):
    if local_model not in LOCAL_MODELS:
        raise RadioMatchError(
            f"local_model must be \"surface\" or \"block_means\", not {local_model!r}.")
    if block_statistics not in ("robust", "all_blocks"):
        raise RadioMatchError(
            f"block_statistics must be \"robust\" or \"all_blocks\", not {block_statistics!r}.")
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


@dataclass
class _LoadedMaps:
    """Block maps given to reuse: the reference map, the local maps by file name, their tags,
    the grid they share ((canvas, rows, cols), None when nothing was loaded) and the local
    model that wrote them (maps without a tag are the block-means model's, as older runs and
    spectralmatch write them)."""
    reference: object = None
    local: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    grid: object = None
    model: str = None


def _load_maps(load_block_maps, images, local_model):
    """Loaded reference and local maps, checked against each other and against the images
    (band count, CRS, an extent that has an area and overlaps at least one image, the local
    model that wrote them)."""
    bands = images[0].count
    loaded = _LoadedMaps()
    if load_block_maps is None:
        return loaded
    reference_path, local_paths = load_block_maps
    paths = []
    if reference_path is not None:
        paths.append(("reference", os.fspath(reference_path)))
    paths += [("local", os.fspath(path)) for path in (local_paths or [])]
    first = None
    for kind, path in paths:
        values, bounds, crs, tags = read_block_map(path)
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
        written_by = tags.get(MODEL_TAG, "block_means")
        if written_by != local_model:
            raise RadioMatchError(
                f"The block map {path!r} was saved by the {written_by!r} local model; load it "
                f"with local_model=\"{written_by}\" (this run uses {local_model!r}).")
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
            loaded.reference = values
        else:
            name = image_name(path)
            if name in loaded.local:
                raise RadioMatchError(f"Two local block maps are named {name!r}.")
            if local_model == "surface" and SURFACE_TAG not in tags:
                raise RadioMatchError(
                    f"The block map {path!r} holds no surface (tag {SURFACE_TAG}); the surface "
                    "model reloads the local maps it saved.")
            loaded.local[name], loaded.tags[name] = values, tags
    if first is None:
        return loaded
    left, bottom, right, top = first[2]
    if not any(left < image.bounds[2] and right > image.bounds[0]
               and bottom < image.bounds[3] and top > image.bounds[1] for image in images):
        raise RadioMatchError(
            f"The block map {first[0]!r} covers {first[2]}, which overlaps none of the input "
            "images; the loaded maps belong to other images.")
    loaded.grid, loaded.model = (first[2],) + first[1][:2], local_model
    return loaded


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


@dataclass
class _BlocksJob:
    """What the block-sum pass's tasks share: the plan, the grid and the images mapped."""
    plan: Plan
    grid: BlockGrid
    to_map: set


def _tile_blocks(job, task, context):
    """Block sums and counts of one tile (touched blocks only) and its per-band minima."""
    k, window = task
    context.check_cancelled()
    plan, grid = job.plan, job.grid
    image = plan.images[k]
    data, valid = read_tile(context.datasets.get(image.path), image, window, plan.nodata)
    values = data.astype(np.float64, copy=False)
    minima = np.array([np.min(values[b], where=valid[b], initial=np.inf)
                       for b in range(data.shape[0])])
    if k not in job.to_map:
        return minima, None
    if plan.vector_mask is not None:
        valid &= plan.vector_mask.keep(image.name, window_transform(window, image.transform),
                                       valid.shape[1:])
    blocks = TileBlocks(grid, *pixel_centres(image, window))
    if blocks.shape is None:
        return minima, None
    sums = np.zeros((data.shape[0],) + blocks.shape)
    counts = np.zeros((data.shape[0],) + blocks.shape, dtype=np.int64)
    for b in range(data.shape[0]):
        sums[b] = blocks.sum(np.where(valid[b], values[b], 0.0))
        counts[b] = blocks.sum(valid[b])
    return minima, (blocks.row_lo, blocks.col_lo, sums, counts)


def _measure(run, plan, grid, to_map, threshold):
    """Local block maps of the images in ``to_map`` and per-image band minima of all images."""
    tasks = [(k, window) for k, image in enumerate(plan.images)
             for window in run.image_tiles(plan, image)]
    run.progress.start_stage("blocks", "Computing block means", len(tasks))
    results = run.run_tasks(_tile_blocks, _BlocksJob(plan, grid, to_map), tasks)
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
    pooled = Moments(1)
    for moments in run.run_tasks(_band_one, plan, tasks):
        pooled.merge(moments)
    return grid_shape_from_variation(int(pooled.count[0]), float(pooled.mean[0]),
                                     float(pooled.std[0]), run.warnings)


def _band_one(plan, task, context):
    """Moments of band 1 of one tile."""
    k, window = task
    context.check_cancelled()
    data, valid = read_masked(context.datasets, plan, plan.images[k], window)
    return Moments.of_tile(data[:1], valid[:1])


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


def _block_grid(run, plan, blocks_rule, loaded, override_bounds_canvas_coords):
    """The canvas and its block grid: from the loaded maps, else from the override or the
    union of the images, and the block rule."""
    images = plan.images
    if loaded.grid is not None:
        canvas, rows, cols = loaded.grid
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
    if loaded.grid is None:
        check_grid_size(grid, images, images[0].count, available_memory())
    plan.block_size = (grid.block_width, grid.block_height)
    run.debug(f"Block grid: {rows} rows x {cols} columns over {canvas}.")
    return grid


@dataclass
class _LocalModel:
    """What a local model hands to the run: the tile correction for the apply pass, the block
    maps it saves ((path, full values, tags) each), its details, and the warnings to give once
    the outputs are written (they depend on the correction's counts, per image)."""
    correction: object
    maps_to_save: object
    details: dict
    after_apply: object = None


def _block_means_model(run, plan, grid, loaded, options):
    """The reference's model: block means, their reference map, gamma or linear correction."""
    images, names = plan.images, [image.name for image in plan.images]
    bands = images[0].count
    matches = _match_local_maps(loaded.local, names)
    matched_images = {names.index(image) for image in matches.values()}
    to_map = [k for k in range(len(images)) if k not in matched_images]
    maps, minima = _measure(run, plan, grid, set(to_map), options["threshold"])
    for block_map in maps.values():
        block_map.values = _as_stored(block_map.values, plan.calculation_dtype)
    saved_maps = {}
    for map_name, full in loaded.local.items():
        key = matches.get(map_name, map_name)
        block_map = BlockMap.from_full(full)
        saved_maps[key] = block_map
        if map_name in matches:
            maps[names.index(key)] = block_map
    for k in to_map:
        saved_maps[names[k]] = maps[k]
    used_maps, outliers = dict(saved_maps), {key: 0 for key in saved_maps}
    if options["robust"]:
        cleaned, outliers = reject_outlier_blocks(saved_maps, grid.cols)
        used_maps = {key: replace(saved_maps[key], values=values)
                     for key, values in cleaned.items()}
        for k, name in enumerate(names):
            maps[k] = used_maps[name]
            if outliers[name]:
                run.debug(f"Image {name!r}: {outliers[name]} block mean(s) disagree with the "
                          "other images and are left out.")
    if loaded.reference is not None:
        reference = loaded.reference
    else:
        reference = _as_stored(_reference_map(grid, used_maps.values(), bands),
                               plan.calculation_dtype)
    for k, name in enumerate(names):
        if not maps[k].has_values():
            run.warn(f"Image {name!r} has no block with enough valid pixels; it gets no local "
                     "correction.")
    method, alpha = options["correction_method"], options["alpha"]
    shift = 0.0
    if method == "gamma":
        lowest = [minima.min()] + [np.nanmin(m.values) for m in used_maps.values()
                                   if m.has_values()]
        if np.isfinite(reference).any():
            lowest.append(np.nanmin(reference))
        finite = [value for value in lowest if np.isfinite(value)]
        shift = gamma_shift(min(finite), GAMMA_EPSILON) if finite else 0.0
        if shift:
            run.debug(f"Gamma shift: {shift} (values are shifted to stay above 1).")
    references = {k: _reference_for(reference, maps[k]) for k in range(len(images))}
    correction = _BlockMeansCorrection(grid, references, dict(maps), method, alpha, shift,
                                       plan.calculation_dtype)
    def maps_to_save(reference_path, template):
        tags = {MODEL_TAG: "block_means"}
        return ([(reference_path, reference, tags)]
                + [(template.replace("$", key), block_map.full(grid), tags)
                   for key, block_map in saved_maps.items()])

    def after_apply(counts):
        unchanged_counts = [int(count[0]) for count in counts]
        for k, path in enumerate(plan.output_paths):
            if unchanged_counts[k] and alpha > 0:   # with alpha 0 no pixel is corrected
                run.warn(f"{unchanged_counts[k]} valid pixel value(s) of {path!r} had no "
                         "reference or local block mean nearby and were left unchanged.")
        return {"unchanged_pixels": dict(zip(plan.output_paths, unchanged_counts)),
                "guarded_pixels": dict(zip(plan.output_paths,
                                           [int(count[1]) for count in counts]))}

    details = {
        "reference_map": reference,
        "local_maps": {names[k]: {"row_off": maps[k].row_off, "col_off": maps[k].col_off,
                                  "values": maps[k].values} for k in range(len(images))},
        "correction_maps": {names[k]: {
            "row_off": maps[k].row_off, "col_off": maps[k].col_off,
            "values": block_corrections(references[k].values, maps[k].values, alpha, shift,
                                        method)} for k in range(len(images))},
        "correction_kind": "gamma" if method == "gamma" else "gain",
        "outlier_blocks": {name: outliers[name] for name in names},
        "shift": shift,
    }
    return _LocalModel(correction, maps_to_save, details, after_apply)


@dataclass
class _BlockMeansCorrection:
    """The block-means model's correction of a tile: the reference and local block means
    interpolated at its pixels, gamma or linear. Counts (left unchanged, guarded) pixels."""
    grid: BlockGrid
    references: dict        # image index -> BlockMap
    maps: dict
    method: str
    alpha: float
    shift: float
    calculation_dtype: str

    def __call__(self, k, image, window, values, valid):
        calculation = np.dtype(self.calculation_dtype)
        xs, ys = pixel_centres(image, window)
        row_positions, col_positions = self.grid.row_positions(ys), self.grid.column_positions(xs)
        reference_mean = normalised_bilinear(self.references[k], row_positions, col_positions)
        local_mean = normalised_bilinear(self.maps[k], row_positions, col_positions)
        reference_mean = reference_mean.astype(calculation)
        local_mean = local_mean.astype(calculation)
        if self.method == "gamma":
            corrected, unchanged, guarded = gamma_correction(
                values, reference_mean, local_mean, calculation.type(self.alpha),
                calculation.type(self.shift))
        else:
            corrected, unchanged, guarded = linear_correction(
                values, reference_mean, local_mean, calculation.type(self.alpha))
        return corrected, np.array([np.count_nonzero(unchanged & valid),
                                    np.count_nonzero(guarded & valid)], dtype=np.int64)


def _pair_samples(plan, grid):
    """The overlapping pairs whose overlap has blocks on the canvas, each with its lattice
    (about ``SAMPLES_PER_BLOCK_SIDE`` pixels along a block's side, anchored at the overlap
    window, so it does not depend on the tiles) and an empty :class:`PairBlocks` per kind of
    field (which one is used is known once every pair is sampled)."""
    bands = plan.images[0].count
    lattices, accumulators = [], []
    for pair in plan_pairs(plan.images):
        image = plan.images[pair.first]
        rows = grid.block_rows(pixel_centres(image, pair.window)[1])
        cols = grid.block_columns(pixel_centres(image, pair.window)[0])
        if not (rows >= 0).any() or not (cols >= 0).any():
            continue
        block_pixels = min(grid.block_width / image.pixel_size[0],
                           grid.block_height / image.pixel_size[1])
        step = max(1, int(block_pixels // SAMPLES_PER_BLOCK_SIDE))
        row_lo, col_lo = int(rows[rows >= 0].min()), int(cols[cols >= 0].min())
        shape = (int(rows.max()) - row_lo + 1, int(cols.max()) - col_lo + 1)
        lattices.append(Lattice.of(plan.images, pair, step))
        accumulators.append({kind: PairBlocks(pair.first, pair.second, row_lo, col_lo, bands,
                                              *shape, step) for kind in KINDS})
    return lattices, accumulators


def _sample_comparisons(run, plan, grid, lattices, accumulators, robust):
    """The one pass of the surface model: each image reads the tiles that hold its side of
    its overlaps' lattices (no partner reads) and, as soon as both images of a pair are
    through, the pair's sample is summed per block (with robust statistics only the pixel
    pairs that follow their block's relation) and freed. Returns (blocks with two positive
    medians, blocks with medians) over all pairs, for the kind of field."""
    images = plan.images
    of_image = {}
    for p, lattice in enumerate(lattices):
        for k in (lattice.pair.first, lattice.pair.second):
            of_image.setdefault(k, []).append(p)
    tasks = [(k, window) for k in sorted(of_image) for window in run.tiles_touching(
        plan, images[k], [lattices[p].extent(k) for p in of_image[k]])]
    tiles_left = Counter(k for k, _ in tasks)
    samples = {p: ([], []) for p in range(len(lattices))}
    shares = np.zeros(2, dtype=np.int64)

    def take(task, parts):
        k = task[0]
        for p, part in parts.items():
            if part is not None:
                samples[p][0 if k == lattices[p].pair.first else 1].append(part)
        tiles_left[k] -= 1
        if tiles_left[k]:
            return
        for p in of_image[k]:
            pair = lattices[p].pair
            if tiles_left[pair.first] == 0 and tiles_left[pair.second] == 0 and p in samples:
                shares[:] += _sum_sample(grid, plan, lattices[p], accumulators[p], robust,
                                         *samples.pop(p))

    run.progress.start_stage("sampling", "Comparing the overlaps block by block", len(tasks))
    run.run_tasks(_sample_tile, _SamplingJob(plan, lattices, of_image), tasks, take)
    return shares


@dataclass
class _SamplingJob:
    """What the sampling pass's tasks share: the plan, the pairs' lattices and, per image,
    the lattices it takes its side of."""
    plan: Plan
    lattices: list
    of_image: dict


def _sample_tile(job, task, context):
    """Image k's side of each of its lattices inside one tile."""
    k, window = task
    context.check_cancelled()
    images = job.plan.images
    data, valid = read_masked(context.datasets, job.plan, images[k], window)
    return {p: job.lattices[p].take(k, window, data, valid,
                                    images[job.lattices[p].pair.first].width)
            for p in job.of_image[k]}


def _sum_sample(grid, plan, lattice, accumulators, robust, first_parts, second_parts):
    """Sum a pair's sample into its :class:`PairBlocks` (one per kind); returns the pair's
    (blocks with two positive medians, blocks with medians)."""
    if not first_parts or not second_parts:
        return 0, 0
    first_image = plan.images[lattice.pair.first]
    keys, first, second, both = lattice.matched(first_parts, second_parts)
    rows, cols = keys // first_image.width, keys % first_image.width
    xs = first_image.transform.c + (cols + 0.5) * first_image.transform.a
    ys = first_image.transform.f + (rows + 0.5) * first_image.transform.e
    any_kind = accumulators[KINDS[0]]
    height, width = any_kind.sums.shape[2:]
    block_rows = grid.block_rows(ys) - any_kind.row_off
    block_cols = grid.block_columns(xs) - any_kind.col_off
    inside = (block_rows >= 0) & (block_rows < height) & (block_cols >= 0) & (block_cols < width)
    blocks = np.where(inside, block_rows * width + block_cols, -1)
    if not robust:
        for kind in KINDS:
            accumulators[kind].add_sample(blocks, first, second, both, xs, ys)
        return 0, 0
    dtype = plan.images[lattice.pair.second].dtype
    floor = [resolution(dtype, second[band][both[band]]) for band in range(first.shape[0])]
    relations = BlockRelations.of_sample(blocks, first, second, both, height * width, floor)
    for kind in KINDS:
        accumulators[kind].add_sample(blocks, first, second,
                                      relations.inliers(kind, blocks, first, second, both),
                                      xs, ys)
    return relations.positive_share()


def _loaded_surfaces(run, loaded, names, images, bands):
    """Surfaces of the loaded local maps, by image index (maps matching no input: warned)."""
    fixed = {}
    for map_name, image in _match_local_maps(loaded.local, names).items():
        stored = json.loads(loaded.tags[map_name][SURFACE_TAG])
        k = names.index(image)
        surface = Surface(stored["kind"], int(stored["order"]), tuple(stored["bounds"]),
                          np.asarray(stored["coefficients"], dtype=float).reshape(bands, -1))
        if not same_bounds(surface.bounds, tuple(images[k].bounds)):
            run.warn(f"The surface loaded for {image!r} was fitted to an image covering "
                     f"{surface.bounds}; this one covers {tuple(images[k].bounds)}. It is "
                     "applied in the map coordinates it was fitted in.")
        fixed[k] = surface
    for map_name in sorted(set(loaded.local) - set(_match_local_maps(loaded.local, names))):
        run.warn(f"The loaded surface {map_name!r} matches no input image; it is not used.")
    if loaded.reference is not None:
        run.debug("The surface model has no reference map; the loaded one is not used.")
    return fixed


def _corrected_means(means, images, compared, surfaces, band, kind):
    """Block means after each image's field at the comparisons' centroids."""
    field = np.zeros(len(means))
    for k in np.unique(images):
        at = images == k
        field[at] = surfaces[k].at(compared.x[at], compared.y[at])[band]
    return means * np.exp(field) if kind == "multiplicative" else means + field


def _seams(comparisons, surfaces, kind, kept):
    """Per pair of images and band the difference of their means over their common pixels
    before and after (from the block comparisons the fit kept, the fields at each block's
    centroid: a cloud's blocks are left out, as Global regression's robust statistics leave
    out its pixels), and mosaic-wide, weighted by pixel pairs, for pairs and for blocks."""
    pairs, block = {}, {"before": [], "after": []}
    for band, compared in enumerate(comparisons):
        compared = Comparisons(**{name: getattr(compared, name)[kept[band]]
                                  for name in Comparisons.__dataclass_fields__})
        before = compared.mean_first - compared.mean_second
        after = (_corrected_means(compared.mean_first, compared.first, compared, surfaces, band,
                                  kind)
                 - _corrected_means(compared.mean_second, compared.second, compared, surfaces,
                                    band, kind))
        weight = compared.count
        total = max(weight.sum(), 1.0)
        block["before"].append(float(np.sum(np.abs(before) * weight) / total))
        block["after"].append(float(np.sum(np.abs(after) * weight) / total))
        for key in set(zip(compared.first.tolist(), compared.second.tolist())):
            at = (compared.first == key[0]) & (compared.second == key[1])
            pairs.setdefault(key, {})[band] = (
                float(np.sum(before[at] * weight[at]) / weight[at].sum()),
                float(np.sum(after[at] * weight[at]) / weight[at].sum()),
                float(weight[at].sum()))
    return pairs, block


def _surface_comparisons(run, plan, grid, fixed, options):
    """The block comparisons of every band and the kind of field (the loaded surfaces' kind,
    else from the compared block means' signs)."""
    images, bands = plan.images, plan.images[0].count
    kinds = {surface.kind for surface in fixed.values()}
    if len(kinds) > 1:
        raise RadioMatchError("The loaded surfaces mix multiplicative and additive fields.")
    lattices, blocks = _pair_samples(plan, grid) if len(fixed) < len(images) else ([], [])
    x_size, y_size = images[0].pixel_size
    min_pixels = max(1.0, options["threshold"] * grid.block_width * grid.block_height
                     / (x_size * y_size))
    shares = _sample_comparisons(run, plan, grid, lattices, blocks, options["robust"])

    def of_kind(kind):
        return [Comparisons.of_band([pair[kind] for pair in blocks], band, min_pixels)
                for band in range(bands)]

    if kinds:
        kind = kinds.pop()
    elif options["robust"]:
        kind = surface_kind(*shares)
    else:       # without robust statistics both kinds sum the same pixel pairs
        kind = surface_kind(*positive_share(of_kind(KINDS[0])))
    return of_kind(kind), kind


def _fit_surfaces(run, plan, comparisons, kind, fixed, robust):
    """Every image's surface (loaded ones as they are), the comparisons each band kept, and
    the count of left-out comparisons per image."""
    images, bands = plan.images, plan.images[0].count
    run.progress.start_stage("fit", "Fitting the correction surfaces", bands)
    bounds = np.array([image.bounds for image in images], dtype=float)
    surfaces = {k: fixed.get(k, Surface.identity(kind, SURFACE_ORDER, image.bounds, bands))
                for k, image in enumerate(images)}
    left_out = np.zeros(len(images), dtype=np.int64)
    kept = []
    converged = True
    for band, compared in enumerate(comparisons):
        fit = fit_band(bounds, compared, kind, SURFACE_ORDER, robust,
                       {k: surface.coefficients[band] for k, surface in fixed.items()})
        converged &= fit.converged
        kept.append(fit.kept)
        for k in range(len(images)):
            if k not in fixed:
                surfaces[k].coefficients[band] = fit.coefficients[k]
        np.add.at(left_out, compared.first[~fit.kept], 1)
        np.add.at(left_out, compared.second[~fit.kept], 1)
        run.progress.advance()
        run.progress.report()
    if not converged:
        run.warn("The least-squares fit of the surfaces stopped before full convergence; "
                 "results may be slightly inexact.")
    compared_images = set()
    for compared in comparisons:
        compared_images.update(compared.first.tolist() + compared.second.tolist())
    for k, image in enumerate(images):
        if k not in fixed and k not in compared_images and len(images) > 1:
            run.warn(f"Image {image.name!r} shares no block with enough common pixels with "
                     "another image; it gets no local correction.")
    return surfaces, kept, left_out


def _correction_maps(grid, images, surfaces):
    """What each image's surface does at the block centres of its sub-grid (BlockMaps)."""
    corrections = {}
    for k, image in enumerate(images):
        subgrid = _image_subgrid(grid, image)
        row0, row1, col0, col1 = subgrid if subgrid is not None else (0, 0, 0, 0)
        xs = grid.x0 + (np.arange(col0, col1) + 0.5) * grid.block_width
        ys = grid.y1 - (np.arange(row0, row1) + 0.5) * grid.block_height
        points_x, points_y = np.meshgrid(xs, ys)
        values = surfaces[k].correction(points_x.ravel(), points_y.ravel())
        corrections[k] = BlockMap(row0, col0,
                                  values.T.reshape(row1 - row0, col1 - col0, image.count))
    return corrections


def _surface_tags(surface):
    return {MODEL_TAG: "surface", SURFACE_TAG: json.dumps({
        "kind": surface.kind, "order": surface.order, "bounds": list(surface.bounds),
        "coefficients": surface.coefficients.tolist()})}


def _surface_model(run, plan, grid, loaded, options):
    """Smooth correction surfaces fitted to the block comparisons of the overlaps."""
    images, names = plan.images, [image.name for image in plan.images]
    bands = images[0].count
    fixed = _loaded_surfaces(run, loaded, names, images, bands)
    comparisons, kind = _surface_comparisons(run, plan, grid, fixed, options)
    surfaces, kept, left_out = _fit_surfaces(run, plan, comparisons, kind, fixed,
                                             options["robust"])
    correction = _SurfaceCorrection(surfaces, options["alpha"], plan.calculation_dtype)
    corrections = _correction_maps(grid, images, surfaces)

    def maps_to_save(reference_path, template):
        return ([(reference_path, _reference_map(grid, corrections.values(), bands),
                  {MODEL_TAG: "surface"})]
                + [(template.replace("$", name), corrections[k].full(grid),
                    _surface_tags(surfaces[k])) for k, name in enumerate(names)])

    pair_seams, block_seam = _seams(comparisons, surfaces, kind, kept)
    details = {
        "surfaces": {name: {"kind": kind, "order": SURFACE_ORDER,
                            "bounds": list(surfaces[k].bounds),
                            "coefficients": surfaces[k].coefficients.tolist()}
                     for k, name in enumerate(names)},
        "correction_maps": {names[k]: {"row_off": m.row_off, "col_off": m.col_off,
                                       "values": m.values} for k, m in corrections.items()},
        "correction_kind": "gain" if kind == "multiplicative" else "offset",
        "left_out_blocks": dict(zip(names, left_out.tolist())),
        "seams": [[names[i], names[j]] + [[entry.get(band, (np.nan,) * 3)[column]
                                           for band in range(bands)] for column in range(3)]
                  for (i, j), entry in sorted(pair_seams.items())],
        "seam": {"before": _pair_level(pair_seams, bands, 0),
                 "after": _pair_level(pair_seams, bands, 1)},
        "block_seam": block_seam,
    }
    return _LocalModel(correction, maps_to_save, details)


@dataclass
class _SurfaceCorrection:
    """The surface model's correction of a tile: its image's field at the pixel centres."""
    surfaces: dict          # image index -> Surface
    alpha: float
    calculation_dtype: str

    def __call__(self, k, image, window, values, valid):
        surface = self.surfaces[k]
        if surface.is_identity() or self.alpha == 0:
            return values, 0
        return surface.apply(values, *pixel_centres(image, window),
                             np.dtype(self.calculation_dtype).type(self.alpha)), 0


def _pair_level(pair_seams, bands, which):
    """Mosaic-wide mean absolute pair seam per band, weighted by pixel pairs."""
    result = []
    for band in range(bands):
        values = [(abs(entry[band][which]), entry[band][2]) for entry in pair_seams.values()
                  if band in entry]
        total = sum(weight for _, weight in values)
        result.append(sum(v * w for v, w in values) / total if total else 0.0)
    return result


def local_block_adjustment(input_images, output_images, *, calculation_dtype="auto",
                           output_dtype=None, vector_mask=None, debug_logs=False,
                           custom_nodata_value=None, image_parallel_workers=None,
                           window_parallel_workers=None, window_size=None, save_as_cog=False,
                           number_of_blocks=100, alpha=1.0, correction_method="gamma",
                           save_block_maps=None, load_block_maps=None,
                           override_bounds_canvas_coords=None, block_valid_pixel_threshold=0.001,
                           block_statistics="robust", local_model="surface",
                           dask_scheduler=None, progress_callback=None):
    """Balance images locally, with a correction that varies smoothly across each image.

    Parameters are spectralmatch's (names, types and defaults), plus ``block_statistics`` and
    ``local_model``; see docs/DESIGN.md for where this engine differs. ``dask_scheduler`` runs
    the per-image work on a Dask cluster, as for :func:`global_regression`. ``details`` of the
    result hold ``local_model``, ``grid`` (rows, cols), ``canvas``, ``footprints`` ({name: bounds}),
    ``correction_maps`` ({name: {"row_off", "col_off", "values"}}: the correction each block of
    the image's sub-grid applies, rows x cols x bands) and ``correction_kind`` ("gamma": gamma
    exponents, "gain": factors, "offset": added values). The surface model adds ``surfaces``
    ({name: {"kind", "order", "bounds", "coefficients"}}), ``left_out_blocks`` ({name: count}),
    ``seams`` ([name_i, name_j, [mean difference before, per band], [after], [pixel pairs]]),
    ``seam`` and ``block_seam`` ({"before": [...], "after": [...]}: mosaic-wide mean absolute
    difference per band, over pairs and over blocks). The block-means model adds ``shift``,
    ``reference_map`` (rows x cols x bands, NaN = no value), ``local_maps`` (as
    ``correction_maps``, the block means), ``outlier_blocks`` ({name: count}) and per-output
    counts ``unchanged_pixels`` and ``guarded_pixels``.

    ``block_statistics="robust"`` (the default, not in the reference) leaves out a block whose
    comparison disagrees with the others (a cloud, a shadow): in the surface model a block
    comparison that disagrees with the fit of all the others, in the block-means model a block
    mean that disagrees with the other images' means of that block. ``"all_blocks"`` uses them
    all, as the reference does. Saved block maps always hold every block mean.
    """
    _check_options(alpha, correction_method, block_valid_pixel_threshold, save_block_maps,
                   load_block_maps, override_bounds_canvas_coords, block_statistics, local_model)
    blocks_rule = parse_number_of_blocks(number_of_blocks)
    with Run(progress_callback, STAGES[local_model], debug_logs, dask_scheduler) as run:
        plan = plan_run(run, input_images, output_images, "_Local",
                        calculation_dtype=calculation_dtype, output_dtype=output_dtype,
                        vector_mask=vector_mask, custom_nodata_value=custom_nodata_value,
                        image_parallel_workers=image_parallel_workers,
                        window_parallel_workers=window_parallel_workers,
                        window_size=window_size, window_words=("block",),
                        side_files=lambda images: _block_map_paths(save_block_maps, images))
        if local_model == "surface" and correction_method != "gamma":
            run.warn("correction_method applies to the block-means local model only; the "
                     "surface model's correction is multiplicative (or additive).")
        loaded = _load_maps(load_block_maps, plan.images, local_model)
        grid = _block_grid(run, plan, blocks_rule, loaded, override_bounds_canvas_coords)
        build = _surface_model if local_model == "surface" else _block_means_model
        model = build(run, plan, grid, loaded, {
            "alpha": alpha, "correction_method": correction_method,
            "threshold": block_valid_pixel_threshold, "robust": block_statistics == "robust"})
        result, counts = run.apply_pass(plan, model.correction,
                                        "Applying the local corrections", save_as_cog)
        if save_block_maps is not None:
            for path, values, tags in model.maps_to_save(*(os.fspath(p) for p in save_block_maps)):
                run.write_side_file(path, lambda temporary, values=values, tags=tags:
                                    write_block_map(temporary, values, grid, plan.images[0].crs,
                                                    plan.calculation_dtype, tags))
        run.publish()
        if model.after_apply is not None:
            result.details.update(model.after_apply(counts))
        result.details.update(model.details)
        result.details.update({
            "local_model": local_model,
            "footprints": {image.name: list(image.bounds) for image in plan.images},
            "grid": (grid.rows, grid.cols), "canvas": (grid.x0, grid.y0, grid.x1, grid.y1),
        })
        run.progress.finish()
        return result
