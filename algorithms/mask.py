"""The polygon mask layer as a GeoJSON-like FeatureCollection in the rasters' CRS."""

import json

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsProcessingException,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import Qt, QVariant

from .parameters import (MASK_MODE, MASK_MODES, MASK_NAME_FIELD, VECTOR_MASK, enum_value, is_unset,
                         tr)


def crs_name(crs):
    """A name the engine (rasterio/PROJ) understands: EPSG code when there is one, else WKT."""
    authid = crs.authid()
    if authid.upper().startswith("EPSG:"):
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED_GDAL)


def mask_feature_collection(source, target_crs, context, field=None, feedback=None):
    """A GeoJSON-like FeatureCollection of the source's polygons, in ``target_crs``.

    The source comes from ``parameterAsSource``, so "selected features only" is honoured.
    Empty geometries are skipped; curves are segmentized. Properties hold only ``field``.
    """
    transform = None
    source_crs = source.sourceCrs()
    if source_crs.isValid() and target_crs.isValid() and source_crs != target_crs:
        transform = QgsCoordinateTransform(source_crs, target_crs, context.transformContext())
    elif not source_crs.isValid() and feedback is not None:
        feedback.pushWarning(tr(
            "The mask layer has no CRS; its coordinates are taken to be in the rasters' CRS."))
    request = QgsFeatureRequest()
    if field:
        request.setSubsetOfAttributes([field], source.fields())
    else:
        request.setNoAttributes()
    features = []
    repaired = []
    for feature in source.getFeatures(request):
        if feedback is not None and feedback.isCanceled():
            raise QgsProcessingException(tr("Canceled."))
        geometry = feature.geometry()
        if geometry is None or geometry.isNull() or geometry.isEmpty():
            continue
        if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
            raise QgsProcessingException(tr(
                "Mask feature {} of '{}' ({}) is a {}, not a polygon; the polygon mask must hold "
                "polygons only.").format(feature.id(), source.sourceName(), VECTOR_MASK,
                                         QgsWkbTypes.displayString(geometry.wkbType())))
        if QgsWkbTypes.isCurvedType(geometry.wkbType()):
            geometry.convertToStraightSegment()
        if not geometry.isGeosValid():
            # self-intersections and the like: keep the polygonal part of GEOS's repair (what
            # "Fix geometries" does), and say so
            geometry = geometry.makeValid()
            if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
                geometry = geometry.convertToType(QgsWkbTypes.PolygonGeometry, True)
            repaired.append(str(feature.id()))
            if geometry is None or geometry.isNull() or geometry.isEmpty():
                continue
        if transform is not None:
            try:
                geometry.transform(transform)
            except QgsCsException as err:
                raise QgsProcessingException(tr(
                    "Mask feature {} cannot be transformed to the rasters' CRS ({}).").format(
                    feature.id(), err)) from err
        properties = {}
        if field:
            properties[field] = _attribute_value(feature[field])
        features.append({
            "type": "Feature",
            "geometry": json.loads(geometry.asJson()),
            "properties": properties,
        })
    if repaired and feedback is not None:
        feedback.pushWarning(tr(
            "{} mask polygon(s) of '{}' had invalid geometries (self-intersections or the like) "
            "and were repaired as 'Fix geometries' does: feature(s) {}.").format(
            len(repaired), source.sourceName(), ", ".join(repaired[:20])
            + (", ..." if len(repaired) > 20 else "")))
    collection = {"type": "FeatureCollection", "features": features}
    if target_crs.isValid():
        collection["crs"] = {"type": "name", "properties": {"name": crs_name(target_crs)}}
    return collection


def _attribute_value(value):
    """A plain Python value for the engine (which compares ``str(value)`` with image names)."""
    if value is None or (isinstance(value, QVariant) and value.isNull()):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "toString"):  # QDate, QDateTime, QTime
        try:
            return value.toString(Qt.ISODate)
        except TypeError:
            return value.toString()
    return str(value)


def vector_mask(alg, parameters, context, raster_crs, feedback):
    """The engine's ``vector_mask`` tuple, or None when no mask layer is given."""
    if is_unset(parameters, VECTOR_MASK):
        return None
    source = alg.parameterAsSource(parameters, VECTOR_MASK, context)
    if source is None:
        raise QgsProcessingException(alg.invalidSourceError(parameters, VECTOR_MASK))
    geometry_type = QgsWkbTypes.geometryType(source.wkbType())
    if geometry_type in (QgsWkbTypes.PointGeometry, QgsWkbTypes.LineGeometry) or (
            geometry_type == QgsWkbTypes.NullGeometry and source.featureCount() > 0):
        kind = {QgsWkbTypes.PointGeometry: tr("points"), QgsWkbTypes.LineGeometry: tr("lines")}
        raise QgsProcessingException(tr(
            "The polygon mask '{}' ({}) holds {}, not polygons; only polygons can mark the "
            "pixels to include or exclude.").format(
            source.sourceName(), VECTOR_MASK, kind.get(geometry_type, tr("no geometries"))))
    mode = enum_value(alg, parameters, MASK_MODE, context, MASK_MODES)
    fields = alg.parameterAsFields(parameters, MASK_NAME_FIELD, context)
    field = fields[0] if fields else None
    if field and source.fields().lookupField(field) < 0:
        raise QgsProcessingException(tr(
            "The polygon mask '{}' has no field '{}' ({}); its fields are: {}.").format(
            source.sourceName(), field, MASK_NAME_FIELD,
            ", ".join(source.fields().names()) or tr("none")))
    if not raster_crs.isValid():
        raise QgsProcessingException(tr(
            "The first input raster has no CRS, so the polygon mask cannot be placed on it."))
    collection = mask_feature_collection(source, raster_crs, context, field, feedback)
    feedback.pushInfo(tr("Polygon mask: {} polygon(s), mode '{}'{}.").format(
        len(collection["features"]), mode,
        tr(", matched to images by field '{}'").format(field) if field else ""))
    if field:
        return (mode, collection, field)
    return (mode, collection)
