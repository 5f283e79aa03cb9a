"""Resolving, opening and validating input rasters; validity masks and tile windows."""
import glob
import math
import os
import warnings as python_warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from .errors import RadioMatchError
from .metadata import read_metadata
from .writing import RASTER_SIDE_FILES, SUPPORTED_DTYPES

AUTOMATIC_TILE = 512


def image_name(path):
    """The image's key everywhere: its file basename without the last extension."""
    return os.path.splitext(os.path.basename(path))[0]


def is_virtual_path(path):
    """A path in one of GDAL's virtual file systems (``/vsizip/``, ``/vsicurl/``, ``/vsis3/``...):
    GDAL reads it, the operating system does not see it."""
    return os.fspath(path).startswith("/vsi")


def _is_folder_spec(text):
    return os.path.isdir(text) or "." not in os.path.basename(os.path.normpath(text))


def resolve_input_paths(input_images):
    """A list verbatim; a string without "." in its last component is a folder (``*.tif``);
    any other string is a glob. Results are sorted; the order defines the model order."""
    if isinstance(input_images, (str, os.PathLike)):
        pattern = os.fspath(input_images)
        if _is_folder_spec(pattern):
            pattern = os.path.join(pattern, "*.tif")
        paths = sorted(glob.glob(pattern))
        if not paths:
            raise RadioMatchError(f"No input images found for {os.fspath(input_images)!r}.")
        return paths
    paths = [os.fspath(path) for path in input_images]
    if not paths:
        raise RadioMatchError("No input images were given.")
    return paths


def resolve_output_paths(output_images, input_paths, suffix):
    """A list verbatim (same length as the inputs); a folder gives ``<folder>/<name><suffix>.tif``;
    any other string is a template in which ``$`` is the image name."""
    names = [image_name(path) for path in input_paths]
    if isinstance(output_images, (str, os.PathLike)):
        spec = os.fspath(output_images)
        if _is_folder_spec(spec):
            outputs = [os.path.join(spec, f"{name}{suffix}.tif") for name in names]
        elif "$" not in os.path.basename(spec):
            raise RadioMatchError(
                f"The output template {spec!r} has no \"$\" in its file name, so every image "
                "would be written to the same file.")
        else:
            outputs = [spec.replace("$", name) for name in names]
    else:
        outputs = [os.fspath(path) for path in output_images]
        if len(outputs) != len(input_paths):
            raise RadioMatchError(
                f"{len(outputs)} output paths were given for {len(input_paths)} input images; "
                "the lists must have the same length.")
    seen = {}
    input_real = {os.path.realpath(path): path for path in input_paths}
    for output in outputs:
        if is_virtual_path(output):
            raise RadioMatchError(
                f"The output {output!r} is in a GDAL virtual file system; RadioMatch writes its "
                "outputs in a folder of a file system, because each one is written under a "
                "temporary name and renamed once whole (object stores such as /vsis3/ cannot "
                "rename). Write them to a local or shared folder, then copy them.")
        real = os.path.realpath(output)
        if real in input_real:
            raise RadioMatchError(
                f"The output {output!r} is the input image {input_real[real]!r}; "
                "inputs are never overwritten. Choose another output folder or name.")
        for suffix in RASTER_SIDE_FILES:
            if os.path.realpath(output + suffix) in input_real:
                raise RadioMatchError(
                    f"The output {output!r} would replace the input image {output + suffix!r} "
                    "(GDAL side files of a replaced output are removed with it); inputs are "
                    "never overwritten. Choose another output folder or name.")
        if real in seen:
            raise RadioMatchError(f"Two images would be written to the same output {output!r}.")
        seen[real] = output
    return outputs


@dataclass(frozen=True)
class ImageInfo:
    """What the engine needs to know of one input raster, read once when it is opened.

    ``count`` is the number of bands the model corrects: every band but the alpha band, which
    is a mask (``alpha_band``, 1-based, or None). ``band_nodata`` holds the nodata of those
    bands; ``has_mask_band`` is a real per-dataset mask (GDAL's internal mask or ``.msk``)."""
    path: str
    name: str
    width: int
    height: int
    count: int
    dtype: str
    transform: object
    crs: object
    band_nodata: tuple
    block_shape: tuple
    has_mask_band: bool
    alpha_band: object
    metadata: object

    @property
    def file_nodata(self):
        return self.band_nodata[0]

    @property
    def file_count(self):
        """Bands of the file, the alpha band included."""
        return self.count + (self.alpha_band is not None)

    @property
    def bounds(self):
        """(left, bottom, right, top) in the raster CRS."""
        left, top = self.transform.c, self.transform.f
        right = left + self.transform.a * self.width
        bottom = top + self.transform.e * self.height
        return (left, bottom, right, top)

    @property
    def pixel_size(self):
        return (abs(self.transform.a), abs(self.transform.e))

    def colour_values(self, values):
        """The corrected bands of a (file bands, rows, cols) array."""
        if self.alpha_band is None:
            return values
        if self.alpha_band == self.file_count:
            return values[:-1]
        return np.delete(values, self.alpha_band - 1, axis=0)


