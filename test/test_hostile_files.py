"""Hostile auxiliary files, through processing.run and qgis_process (issue 5, "Files"):
adjustments JSON, block maps and polygon masks. The files themselves are inputs too: they
must stay byte-identical."""
import json
import os

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_geom

import core_helpers
from core_helpers import InputGuard
from hostile_helpers import GR, LBA, SUFFIX, check, expected_outputs, read


@pytest.fixture
def guard():
    return InputGuard()


def run_case(runner, alg_id, tiles, tmp_path, guard, watch, options, out_name="out"):
    guard.watch(tmp_path / "input", *watch)
    out = tmp_path / out_name
    outcome = runner.run(alg_id, dict({"INPUT": tiles, "OUTPUT_FOLDER": str(out)}, **options))
    return outcome, out


def refused(runner, alg_id, tiles, tmp_path, guard, watch, options, *needles):
    outcome, out = run_case(runner, alg_id, tiles, tmp_path, guard, watch, options)
    return check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=needles)


def succeeded(runner, alg_id, tiles, tmp_path, guard, watch, options, out_name="out",
              warning_needles=()):
    outcome, out = run_case(runner, alg_id, tiles, tmp_path, guard, watch, options, out_name)
    complete = expected_outputs(out, tiles, SUFFIX[alg_id])
    check(outcome, guard=guard, outputs=[out], complete=complete, like=tiles, expect_ok=True,
          warning_needles=warning_needles)
    return outcome, complete


# ---------------------------------------------------------------------------------------------
# Adjustments JSON (Global regression, LOAD_ADJUSTMENTS)
# ---------------------------------------------------------------------------------------------
def statistics(bands=1):
    whole = (1000.0, 100.0, 4096)
    pair = (1000.0, 90.0, 1024)
    return core_helpers.stats_document({
        "tile0": {"whole": whole, "overlaps": {"tile1": pair, "tile2": pair}},
        "tile1": {"whole": whole, "overlaps": {"tile0": pair, "tile2": pair}},
        "tile2": {"whole": whole, "overlaps": {"tile0": pair, "tile1": pair}},
    }, bands=bands)


def malformed(path):
    path.write_text('{"tile0": {"adjustments": {"band_0": {"scale": 1.0, "offset"')


def wrong_band_count(path):
    core_helpers.write_json(str(path), statistics(bands=3))


def missing_reverse_overlap(path):
    document = statistics()
    del document["tile2"]["overlap_stats"]["tile0"]
    core_helpers.write_json(str(path), document)


@pytest.mark.parametrize("damage, needles", [
    (malformed, ("not valid JSON",)),
    (wrong_band_count, ("band", "band_2")),
    (missing_reverse_overlap, ("reverse", "'tile2'", "'tile0'")),
], ids=["malformed", "wrong-band-count", "missing-reverse-overlap"])
def test_bad_adjustments_file(runner, tiles, tmp_path, guard, damage, needles):
    folder = tmp_path / "json"
    folder.mkdir()
    path = folder / "adjustments.json"
    damage(path)
    refused(runner, GR, tiles, tmp_path, guard, [folder], {"LOAD_ADJUSTMENTS": str(path)},
            str(path), *needles)


def test_good_adjustments_file_loads(runner, tiles, tmp_path, guard):
    """The undamaged document of the cases above is accepted (so the cases test the damage)."""
    folder = tmp_path / "json"
    folder.mkdir()
    path = folder / "adjustments.json"
    core_helpers.write_json(str(path), statistics())
    succeeded(runner, GR, tiles, tmp_path, guard, [folder], {"LOAD_ADJUSTMENTS": str(path)})


# ---------------------------------------------------------------------------------------------
# Block maps (Local block adjustment, LOAD_BLOCK_MAPS / LOAD_LOCAL_BLOCK_MAPS)
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def saved_maps(radiomatch_provider, tiles, tmp_path):
    """Block maps saved by a real run (4 x 6 grid): {"reference": path, "tile0": path, ...}."""
    import processing

    maps = tmp_path / "maps"
    processing.run(LBA, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "first"),
                         "BLOCK_RULE": 1, "BLOCK_ROWS": 4, "BLOCK_COLS": 6,
                         "SAVE_BLOCK_MAPS": str(maps)})
    found = {"reference": str(maps / "reference_block_map.tif")}
    for k in range(3):
        found["tile{}".format(k)] = str(maps / "tile{}_block_map.tif".format(k))
    assert all(os.path.isfile(path) for path in found.values())
    return found


