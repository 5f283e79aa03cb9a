"""Vector masks: which pixels may enter the statistics.

The core reads GeoJSON only (it depends on numpy, rasterio and scipy); the QGIS layer turns any
vector layer into a GeoJSON-like FeatureCollection. Geometries are reprojected to the raster CRS.
"""
import json
import os

import numpy as np
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.features import geometry_mask
from rasterio.warp import transform_geom

from .errors import RadioMatchError

_POLYGON_TYPES = {"Polygon", "MultiPolygon"}


class VectorMask:
    """Polygons per image and whether they include or exclude pixels."""

    def __init__(self, mode, geometries_by_image):
        self.mode = mode
        self._geometries = geometries_by_image

    def geometries_for(self, image_name):
        return self._geometries.get(image_name, [])

    def keep(self, image_name, window_transform, shape):
        """Boolean (rows, cols): True where a pixel centre may enter the statistics."""
        geometries = self.geometries_for(image_name)
        if not geometries:
            return np.full(shape, self.mode == "exclude")
        outside = geometry_mask(geometries, out_shape=shape, transform=window_transform)
        return outside if self.mode == "exclude" else ~outside


def _load_collection(source):
    if isinstance(source, dict):
        return source, "the vector mask"
    path = os.fspath(source)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle), path
    except OSError as error:
        raise RadioMatchError(f"The vector mask {path!r} cannot be read ({error.strerror}).") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise RadioMatchError(
            f"The vector mask {path!r} is not a GeoJSON file ({error}); convert it to GeoJSON "
            "or use the QGIS algorithm, which accepts any vector layer.") from None


def _collection_crs(collection, label):
    member = collection.get("crs")
    if not member:
        return CRS.from_epsg(4326)
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else member
    try:
        return CRS.from_user_input(name)
    except (CRSError, TypeError, ValueError):
        raise RadioMatchError(f"{label} has a CRS that cannot be understood: {name!r}.") from None


def _field_names(value):
    """The image names a field value gives: the value, or the entries of a comma/semicolon
    separated list in it."""
    if value is None:
        return set()
    return {token.strip() for token in str(value).replace(";", ",").split(",")} - {""}


def _field_matches(value, name):
    """Exact name, or one entry of a comma/semicolon separated list (never a substring)."""
    return name in _field_names(value)


def load_vector_mask(vector_mask, images, warnings):
    """Resolve the reference's ``(mode, source[, field])`` into a :class:`VectorMask`."""
    if vector_mask is None:
        return None
    if not isinstance(vector_mask, (tuple, list)) or len(vector_mask) not in (2, 3):
        raise RadioMatchError(
            "vector_mask must be (\"include\" or \"exclude\", path[, field]), "
            f"not {vector_mask!r}.")
    mode, source = vector_mask[0], vector_mask[1]
    field = vector_mask[2] if len(vector_mask) == 3 else None
    if mode not in ("include", "exclude"):
        raise RadioMatchError(f"vector_mask mode must be \"include\" or \"exclude\", not {mode!r}.")
    collection, label = _load_collection(source)
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list):
        raise RadioMatchError(f"{label} is not a GeoJSON FeatureCollection.")
    source_crs = _collection_crs(collection, label)
    raster_crs = images[0].crs
    polygons = []
    for feature in features:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not geometry:
            continue
        if geometry.get("type") not in _POLYGON_TYPES:
            raise RadioMatchError(
                f"{label} contains a {geometry.get('type')} geometry; the mask must contain "
                "polygons only.")
        if source_crs != raster_crs:
            geometry = transform_geom(source_crs, raster_crs, geometry)
        polygons.append((geometry, feature.get("properties") or {}))
    if field is not None and polygons and not any(field in props for _, props in polygons):
        raise RadioMatchError(f"{label} has no field named {field!r}.")
    by_image = {}
    for image in images:
        by_image[image.name] = [
            geometry for geometry, props in polygons
            if field is None or _field_matches(props.get(field), image.name)]
        if mode == "include" and not by_image[image.name]:
            warnings.append(
                f"The vector mask keeps no polygon for image {image.name!r}: none of its pixels "
                "enter the statistics.")
    if field is not None:
        named = set().union(*(_field_names(props.get(field)) for _, props in polygons))
        unknown = sorted(named - {image.name for image in images})
        if unknown:
            listed = ", ".join(map(repr, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
            warnings.append(
                f"Values of the field {field!r} of {label} name no input image: {listed}; "
                "their polygons apply to no image. Image names are the input file names "
                "without extension.")
    return VectorMask(mode, by_image)
