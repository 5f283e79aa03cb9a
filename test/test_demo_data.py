"""The sample tiles shipped for `make demo` (demo/data/*.tif).

They must stay small, overlap pairwise on one grid, share CRS, band count, dtype and
nodata, and disagree radiometrically in their overlaps: otherwise the demo shows nothing.
These tests need rasterio only, no QGIS fixture.
"""

import glob
import importlib.util
import itertools
import os

import numpy as np
import pytest
import rasterio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "demo")
TILES = sorted(glob.glob(os.path.join(DEMO, "data", "*.tif")))
SHARED_SOURCE = os.path.normpath(
    os.path.join(ROOT, "..", "shared", "data", "landsat7_rgb_byte.tif"))

MAX_TOTAL_BYTES = 5_000_000
# mean over bands of |difference of band means| in a pair's common valid area, in DN
MIN_SEAM = 5.0


def load_module(name):
    spec = importlib.util.spec_from_file_location(
        "radiomatch_demo_" + name, os.path.join(DEMO, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def common_valid(path_a, path_b):
    """Pixel arrays of both tiles over their common extent and the mask valid in both."""
    with rasterio.open(path_a) as a, rasterio.open(path_b) as b:
        left, bottom = max(a.bounds.left, b.bounds.left), max(a.bounds.bottom, b.bounds.bottom)
        right, top = min(a.bounds.right, b.bounds.right), min(a.bounds.top, b.bounds.top)
        assert right > left and top > bottom, f"{path_a} and {path_b} do not overlap"
        wa = a.window(left, bottom, right, top).round_offsets().round_lengths()
        wb = b.window(left, bottom, right, top).round_offsets().round_lengths()
        da, db = a.read(window=wa), b.read(window=wb)
    assert da.shape == db.shape
    valid = np.all(da != 0, axis=0) & np.all(db != 0, axis=0)
    return da, db, valid


def test_tiles_present_and_small():
    assert 3 <= len(TILES) <= 6, TILES
    total = sum(os.path.getsize(p) for p in TILES)
    assert total < MAX_TOTAL_BYTES, f"demo tiles weigh {total} bytes"


def test_tiles_share_crs_bands_nodata_and_layout():
    with rasterio.open(TILES[0]) as ref:
        crs, res, count = ref.crs, ref.res, ref.count
        x0, y0 = ref.transform.c, ref.transform.f
    assert crs is not None and crs.to_epsg() == 32618
    for path in TILES:
        with rasterio.open(path) as ds:
            assert ds.driver == "GTiff"
            assert ds.crs == crs, path
            assert ds.count == count == 3, path
            assert set(ds.dtypes) == {"uint8"}, path
            assert ds.nodatavals == (0.0,) * count, path
            assert ds.res == pytest.approx(res), path
            assert ds.transform.b == 0 and ds.transform.d == 0, f"{path} is rotated"
            # one pixel grid: offsets are whole pixels apart
            for offset, origin, size in ((ds.transform.c, x0, res[0]), (ds.transform.f, y0, -res[1])):
                steps = (offset - origin) / size
                assert steps == pytest.approx(round(steps), abs=1e-6), path
            # tiled, compressed GeoTIFF
            assert ds.profile.get("tiled"), path
            assert (ds.compression.value if ds.compression else "").upper() == "DEFLATE", path
            data = ds.read()
            invalid = data == 0
            # one footprint for all bands; valid values are 1..255
            assert (invalid.all(axis=0) == invalid.any(axis=0)).all(), path
            assert 0.3 < (~invalid[0]).mean() < 1.0, path


def test_tiles_overlap_pairwise():
    for a, b in itertools.combinations(TILES, 2):
        da, _, valid = common_valid(a, b)
        assert valid.sum() >= 1000, f"{a} / {b}: only {valid.sum()} common valid pixels"
    # neighbours in the layout share a band about 40 % of a tile wide
    with rasterio.open(TILES[0]) as ds:
        width, height = ds.width, ds.height
    fractions = []
    for a, b in itertools.combinations(TILES, 2):
        da, _, _ = common_valid(a, b)
        fractions.append(da.shape[1] * da.shape[2] / (width * height))
    assert max(fractions) == pytest.approx(0.4, abs=0.1), fractions


def test_overlaps_differ_radiometrically():
    compare = load_module("compare")
    for a, b in itertools.combinations(TILES, 2):
        seam = compare.overlap_difference(a, b)
        assert seam is not None and seam > MIN_SEAM, f"{a} / {b}: seam {seam}"
        # the same measure straight from the arrays, as a check of compare.py
        da, db, valid = common_valid(a, b)
        by_hand = np.mean([abs(da[k][valid].mean() - db[k][valid].mean()) for k in range(3)])
        assert seam == pytest.approx(by_hand, rel=1e-9)


def test_compare_scores_identical_sets_zero():
    compare = load_module("compare")
    assert compare.overlap_difference(TILES[0], TILES[0]) == pytest.approx(0.0)


@pytest.mark.skipif(not os.path.isfile(SHARED_SOURCE), reason="shared Landsat scene not beside the repo")
def test_generator_reproduces_committed_tiles(tmp_path):
    make_demo_data = load_module("make_demo_data")
    make_demo_data.main(["make_demo_data.py", SHARED_SOURCE, str(tmp_path)])
    fresh = sorted(glob.glob(os.path.join(str(tmp_path), "*.tif")))
    assert [os.path.basename(p) for p in fresh] == [os.path.basename(p) for p in TILES]
    for new, old in zip(fresh, TILES):
        with rasterio.open(new) as n, rasterio.open(old) as o:
            assert n.transform == o.transform and n.crs == o.crs, old
            assert np.array_equal(n.read(), o.read()), f"{old} differs from the generator's output"