def open_image(path):
    """Open one raster and read its description; a clear error if it is not a usable raster.
    Paths in GDAL's virtual file systems are left to GDAL, which alone sees them."""
    if not is_virtual_path(path):
        if os.path.isdir(path):
            raise RadioMatchError(f"The input {path!r} is a folder, not a raster file.")
        if not os.path.exists(path):
            raise RadioMatchError(_missing_file_message(path))
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as dataset:
                return _describe(path, dataset)
    except RasterioIOError as error:
        raise RadioMatchError(
            f"The input image {path!r} cannot be read as a raster ({error}).") from None


def _missing_file_message(path):
    """"Does not exist", unless GDAL opens the name as a dataset of a container file (a
    subdataset such as ``NETCDF:"file.nc":variable``)."""
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as dataset:
                container = (dataset.files or [None])[0]
    except (RasterioIOError, ValueError, TypeError):
        return f"The input image {path!r} does not exist."
    where = f" of the file {container!r}" if container else ""
    return (f"The input {path!r} is a GDAL subdataset{where}, not a raster file; RadioMatch "
            "reads whole raster files. Extract it as a GeoTIFF first (for example with "
            "gdal_translate).")


def _describe(path, dataset):
    transform = dataset.transform
    if dataset.count < 1:
        if dataset.subdatasets:
            listed = ", ".join(dataset.subdatasets[:3]) + (
                ", ..." if len(dataset.subdatasets) > 3 else "")
            raise RadioMatchError(
                f"The input {path!r} is a container of {len(dataset.subdatasets)} subdatasets "
                f"({listed}) and has no bands of its own; extract the one to balance as a "
                "GeoTIFF first (for example with gdal_translate).")
        raise RadioMatchError(f"The input image {path!r} has no bands.")
    if dataset.crs is None:
        raise RadioMatchError(f"The input image {path!r} has no coordinate reference system.")
    if transform.is_identity or transform.a == 0 or transform.e == 0:
        raise RadioMatchError(f"The input image {path!r} has no geotransform (it is not georeferenced).")
    if transform.b != 0 or transform.d != 0:
        raise RadioMatchError(
            f"The input image {path!r} has a rotated or skewed geotransform; only north-up "
            "rasters are supported. Warp it to a north-up grid first (for example with "
            "GDAL Warp).")
    if transform.a < 0 or transform.e > 0:
        raise RadioMatchError(
            f"The input image {path!r} is not north-up (negative pixel width or positive pixel "
            "height); warp it to a north-up grid first.")
    dtype = _band_dtype(path, dataset)
    colorinterp = dataset.colorinterp
    if ColorInterp.palette in colorinterp:
        raise RadioMatchError(
            f"The input image {path!r} is a palette (colour table) raster: its values are "
            "indices into the colour table, not radiometric values, and balancing them would "
            "scramble the colours. Expand it to RGB first (for example with gdal_translate "
            "-expand rgb).")
    alpha_bands = [band for band, interp in enumerate(colorinterp, start=1)
                   if interp == ColorInterp.alpha]
    if len(alpha_bands) > 1:
        raise RadioMatchError(
            f"The input image {path!r} has {len(alpha_bands)} alpha bands (bands "
            f"{', '.join(map(str, alpha_bands))}); a raster has one alpha band at most.")
    alpha_band = alpha_bands[0] if alpha_bands else None
    colour_bands = [band for band in range(1, dataset.count + 1) if band != alpha_band]
    if not colour_bands:
        raise RadioMatchError(
            f"The input image {path!r} has an alpha band and no other band: nothing to balance.")
    # An alpha band makes GDAL report its mask (per-dataset and alpha); a real per-dataset
    # mask (internal or .msk) is reported without the alpha flag.
    has_mask_band = any(
        MaskFlags.per_dataset in dataset.mask_flag_enums[band - 1]
        and MaskFlags.alpha not in dataset.mask_flag_enums[band - 1] for band in colour_bands)
    return ImageInfo(
        path=path, name=image_name(path), width=dataset.width, height=dataset.height,
        count=len(colour_bands), dtype=dtype, transform=transform, crs=dataset.crs,
        band_nodata=tuple(dataset.nodatavals[band - 1] for band in colour_bands),
        block_shape=tuple(dataset.block_shapes[0]), has_mask_band=has_mask_band,
        alpha_band=alpha_band, metadata=read_metadata(dataset))


