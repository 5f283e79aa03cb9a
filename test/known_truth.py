"""Known-truth cases: real imagery with known radiometric distortions, and scores of a run's
outputs against the undistorted truth.

Every case is cut from the Landsat 7 scene in ``test/data`` (791 x 718, 3 x uint8, nodata 0
around a rotated footprint) on its own pixel grid, so overlaps are pixel-aligned. The truth of
a tile is the scene (its DN plus a fixed dither of +-0.5 DN, see :func:`scene`) on the tile's
grid on the case's numeric scale (float64); a tile stores the truth seen through its own
distortion::

    input = gain * illumination * ((1 - cloud) * truth + cloud * cloud_level) + offset

with one gain (0.7-0.95 or 1.05-1.3) and offset (-20..+40 scene DN, on the case's scale) per
tile and band, an optional smooth multiplicative illumination field per tile, and an optional
cloud opacity (0 = ground, smooth edge) in one tile only. Storage:

* integer cases are uint16, nodata 0, truth = 64 x (scene DN + 50): the x 64 makes the
  rounding of the stored values (0.29 RMS) about 1/1,000 of a typical distortion (hundreds to
  thousands), and the pedestal of 50 DN keeps gain 0.7 x illumination 0.7 x the darkest pixel
  above an offset of -20 DN, so no valid pixel is clipped or becomes nodata;
* ``float_reflectance`` is float32, truth = scene DN x 0.002 - 0.05 (negatives included),
  nodata -9999 or NaN.

Files are tiled (256 x 256) DEFLATE GeoTIFFs. Every generator takes the folder to write into
and returns a :class:`Case`.

Scores (0 = perfect, 1 = as bad as the inputs; above 1 = worse than doing nothing):

* **seam** (:func:`seam_score`): the mean absolute difference between overlapping tiles over
  their common valid, scored pixels, pooled over all overlapping pairs and bands, each band
  divided by the standard deviation of that band of the truth mosaic; outputs' figure over
  the inputs' figure.
* **error** (:func:`error_score`): per band, the outputs of all tiles (valid, scored pixels,
  pooled) are fitted as ``g * truth + h`` by least squares, and the residual RMS is divided
  by ``|g|`` (so it is in truth units and does not depend on the overall scale the outputs
  land on: which common level a mosaic takes is a free choice, the agreement with the truth
  up to that choice is the quality); outputs' figure over the inputs', averaged over bands.
  :func:`truth_rmse` gives the per-band figure itself, to be compared with
  :func:`distortion_rmse` (RMS of input - truth), e.g. "within 0.5 % of the distortion".

Pixels under a cloud are a real change of the ground, not radiometry: they are left out of
both scores and of the distortion RMSE (``Case.scored``). :func:`overlap_mean_differences`
gives, per overlapping pair and band, the difference of the two tiles' means over their common
valid pixels, and :func:`exact_global_outputs` the best any global correction can do: the true
gain and offset inverted (an illumination field and a cloud stay).

numpy and rasterio only; no engine, no QGIS. Tests import it as ``import known_truth`` (pytest
puts ``test/`` on ``sys.path``, as for ``core_helpers``).
"""
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import rasterio
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

SCENE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                          "landsat7_rgb_byte.tif")

DN_SCALE = 64.0                 # uint16 truth = DN_SCALE * (scene DN + DN_PEDESTAL)
DN_PEDESTAL = 50.0
UINT16_NODATA = 0
REFLECTANCE_SCALE = 0.002       # float truth = scene DN * REFLECTANCE_SCALE + REFLECTANCE_OFFSET
REFLECTANCE_OFFSET = -0.05
FLOAT_NODATA = -9999.0
SCENE_DITHER_SEED = 2017

GAIN_RANGE = (0.7, 1.3)
MIN_GAIN_CHANGE = 0.05
OFFSET_RANGE_DN = (-20.0, 40.0)     # in scene DN, times the case's scale
ILLUMINATION_RANGE = (0.1, 0.3)     # peak to peak of a tile's multiplicative field

CREATION_OPTIONS = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256,
                    "compress": "deflate"}


