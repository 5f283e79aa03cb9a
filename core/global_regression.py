"""Global regression: one scale and offset per image and band, fitted so that overlapping images
agree in mean and standard deviation (Yu et al. 2017, as in spectralmatch's global_regression).

plan -> measure (one streaming pass per image: whole-image and overlap statistics) -> model
(sparse least squares per band) -> apply (one streaming pass per image).
"""
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .adjustments import (build_document, load_adjustments_file, read_sidecar, sidecar_path,
                          write_json)
from .errors import RadioMatchError
from .footprints import connected_groups
from .global_model import ANCHORINGS, OverlapStats, overlap_seams, scale_warnings, solve_model
from .overlaps import Lattice, partner_values, plan_pairs, read_masked
from .robust import fit_line, resolution
from .run import Plan, Run, plan_run
from .statistics import Moments

STAGES = {"statistics": 35, "inliers": 10, "solve": 5, "apply": 45, "finish": 5}
OVERLAP_STATISTICS = ("robust", "all_pixels")


def _model_images(specify_model_images, input_names, model_names, run):
    """Which model images carry anchor rows (the reference's specify_model_images)."""
    included = np.zeros(len(model_names), dtype=bool)
    if specify_model_images is None:
        included[:] = True
        return included
    if (not isinstance(specify_model_images, (tuple, list)) or len(specify_model_images) != 2
            or specify_model_images[0] not in ("include", "exclude")
            or isinstance(specify_model_images[1], str)):
        raise RadioMatchError(
            "specify_model_images must be (\"include\" or \"exclude\", [image names]), "
            f"not {specify_model_images!r}.")
    mode, chosen = specify_model_images[0], set(specify_model_images[1])
    unknown = sorted(chosen - set(input_names))
    if unknown:
        run.warn(f"specify_model_images names no input image called {', '.join(map(repr, unknown))}; "
                 "those names are ignored.")
    for k, name in enumerate(input_names):
        included[k] = (name in chosen) == (mode == "include")
    if not included.any():
        raise RadioMatchError(
            "specify_model_images leaves no image in the model; at least one input image must "
            "be included.")
    return included


@dataclass
class _StatisticsJob:
    """What the statistics pass's tasks share: the plan, per image the overlaps whose partner
    it reads (``partners``, where it is first) or whose lattice sample it takes (``lattices``,
    robust mode), and the images whose whole-image moments are measured."""
    plan: Plan
    partners: dict
    lattices: dict
    measured: set


def _tile_statistics(job, task, context):
    """One tile of image k: its whole-image moments (if measured), and for each overlap
    either the moments of its pixel pairs, reading the partner, or (robust mode) k's side of
    the overlap's lattice sample."""
    k, window = task
    context.check_cancelled()
    plan = job.plan
    image = plan.images[k]
    data, valid = read_masked(context.datasets, plan, image, window)
    whole = Moments.of_tile(data, valid) if k in job.measured else None
    pairs = {}
    for lattice in job.lattices.get(k, []):
        part = lattice.take(k, window, data, valid, plan.images[lattice.pair.first].width)
        if part is not None:
            pairs[(lattice.pair.first, lattice.pair.second)] = part
    for pair in job.partners.get(k, []):
        found = partner_values(context.datasets, plan, image, window, data, valid, pair)
        if found is not None:
            _, first, second, both = found
            pairs[(pair.first, pair.second)] = (Moments.of_tile(first, both),
                                                Moments.of_tile(second, both))
    return whole, pairs


def _fit_pair(lattice, first_parts, second_parts, dtype):
    """One robust line per band from the lattice samples of an overlap (None: too few). The
    data's resolution (1 for integers, a few float ulps otherwise) bounds the inlier band from
    below, so an exact relation does not reject its own rounding noise."""
    _, first, second, both = lattice.matched(first_parts, second_parts)
    fits = []
    for band in range(first.shape[0]):
        x, y = first[band][both[band]], second[band][both[band]]
        fits.append(fit_line(x, y, resolution(dtype, y)))
    return fits


@dataclass
class _InliersJob:
    """What the inlier pass's tasks share: the plan and the robust lines of every overlap."""
    plan: Plan
    fits: dict          # (first, second) -> a LineFit (or None) per band


