"""Input layers and paths to raster files, output paths, and the never-overwrite rule."""

import os
import re

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsMapLayer,
    QgsProcessingException,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsRasterLayer,
)

from .parameters import OUTPUT_FOLDER, OUTPUT_NAME, plain_value, tr


def unreadable_input_message(value):
    path = value if os.path.exists(value) else value.split("|", 1)[0]
    if not path.startswith("/vsi") and not os.path.exists(path):
        return tr("Input raster not found: {} (no such file).").format(value)
    return tr("Cannot read {} as a raster: GDAL cannot open it (not a raster file, or damaged).").format(
        value)


# ---------------------------------------------------------------------------------------------
# Layers and paths -> files
# ---------------------------------------------------------------------------------------------
def gdal_source_parts(source):
    """(file, sub-layer name or "", read through a GDAL virtual file system?) of a GDAL data
    source: a path, maybe with suffixes such as ``|layername=...``, or a URI such as
    ``GPKG:file.gpkg:table``. The file of a virtual source (``/vsizip/a.zip/b.tif``,
    ``/vsicurl/...``, ``/vsis3/...``) is its whole GDAL path."""
    base, _, options = source.partition("|")
    match = re.search(r"(?:^|\|)layername=([^|]*)", options)
    sub_layer = match.group(1) if match else ""
    parts = QgsProviderRegistry.instance().decodeUri("gdal", base)
    path = parts.get("path") or base
    if parts.get("layerName"):
        sub_layer = parts.get("layerName")
    virtual = bool(parts.get("vsiPrefix")) or base.startswith("/vsi")
    return (base if virtual else path), sub_layer, virtual


def layer_file(layer):
    """The file behind a raster layer; raise QgsProcessingException naming the layer otherwise."""
    name = layer.name()
    if not isinstance(layer, QgsRasterLayer):
        raise QgsProcessingException(tr(
            "Layer '{}' ({}) is not a raster layer.").format(name, layer.source()))
    if not layer.isValid():
        raise QgsProcessingException(unreadable_input_message(layer.source()))
    if layer.providerType() != "gdal":
        raise QgsProcessingException(tr(
            "Layer '{}' is not a file-based raster (data provider '{}'); RadioMatch reads raster "
            "files only. Save the layer as a GeoTIFF first (right-click > Export > Save As...)."
        ).format(name, layer.providerType()))
    source = layer.source()
    path, sub_layer, virtual = gdal_source_parts(source)
    if virtual:     # GDAL reads it, and so does the engine (README: Running on a cluster)
        return whole_readable_raster(name, path, sub_layer)
    if not os.path.isfile(path):
        raise QgsProcessingException(tr(
            "Layer '{}' is not a single raster file ({}); RadioMatch reads raster files only. "
            "Save the layer as a GeoTIFF first.").format(name, source))
    if sub_layer and sub_layer != image_name(path):
        raise QgsProcessingException(tr(
            "Layer '{}' is the sub-layer '{}' of {}; RadioMatch reads whole raster files. "
            "Save the layer as a GeoTIFF first.").format(name, sub_layer, path))
    return path


def image_name(path):
    """The engine's name(k): the file's basename without its last extension."""
    return os.path.splitext(os.path.basename(path))[0]


class InputRaster:
    """One input raster resolved to its file: ``path``, and ``crs()`` from the layer when the
    input was a layer, else read from the file with GDAL."""

    def __init__(self, path, layer=None):
        self.path = path
        self.layer = layer
        self._crs = None

    def crs(self):
        if self.layer is not None:
            return self.layer.crs()
        if self._crs is None:
            self._crs = raster_file_crs(self.path) or QgsCoordinateReferenceSystem()
        return self._crs


def _quiet_gdal_open(path):
    """``osgeo.gdal`` and the read-only dataset of ``path`` (None if GDAL cannot open it as a
    raster); ``(None, None)`` without the GDAL Python bindings."""
    try:
        from osgeo import gdal
    except ImportError:
        return None, None
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return gdal, gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY)
    except RuntimeError:  # gdal.UseExceptions() is on
        return gdal, None
    finally:
        gdal.PopErrorHandler()


def raster_file_readable(path):
    """Whether GDAL opens ``path`` as a raster (read-only; True when it cannot be checked)."""
    gdal, dataset = _quiet_gdal_open(path)
    return gdal is None or dataset is not None


def raster_file_crs(path):
    """The CRS of a raster file, read with GDAL read-only (no QgsRasterLayer); None if none."""
    _gdal, dataset = _quiet_gdal_open(path)
    if dataset is None:
        return None
    wkt = dataset.GetProjectionRef()
    dataset = None
    return QgsCoordinateReferenceSystem.fromWkt(wkt) if wkt else None


def gdal_container(value):
    """The file GDAL reads for a dataset name that is not a file itself (a subdataset such as
    ``NETCDF:"file.nc":variable``), or None when GDAL does not open it."""
    _gdal, dataset = _quiet_gdal_open(value)
    if dataset is None:
        return None
    files = dataset.GetFileList() or []
    return files[0] if files else value