@dataclass
class Case:
    """A generated case. Per tile k: ``paths[k]`` the distorted GeoTIFF, ``windows[k]`` its
    (row_off, col_off, height, width) in scene pixels, ``truth[k]`` the undistorted values
    (bands, rows, cols) float64, ``valid[k]`` (rows, cols) its valid pixels, ``scored[k]``
    the valid pixels not touched by the cloud; ``gains`` and ``offsets`` (tiles, bands);
    ``illumination[k]`` (rows, cols) and the cloud opacity ``cloud[k]`` (rows, cols), or None
    for the whole case; ``cloud_level`` (bands,) on the truth's scale; ``groups[k]`` the group
    of tiles k belongs to (tiles of different groups never overlap)."""
    name: str
    paths: list
    windows: list
    truth: list
    valid: list
    scored: list
    gains: np.ndarray
    offsets: np.ndarray
    dtype: str
    nodata: float
    groups: list
    illumination: list = None
    cloud: list = None
    cloud_level: np.ndarray = None

    @property
    def bands(self):
        return self.truth[0].shape[0]


# --- the scene -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def scene():
    """(dn, valid, transform, crs): the scene's digital numbers (3, rows, cols) float64 and
    its valid pixels (all three bands non-zero, so every band has the same footprint).

    A fixed uniform dither of +-0.5 DN (the scene's own quantisation step) is added: with
    only 255 levels, every pixel of a level would otherwise round the same way in a distorted
    tile, and those rounding errors would not average out in an overlap's mean (0.1-0.4 DN
    of mean difference left after an exact correction instead of about 0.01). The arrays are
    read-only: every case derives from them."""
    with rasterio.open(SCENE_PATH) as dataset:
        raw = dataset.read()
        transform, crs = dataset.transform, dataset.crs
    valid = np.all(raw > 0, axis=0)
    dn = raw + np.random.default_rng(SCENE_DITHER_SEED).uniform(-0.5, 0.5, raw.shape)
    dn.setflags(write=False)
    valid.setflags(write=False)
    return dn, valid, transform, crs


def uint16_truth(dn):
    return DN_SCALE * (dn + DN_PEDESTAL)


def grid_windows(rows, cols, overlap, region=None):
    """Windows (row_off, col_off, height, width) of a rows x cols grid of equal tiles covering
    ``region`` (row_off, col_off, height, width; default the whole scene), neighbours sharing
    about ``overlap`` of a tile side."""
    if region is None:
        _, valid, _, _ = scene()
        region = (0, 0) + valid.shape
    row0, col0, height, width = region
    tile_h, row_offsets = _axis_layout(height, rows, overlap)
    tile_w, col_offsets = _axis_layout(width, cols, overlap)
    return [(row0 + r, col0 + c, tile_h, tile_w) for r in row_offsets for c in col_offsets]


def _axis_layout(length, count, overlap):
    size = int(length / (count - (count - 1) * overlap))
    step = (length - size) // (count - 1) if count > 1 else 0
    return size, [k * step for k in range(count)]


# --- distortions ---------------------------------------------------------------------------

def random_gains_offsets(rng, tiles, bands, unit):
    """Gains in GAIN_RANGE but at least MIN_GAIN_CHANGE away from 1, and offsets in
    OFFSET_RANGE_DN x ``unit`` (the case's value of one scene DN), one per tile and band.

    Why not near 1: an integer tile with a gain within about 1 / (its largest value) of 1,
    once corrected, rounds every pixel the way its input was rounded, which leaves a constant
    bias of up to half a unit (0.36 seen) in its overlap means instead of noise that averages
    out."""
    low, high = GAIN_RANGE
    sides = rng.choice([-1.0, 1.0], size=(tiles, bands))
    gains = 1 + sides * rng.uniform(MIN_GAIN_CHANGE, np.where(sides < 0, 1 - low, high - 1))
    offsets = rng.uniform(*OFFSET_RANGE_DN, size=(tiles, bands)) * unit
    return gains, offsets


def _pixel_coordinates(shape):
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    return rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2


def vignetting(shape, strength):
    """1 at the tile centre, 1 - strength at its corners (quadratic fall-off)."""
    y, x = _pixel_coordinates(shape)
    r2 = (y / (shape[0] / 2)) ** 2 + (x / (shape[1] / 2)) ** 2
    return 1.0 - strength * r2 / r2.max()


def tilted_plane(shape, strength, angle):
    """A plane of mean 1 tilted towards ``angle`` (radians), ``strength`` peak to peak."""
    y, x = _pixel_coordinates(shape)
    ramp = x * np.cos(angle) + y * np.sin(angle)
    return 1.0 + strength * ramp / (ramp.max() - ramp.min())