def _inlier_statistics(job, task, context):
    """Moments of the inlier pairs of one tile of an overlap, and the count of valid pairs."""
    pair, window = task
    context.check_cancelled()
    plan = job.plan
    image = plan.images[pair.first]
    data, valid = read_masked(context.datasets, plan, image, window)
    _, first, second, both = partner_values(context.datasets, plan, image, window, data, valid,
                                            pair)
    keep = both.copy()
    for band, fit in enumerate(job.fits[(pair.first, pair.second)]):
        if fit is not None:
            keep[band] &= fit.inliers(first[band], second[band])
    return (Moments.of_tile(first, keep), Moments.of_tile(second, keep),
            both.sum(axis=(1, 2)))


def _measure(run, plan, pair_plans, images_to_measure, robust):
    """One streaming pass per image: all bands, whole image and overlaps together. In robust
    mode the overlaps are fitted on a sample, then their inliers are measured in a second pass
    over the overlap areas only. Returns (whole, overlaps, rejected share per pair and band)."""
    bands = plan.images[0].count
    partners, lattices = {}, {}
    if robust:
        for pair in pair_plans:
            lattice = Lattice.of(plan.images, pair)
            for k in (pair.first, pair.second):
                lattices.setdefault(k, []).append(lattice)
    else:
        for pair in pair_plans:
            partners.setdefault(pair.first, []).append(pair)
    tasks = [(k, window) for k in images_to_measure
             for window in run.image_tiles(plan, plan.images[k])]
    for k in sorted(set(lattices) - set(images_to_measure)):
        # an image whose statistics were loaded still gives its side of new overlaps' samples
        tasks.extend((k, window) for window in run.tiles_touching(
            plan, plan.images[k], [lattice.extent(k) for lattice in lattices[k]]))
    measured = set(images_to_measure)
    whole = {k: Moments(bands) for k in images_to_measure}
    overlaps = {(pair.first, pair.second): (Moments(bands), Moments(bands)) for pair in pair_plans}
    samples = {key: ([], []) for key in overlaps}
    fits = {}
    tiles_left = Counter(k for k, _ in tasks)

    def take_tile(task, result):
        # Tiles arrive in order, image by image: an overlap is fitted, and its sample freed,
        # as soon as both images are through, so samples stay few however many images there are.
        k = task[0]
        tile_whole, tile_pairs = result
        if tile_whole is not None:
            whole[k].merge(tile_whole)
        for key, found in tile_pairs.items():
            if robust:
                samples[key][0 if k == key[0] else 1].append(found)
            else:
                overlaps[key][0].merge(found[0])
                overlaps[key][1].merge(found[1])
        tiles_left[k] -= 1
        if tiles_left[k] == 0:
            for lattice in lattices.get(k, []):
                first, second = lattice.pair.first, lattice.pair.second
                if tiles_left[first] == 0 and tiles_left[second] == 0:
                    first_parts, second_parts = samples.pop((first, second))
                    dtype = np.dtype(plan.images[second].dtype)
                    fits[(first, second)] = (
                        _fit_pair(lattice, first_parts, second_parts, dtype)
                        if first_parts and second_parts else [None] * bands)

    run.progress.start_stage("statistics", "Computing image and overlap statistics", len(tasks))
    run.run_tasks(_tile_statistics, _StatisticsJob(plan, partners, lattices, measured), tasks,
                  take_tile)
    rejected = {}
    if not robust:
        return whole, overlaps, rejected
    tasks = [(pair, window) for pair in pair_plans
             for window in run.image_tiles(plan, plan.images[pair.first], pair.window)]
    run.progress.start_stage("inliers", "Measuring the overlaps' consistent pixels", len(tasks))
    valid_pairs = {key: np.zeros(bands, dtype=np.int64) for key in overlaps}

    def take_inliers(task, result):
        key = (task[0].first, task[0].second)
        first_moments, second_moments, count = result
        overlaps[key][0].merge(first_moments)
        overlaps[key][1].merge(second_moments)
        valid_pairs[key] += count

    run.run_tasks(_inlier_statistics, _InliersJob(plan, fits), tasks, take_inliers)
    for key, count in valid_pairs.items():
        kept = overlaps[key][0].count
        rejected[key] = np.where(count > 0, 1.0 - kept / np.where(count > 0, count, 1), 0.0)
    return whole, overlaps, rejected


def _check_options(anchoring, overlap_statistics, custom_mean_factor, custom_std_factor):
    if anchoring not in ANCHORINGS:
        raise RadioMatchError(f"anchoring must be \"set\" or \"per_image\", not {anchoring!r}.")
    if overlap_statistics not in OVERLAP_STATISTICS:
        raise RadioMatchError(
            f"overlap_statistics must be \"robust\" or \"all_pixels\", not {overlap_statistics!r}.")
    for name, factor in (("custom_mean_factor", custom_mean_factor),
                         ("custom_std_factor", custom_std_factor)):
        if (isinstance(factor, bool) or not isinstance(factor, (int, float))
                or not np.isfinite(factor) or factor < 0):
            raise RadioMatchError(f"{name} must be a non-negative number, not {factor!r}.")


