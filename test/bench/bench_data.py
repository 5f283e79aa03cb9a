"""Benchmark data: overlapping GeoTIFF tiles cut from one smooth synthetic scene, each with its
own gain and offset per band, written tiled 512 x 512 and DEFLATE-compressed.

Generated once per parameter set into ``<workdir>/data-<size>px-<count>x<bands>b-o<overlap>/``
and reused while its ``manifest.json`` (written last) matches the parameters and every tile is
present. numpy and rasterio only; no QGIS, no engine import.
"""
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

DATA_VERSION = 1            # bump when the generator changes, so old data is regenerated
CRS = "EPSG:32633"
ORIGIN = (400000.0, 5200000.0)
PIXEL = 10.0
NODATA = 0
STRIP = 512                 # rows generated and written at a time
NOISE_SIGMA = 25.0          # DN of pixel noise: texture, so that compression is realistic

# The same creation options as the engine's outputs (core/writing.py), without NUM_THREADS.
CREATION_OPTIONS = {"tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "DEFLATE",
                    "predictor": 2, "BIGTIFF": "IF_SAFER"}


def grid_shape(count):
    """(rows, columns) of a near-square grid holding ``count`` tiles."""
    columns = math.ceil(math.sqrt(count))
    return math.ceil(count / columns), columns


def layout(size, count, overlap):
    """Top-left pixel offset (col, row) of each tile in the scene: a grid in which neighbours
    share ``overlap`` of a tile side."""
    step = max(1, round(size * (1.0 - overlap)))
    _, columns = grid_shape(count)
    return [((k % columns) * step, (k // columns) * step) for k in range(count)]


def _scene_components(bands, seed):
    """Per band: base level and sinusoids (amplitude, wave vector, phase) in scene pixels."""
    rng = np.random.default_rng([seed, 7919])
    components = []
    for band in range(bands):
        waves = []
        for wavelength, amplitude in ((9000.0, 600.0), (3100.0, 350.0), (1100.0, 200.0),
                                      (380.0, 120.0), (97.0, 60.0)):
            angle = rng.uniform(0, np.pi)
            scale = 2 * np.pi / (wavelength * rng.uniform(0.8, 1.25))
            waves.append((amplitude, scale * np.cos(angle), scale * np.sin(angle),
                          rng.uniform(0, 2 * np.pi)))
        components.append((1600.0 + 250.0 * band, waves))
    return components


def scene_strip(components, col_off, row_off, width, height):
    """Noise-free scene values (bands, height, width), float64, for scene pixels at an offset."""
    cols = np.arange(col_off, col_off + width, dtype=np.float64)[None, :]
    rows = np.arange(row_off, row_off + height, dtype=np.float64)[:, None]
    out = np.empty((len(components), height, width))
    for band, (base, waves) in enumerate(components):
        layer = out[band]
        layer.fill(base)
        for amplitude, kx, ky, phase in waves:
            # sin(a + b) = sin a cos b + cos a sin b: two 1-D sinusoids, one outer product each
            a, b = kx * cols + phase, ky * rows
            layer += amplitude * (np.sin(a) * np.cos(b) + np.cos(a) * np.sin(b))
    return out


def tile_gain_offset(seed, tile, bands):
    rng = np.random.default_rng([seed, tile, 104729])
    return rng.uniform(0.8, 1.25, bands), rng.uniform(-200.0, 200.0, bands)


def _write_tile(job):
    path, tile, size, bands, col_off, row_off, seed = job
    components = _scene_components(bands, seed)
    gain, offset = tile_gain_offset(seed, tile, bands)
    profile = dict(CREATION_OPTIONS, driver="GTiff", width=size, height=size, count=bands,
                   dtype="uint16", crs=CRS, nodata=NODATA,
                   transform=from_origin(ORIGIN[0] + col_off * PIXEL, ORIGIN[1] - row_off * PIXEL,
                                         PIXEL, PIXEL))
    temporary = path + ".writing"
    with rasterio.open(temporary, "w", **profile) as dst:
        for strip_row in range(0, size, STRIP):
            height = min(STRIP, size - strip_row)
            values = scene_strip(components, col_off, row_off + strip_row, size, height)
            values *= gain[:, None, None]
            values += offset[:, None, None]
            noise = np.random.default_rng([seed, tile, strip_row]).standard_normal(values.shape)
            values += NOISE_SIGMA * noise
            np.clip(np.rint(values), 1, 65535, out=values)
            dst.write(values.astype(np.uint16), window=Window(0, strip_row, size, height))
    os.replace(temporary, path)
    return path


def dataset_dir(workdir, size, count, bands, overlap):
    return os.path.join(workdir, f"data-{size}px-{count}x{bands}b-o{round(overlap * 100)}")


def ensure_data(workdir, size, count, bands, overlap, seed=1, workers=None, log=print):
    """Paths of the input tiles, generating them unless a matching data set is already there.
    Returns (paths, generated: bool, seconds spent generating)."""
    import time
    folder = dataset_dir(workdir, size, count, bands, overlap)
    params = {"version": DATA_VERSION, "size": size, "count": count, "bands": bands,
              "overlap": overlap, "seed": seed, "dtype": "uint16", "nodata": NODATA,
              "creation_options": CREATION_OPTIONS}
    names = [f"tile_{k:03d}.tif" for k in range(count)]
    paths = [os.path.join(folder, name) for name in names]
    manifest = os.path.join(folder, "manifest.json")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            stored = json.load(f)
        if stored.get("params") == params and all(os.path.isfile(p) for p in paths):
            log(f"bench: reusing {count} tiles of {size} x {size} x {bands} in {folder}")
            return paths, False, 0.0
        os.remove(manifest)
    os.makedirs(folder, exist_ok=True)
    log(f"bench: generating {count} tiles of {size} x {size} x {bands} uint16 "
        f"({overlap:.0%} overlap) in {folder} ...")
    start = time.perf_counter()
    jobs = [(path, k, size, bands, col, row, seed)
            for k, (path, (col, row)) in enumerate(zip(paths, layout(size, count, overlap)))]
    workers = workers or os.cpu_count() or 1
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_tile, jobs))
    else:
        for job in jobs:
            _write_tile(job)
    seconds = time.perf_counter() - start
    total = sum(os.path.getsize(p) for p in paths)
    with open(manifest + ".writing", "w", encoding="utf-8") as f:
        json.dump({"params": params, "files": names, "bytes": total}, f, indent=1)
    os.replace(manifest + ".writing", manifest)
    log(f"bench: generated {total / 1e6:.0f} MB in {seconds:.1f} s")
    return paths, True, seconds