def random_illumination(rng, shape):
    """A vignetting or a tilted plane, 10-30 % peak to peak, drawn from ``rng``."""
    strength = rng.uniform(*ILLUMINATION_RANGE)
    if rng.random() < 0.5:
        return vignetting(shape, strength)
    return tilted_plane(shape, strength, rng.uniform(0, 2 * np.pi))


def cloud_opacity(shape, centre, radius, rng):
    """A cloud-like blob: opacity 1 in its core, a smooth edge (smoothstep over half the
    radius) and exactly 0 outside; its outline wobbles with the angle."""
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    dy, dx = rows - centre[0], cols - centre[1]
    theta = np.arctan2(dy, dx)
    phases = rng.uniform(0, 2 * np.pi, 2)
    outline = radius * (1 + 0.15 * np.sin(3 * theta + phases[0])
                        + 0.1 * np.sin(5 * theta + phases[1]))
    t = np.clip((outline - np.hypot(dy, dx)) / (0.5 * radius), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def cloud_in_overlap(windows, cloudy, partner, rng):
    """Per-tile opacities: a blob in tile ``cloudy`` centred in its overlap with ``partner``
    (zeros elsewhere, so the partner sees the ground there)."""
    top = max(windows[cloudy][0], windows[partner][0])
    left = max(windows[cloudy][1], windows[partner][1])
    bottom = min(windows[cloudy][0] + windows[cloudy][2], windows[partner][0] + windows[partner][2])
    right = min(windows[cloudy][1] + windows[cloudy][3], windows[partner][1] + windows[partner][3])
    if bottom <= top or right <= left:
        raise ValueError(f"tiles {cloudy} and {partner} do not overlap")
    centre = ((top + bottom) / 2 - windows[cloudy][0], (left + right) / 2 - windows[cloudy][1])
    radius = 0.4 * min(bottom - top, right - left)
    return [cloud_opacity(w[2:], centre, radius, rng) if k == cloudy else np.zeros(w[2:])
            for k, w in enumerate(windows)]


def middle_pair(rows, cols):
    """A tile near the middle of the grid and its right neighbour (or the one below, in a
    single column)."""
    first = ((rows - 1) // 2) * cols + (cols - 1) // 2
    if cols > 1:
        return first, first + 1
    if rows > 1:
        return first, first + cols
    raise ValueError("a single tile has no overlap for a cloud")


def rotated_footprint(shape, angle, fill):
    """The tile's pixels inside a rectangle of ``fill`` x the tile's size, rotated by
    ``angle`` (radians) about the tile centre: the valid area of a rotated scene, with
    nodata collars along the tile edges."""
    y, x = _pixel_coordinates(shape)
    u = x * np.cos(angle) + y * np.sin(angle)
    v = -x * np.sin(angle) + y * np.cos(angle)
    return (np.abs(u) <= fill * shape[1] / 2) & (np.abs(v) <= fill * shape[0] / 2)


# --- writing and reading -------------------------------------------------------------------

def write_tile(path, values, valid, window, dtype, nodata):
    """Write (bands, rows, cols) float ``values`` on the scene grid at ``window``; integers
    are rounded half away from zero. Invalid pixels become ``nodata``. A valid pixel that the
    dtype cannot hold, or that would read as nodata, is an error: cases must be exact."""
    dtype = np.dtype(dtype)
    data = np.array(values, dtype=np.float64)
    if np.issubdtype(dtype, np.integer):
        data = np.trunc(data + np.copysign(0.5, data))
        info = np.iinfo(dtype)
        low, high = info.min, info.max
    else:
        low, high = np.finfo(dtype).min, np.finfo(dtype).max
    kept = data[:, valid]
    if kept.size and (kept.min() < low or kept.max() > high or np.any(kept == nodata)):
        raise ValueError(f"{path}: valid values outside {dtype.name} or equal to nodata {nodata}")
    data[:, ~valid] = nodata
    _, _, transform, crs = scene()
    row_off, col_off, height, width = window
    profile = dict(CREATION_OPTIONS, width=width, height=height, count=data.shape[0],
                   dtype=dtype.name, crs=crs, nodata=nodata,
                   predictor=2 if np.issubdtype(dtype, np.integer) else 3,
                   transform=window_transform(Window(col_off, row_off, width, height), transform))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data.astype(dtype))
    return path


def read_tile(path):
    """(values, valid): float64 (bands, rows, cols) and its per-band validity (finite and
    not nodata)."""
    with rasterio.open(path) as dataset:
        values = dataset.read().astype(np.float64)
        nodata = dataset.nodata
    valid = np.isfinite(values)
    if nodata is not None and not np.isnan(nodata):
        valid &= values != nodata
    return values, valid


def write_like_inputs(case, arrays, folder):
    """Write per-tile arrays (bands, rows, cols) as the case's tiles would be (same names,
    grids, dtype, nodata and valid pixels) into ``folder``; returns the paths."""
    return [write_tile(os.path.join(folder, os.path.basename(path)), values, valid, window,
                       case.dtype, case.nodata)
            for path, values, valid, window in zip(case.paths, arrays, case.valid, case.windows)]


def exact_global_outputs(case, folder):
    """The exact global correction of the case's tiles: each tile's true gain and offset
    inverted, (input - offset) / gain, written like the inputs into ``folder``. An
    illumination field or a cloud stays: this is the best any method with one gain and offset
    per image can do. Returns the paths."""
    arrays = []
    for k, path in enumerate(case.paths):
        values, _ = read_tile(path)
        arrays.append((values - case.offsets[k][:, None, None]) / case.gains[k][:, None, None])
    return write_like_inputs(case, arrays, folder)


# --- building a case -----------------------------------------------------------------------

def build_case(name, folder, truth_scene, windows, gains, offsets, *, dtype, nodata,
               footprints=None, illumination=None, cloud=None, cloud_level=None, groups=None):
    """Cut each window from ``truth_scene``, distort it and write it as ``<folder>/<name>_<k>.tif``.
    ``footprints``, ``illumination`` and ``cloud`` are per-tile arrays (or None)."""
    _, scene_valid, _, _ = scene()
    case = Case(name=name, paths=[], windows=list(windows), truth=[], valid=[], scored=[],
                gains=gains, offsets=offsets, dtype=np.dtype(dtype).name, nodata=nodata,
                groups=list(groups) if groups is not None else [0] * len(windows),
                illumination=illumination, cloud=cloud, cloud_level=cloud_level)
    for k, (row_off, col_off, height, width) in enumerate(windows):
        truth = truth_scene[:, row_off:row_off + height, col_off:col_off + width].copy()
        valid = scene_valid[row_off:row_off + height, col_off:col_off + width].copy()
        if footprints is not None:
            valid &= footprints[k]
        seen = truth
        if cloud is not None:
            seen = (1 - cloud[k]) * truth + cloud[k] * cloud_level[:, None, None]
        if illumination is not None:
            seen = illumination[k] * seen
        distorted = gains[k][:, None, None] * seen + offsets[k][:, None, None]
        path = os.path.join(folder, f"{name}_{k}.tif")
        write_tile(path, distorted, valid, windows[k], dtype, nodata)
        case.paths.append(path)
        case.truth.append(truth)
        case.valid.append(valid)
        case.scored.append(valid & (cloud[k] == 0) if cloud is not None else valid)
    return case


def _saturated_level(truth_scene):
    """Per band, the brightest valid truth value: what a thick cloud looks like."""
    _, valid, _, _ = scene()
    return truth_scene[:, valid].max(axis=1)


# --- the cases -----------------------------------------------------------------------------

def gain_offset_grid(folder, rows=3, cols=3, overlap=0.3, seed=1):
    """A rows x cols grid (a strip with rows=1) of uint16 tiles with a gain and an offset per
    tile and band."""
    dn, _, _, _ = scene()
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(np.random.default_rng(seed), len(windows), 3, DN_SCALE)
    return build_case("gain_offset_grid", folder, uint16_truth(dn), windows, gains, offsets,
                      dtype="uint16", nodata=UINT16_NODATA)


def cloud(folder, rows=3, cols=3, overlap=0.3, seed=2):
    """The grid with a bright cloud in one tile, inside its overlap with its right (or lower)
    neighbour, which sees the ground there."""
    dn, _, _, _ = scene()
    truth_scene = uint16_truth(dn)
    rng = np.random.default_rng(seed)
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(rng, len(windows), 3, DN_SCALE)
    opacity = cloud_in_overlap(windows, *middle_pair(rows, cols), rng)
    return build_case("cloud", folder, truth_scene, windows, gains, offsets, dtype="uint16",
                      nodata=UINT16_NODATA, cloud=opacity,
                      cloud_level=_saturated_level(truth_scene))


def illumination(folder, rows=3, cols=3, overlap=0.3, seed=3):
    """The grid where each tile also carries its own smooth multiplicative field (a
    vignetting or a tilted plane, 10-30 % peak to peak)."""
    dn, _, _, _ = scene()
    rng = np.random.default_rng(seed)
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(rng, len(windows), 3, DN_SCALE)
    fields = [random_illumination(rng, w[2:]) for w in windows]
    return build_case("illumination", folder, uint16_truth(dn), windows, gains, offsets,
                      dtype="uint16", nodata=UINT16_NODATA, illumination=fields)


def rotated(folder, rows=3, cols=3, overlap=0.4, seed=4):
    """The grid where each tile's valid area is a rectangle rotated by 10-25 degrees (either
    way) inside the tile, nodata outside, with a gain and an offset per tile and band."""
    dn, _, _, _ = scene()
    rng = np.random.default_rng(seed)
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(rng, len(windows), 3, DN_SCALE)
    footprints = [rotated_footprint(w[2:], np.radians(rng.uniform(10, 25) * rng.choice([-1, 1])),
                                    rng.uniform(0.85, 0.95)) for w in windows]
    return build_case("rotated", folder, uint16_truth(dn), windows, gains, offsets,
                      dtype="uint16", nodata=UINT16_NODATA, footprints=footprints)


def float_reflectance(folder, rows=3, cols=3, overlap=0.3, seed=5, nodata=FLOAT_NODATA,
                      illuminated=False):
    """The grid as float32 reflectance-like values (scene DN x 0.002 - 0.05, negatives
    included) with nodata -9999 (or ``nodata=float("nan")``); ``illuminated``: each tile
    also under its own illumination field, as in :func:`illumination`."""
    dn, _, _, _ = scene()
    rng = np.random.default_rng(seed)
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(rng, len(windows), 3, REFLECTANCE_SCALE)
    fields = [random_illumination(rng, w[2:]) for w in windows] if illuminated else None
    return build_case("illuminated_reflectance" if illuminated else "float_reflectance", folder,
                      dn * REFLECTANCE_SCALE + REFLECTANCE_OFFSET, windows, gains, offsets,
                      dtype="float32", nodata=nodata, illumination=fields)


def eight_band_scene(seed):
    """Eight bands in scene DN from the three real ones: distinct positive mixes (weights
    summing to 1) plus a faint wave of +-3 DN of its own per band, so that no band is a
    linear combination of the others."""
    dn, _, _, _ = scene()
    rng = np.random.default_rng([seed, 8])
    mixes = rng.dirichlet([1.0, 1.0, 1.0], size=8)
    rows, cols = np.mgrid[0:dn.shape[1], 0:dn.shape[2]].astype(np.float64)
    bands = []
    for mix in mixes:
        angle, wavelength = rng.uniform(0, np.pi), rng.uniform(40, 120)
        phase = rng.uniform(0, 2 * np.pi)
        wave = 3.0 * np.sin(2 * np.pi * (cols * np.cos(angle) + rows * np.sin(angle)) / wavelength
                            + phase)
        bands.append(np.tensordot(mix, dn, axes=1) + wave)
    return np.stack(bands)


def eight_bands(folder, rows=3, cols=3, overlap=0.3, seed=6, illuminated=False):
    """The grid with eight uint16 bands (see :func:`eight_band_scene`) and a cloud in one
    overlap, as in :func:`cloud`; ``illuminated``: each tile also under its own illumination
    field, as in :func:`illumination`."""
    truth_scene = uint16_truth(eight_band_scene(seed))
    rng = np.random.default_rng(seed)
    windows = grid_windows(rows, cols, overlap)
    gains, offsets = random_gains_offsets(rng, len(windows), 8, DN_SCALE)
    opacity = cloud_in_overlap(windows, *middle_pair(rows, cols), rng)
    fields = [random_illumination(rng, w[2:]) for w in windows] if illuminated else None
    return build_case("illuminated_eight_bands" if illuminated else "eight_bands", folder,
                      truth_scene, windows, gains, offsets, dtype="uint16",
                      nodata=UINT16_NODATA, cloud=opacity,
                      cloud_level=_saturated_level(truth_scene), illumination=fields)


def illuminated_reflectance(folder, **options):
    """:func:`float_reflectance` with an illumination field per tile."""
    return float_reflectance(folder, illuminated=True, **options)


def illuminated_eight_bands(folder, **options):
    """:func:`eight_bands` (with its cloud) with an illumination field per tile."""
    return eight_bands(folder, illuminated=True, **options)


# Two regions of the scene 90 rows apart, each cut into a pair of overlapping tiles.
DISCONNECTED_REGIONS = ((60, 150, 250, 420), (400, 60, 250, 420))


def disconnected(folder, overlap=0.3, seed=7):
    """Two groups of two overlapping uint16 tiles; no tile of one group overlaps the other
    group, so nothing ties the groups' levels together."""
    dn, _, _, _ = scene()
    windows, groups = [], []
    for group, region in enumerate(DISCONNECTED_REGIONS):
        region_windows = grid_windows(1, 2, overlap, region)
        windows += region_windows
        groups += [group] * len(region_windows)
    gains, offsets = random_gains_offsets(np.random.default_rng(seed), len(windows), 3, DN_SCALE)
    return build_case("disconnected", folder, uint16_truth(dn), windows, gains, offsets,
                      dtype="uint16", nodata=UINT16_NODATA, groups=groups)


CASES = {generator.__name__: generator for generator in (
    gain_offset_grid, cloud, illumination, rotated, float_reflectance, eight_bands, disconnected,
    illuminated_reflectance, illuminated_eight_bands)}


# --- scores --------------------------------------------------------------------------------

def tile_windows(paths):
    """(row_off, col_off, rows, cols) of each raster relative to the first one's origin. All
    must share one pixel grid (same pixel size, offsets a whole number of pixels)."""
    windows = []
    with rasterio.open(paths[0]) as first:
        origin = first.transform
    for path in paths:
        with rasterio.open(path) as dataset:
            transform, shape = dataset.transform, dataset.shape
        if not np.allclose((transform.a, transform.e), (origin.a, origin.e), rtol=1e-9):
            raise ValueError(f"{path} has another pixel size than {paths[0]}")
        col = (transform.c - origin.c) / origin.a
        row = (transform.f - origin.f) / origin.e
        if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
            raise ValueError(f"{path} is not on the pixel grid of {paths[0]}")
        windows.append((round(row), round(col)) + shape)
    return windows


def overlapping_pairs(windows):
    """(i, j, slices in i, slices in j) for every pair of windows sharing pixels."""
    pairs = []
    for i, (ri, ci, hi, wi) in enumerate(windows):
        for j in range(i + 1, len(windows)):
            rj, cj, hj, wj = windows[j]
            top, left = max(ri, rj), max(ci, cj)
            bottom, right = min(ri + hi, rj + hj), min(ci + wi, cj + wj)
            if bottom > top and right > left:
                pairs.append((i, j, (slice(top - ri, bottom - ri), slice(left - ci, right - ci)),
                              (slice(top - rj, bottom - rj), slice(left - cj, right - cj))))
    return pairs


def _overlap_pixels(paths, scored):
    """Yield (i, j, values_i, values_j, common) over each overlap: (bands, rows, cols)
    values and the pixels valid in both (and scored in both, when ``scored`` is given)."""
    tiles = [read_tile(path) for path in paths]
    for i, j, in_i, in_j in overlapping_pairs(tile_windows(paths)):
        (values_i, valid_i), (values_j, valid_j) = tiles[i], tiles[j]
        common = valid_i[(slice(None),) + in_i] & valid_j[(slice(None),) + in_j]
        if scored is not None:
            common &= scored[i][in_i] & scored[j][in_j]
        yield i, j, values_i[(slice(None),) + in_i], values_j[(slice(None),) + in_j], common


def overlap_mean_differences(paths, scored=None):
    """{(i, j): per-band mean of tile i minus mean of tile j over their common valid (and
    scored) pixels}, for every overlapping pair that has such pixels, in data units."""
    differences = {}
    for i, j, values_i, values_j, common in _overlap_pixels(paths, scored):
        if common.any(axis=(1, 2)).all():
            differences[(i, j)] = np.array([
                values_i[band][common[band]].mean() - values_j[band][common[band]].mean()
                for band in range(len(common))])
    return differences


def block_mean_differences(paths, scored=None, block=24, min_pixels=20):
    """Per overlapping pair, band and block of ``block`` x ``block`` pixels of the overlap
    (with at least ``min_pixels`` common valid, scored pixels), |mean of tile i - mean of
    tile j| over those pixels: a flat array of every such difference, in data units."""
    differences = []
    for _, _, values_i, values_j, common in _overlap_pixels(paths, scored):
        rows, cols = common.shape[1:]
        for row in range(0, rows, block):
            for col in range(0, cols, block):
                part = (slice(None), slice(row, row + block), slice(col, col + block))
                inside = common[part]
                for band in np.flatnonzero(inside.sum(axis=(1, 2)) >= min_pixels):
                    keep = inside[band]
                    differences.append(abs(values_i[part][band][keep].mean()
                                           - values_j[part][band][keep].mean()))
    return np.array(differences)


def truth_band_std(case):
    """Per band, the standard deviation of the truth mosaic (each scene pixel once) over the
    scored pixels: the yardstick of the seam figure."""
    height = max(w[0] + w[2] for w in case.windows)
    width = max(w[1] + w[3] for w in case.windows)
    mosaic = np.full((case.bands, height, width), np.nan)
    for (row_off, col_off, rows, cols), truth, scored in zip(case.windows, case.truth, case.scored):
        target = mosaic[:, row_off:row_off + rows, col_off:col_off + cols]
        target[:, scored] = truth[:, scored]
    return np.nanstd(mosaic.reshape(case.bands, -1), axis=1)


def seam_figure(paths, band_scale, scored=None):
    """Mean |difference| of overlapping rasters over their common valid (and scored) pixels,
    each band divided by ``band_scale[band]``, pooled over all pairs and bands."""
    total, count = 0.0, 0
    for _, _, values_i, values_j, common in _overlap_pixels(paths, scored):
        scaled = np.abs(values_i - values_j) / np.asarray(band_scale)[:, None, None]
        total += scaled[common].sum()
        count += int(common.sum())
    if count == 0:
        raise ValueError("no overlapping valid pixels to measure a seam on")
    return total / count


def seam_score(case, paths):
    """Seam figure of ``paths`` over that of the case's inputs (0 = seamless, 1 = unchanged)."""
    scale = truth_band_std(case)
    return seam_figure(paths, scale, case.scored) / seam_figure(case.paths, scale, case.scored)


def _check_grids(case, paths):
    if len(paths) != len(case.paths):
        raise ValueError(f"{len(paths)} rasters for the {len(case.paths)} tiles of {case.name}")
    for path, truth in zip(paths, case.truth):
        with rasterio.open(path) as dataset:
            if (dataset.count,) + dataset.shape != truth.shape:
                raise ValueError(f"{path} is {dataset.count} x {dataset.shape}, the tile's truth "
                                 f"{truth.shape}")


def truth_rmse(case, paths):
    """Per band, the RMS deviation of the rasters from the truth after one common gain and
    offset: ``output = g * truth + h`` fitted by least squares over the valid, scored pixels
    of all tiles pooled; the residual RMS divided by |g|, in truth units."""
    _check_grids(case, paths)
    outputs, truths = [[] for _ in range(case.bands)], [[] for _ in range(case.bands)]
    for path, truth, scored in zip(paths, case.truth, case.scored):
        values, valid = read_tile(path)
        for band in range(case.bands):
            keep = valid[band] & scored
            outputs[band].append(values[band][keep])
            truths[band].append(truth[band][keep])
    rmse = []
    for output, truth in zip(outputs, truths):
        output, truth = np.concatenate(output), np.concatenate(truth)
        design = np.column_stack([truth, np.ones_like(truth)])
        (gain, offset), *_ = np.linalg.lstsq(design, output, rcond=None)
        residual = output - (gain * truth + offset)
        rmse.append(np.sqrt(np.mean(residual ** 2)) / abs(gain))
    return np.array(rmse)


def error_score(case, paths):
    """:func:`truth_rmse` of ``paths`` over that of the case's inputs, averaged over bands
    (0 = the truth up to one gain and offset, 1 = as far from it as the inputs)."""
    return float(np.mean(truth_rmse(case, paths) / truth_rmse(case, case.paths)))


def distortion_rmse(case):
    """Per band, the RMS of (input - truth) over the valid, scored pixels of all tiles: how
    much the case distorts, in truth units."""
    squares, counts = np.zeros(case.bands), np.zeros(case.bands)
    for path, truth, scored in zip(case.paths, case.truth, case.scored):
        values, valid = read_tile(path)
        for band in range(case.bands):
            keep = valid[band] & scored
            squares[band] += np.sum((values[band][keep] - truth[band][keep]) ** 2)
            counts[band] += keep.sum()
    return np.sqrt(squares / counts)