@dataclass
class _Model:
    """The statistics the model is solved from."""
    names: list         # model images: the inputs, then images known only from a loaded file
    whole: dict         # index -> (mean, std, size) per band, before correction
    overlaps: dict      # (i, j) -> image i's (mean, std, size) in its overlap with j
    pairs: list         # OverlapStats of every pair i < j
    rejected: dict      # (i, j) -> share of the valid pixel pairs left out as outliers, per band


def _statistics(run, plan, names, stored, robust):
    """Measure what the loaded adjustments (``stored``: names, whole, overlaps) do not hold and
    combine both into a :class:`_Model` of the model images ``names``."""
    images = plan.images
    input_names = names[:len(images)]
    _, stored_whole, stored_overlaps = stored
    position = {name: k for k, name in enumerate(names)}
    pair_plans = plan_pairs(images, skip=lambda i, j: (input_names[i], input_names[j])
                            in stored_overlaps)
    to_measure = sorted({k for k, name in enumerate(input_names) if name not in stored_whole}
                        | {pair.first for pair in pair_plans})
    measured_whole, measured_overlaps, rejected = _measure(run, plan, pair_plans, to_measure,
                                                           robust)
    whole = {}
    for k, name in enumerate(names):
        if name in stored_whole:
            whole[k] = tuple(np.asarray(column, dtype=float) for column in stored_whole[name])
        else:
            moments = measured_whole[k]
            whole[k] = (moments.mean, moments.std, moments.count)
    overlaps = {}
    for (i, j), (first, second) in measured_overlaps.items():
        overlaps[(i, j)] = (first.mean, first.std, first.count)
        overlaps[(j, i)] = (second.mean, second.std, second.count)
    for (name, other), stats in stored_overlaps.items():
        if name in position and other in position:
            overlaps[(position[name], position[other])] = tuple(
                np.asarray(column, dtype=float) for column in stats)
    pairs = []
    for (i, j), (mean_i, std_i, size) in sorted(overlaps.items()):
        if i < j:
            mean_j, std_j, _ = overlaps[(j, i)]
            pairs.append(OverlapStats(i, j, mean_i, std_i, mean_j, std_j,
                                      np.asarray(size, dtype=float)))
    return _Model(names, whole, overlaps, pairs, rejected)


def _warn_about_pairs(run, model):
    for pair in model.pairs:
        names = model.names
        if not np.any(pair.size > 0):
            run.warn(f"Images {names[pair.first]!r} and {names[pair.second]!r} overlap but share "
                     "no valid pixel; the pair is left out of the model.")
        for band in np.flatnonzero((pair.size > 0) & ((pair.std_first == 0)
                                                      | (pair.std_second == 0))):
            flat = pair.first if pair.std_first[band] == 0 else pair.second
            run.warn(f"Image {names[flat]!r} is constant in its overlap of "
                     f"{names[pair.first]!r} and {names[pair.second]!r} "
                     f"(band {band + 1}); their contrasts are not matched there.")


def _warn_about_groups(run, model, groups, included, anchoring, inputs):
    """Separate groups, and (set anchoring) groups without a model image."""
    members = {}
    for k, label in enumerate(groups):
        members.setdefault(label, []).append(k)

    def described(indices):
        names = [model.names[k] for k in indices]
        return ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")

    if len(members) == len(groups):
        run.warn("No two images overlap with valid pixels: there is nothing to balance and "
                 "every image is left unchanged.")
    elif len(members) > 1:
        run.warn(f"The images form {len(members)} separate groups without overlaps between "
                 "them; each group is balanced on its own: "
                 + "; ".join(described(indices) for indices in members.values()) + ".")
    if anchoring == "set" and not included.all():
        for indices in members.values():
            if len(indices) > 1 and not included[indices].any() and min(indices) < inputs:
                run.warn(f"No model image overlaps the group {described(indices)}: its images "
                         "are balanced among themselves and keep their own overall level.")


