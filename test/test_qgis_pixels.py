"""algorithms/pixels.py: rasters read at reduced resolution for the shared stretch and the report
(mosaic thumbnails, histograms, seams measured for the block-means model), read-only."""

import os

import numpy as np
import pytest


def reduced(values, valid, bounds, alpha=None):
    from radiomatch.algorithms.pixels import Reduced

    values = np.asarray(values, dtype=float)
    return Reduced(values, np.asarray(valid, dtype=bool), bounds,
                   (values.shape[2], values.shape[1]), alpha)


def test_read_reduced_honours_nodata_and_reads_at_most_the_budget(radiomatch_plugin, rm,
                                                                  tmp_path, monkeypatch):
    from radiomatch.algorithms import pixels

    def blank_corner(k, data):
        data[:8, :8] = 0  # nodata

    paths = rm.write_tiles(tmp_path / "in", edit=blank_corner)
    before = sorted(os.listdir(tmp_path / "in"))
    full = pixels.read_reduced(paths)
    image = full[0]
    data, _transform, _nodata = rm.read_band(paths[0])
    assert image.values.shape == (1, 64, 64) and np.array_equal(image.values[0], data)
    assert not image.valid[0][:8, :8].any() and image.valid[0][8:, 8:].all()
    assert image.size == (64, 64) and image.alpha is None
    left = rm.ORIGIN_X
    assert image.bounds == (left, rm.ORIGIN_Y - 64 * rm.PIXEL, left + 64 * rm.PIXEL, rm.ORIGIN_Y)
    # a smaller budget decimates (nearest pixel) and keeps the bounds
    monkeypatch.setattr(pixels, "MAX_PIXELS", 1024)
    small = pixels.read_reduced(paths, threads=2)[0]
    assert small.values.shape == (1, 32, 32) and small.bounds == image.bounds
    assert np.array_equal(small.values[0], data[1::2, 1::2])   # the nearest pixel centres
    assert sorted(os.listdir(tmp_path / "in")) == before   # no .aux.xml


def test_stretch_limits_pool_every_image(radiomatch_plugin):
    from radiomatch.algorithms.pixels import stretch_limits

    one = reduced(np.arange(100).reshape(1, 10, 10), np.ones((1, 10, 10)), (0, 0, 10, 10))
    other = reduced(np.arange(100, 200).reshape(1, 10, 10), np.ones((1, 10, 10)), (0, 0, 10, 10))
    valid = np.ones((1, 10, 10))
    valid[0, 0, :] = 0
    masked = reduced(np.full((1, 10, 10), 1e6), valid * 0, (0, 0, 10, 10))
    (low, high), = stretch_limits([one, other, masked, None])
    assert (low, high) == pytest.approx(tuple(np.percentile(np.arange(200), (2, 98))))


def test_mosaic_puts_later_images_over_earlier_ones(radiomatch_plugin):
    """Two 4 x 4 images side by side, overlapping by two columns: on a 6 x 4 grid the second
    shows in the overlap, the first's valid cells elsewhere, invalid cells let the first show."""
    from radiomatch.algorithms.pixels import Grid, mosaic

    first = reduced(np.full((1, 4, 4), 1.0), np.ones((1, 4, 4)), (0, 0, 4, 4))
    valid = np.ones((1, 4, 4))
    valid[0, 0, 0] = 0     # a nodata pixel of the second image in the overlap
    second = reduced(np.full((1, 4, 4), 2.0), valid, (2, 0, 6, 4))
    values, shown = mosaic([first, second], Grid((0, 0, 6, 4), 6, 4))
    assert shown.all()
    expected = np.array([[1, 1, 1, 2, 2, 2]] + [[1, 1, 2, 2, 2, 2]] * 3, dtype=float)
    assert np.array_equal(values[0], expected)


def test_measured_seams_are_the_differences_of_means_over_common_cells(radiomatch_plugin):
    from radiomatch.algorithms.pixels import Grid, measured_seams

    grid = Grid((0, 0, 6, 4), 6, 4)
    ones = np.ones((1, 4, 4))
    before = [reduced(np.full((1, 4, 4), 10.0), ones, (0, 0, 4, 4)),
              reduced(np.full((1, 4, 4), 13.0), ones, (2, 0, 6, 4)),
              reduced(np.full((1, 4, 4), 5.0), ones, (100, 100, 104, 104))]
    after = [reduced(np.full((1, 4, 4), 11.0), ones, (0, 0, 4, 4)),
             reduced(np.full((1, 4, 4), 11.5), ones, (2, 0, 6, 4)),
             reduced(np.full((1, 4, 4), 5.0), ones, (100, 100, 104, 104))]
    seams, level = measured_seams(["a", "b", "c"], before, after, grid)
    assert seams == [["a", "b", [-3.0], [-0.5], [8]]]   # c overlaps nothing
    assert level == {"before": [3.0], "after": [0.5]}


def test_histograms_share_one_axis_and_sum_to_one(radiomatch_plugin):
    from radiomatch.algorithms.pixels import histograms

    rng = np.random.default_rng(1)
    ones = np.ones((1, 20, 20))
    before = [reduced(rng.normal(100, 10, (1, 20, 20)), ones, (0, 0, 1, 1)),
              reduced(rng.normal(140, 10, (1, 20, 20)), ones, (0, 0, 1, 1))]
    after = [reduced(rng.normal(120, 10, (1, 20, 20)), ones, (0, 0, 1, 1)), None]
    edges, shares = histograms(before, after, bins=16)
    assert len(edges) == 1 and len(edges[0]) == 17
    (b0, a0), (b1, a1) = shares
    assert sum(b0[0]) == pytest.approx(1) and sum(a0[0]) == pytest.approx(1)
    assert a1 == [None]
    # the brighter image's pixels sit higher on the common axis
    centres = (np.array(edges[0][:-1]) + np.array(edges[0][1:])) / 2
    assert np.dot(b1[0], centres) > np.dot(a0[0], centres) > np.dot(b0[0], centres)


def test_pictures_of_an_rgba_set(radiomatch_plugin, tmp_path):
    """Colour bands 1-2-3 shown, the alpha band left out of the figures and of the valid
    share, two PNG thumbnails of the grid's size."""
    import base64

    import rasterio
    from rasterio.transform import from_origin
    from qgis.PyQt.QtGui import QImage

    from radiomatch.algorithms.pixels import THUMBNAIL_SIDE, Pictures, read_reduced

    paths = []
    for k in range(2):
        data = np.zeros((4, 40, 60), dtype="uint8")
        data[:3] = 50 + 40 * k
        data[3] = 255
        data[3, :, :10] = 0   # transparent strip
        path = str(tmp_path / "rgba{}.tif".format(k))
        with rasterio.open(path, "w", driver="GTiff", width=60, height=40, count=4,
                           dtype="uint8", crs="EPSG:32618", photometric="RGB", alpha="YES",
                           transform=from_origin(1000 + 30 * k, 2000, 1, 1)) as dst:
            dst.write(data)
        paths.append(path)
    images = read_reduced(paths)
    assert images[0].alpha == 3 and images[0].data_bands == [0, 1, 2]
    pictures = Pictures(["rgba0", "rgba1"], images, images)
    assert pictures.bands == [0, 1, 2]
    assert pictures.valid_shares[0] == pytest.approx(50 / 60)
    assert pictures.sizes == [(60, 40, 3), (60, 40, 3)]
    for uri in pictures.thumbnails:
        image = QImage()
        assert image.loadFromData(base64.b64decode(uri.split(",", 1)[1]), "PNG")
        assert max(image.width(), image.height()) == THUMBNAIL_SIDE
