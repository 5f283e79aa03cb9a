#!/usr/bin/python3
"""Measure the seams between overlapping rasters, before and after correction.

Usage: /usr/bin/python3 demo/compare.py FOLDER [FOLDER ...]

Each FOLDER holds one set of images (the inputs, then each corrected set) with the images
in the same order when sorted by name. For every pair of images whose extents overlap,
the per-band mean of the pixels valid in both images is taken in the overlap, and the
absolute difference of those means is averaged over the bands. A set with perfectly
matched radiometry scores 0. Prints one row per pair and one column per FOLDER, then the
mean over the pairs; then the same over the pixels that are not saturated (at the data
type's limits) in the first FOLDER's images, the inputs: a pixel clipped at capture has lost
its value, so no correction can match it, and those pixels dominate what is left of a seam.
"""

import glob
import itertools
import os
import sys

import numpy as np
import rasterio
from rasterio.windows import from_bounds


def saturated(values):
    """Pixels where any band sits at the limit of an integer data type."""
    if not np.issubdtype(values.dtype, np.integer):
        return np.zeros(values.shape[1:], dtype=bool)
    info = np.iinfo(values.dtype)
    return np.any((values == info.min) | (values == info.max), axis=0)


def overlap_difference(path_a, path_b, unsaturated_in=None):
    """Mean over bands of |mean_a - mean_b| in the common valid area, or None; only over the
    pixels not saturated in the images ``unsaturated_in`` (a pair of paths on the same grids)
    when it is given."""
    with rasterio.open(path_a) as a, rasterio.open(path_b) as b:
        left, bottom = max(a.bounds.left, b.bounds.left), max(a.bounds.bottom, b.bounds.bottom)
        right, top = min(a.bounds.right, b.bounds.right), min(a.bounds.top, b.bounds.top)
        if right <= left or top <= bottom:
            return None
        win_a = from_bounds(left, bottom, right, top, a.transform).round_offsets().round_lengths()
        win_b = from_bounds(left, bottom, right, top, b.transform).round_offsets().round_lengths()
        shape = (a.count, int(win_a.height), int(win_a.width))
        if 0 in shape:
            return None
        da = a.read(window=win_a, masked=True)
        # nearest resampling onto a's overlap grid (identity when the grids match)
        db = b.read(window=win_b, out_shape=shape, masked=True)
        valid = ~(np.ma.getmaskarray(da).any(axis=0) | np.ma.getmaskarray(db).any(axis=0))
        if unsaturated_in is not None:
            with rasterio.open(unsaturated_in[0]) as ia, rasterio.open(unsaturated_in[1]) as ib:
                valid &= ~saturated(ia.read(window=win_a))
                valid &= ~saturated(ib.read(window=win_b, out_shape=shape))
        if not valid.any():
            return None
        diffs = [abs(float(da[k].data[valid].astype(np.float64).mean())
                     - float(db[k].data[valid].astype(np.float64).mean()))
                 for k in range(a.count)]
        return float(np.mean(diffs))


def main(folders):
    sets = [sorted(glob.glob(os.path.join(f, "*.tif"))) for f in folders]
    if not sets or not sets[0]:
        sys.exit("compare: no .tif in " + folders[0] if folders else "usage: compare.py FOLDER ...")
    if any(len(s) != len(sets[0]) for s in sets):
        sys.exit("compare: the folders hold different numbers of images")
    names = [os.path.splitext(os.path.basename(p))[0] for p in sets[0]]
    headers = [os.path.basename(os.path.normpath(f)) for f in folders]
    print_table("all common pixels", names, headers, sets, lambda i, j: None)
    print_table("pixels not saturated in the inputs", names, headers, sets,
                lambda i, j: (sets[0][i], sets[0][j]))


def print_table(title, names, headers, sets, unsaturated_in):
    print(f"{title}:")
    print(f"{'pair':<24}" + "".join(f"{h:>10}" for h in headers))
    totals = [[] for _ in sets]
    for i, j in itertools.combinations(range(len(names)), 2):
        row = [overlap_difference(s[i], s[j], unsaturated_in(i, j)) for s in sets]
        if row[0] is None:
            continue
        for t, v in zip(totals, row):
            t.append(v)
        print(f"{names[i] + ' / ' + names[j]:<24}"
              + "".join(f"{v:>10.2f}" if v is not None else f"{'-':>10}" for v in row))
    print(f"{'mean':<24}" + "".join(
        f"{np.mean([v for v in t if v is not None]):>10.2f}" for t in totals))


if __name__ == "__main__":
    main(sys.argv[1:])