def rewrite_map(source, target, *, rows=None, cols=None, bands=None, shift=0.0):
    """A copy of a block map with another grid shape, band count or position."""
    with rasterio.open(source) as src:
        profile = dict(src.profile)
        data = src.read()
        transform = src.transform
    bands = bands or data.shape[0]
    rows = rows or data.shape[1]
    cols = cols or data.shape[2]
    width = transform.a * data.shape[2]
    height = -transform.e * data.shape[1]
    new = rasterio.Affine(width / cols, 0, transform.c + shift, 0, -height / rows,
                          transform.f)
    values = np.resize(data, (bands, rows, cols)).astype(data.dtype)
    profile.update(count=bands, width=cols, height=rows, transform=new)
    profile.pop("blockxsize", None)
    profile.pop("blockysize", None)
    profile["tiled"] = False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(values)
    return target


@pytest.mark.parametrize("change, needles", [
    ({"rows": 5}, ()),
    ({"shift": 500.0}, ()),
    ({"bands": 2}, ("band",)),
], ids=["shape", "bounds", "band-count"])
def test_mismatched_local_block_map(runner, tiles, tmp_path, guard, saved_maps, change,
                                    needles):
    odd = rewrite_map(saved_maps["tile1"], str(tmp_path / "odd" / "tile1_block_map.tif"),
                      **change)
    refused(runner, LBA, tiles, tmp_path, guard, [tmp_path / "maps", tmp_path / "odd"],
            {"LOAD_BLOCK_MAPS": saved_maps["reference"],
             "LOAD_LOCAL_BLOCK_MAPS": [saved_maps["tile0"], odd, saved_maps["tile2"]]},
            odd, *needles)


@pytest.mark.parametrize("change, needles", [
    ({"bands": 3}, ("band",)),
    ({"shift": 1e4}, ()),
], ids=["band-count", "bounds-outside-the-images"])
def test_mismatched_reference_block_map(runner, tiles, tmp_path, guard, saved_maps, change,
                                        needles):
    odd = rewrite_map(saved_maps["reference"], str(tmp_path / "odd" / "reference.tif"),
                      **change)
    refused(runner, LBA, tiles, tmp_path, guard, [tmp_path / "maps", tmp_path / "odd"],
            {"LOAD_BLOCK_MAPS": odd}, odd, *needles)


def test_saved_block_maps_load_back(runner, tiles, tmp_path, guard, saved_maps):
    """The undamaged maps of the cases above load (so the cases test the damage)."""
    succeeded(runner, LBA, tiles, tmp_path, guard, [tmp_path / "maps"],
              {"LOAD_BLOCK_MAPS": saved_maps["reference"],
               "LOAD_LOCAL_BLOCK_MAPS": [saved_maps[name] for name in ("tile0", "tile1",
                                                                        "tile2")]})


# ---------------------------------------------------------------------------------------------
# Polygon masks (VECTOR_MASK), given as files
# ---------------------------------------------------------------------------------------------
def box(col0, row0, col1, row1, rm):
    """A rectangle on pixel edges of the test scene, in EPSG:32618."""
    x0, x1 = rm.ORIGIN_X + col0 * rm.PIXEL, rm.ORIGIN_X + col1 * rm.PIXEL
    y0, y1 = rm.ORIGIN_Y - row1 * rm.PIXEL, rm.ORIGIN_Y - row0 * rm.PIXEL
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                [x0, y0]]]}


def write_geojson(path, geometries, crs="EPSG:32618"):
    """A GeoJSON file; ``crs`` None means RFC 7946 (WGS 84, no crs member)."""
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": k}, "geometry": geometry}
        for k, geometry in enumerate(geometries)]}
    if crs is not None:
        document["crs"] = {"type": "name", "properties": {
            "name": "urn:ogc:def:crs:EPSG::{}".format(crs.split(":")[1])}}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return path


