"""Resolving, opening and validating input rasters; validity masks and tile windows."""
import glob
import math
import os
import warnings as python_warnings
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.windows import Window

from .errors import RadioMatchError

AUTOMATIC_TILE = 512


def image_name(path):
    """The image's key everywhere: its file basename without the last extension."""
    return os.path.splitext(os.path.basename(path))[0]


def _is_folder_spec(text):
    return "." not in os.path.basename(os.path.normpath(text))


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
        real = os.path.realpath(output)
        if real in input_real:
            raise RadioMatchError(
                f"The output {output!r} is the input image {input_real[real]!r}; "
                "inputs are never overwritten. Choose another output folder or name.")
        if real in seen:
            raise RadioMatchError(f"Two images would be written to the same output {output!r}.")
        seen[real] = output
    return outputs


@dataclass(frozen=True)
class ImageInfo:
    """What the engine needs to know of one input raster, read once when it is opened."""
    path: str
    name: str
    width: int
    height: int
    count: int
    dtype: str
    transform: object
    crs: object
    file_nodata: object
    block_shape: tuple
    has_mask_band: bool

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


def open_image(path):
    """Open one raster and read its description; a clear error if it is not a usable raster."""
    if not os.path.exists(path):
        raise RadioMatchError(f"The input image {path!r} does not exist.")
    if os.path.isdir(path):
        raise RadioMatchError(f"The input {path!r} is a folder, not a raster file.")
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as dataset:
                return _describe(path, dataset)
    except RasterioIOError as error:
        raise RadioMatchError(
            f"The input image {path!r} cannot be read as a raster ({error}).") from None


def _describe(path, dataset):
    transform = dataset.transform
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
    flags = dataset.mask_flag_enums
    has_mask_band = any(
        MaskFlags.per_dataset in band_flags or MaskFlags.alpha in band_flags
        for band_flags in flags)
    if dataset.count < 1:
        raise RadioMatchError(f"The input image {path!r} has no bands.")
    return ImageInfo(
        path=path, name=image_name(path), width=dataset.width, height=dataset.height,
        count=dataset.count, dtype=dataset.dtypes[0], transform=transform, crs=dataset.crs,
        file_nodata=dataset.nodatavals[0], block_shape=tuple(dataset.block_shapes[0]),
        has_mask_band=has_mask_band)


def _same_nodata(first, second):
    if first is None or second is None:
        return first is None and second is None
    if math.isnan(first) or math.isnan(second):
        return math.isnan(first) and math.isnan(second)
    return first == second


def check_compatible(images, custom_nodata_value):
    """Same CRS (compared semantically), same band count, distinct names and, without an
    override, the same nodata."""
    first = images[0]
    names = {}
    for image in images:
        if image.name in names:
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
                f"{first.count}; all images must have the same bands.")
        if custom_nodata_value is None and not _same_nodata(image.file_nodata, first.file_nodata):
            raise RadioMatchError(
                f"The input image {image.path!r} has nodata {image.file_nodata} but "
                f"{first.path!r} has {first.file_nodata}; set a custom nodata value to use one "
                "value for all images.")


def resolve_nodata(images, custom_nodata_value, warnings):
    """The override if given, else the images' common band-1 nodata (None: all pixels valid)."""
    if custom_nodata_value is not None:
        if isinstance(custom_nodata_value, bool) or not isinstance(
                custom_nodata_value, (int, float, np.integer, np.floating)):
            raise RadioMatchError(
                f"custom_nodata_value must be a number, not {custom_nodata_value!r}.")
        return float(custom_nodata_value)
    nodata = images[0].file_nodata
    if nodata is None:
        warnings.append(
            "The images have no nodata value: every finite pixel counts as valid (fill zeros "
            "too). Set a custom nodata value if the images have a fill value.")
    return nodata


def valid_mask(data, nodata, mask=None):
    """Per-band validity of a (bands, rows, cols) tile: finite, not nodata, inside the mask band."""
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


def read_tile(dataset, image, window, nodata):
    """All bands of a window and their validity. A file whose header opens but whose pixels
    cannot be decoded (truncated, corrupt) is an error naming it."""
    try:
        data = dataset.read(window=window)
        mask = dataset.read_masks(window=window) != 0 if image.has_mask_band else None
    except RasterioIOError as error:
        raise RadioMatchError(
            f"The input image {image.path!r} cannot be read: the file is damaged or truncated "
            f"(GDAL: {error}).") from None
    return data, valid_mask(data, nodata, mask)


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