def _solve(run, model, included, anchoring, mean_factor, std_factor, inputs):
    run.progress.start_stage("solve", "Solving the global model", 1)
    count, bands = len(model.names), len(model.whole[0][0])
    whole_mean = np.array([model.whole[k][0] for k in range(count)], dtype=float)
    whole_std = np.array([model.whole[k][1] for k in range(count)], dtype=float)
    whole_mean, whole_std = whole_mean.reshape(count, bands), whole_std.reshape(count, bands)
    solution = solve_model(included, whole_mean, whole_std, model.pairs, float(mean_factor),
                           float(std_factor), anchoring)
    if not solution.converged:
        run.warn("The least-squares solver stopped before full convergence; results may be "
                 "slightly inexact.")
    for k in solution.unconstrained:
        if k < inputs:
            run.warn(f"Image {model.names[k]!r} has no constraint in the model (excluded and "
                     "without an overlapping model image); it is left unchanged.")
    links = [(pair.first, pair.second) for pair in model.pairs if np.any(pair.size > 0)]
    groups = connected_groups(count, links)
    _warn_about_groups(run, model, groups, included, anchoring, inputs)
    for message in scale_warnings(model.names, solution.scales):
        run.warn(message)
    run.progress.advance()
    run.progress.report()
    return solution, groups


def _image_record(image):
    return {"width": image.width, "height": image.height,
            "bounds": [float(value) for value in image.bounds]}


def _check_stored_images(run, path, images, stored_whole):
    """Warn when the loaded adjustments file's metadata describes other images than these
    under the same names (a file saved for another dataset)."""
    recorded = read_sidecar(path).get("images", {})
    for image in images:
        entry = recorded.get(image.name)
        if image.name not in stored_whole or not isinstance(entry, dict):
            continue
        current = _image_record(image)
        different = [key for key in ("width", "height") if entry.get(key) != current[key]]
        stored_bounds = entry.get("bounds")
        tolerance = 0.5 * max(image.pixel_size)
        if (not isinstance(stored_bounds, list) or len(stored_bounds) != 4
                or not all(isinstance(v, (int, float)) for v in stored_bounds)
                or max(abs(a - b) for a, b in zip(stored_bounds, current["bounds"])) > tolerance):
            different.append("extent")
        if different:
            run.warn(f"The adjustments file {path!r} does not describe the image {image.name!r}: "
                     f"its {', '.join(different)} differ from the file's record "
                     f"({entry.get('width')} x {entry.get('height')} pixels, extent "
                     f"{stored_bounds}; here {image.width} x {image.height}, extent "
                     f"{current['bounds']}). Its stored statistics are used as they are; "
                     "check that the file belongs to these images.")


def _save_adjustments(run, plan, model, solution, path, settings):
    images = plan.images
    inputs = len(images)
    document = build_document(
        model.names[:inputs], solution.scales, solution.offsets,
        {k: model.whole[k] for k in range(inputs)},
        {key: value for key, value in model.overlaps.items()
         if key[0] < inputs and key[1] < inputs})
    run.write_side_file(path, lambda temporary: write_json(temporary, document))
    metadata = {
        "tool": "radiomatch global_regression",
        "bands": images[0].count, "crs": images[0].crs.to_string(),
        # JSON has no NaN: a NaN nodata is written as the string "nan"
        "nodata": ("nan" if plan.nodata is not None and np.isnan(plan.nodata)
                   else plan.nodata),
        **settings,
        "overlap_weight": ("pixel_pairs" if settings["anchoring"] == "per_image"
                           else "sqrt_pixel_pairs"),
        "std_ddof": 0,
        "images": {image.name: _image_record(image) for image in images},
        "warnings": run.warnings,
    }
    run.write_side_file(sidecar_path(path), lambda temporary: write_json(temporary, metadata))


def _seam_details(model, solution, inputs):
    """The seams before and after: per overlap of two input images and band the difference of
    the two images' means over their common (inlier) pixels, and mosaic-wide the mean absolute
    difference weighted by the pixel pairs."""
    pairs = [pair for pair in model.pairs
             if pair.first < inputs and pair.second < inputs and np.any(pair.size > 0)]
    before, after = overlap_seams(pairs, solution.scales, solution.offsets)
    sizes = np.array([pair.size for pair in pairs]).reshape(before.shape)
    total = np.maximum(sizes.sum(axis=0), 1.0)
    return {
        "seams": [[model.names[pair.first], model.names[pair.second], before[p].tolist(),
                   after[p].tolist(), sizes[p].tolist()] for p, pair in enumerate(pairs)],
        "seam": {"before": ((np.abs(before) * sizes).sum(axis=0) / total).tolist(),
                 "after": ((np.abs(after) * sizes).sum(axis=0) / total).tolist()},
    }


@dataclass
class _LinearCorrection:
    """``scale x value + offset`` per image and band, in the calculation dtype."""
    scales: np.ndarray
    offsets: np.ndarray

    def __call__(self, k, image, window, values, valid):
        return values * self.scales[k][:, None, None] + self.offsets[k][:, None, None], 0