def write_geopackage(path, geometries, crs):
    """A GeoPackage polygon layer (written with QGIS, the format QGIS users hand over)."""
    from qgis.core import (QgsCoordinateTransformContext, QgsFeature, QgsGeometry,
                           QgsVectorFileWriter, QgsVectorLayer)

    layer = QgsVectorLayer("Polygon?crs={}".format(crs), "clouds", "memory")
    features = []
    for geometry in geometries:
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromWkt(_wkt(geometry)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    error = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, path, QgsCoordinateTransformContext(), options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    return path


def _wkt(geometry):
    ring = ", ".join("{} {}".format(x, y) for x, y in geometry["coordinates"][0])
    return "POLYGON(({}))".format(ring)


CLOUD = (20, 20, 60, 50)     # columns / rows of a rectangle over the overlaps of the tiles


@pytest.mark.parametrize("alg_id", [GR, LBA])
def test_mask_in_another_crs(runner, alg_id, tiles, tmp_path, guard, rm, qgis_processing):
    """A GeoPackage in WGS 84 is reprojected: same result as the same polygon in the rasters'
    CRS (its edges lie on pixel edges, far from the pixel centres)."""
    polygon = box(*CLOUD, rm)
    same = write_geojson(str(tmp_path / "masks" / "cloud_utm.geojson"), [polygon])
    other = write_geopackage(str(tmp_path / "masks" / "cloud_wgs84.gpkg"),
                             [transform_geom("EPSG:32618", "EPSG:4326", polygon)], "EPSG:4326")
    options = {"MASK_MODE": 1}
    _, reference = succeeded(runner, alg_id, tiles, tmp_path, guard, [tmp_path / "masks"],
                             dict(options, VECTOR_MASK=same), out_name="same")
    _, reprojected = succeeded(runner, alg_id, tiles, tmp_path, guard, [tmp_path / "masks"],
                               dict(options, VECTOR_MASK=other), out_name="other")
    _, unmasked = succeeded(runner, alg_id, tiles, tmp_path, guard, [], {}, out_name="plain")
    for first, second in zip(reference, reprojected):
        assert np.array_equal(read(first), read(second))
    assert any(not np.array_equal(read(a), read(b)) for a, b in zip(reference, unmasked))


def test_empty_mask(runner, tiles, tmp_path, guard):
    """Include mode with no polygon keeps no pixel for the statistics: every image is left
    unchanged, with a warning naming each image (the specification's defined result)."""
    empty = write_geojson(str(tmp_path / "masks" / "empty.geojson"), [])
    outcome, written = succeeded(runner, GR, tiles, tmp_path, guard, [tmp_path / "masks"],
                                 {"VECTOR_MASK": empty, "MASK_MODE": 0},
                                 warning_needles=["'tile0'", "'tile1'", "'tile2'"])
    for source, path in zip(tiles, written):
        assert np.array_equal(read(source), read(path))


def test_mask_with_invalid_geometries(runner, tiles, tmp_path, guard, rm):
    """A self-intersecting "bow tie" is repaired (its two triangles are used), with a warning."""
    x0, y0 = rm.ORIGIN_X + 20 * rm.PIXEL, rm.ORIGIN_Y - 60 * rm.PIXEL
    x1, y1 = rm.ORIGIN_X + 60 * rm.PIXEL, rm.ORIGIN_Y - 20 * rm.PIXEL
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    bow_tie = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1],
                                                   [x0, y0]]]}
    triangles = {"type": "MultiPolygon", "coordinates": [
        [[[x0, y0], [xm, ym], [x0, y1], [x0, y0]]],
        [[[x1, y0], [x1, y1], [xm, ym], [x1, y0]]]]}
    invalid = write_geojson(str(tmp_path / "masks" / "bow_tie.geojson"), [bow_tie])
    valid = write_geojson(str(tmp_path / "masks" / "triangles.geojson"), [triangles])
    _, repaired = succeeded(runner, GR, tiles, tmp_path, guard, [tmp_path / "masks"],
                            {"VECTOR_MASK": invalid, "MASK_MODE": 1}, out_name="repaired",
                            warning_needles=["invalid"])
    _, expected = succeeded(runner, GR, tiles, tmp_path, guard, [tmp_path / "masks"],
                            {"VECTOR_MASK": valid, "MASK_MODE": 1}, out_name="expected")
    for first, second in zip(repaired, expected):
        assert np.array_equal(read(first), read(second))


@pytest.mark.parametrize("kind", ["Point", "LineString"])
def test_mask_of_points_or_lines(runner, kind, tiles, tmp_path, guard, rm):
    x, y = rm.ORIGIN_X + 30 * rm.PIXEL, rm.ORIGIN_Y - 30 * rm.PIXEL
    geometry = ({"type": "Point", "coordinates": [x, y]} if kind == "Point" else
                {"type": "LineString", "coordinates": [[x, y], [x + 300, y - 300]]})
    path = write_geojson(str(tmp_path / "masks" / "not_polygons.geojson"), [geometry])
    refused(runner, GR, tiles, tmp_path, guard, [tmp_path / "masks"],
            {"VECTOR_MASK": path}, "VECTOR_MASK", "not_polygons", "polygon")
