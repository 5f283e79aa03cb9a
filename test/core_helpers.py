"""Shared helpers for the core (engine) tests: synthetic scenes, GeoTIFF tiles cut from them with
a known radiometric distortion, checksums that prove inputs are never modified, and the
reference's global model written independently (an oracle for the solver).

No QGIS here: numpy and rasterio only. ``import core_helpers`` also puts the repository root on
``sys.path`` so that the engine imports as ``core``.
"""
import hashlib
import json
import os
import sys

import numpy as np
import rasterio
from rasterio.transform import from_origin

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

CRS = "EPSG:32618"                  # WGS 84 / UTM zone 18N
ORIGIN = (500000.0, 4500000.0)      # scene top-left corner (x, y) in CRS units
PIXEL = 2.0                         # scene pixel size in CRS units


def scene(height, width, bands=1, seed=0, low=1000.0, high=5000.0):
    """A smooth, textured, integer-valued scene (bands, height, width) in [low, high]: smooth so
    that nearest sampling at another resolution sees almost the same values, textured so that
    every window has a non-zero standard deviation, different per band."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    layers = []
    for band in range(bands):
        phase = rng.uniform(0, 2 * np.pi, 4)
        field = (np.sin(cols / (7.0 + band) + phase[0]) * np.cos(rows / (9.0 + band) + phase[1])
                 + 0.5 * np.sin((rows + cols) / 23.0 + phase[2])
                 + 0.3 * np.cos((rows - 2 * cols) / 31.0 + phase[3])
                 + 0.2 * rng.standard_normal((height, width)))
        field = (field - field.min()) / (field.max() - field.min())
        layers.append(np.round(low + (high - low) * field))
    return np.stack(layers)


def scene_transform(col_off=0, row_off=0, origin=ORIGIN, pixel=PIXEL):
    """The geotransform of the scene pixel (row_off, col_off) as the top-left of a raster."""
    return from_origin(origin[0] + col_off * pixel, origin[1] - row_off * pixel, pixel, pixel)


def cast(values, dtype):
    """Round half away from zero and clip to an integer dtype; floats are cast as they are."""
    dtype = np.dtype(dtype)
    values = np.asarray(values, dtype=np.float64)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(np.trunc(values + np.copysign(0.5, values)), info.min, info.max)
    return values.astype(dtype)


def write_raster(path, data, transform, *, crs=CRS, nodata=None, dtype=None, mask=None,
                 **creation):
    """Write a (bands, rows, cols) array as a GeoTIFF; ``mask`` (rows, cols; True = valid)
    becomes an internal GDAL per-dataset mask band. Returns the path."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    dtype = np.dtype(dtype or data.dtype).name
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1],
               "count": data.shape[0], "dtype": dtype, "crs": crs, "transform": transform,
               "nodata": nodata}
    profile.update(creation)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", **profile) as dataset:
            dataset.write(data.astype(dtype))
            if mask is not None:
                dataset.write_mask(np.where(mask, 255, 0).astype("uint8"))
    return path


def write_rgba(path, data, alpha, transform, *, crs=CRS, nodata=None, **creation):
    """An RGBA GeoTIFF (the alpha band marked as such, as drone software writes them) from
    (3, rows, cols) colour values and (rows, cols) alpha values."""
    data = np.asarray(data)
    values = np.concatenate([data, np.asarray(alpha, dtype=data.dtype)[None]])
    return write_raster(path, values, transform, crs=crs, nodata=nodata, photometric="RGB",
                        alpha="YES", **creation)


def write_png(path, data, transform, *, crs=CRS):
    """A PNG with a world file (``.wld``) and its CRS in ``.aux.xml``; four bands make an RGBA
    PNG. Returns the path."""
    data = np.asarray(data)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with rasterio.open(path, "w", driver="PNG", width=data.shape[2], height=data.shape[1],
                       count=data.shape[0], dtype=data.dtype.name, crs=crs,
                       transform=transform, WORLDFILE="YES") as dataset:
        dataset.write(data)
    return path


def write_hfa(path, data, transform, band_nodata, *, crs=CRS):
    """An ERDAS Imagine (.img) raster, which holds a nodata value per band."""
    data = np.asarray(data)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with rasterio.open(path, "w", driver="HFA", width=data.shape[2], height=data.shape[1],
                       count=data.shape[0], dtype=data.dtype.name, crs=crs,
                       transform=transform) as dataset:
        dataset.write(data)
    from osgeo import gdal      # rasterio 1.3 has no public per-band nodata setter

    dataset = gdal.Open(path, gdal.GA_Update)
    for band, value in enumerate(band_nodata, start=1):
        dataset.GetRasterBand(band).SetNoDataValue(value)
    dataset = None
    return path


