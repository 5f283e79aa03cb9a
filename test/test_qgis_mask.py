"""The polygon mask: any vector layer (memory layers, selections) becomes a FeatureCollection in
the rasters' CRS, and it really limits the statistics of both algorithms."""

import numpy as np
import pytest

CLOUD_ROWS = (10, 31)    # scene rows covered by a bright cloud in tile1 (inside its overlaps)
CLOUD_COLS = (32, 48)    # scene columns: tile1 starts at column 32, tile0 ends at column 64
CLOUD_VALUE = 60000


def utm_box(rm, rows, cols, margin=1):
    """(xmin, ymin, xmax, ymax) of a scene pixel range, in EPSG:32618."""
    x0 = rm.ORIGIN_X + (cols[0] - margin) * rm.PIXEL
    x1 = rm.ORIGIN_X + (cols[1] + margin) * rm.PIXEL
    y1 = rm.ORIGIN_Y - (rows[0] - margin) * rm.PIXEL
    y0 = rm.ORIGIN_Y - (rows[1] + margin) * rm.PIXEL
    return x0, y0, x1, y1


def polygon_in(crs_authid, box):
    """A polygon for a EPSG:32618 box, expressed in another CRS (vertices densified)."""
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry,
                           QgsProject, QgsRectangle)

    geometry = QgsGeometry.fromRect(QgsRectangle(*box)).densifyByCount(20)
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32618"),
                                       QgsCoordinateReferenceSystem(crs_authid),
                                       QgsProject.instance())
    geometry.transform(transform)
    return geometry


def memory_mask(features, crs_authid="EPSG:4326", name="mask"):
    """A memory polygon layer with an 'image' field; features: [(geometry, image value)]."""
    from qgis.core import QgsFeature, QgsField, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant

    layer = QgsVectorLayer("Polygon?crs={}".format(crs_authid), name, "memory")
    provider = layer.dataProvider()
    provider.addAttributes([QgsField("image", QVariant.String)])
    layer.updateFields()
    for geometry, value in features:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(geometry)
        feature["image"] = value
        provider.addFeatures([feature])
    layer.updateExtents()
    assert layer.isValid() and layer.featureCount() == len(features)
    return layer


@pytest.fixture
def cloudy_tiles(tmp_path, rm):
    def add_cloud(k, data):
        if k == 1:  # tile1's column 0 is scene column 32
            data[CLOUD_ROWS[0]:CLOUD_ROWS[1], CLOUD_COLS[0] - 32:CLOUD_COLS[1] - 32] = CLOUD_VALUE

    return rm.write_tiles(tmp_path / "cloudy", edit=add_cloud)


@pytest.fixture
def cloud_region():
    region = np.zeros((96, 96), dtype=bool)
    region[CLOUD_ROWS[0]:CLOUD_ROWS[1], CLOUD_COLS[0]:CLOUD_COLS[1]] = True
    return region


@pytest.fixture
def clean_result(tmp_path, rm, cloud_region):
    """How close Global regression brings the same tiles without a cloud (its least squares
    is a compromise between the images, so some difference always remains)."""
    outputs = run_gr(rm.write_tiles(tmp_path / "clean"), tmp_path / "clean_out")
    return rm.overlap_difference(outputs, ignore=cloud_region)


@pytest.fixture
def project_layer():
    """Add layers to the project (selections are referenced through it); removed afterwards."""
    from qgis.core import QgsProject

    added = []

    def add(layer):
        QgsProject.instance().addMapLayer(layer)
        added.append(layer.id())
        return layer

    yield add
    QgsProject.instance().removeMapLayers(added)