def raster_path_file(value):
    """The raster file named by a path string (GDAL URI suffixes such as ``|layername=``
    allowed); raise QgsProcessingException naming it when it is not a readable raster file."""
    if os.path.isfile(value):       # a file whose name holds "|" is that file
        return whole_readable_raster(value, value, "")
    path, sub_layer, virtual = gdal_source_parts(value)
    if virtual:
        return whole_readable_raster(value, path, sub_layer)
    if not os.path.exists(path):
        if "url=" in value or "://" in value or "dbname=" in value:
            raise QgsProcessingException(tr(
                "Input {} is not a raster file (a web service or database source); RadioMatch "
                "reads raster files only. Save the layer as a GeoTIFF first.").format(value))
        container = gdal_container(value)
        if container:
            raise QgsProcessingException(tr(
                "Input {} is a GDAL subdataset of {}, not a raster file; RadioMatch reads whole "
                "raster files. Extract it as a GeoTIFF first (Raster > Conversion > Translate, "
                "or gdal_translate).").format(value, container))
        raise QgsProcessingException(unreadable_input_message(value))
    if not os.path.isfile(path):
        raise QgsProcessingException(tr(
            "Input {} is a folder, not a raster file; give the raster files themselves.").format(
            value))
    return whole_readable_raster(value, path, sub_layer)


def whole_readable_raster(value, path, sub_layer):
    """``path``, once GDAL opens it as a raster and ``value`` names no sub-layer of it."""
    if sub_layer and sub_layer != image_name(path):
        raise QgsProcessingException(tr(
            "Input {} is the sub-layer '{}' of {}; RadioMatch reads whole raster files. "
            "Save the layer as a GeoTIFF first.").format(value, sub_layer, path))
    if not raster_file_readable(path):
        raise QgsProcessingException(unreadable_input_message(path))
    return path


def input_rasters(alg, parameters, name, context):
    """The :class:`InputRaster` list of a multiple-raster parameter, refusing inputs that are not
    raster files. Layers already in the project or the context are used as they are; a path is
    checked as a file and never loaded as a QgsRasterLayer (see
    ``parameters.RasterFilesParameter``)."""
    value = plain_value(parameters.get(name))
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(item, (str, QgsMapLayer)) for item in items):
        # expressions of a model (QgsProperty) and the like: QGIS resolves them to layers
        return [InputRaster(layer_file(layer), layer)
                for layer in alg.parameterAsLayerList(parameters, name, context)]
    rasters = []
    for item in items:
        if isinstance(item, str):
            if not item.strip():
                continue
            layer = QgsProcessingUtils.mapLayerFromString(
                item, context, False, QgsProcessingUtils.LayerHint.Raster)
            if layer is None:
                rasters.append(InputRaster(raster_path_file(item)))
                continue
            item = layer
        rasters.append(InputRaster(layer_file(item), item))
    return rasters


def input_layers_and_files(alg, parameters, name, context):
    """(rasters, paths) of a multiple-raster parameter: :class:`InputRaster` objects (with
    ``crs()``) and their files, refusing inputs that are not raster files."""
    rasters = input_rasters(alg, parameters, name, context)
    return rasters, [raster.path for raster in rasters]


def refuse_overwriting(files, inputs, outputs):
    """Refuse a file the run would write besides the corrected rasters (``files``: (parameter,
    path) pairs: adjustments, block maps, report) when it is one of the input rasters or one
    of the corrected rasters: the engine protects the inputs from the rasters only."""
    protected = {os.path.realpath(path): (True, path) for path in inputs}
    for path in outputs:
        protected.setdefault(os.path.realpath(path), (False, path))
    for parameter, path in files:
        if not path:
            continue
        is_input, other = protected.get(os.path.realpath(path), (None, None))
        if is_input:
            raise QgsProcessingException(tr(
                "The file {} ({}) is the input raster {}; inputs are never overwritten. Choose "
                "another file or folder.").format(path, parameter, other))
        if is_input is False:
            raise QgsProcessingException(tr(
                "The file {} ({}) is also the corrected raster {} of this run. Choose another "
                "file or folder.").format(path, parameter, other))


# ---------------------------------------------------------------------------------------------
# Output paths
# ---------------------------------------------------------------------------------------------
def output_paths(alg, parameters, context, inputs):
    """(folder, [output path per input]) from OUTPUT_FOLDER and the OUTPUT_NAME pattern."""
    folder = alg.parameterAsFileOutput(parameters, OUTPUT_FOLDER, context)
    if not folder:
        raise QgsProcessingException(tr("No output folder given ({}).").format(OUTPUT_FOLDER))
    pattern = (alg.parameterAsString(parameters, OUTPUT_NAME, context) or "").strip()
    if not pattern:
        pattern = alg.DEFAULT_OUTPUT_NAME
    if re.search(r"\.tiff?$", pattern, re.IGNORECASE):
        pattern = pattern.rsplit(".", 1)[0]
    if pattern.startswith("."):
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) starts with a dot, which makes hidden files that file "
            "browsers and QGIS's browser do not show; remove the dot.").format(
            pattern, OUTPUT_NAME))
    if "/" in pattern or "\\" in pattern:
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) must be a file name, not a path; choose the folder with "
            "{}.").format(pattern, OUTPUT_NAME, OUTPUT_FOLDER))
    if "$" not in pattern and len(inputs) > 1:
        raise QgsProcessingException(tr(
            "Output file name '{}' ({}) has no $: with {} inputs every output would get the same "
            "name. Use $ for the input name, e.g. '{}'.").format(
            pattern, OUTPUT_NAME, len(inputs), alg.DEFAULT_OUTPUT_NAME))
    return folder, [
        os.path.join(folder, pattern.replace("$", image_name(path)) + ".tif") for path in inputs
    ]