def write_tile(path, scene_data, row_off, col_off, height, width, *, gain=1.0, offset=0.0,
               dtype="uint16", nodata=None, holes=None, origin=ORIGIN, pixel=PIXEL, crs=CRS,
               **creation):
    """Cut ``scene_data[:, row_off:row_off+height, col_off:col_off+width]``, distort it to
    ``gain * value + offset`` (a scalar or one value per band), cast it to ``dtype`` and write it
    on the scene grid. ``holes`` (rows, cols; True = hole) are set to ``nodata``."""
    data = scene_data[:, row_off:row_off + height, col_off:col_off + width].astype(np.float64)
    gain = np.asarray(gain, dtype=np.float64).reshape(-1, 1, 1)
    offset = np.asarray(offset, dtype=np.float64).reshape(-1, 1, 1)
    values = cast(data * gain + offset, dtype)
    if holes is not None:
        values[:, holes] = nodata
    return write_raster(path, values, scene_transform(col_off, row_off, origin, pixel),
                        crs=crs, nodata=nodata, dtype=dtype, **creation)


def read(path):
    with rasterio.open(path) as dataset:
        return dataset.read()


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class InputGuard:
    """Remembers the folders holding test inputs and their files' checksums; :meth:`verify`
    fails if any input file changed or disappeared, or if a file (an ``.aux.xml`` sidecar, an
    output) appeared next to the inputs."""

    def __init__(self):
        self._folders = {}

    def watch(self, *folders):
        for folder in folders:
            folder = os.fspath(folder)
            self._folders[folder] = {
                entry: sha256(os.path.join(folder, entry)) for entry in sorted(os.listdir(folder))
                if os.path.isfile(os.path.join(folder, entry))}

    def verify(self):
        for folder, checksums in self._folders.items():
            now = {entry: sha256(os.path.join(folder, entry)) for entry in sorted(os.listdir(folder))
                   if os.path.isfile(os.path.join(folder, entry))}
            assert now == checksums, f"the input folder {folder} changed during the run"


def stats_document(images, bands=1):
    """An adjustments JSON document (the reference's layout) from hand-written statistics.

    ``images``: {name: {"whole": (mean, std, size), "overlaps": {other: (mean, std, size)}}};
    a statistic is a scalar (every band) or a per-band list. Adjustments are written as
    identity: the engine must ignore them."""
    def per_band(value):
        return list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * bands

    def table(mean, std, size):
        return {f"band_{b}": {"mean": float(m), "std": float(s), "size": int(n)}
                for b, (m, s, n) in enumerate(zip(per_band(mean), per_band(std), per_band(size)))}

    return {name: {
        "adjustments": {f"band_{b}": {"scale": 1.0, "offset": 0.0} for b in range(bands)},
        "whole_stats": table(*entry["whole"]),
        "overlap_stats": {other: table(*stats) for other, stats in entry.get("overlaps", {}).items()},
    } for name, entry in images.items()}


def write_json(path, document):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    return path


# ------------------------------------------------------------------------------------------------
# The reference's global model, written independently (an oracle for core/global_model.py)
# ------------------------------------------------------------------------------------------------
def reference_model(included, whole_mean, whole_std, overlaps, mean_factor=1.0, std_factor=1.0):
    """The reference's global model (per-image anchoring), written independently and densely
    for one band: overlap rows of weight n (mean and std), two anchor rows per included image
    of weight W / 2N, and the least-squares solution closest to identity,
    x = x0 + pinv(A)(y - A x0). ``overlaps``: (i, j, m_ij, s_ij, m_ji, s_ji, size)."""
    count = len(included)
    rows, targets, total = [], [], 0.0
    for i, j, m_ij, s_ij, m_ji, s_ji, size in overlaps:
        if size <= 0 or not (included[i] or included[j]):
            continue
        total += size
        row = np.zeros(2 * count)
        row[[2 * i, 2 * i + 1, 2 * j, 2 * j + 1]] = [m_ij, 1.0, -m_ji, -1.0]
        rows.append(row * size * mean_factor)
        targets.append(0.0)
        row = np.zeros(2 * count)
        row[[2 * i, 2 * j]] = [s_ij, -s_ji]
        rows.append(row * size * std_factor)
        targets.append(0.0)
    weight = total / (2 * count) if total > 0 else 1.0
    for k in np.flatnonzero(included):
        row = np.zeros(2 * count)
        row[[2 * k, 2 * k + 1]] = [weight * whole_mean[k], weight]
        rows.append(row)
        targets.append(weight * whole_mean[k])
        row = np.zeros(2 * count)
        row[2 * k] = weight * whole_std[k]
        rows.append(row)
        targets.append(weight * whole_std[k])
    matrix, targets = np.array(rows), np.array(targets)
    identity = np.tile([1.0, 0.0], count)
    solution = identity + np.linalg.pinv(matrix) @ (targets - matrix @ identity)
    return solution[0::2], solution[1::2]


def assert_worked_example(scales, offsets):
    """The reference's worked example (A 100 +- 10 and B 120 +- 15 in their overlap and as a
    whole, C alone, per-image anchoring), as verified against spectralmatch: parameters to
    1e-4 relative, corrected means and stds to the two decimals printed."""
    np.testing.assert_allclose([scales[0], offsets[0], scales[1], offsets[1]],
                               [1.2466, -14.795, 0.8356, 9.863], rtol=1e-4)
    np.testing.assert_allclose([scales[2], offsets[2]], [1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose([scales[0] * 100 + offsets[0], scales[1] * 120 + offsets[1]],
                               [109.86, 110.14], atol=0.005)
    np.testing.assert_allclose([scales[0] * 10, scales[1] * 15], [12.47, 12.53], atol=0.005)
