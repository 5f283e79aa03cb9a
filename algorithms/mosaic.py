"""The mosaic: a GDAL virtual raster (VRT) of the corrected rasters, in input order.

A VRT copies no pixel: it reads the corrected GeoTIFFs, later sources drawn over earlier ones
where both are valid (their nodata, mask or alpha band honoured), so the input order decides
what shows where images overlap.
"""

import os

from qgis.core import QgsProcessingException

from .parameters import MOSAIC, tr


def check_mosaic_path(path):
    """Refuse a mosaic file that is not named .vrt: GDAL would write VRT XML into it."""
    if path and os.path.splitext(path)[1].lower() != ".vrt":
        raise QgsProcessingException(tr(
            "The mosaic {} ({}) is a GDAL virtual raster: its file name must end in .vrt.").format(
            path, MOSAIC))


def build_mosaic(path, rasters):
    """Write the VRT of ``rasters`` to ``path`` (through a temporary name in its folder, so
    that relative source paths stay valid); return GDAL's warnings (e.g. a raster of another
    data type left out). Raise QgsProcessingException when it cannot be written."""
    from osgeo import gdal

    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, ".{}.{}.partial".format(os.path.basename(path), os.getpid()))
    messages = []

    def collect(level, _number, message):
        if level >= gdal.CE_Warning:
            messages.append((level, message))

    problem = None
    gdal.PushErrorHandler(collect)
    try:
        os.makedirs(folder, exist_ok=True)
        dataset = gdal.BuildVRT(temporary, rasters,
                                options=gdal.BuildVRTOptions(resolution="highest"))
        if dataset is None:
            problem = "; ".join(message for _level, message in messages) or "GDAL BuildVRT"
        dataset = None  # writes the file
    except (RuntimeError, OSError) as err:
        problem = str(err)
    finally:
        gdal.PopErrorHandler()
    if problem is None and any(level >= gdal.CE_Failure for level, _ in messages):
        problem = "; ".join(message for level, message in messages if level >= gdal.CE_Failure)
    if problem is None:
        try:
            os.replace(temporary, path)
        except OSError as err:
            problem = str(err)
    if problem is not None:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise QgsProcessingException(tr(
            "The corrected rasters were written, but the mosaic {} could not be ({}).").format(
            path, problem))
    return [message for level, message in messages if level < gdal.CE_Failure]