def _band_dtype(path, dataset):
    """The one data type of the raster's bands, refusing those an output cannot hold."""
    dtypes = sorted(set(dataset.dtypes))
    if len(dtypes) > 1:
        raise RadioMatchError(
            f"The input image {path!r} has bands of different data types ({', '.join(dtypes)}); "
            "convert them to one type first.")
    dtype = dtypes[0]
    if dtype.startswith("complex"):
        raise RadioMatchError(
            f"The input image {path!r} has complex values ({dtype}), such as SAR data in "
            "single-look complex form; RadioMatch balances real values. Convert it first "
            "(for example to amplitude or intensity).")
    if dtype not in SUPPORTED_DTYPES:
        raise RadioMatchError(
            f"The input image {path!r} has the data type {dtype}, which RadioMatch cannot "
            f"write; supported types: {', '.join(SUPPORTED_DTYPES)}.")
    return dtype


def _same_nodata(first, second):
    if first is None or second is None:
        return first is None and second is None
    if math.isnan(first) or math.isnan(second):
        return math.isnan(first) and math.isnan(second)
    return first == second


def check_compatible(images, custom_nodata_value):
    """Same CRS (compared semantically), same band count, the same stored values (scale and
    offset), distinct names and, without an override, one nodata for every band of every
    image."""
    first = images[0]
    names = {}
    for image in images:
        if image.name in names:
            if os.path.realpath(image.path) == os.path.realpath(names[image.name]):
                raise RadioMatchError(f"The input image {image.path!r} is given twice.")
            raise RadioMatchError(
                f"Two input images share the name {image.name!r}: {names[image.name]!r} and "
                f"{image.path!r}. Image names key the model; rename one of them.")
        names[image.name] = image.path
        if image.crs != first.crs:
            raise RadioMatchError(
                f"The input image {image.path!r} is in {image.crs.to_string()} but "
                f"{first.path!r} is in {first.crs.to_string()}; all images must share one CRS.")
        if image.count != first.count:
            raise RadioMatchError(
                f"The input image {image.path!r} has {image.count} bands but {first.path!r} has "
                f"{first.count}; all images must have the same bands (an alpha band does not "
                "count).")
        _check_same_scaling(image, first)
        if custom_nodata_value is None:
            _check_one_nodata(image)
            if not _same_nodata(image.file_nodata, first.file_nodata):
                raise RadioMatchError(
                    f"The input image {image.path!r} has nodata {image.file_nodata} but "
                    f"{first.path!r} has {first.file_nodata}; set a custom nodata value to use "
                    "one value for all images.")


def _scaling(image):
    metadata = image.metadata
    return (image.colour_values(np.array(metadata.scales, dtype=float)),
            image.colour_values(np.array(metadata.offsets, dtype=float)))


def _check_same_scaling(image, first):
    """The model compares stored values: they must mean the same physical values."""
    scales, offsets = _scaling(image)
    first_scales, first_offsets = _scaling(first)
    for band in range(image.count):
        if (scales[band], offsets[band]) != (first_scales[band], first_offsets[band]):
            raise RadioMatchError(
                f"The input image {image.path!r} stores band {band + 1} with scale "
                f"{scales[band]:g} and offset {offsets[band]:g} but {first.path!r} with scale "
                f"{first_scales[band]:g} and offset {first_offsets[band]:g}: the same stored "
                "value means different physical values. Convert them to one scale first.")


def _check_one_nodata(image):
    """A GeoTIFF output holds one nodata value for all its bands."""
    if all(_same_nodata(value, image.file_nodata) for value in image.band_nodata):
        return
    listed = ", ".join(f"band {band}: {value}"
                       for band, value in enumerate(image.band_nodata, start=1))
    raise RadioMatchError(
        f"The input image {image.path!r} has a different nodata value per band ({listed}); "
        "its GeoTIFF output can hold only one nodata value for all bands, so the bands' "
        "nodata pixels could not all be kept. Set a custom nodata value if one value marks "
        "the missing pixels of every band, or give every band the same nodata value first.")


def resolve_nodata(images, custom_nodata_value, warnings):
    """The override if given, else the images' common nodata (None: all pixels valid)."""
    if custom_nodata_value is not None:
        if isinstance(custom_nodata_value, bool) or not isinstance(
                custom_nodata_value, (int, float, np.integer, np.floating)):
            raise RadioMatchError(
                f"custom_nodata_value must be a number, not {custom_nodata_value!r}.")
        custom = float(custom_nodata_value)
        for image in images:
            replaced = sorted({f"{value:g}" for value in image.band_nodata
                               if value is not None and not _same_nodata(value, custom)})
            if replaced:
                warnings.append(
                    f"The custom nodata value {custom:g} replaces the nodata "
                    f"{', '.join(replaced)} of {image.path!r}: its pixels of that value count "
                    "as valid.")
        return custom
    nodata = images[0].file_nodata
    if nodata is None and any(image.alpha_band is None and not image.has_mask_band
                              for image in images):
        warnings.append(
            "The images have no nodata value: every finite pixel counts as valid (fill zeros "
            "too), except where an alpha band or mask says otherwise. Set a custom nodata "
            "value if the images have a fill value.")
    return nodata