def global_regression(input_images, output_images, *, calculation_dtype="auto",
                      output_dtype=None, vector_mask=None, debug_logs=False,
                      custom_nodata_value=None, image_parallel_workers=None,
                      window_parallel_workers=None, window_size=None, save_as_cog=False,
                      specify_model_images=None, custom_mean_factor=1.0, custom_std_factor=1.0,
                      save_adjustments=None, load_adjustments=None, overlap_statistics="robust",
                      anchoring="set", dask_scheduler=None, progress_callback=None):
    """Balance overlapping images with one linear correction per image and band.

    Parameters are spectralmatch's (names, types and defaults), plus ``overlap_statistics``
    and ``anchoring``; see docs/DESIGN.md for the decisions where this engine differs.
    ``dask_scheduler`` (spectralmatch 1.6's name) runs the per-image work on a Dask cluster: a
    scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``; None (the default)
    runs on this machine's threads. The outputs are the same either way. Returns
    a :class:`RunResult` whose ``details`` hold ``adjustments`` ({name: {"scale": [...],
    "offset": [...]}}), ``groups`` (group label per image), ``whole_stats`` ({name: {"mean":
    [...], "std": [...]}} before correction), ``footprints`` ({name: [left, bottom, right,
    top]}), ``overlaps`` ([name_i, name_j, valid pixel pairs of band 1]), ``overlap_rejected``,
    ``seams`` ([name_i, name_j, [difference of means before, per band], [after], [pixel
    pairs]]) and ``seam`` ({"before": [...], "after": [...]} mosaic-wide, per band).
    """
    _check_options(anchoring, overlap_statistics, custom_mean_factor, custom_std_factor)
    with Run(progress_callback, STAGES, debug_logs, dask_scheduler) as run:
        plan = plan_run(run, input_images, output_images, "_Global",
                        calculation_dtype=calculation_dtype, output_dtype=output_dtype,
                        vector_mask=vector_mask, custom_nodata_value=custom_nodata_value,
                        image_parallel_workers=image_parallel_workers,
                        window_parallel_workers=window_parallel_workers,
                        window_size=window_size, window_words=("internal",),
                        side_files=lambda images: (
                            [] if save_adjustments is None
                            else [save_adjustments, sidecar_path(save_adjustments)]))
        images = plan.images
        inputs = len(images)
        stored = ([], {}, {})
        if load_adjustments is not None:
            stored = load_adjustments_file(load_adjustments, images[0].count)
            _check_stored_images(run, load_adjustments, images, stored[1])
        input_names = [image.name for image in images]
        model_names = input_names + [name for name in stored[0] if name not in input_names]
        included = _model_images(specify_model_images, input_names, model_names, run)
        model = _statistics(run, plan, model_names, stored, overlap_statistics == "robust")
        _warn_about_pairs(run, model)
        solution, groups = _solve(run, model, included, anchoring, custom_mean_factor,
                                  custom_std_factor, inputs)

        calculation = np.dtype(plan.calculation_dtype)
        correction = _LinearCorrection(solution.scales.astype(calculation),
                                       solution.offsets.astype(calculation))
        result, _ = run.apply_pass(plan, correction, "Applying the corrections", save_as_cog)
        if save_adjustments is not None:
            _save_adjustments(run, plan, model, solution, save_adjustments, {
                "anchoring": anchoring, "overlap_statistics": overlap_statistics,
                "custom_mean_factor": custom_mean_factor,
                "custom_std_factor": custom_std_factor})
        run.publish()
        result.details["adjustments"] = {
            name: {"scale": solution.scales[k].tolist(), "offset": solution.offsets[k].tolist()}
            for k, name in enumerate(input_names)}
        result.details["groups"] = [int(label) for label in groups[:inputs]]
        result.details["whole_stats"] = {
            name: {"mean": np.asarray(model.whole[k][0], dtype=float).tolist(),
                   "std": np.asarray(model.whole[k][1], dtype=float).tolist()}
            for k, name in enumerate(input_names)}
        result.details["overlap_rejected"] = [
            [input_names[i], input_names[j], share.tolist()]
            for (i, j), share in model.rejected.items()]
        result.details["footprints"] = {image.name: list(image.bounds) for image in images}
        result.details["overlaps"] = [
            [model.names[o.first], model.names[o.second], int(o.size[0])]
            for o in model.pairs if o.first < inputs and o.second < inputs]
        result.details.update(_seam_details(model, solution, inputs))
        run.progress.finish()
        return result