def test_feature_collection_reprojected_with_field(qgis_processing, rm):
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransformContext,
                           QgsProcessingContext)

    from radiomatch.algorithms.mask import mask_feature_collection

    box = utm_box(rm, (0, 10), (0, 10), margin=0)
    layer = memory_mask([(polygon_in("EPSG:4326", box), "tile1"),
                         (polygon_in("EPSG:4326", box), None)])
    context = QgsProcessingContext()
    context.setTransformContext(QgsCoordinateTransformContext())
    collection = mask_feature_collection(layer, QgsCoordinateReferenceSystem("EPSG:32618"),
                                         context, field="image")
    assert collection["type"] == "FeatureCollection"
    assert collection["crs"] == {"type": "name", "properties": {"name": "EPSG:32618"}}
    first, second = collection["features"]
    assert first["properties"] == {"image": "tile1"}
    assert second["properties"] == {"image": None}  # NULL becomes None, not a QVariant
    assert first["geometry"]["type"] == "Polygon"
    xs = [x for x, _y in first["geometry"]["coordinates"][0]]
    ys = [y for _x, y in first["geometry"]["coordinates"][0]]
    # back in metres, on the box (the round trip through degrees is exact to millimetres)
    assert min(xs) == pytest.approx(box[0], abs=0.01) and max(xs) == pytest.approx(box[2], abs=0.01)
    assert min(ys) == pytest.approx(box[1], abs=0.01) and max(ys) == pytest.approx(box[3], abs=0.01)


def test_feature_collection_custom_crs_and_curves(qgis_processing):
    """A CRS without EPSG code is given as WKT that rasterio understands; curves are
    segmentized; empty geometries are skipped; no field means no properties."""
    from qgis.core import (QgsCoordinateReferenceSystem, QgsGeometry, QgsProcessingContext)
    from rasterio.crs import CRS

    from radiomatch.algorithms.mask import mask_feature_collection

    custom = QgsCoordinateReferenceSystem.fromProj(
        "+proj=tmerc +lat_0=0 +lon_0=-75.5 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 "
        "+units=m +no_defs")
    assert custom.isValid() and not custom.authid().startswith("EPSG:")
    curve = QgsGeometry.fromWkt("CurvePolygon(CircularString(0 0, 10 10, 20 0, 10 -10, 0 0))")
    layer = memory_mask([(curve, "a"), (QgsGeometry(), "b")], crs_authid="EPSG:32618")
    collection = mask_feature_collection(layer, custom, QgsProcessingContext())
    name = collection["crs"]["properties"]["name"]
    assert CRS.from_user_input(name).to_proj4().find("lon_0=-75.5") >= 0
    assert len(collection["features"]) == 1
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert len(feature["geometry"]["coordinates"][0]) > 8
    assert feature["properties"] == {}


def run_gr(tiles, folder, **extra):
    import processing

    # All-pixel overlap statistics, so that only the mask keeps the cloud out of them.
    parameters = {"INPUT": tiles, "OUTPUT_FOLDER": str(folder), "OVERLAP_STATISTICS": 1}
    parameters.update(extra)
    return processing.run("radiomatch:globalregression", parameters)["OUTPUT_LAYERS"]


def test_robust_overlap_statistics_need_no_mask_for_the_cloud(radiomatch_provider, cloudy_tiles,
                                                              cloud_region, clean_result, rm,
                                                              tmp_path):
    plain = run_gr(cloudy_tiles, tmp_path / "plain")
    robust = run_gr(cloudy_tiles, tmp_path / "robust", OVERLAP_STATISTICS=0)
    robust_difference = rm.overlap_difference(robust, ignore=cloud_region)
    plain_difference = rm.overlap_difference(plain, ignore=cloud_region)
    assert robust_difference < 1.5 * clean_result, (robust_difference, clean_result)
    assert plain_difference > 10 * robust_difference, (plain_difference, robust_difference)