def valid_mask(data, nodata, mask=None):
    """Per-band validity of a (bands, rows, cols) tile: finite, not nodata, inside the mask
    (rows, cols) of the alpha band or the per-dataset mask."""
    if np.issubdtype(data.dtype, np.floating):
        valid = np.isfinite(data)
        if nodata is not None and not math.isnan(nodata):
            valid &= data != nodata
    elif nodata is None or math.isnan(nodata):
        valid = np.ones(data.shape, dtype=bool)
    else:
        valid = data != nodata
    if mask is not None:
        valid &= mask
    return valid


@contextmanager
def _decoding(image):
    """A file whose header opens but whose pixels cannot be decoded (truncated, corrupt) is
    an error naming it."""
    try:
        yield
    except RasterioIOError as error:
        raise RadioMatchError(
            f"The input image {image.path!r} cannot be read: the file is damaged or truncated "
            f"(GDAL: {error}).") from None


def read_tile(dataset, image, window, nodata):
    """The corrected bands of a window and their validity (an alpha band of 0 or a
    per-dataset mask of 0 makes every band of the pixel invalid)."""
    with _decoding(image):
        data = dataset.read(window=window)
        mask = read_mask(dataset, image, window) != 0 if image.has_mask_band else None
    if image.alpha_band is not None:
        alpha = data[image.alpha_band - 1] != 0
        mask = alpha if mask is None else mask & alpha
        data = image.colour_values(data)
    return data, valid_mask(data, nodata, mask)


def read_alpha(dataset, image, window):
    """The alpha band of a window, as stored."""
    with _decoding(image):
        return dataset.read(image.alpha_band, window=window)


def read_mask(dataset, image, window):
    """The per-dataset mask of a window (0 = masked), as GDAL gives it."""
    with _decoding(image):
        return dataset.read_masks(2 if image.alpha_band == 1 else 1, window=window)


def resolve_window_size(window_size, allowed_words):
    """The reference's window_size: None (automatic), int, (width, height) or a keyword."""
    if window_size is None or window_size in allowed_words:
        return window_size
    if isinstance(window_size, bool):
        raise RadioMatchError(f"window_size must be a positive integer, not {window_size!r}.")
    if isinstance(window_size, (int, np.integer)):
        window_size = (int(window_size), int(window_size))
    if (isinstance(window_size, (tuple, list)) and len(window_size) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                    for v in window_size)):
        width, height = (int(v) for v in window_size)
        if width >= 1 and height >= 1:
            return (width, height)
    words = ", ".join(repr(word) for word in allowed_words)
    raise RadioMatchError(
        f"window_size must be None, a positive integer, a (width, height) pair of positive "
        f"integers or one of {words}; {window_size!r} is not.")


def tile_size_for(image, window_size, block_size=None):
    """(width, height) of the processing tiles of one image; ``"block"`` needs the block size
    (width, height) in CRS units."""
    if window_size == "block":
        x_size, y_size = image.pixel_size
        return (max(1, math.ceil(block_size[0] / x_size)), max(1, math.ceil(block_size[1] / y_size)))
    if window_size is None:
        block_rows, block_cols = image.block_shape
        if block_cols < image.width and block_rows >= 128 and block_cols >= 128:
            return (block_cols, block_rows)
        return (AUTOMATIC_TILE, AUTOMATIC_TILE)
    if window_size == "internal":
        block_rows, block_cols = image.block_shape
        return (block_cols, block_rows)
    return window_size


def tile_windows(col_off, row_off, width, height, tile_width, tile_height):
    """Row-major tiles of a pixel window, on a grid anchored at the image origin."""
    windows = []
    first_row = row_off - row_off % tile_height
    first_col = col_off - col_off % tile_width
    for row in range(first_row, row_off + height, tile_height):
        top, bottom = max(row, row_off), min(row + tile_height, row_off + height)
        for col in range(first_col, col_off + width, tile_width):
            left, right = max(col, col_off), min(col + tile_width, col_off + width)
            windows.append(Window(left, top, right - left, bottom - top))
    return windows


def pixel_centres(image, window):
    """Map x of each column centre and map y of each row centre of a window."""
    cols = np.arange(window.col_off, window.col_off + window.width)
    rows = np.arange(window.row_off, window.row_off + window.height)
    return (image.transform.c + (cols + 0.5) * image.transform.a,
            image.transform.f + (rows + 0.5) * image.transform.e)
