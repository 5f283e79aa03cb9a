#!/usr/bin/python3
"""Cut the RadioMatch demo tiles from the shared Landsat 7 scene.

Usage (Debian's interpreter, which has rasterio):

    /usr/bin/python3 demo/make_demo_data.py [SOURCE] [OUTPUT_DIR]

SOURCE defaults to ../shared/data/landsat7_rgb_byte.tif (the rasterio project's
tests/data/RGB.byte.tif: USGS Landsat 7 ETM+, 791 x 718, 3 x uint8, nodata 0,
EPSG:32618, CC0 1.0). OUTPUT_DIR defaults to demo/data next to this script.

Four tiles are cut on the source's pixel grid in a 2 x 2 layout, each about
62 % of the scene's width and height, so that neighbours overlap by about 40 %
of a tile and the diagonal pairs also share a central block. Each tile then
gets its own per-band gain and offset (brighter, lower contrast, a colour
cast), values are rounded and clipped to 1..255, and 0 stays nodata: a pixel
is nodata in the tile when any band is 0 in the source, so every band has the
same footprint. The output is deterministic (no random noise), so running the
script again reproduces the committed files bit for bit.
"""

import os
import sys

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.windows import Window

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SOURCE = os.path.normpath(
    os.path.join(HERE, "..", "..", "shared", "data", "landsat7_rgb_byte.tif"))
DEFAULT_OUTPUT = os.path.join(HERE, "data")

# Fraction of the scene covered by one tile along each axis. Two tiles of
# 0.625 cover the scene with 0.25 of the scene (40 % of a tile) in common.
TILE_FRACTION = 0.625

# name -> (row, col) in the 2 x 2 layout, per-band (gain, offset) for R, G, B.
# The distortions are applied to the source digital numbers: out = gain * dn + offset.
TILES = {
    "tile_nw": ((0, 0), [(1.00, 0.0), (1.00, 0.0), (1.00, 0.0)]),     # as captured
    "tile_ne": ((0, 1), [(1.20, 22.0), (1.18, 20.0), (1.15, 18.0)]),  # brighter
    "tile_sw": ((1, 0), [(0.65, 38.0), (0.68, 36.0), (0.70, 34.0)]),  # hazy, low contrast
    "tile_se": ((1, 1), [(0.90, -4.0), (1.08, 12.0), (1.30, 8.0)]),   # colour cast
}

CREATION_OPTIONS = dict(
    driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
    compress="deflate", predictor=2, zlevel=9, interleave="pixel",
)


def tile_windows(width, height):
    """Return {name: Window} for the 2 x 2 layout on the source grid."""
    tw = int(round(width * TILE_FRACTION))
    th = int(round(height * TILE_FRACTION))
    cols = (0, width - tw)
    rows = (0, height - th)
    return {name: Window(cols[c], rows[r], tw, th)
            for name, ((r, c), _) in TILES.items()}


def distort(data, gains_offsets):
    """Apply per-band gain/offset to uint8 data, keeping 0 as nodata."""
    valid = np.all(data > 0, axis=0)
    out = np.zeros_like(data)
    for b, (gain, offset) in enumerate(gains_offsets):
        band = np.rint(data[b].astype(np.float64) * gain + offset)
        out[b] = np.where(valid, np.clip(band, 1, 255), 0).astype(np.uint8)
    return out


def main(argv):
    source = argv[1] if len(argv) > 1 else DEFAULT_SOURCE
    out_dir = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    os.makedirs(out_dir, exist_ok=True)
    with rasterio.open(source) as src:
        if src.count != 3 or src.dtypes[0] != "uint8" or src.nodata != 0:
            raise SystemExit(f"{source}: expected a 3-band uint8 raster with nodata 0")
        windows = tile_windows(src.width, src.height)
        for name, (_, gains_offsets) in TILES.items():
            win = windows[name]
            data = distort(src.read(window=win), gains_offsets)
            profile = dict(
                CREATION_OPTIONS, width=int(win.width), height=int(win.height),
                count=src.count, dtype="uint8", nodata=0, crs=src.crs,
                transform=src.window_transform(win),
            )
            path = os.path.join(out_dir, name + ".tif")
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(data)
                dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
                dst.update_tags(
                    SOURCE="rasterio tests/data/RGB.byte.tif (USGS Landsat 7 ETM+, CC0 1.0)",
                    DISTORTION="; ".join(
                        f"band {b + 1}: {g:g} * dn {o:+g}"
                        for b, (g, o) in enumerate(gains_offsets)),
                )
            valid = np.all(data > 0, axis=0)
            print(f"{path}: {int(win.width)} x {int(win.height)} at col {int(win.col_off)}, "
                  f"row {int(win.row_off)}; {valid.mean():.0%} valid; band means "
                  + ", ".join(f"{data[b][valid].mean():.1f}" for b in range(3))
                  + f"; {os.path.getsize(path) / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv)