def test_exclude_selected_cloud_polygon(radiomatch_provider, project_layer, cloudy_tiles,
                                        cloud_region, clean_result, rm, tmp_path):
    """Memory layer in EPSG:4326, only the cloud polygon selected (an unselected polygon covers
    everything): the cloud leaves the statistics and the overlaps match again."""
    from qgis.core import QgsProcessingFeatureSourceDefinition

    cloud = polygon_in("EPSG:4326", utm_box(rm, CLOUD_ROWS, CLOUD_COLS))
    everything = polygon_in("EPSG:4326", utm_box(rm, (0, 96), (0, 96), margin=5))
    layer = project_layer(memory_mask([(cloud, "tile1"), (everything, "other")]))
    layer.selectByIds([next(f.id() for f in layer.getFeatures() if f["image"] == "tile1")])
    assert layer.selectedFeatureCount() == 1

    plain = run_gr(cloudy_tiles, tmp_path / "plain")
    masked = run_gr(cloudy_tiles, tmp_path / "masked", MASK_MODE=1,
                    VECTOR_MASK=QgsProcessingFeatureSourceDefinition(layer.id(), True))
    plain_difference = rm.overlap_difference(plain, ignore=cloud_region)
    masked_difference = rm.overlap_difference(masked, ignore=cloud_region)
    assert masked_difference < 1.1 * clean_result, (masked_difference, clean_result)
    assert plain_difference > 10 * masked_difference


def test_mask_name_field_limits_polygons_to_their_image(radiomatch_provider, project_layer,
                                                        cloudy_tiles, cloud_region,
                                                        clean_result, rm, tmp_path):
    """All features, matched to images by the 'image' field: the huge polygon names no image."""
    cloud = polygon_in("EPSG:4326", utm_box(rm, CLOUD_ROWS, CLOUD_COLS))
    everything = polygon_in("EPSG:4326", utm_box(rm, (0, 96), (0, 96), margin=5))
    layer = project_layer(memory_mask([(cloud, "tile1"), (everything, "other")]))

    masked = run_gr(cloudy_tiles, tmp_path / "masked", VECTOR_MASK=layer.id(), MASK_MODE=1,
                    MASK_NAME_FIELD="image")
    assert rm.overlap_difference(masked, ignore=cloud_region) < 1.1 * clean_result
    # without the field the huge polygon excludes every pixel: nothing can be balanced
    unmatched = run_gr(cloudy_tiles, tmp_path / "unmatched", VECTOR_MASK=layer.id(),
                       MASK_MODE=1)
    assert rm.overlap_difference(unmatched, ignore=cloud_region) > 5 * clean_result


def test_include_mode_and_local_block_adjustment(radiomatch_provider, project_layer,
                                                 cloudy_tiles, cloud_region, clean_result, rm,
                                                 tmp_path):
    """Include mode with a layer in a third CRS, through the other algorithm too."""
    import processing

    below_cloud = polygon_in("EPSG:3857", utm_box(rm, (CLOUD_ROWS[1] + 2, 96), (0, 96)))
    layer = project_layer(memory_mask([(below_cloud, None)], crs_authid="EPSG:3857"))
    masked = run_gr(cloudy_tiles, tmp_path / "masked", VECTOR_MASK=layer.id(), MASK_MODE=0)
    assert rm.overlap_difference(masked, ignore=cloud_region) < 1.5 * clean_result

    results = processing.run("radiomatch:localblockadjustment", {
        "INPUT": cloudy_tiles, "OUTPUT_FOLDER": str(tmp_path / "local"),
        "VECTOR_MASK": layer.id(), "MASK_MODE": 0, "SAVE_BLOCK_MAPS": str(tmp_path / "maps"),
        "LOCAL_MODEL": 1})     # the block-means model saves the block means
    import rasterio

    with rasterio.open(str(tmp_path / "maps" / "tile1_block_map.tif")) as src:
        blocks = src.read(1)
    # tile1's blocks above the polygon have no mean (their pixels were not included)
    assert np.isnan(blocks[0]).all()
    assert np.isfinite(blocks).any()
    assert np.nanmax(blocks) < CLOUD_VALUE / 2  # the cloud never entered a block mean
    assert len(results["OUTPUT_LAYERS"]) == 3
