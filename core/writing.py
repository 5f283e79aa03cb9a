"""Writing outputs: dtype rounding and clipping, temporary files renamed when whole, COG copies."""
import hashlib
import logging
import math
import os
import re
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
import rasterio.shutil
from rasterio._err import CPLE_BaseError   # what rasterio 1.3 raises for some GDAL write errors

from .errors import RadioMatchError
from .metadata import write_metadata

OUTPUT_TILE = 512
_TURN_SECONDS = 0.2                 # how often a tile waiting for its turn checks for a cancel
NAME_MAX = 255                      # bytes of a file name, where the file system does not say
# GDAL's side files of a raster: statistics and metadata, an external mask, overviews
RASTER_SIDE_FILES = (".aux.xml", ".msk", ".ovr")
SUPPORTED_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")


def resolve_dtype(dtype, parameter_name):
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in SUPPORTED_DTYPES:
        raise RadioMatchError(
            f"{parameter_name} must be one of {', '.join(SUPPORTED_DTYPES)}, not {dtype!r}.")
    return name


def check_nodata_fits(nodata, dtype, path):
    """A nodata value must be representable in the output dtype."""
    if nodata is None or np.issubdtype(np.dtype(dtype), np.floating):
        return
    info = np.iinfo(dtype)
    if math.isnan(nodata) or nodata != int(nodata) or not info.min <= nodata <= info.max:
        raise RadioMatchError(
            f"The nodata value {nodata} cannot be stored in the {dtype} output {path!r}; choose "
            "another output data type or nodata value.")


def _limits(dtype):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
    else:
        info = np.finfo(dtype)
    return float(info.min), float(info.max)


def _nudge_away_from_nodata(result, corrected, collides, nodata, dtype):
    """Move valid results equal to nodata to the nearest representable value that is not it."""
    low, high = _limits(dtype)
    if np.issubdtype(dtype, np.integer):
        up, down = nodata + 1, nodata - 1
    else:
        up = np.nextafter(np.array(nodata, dtype=dtype), np.array(np.inf, dtype=dtype))
        down = np.nextafter(np.array(nodata, dtype=dtype), np.array(-np.inf, dtype=dtype))
    go_up = corrected[collides] >= nodata
    if nodata >= high:
        go_up[:] = False
    elif nodata <= low:
        go_up[:] = True
    result[collides] = np.where(go_up, up, down).astype(dtype)


def _round_half_away_from_zero(values):
    """Integer-valued copy of a float array, ties away from zero; exact in the array's own
    dtype (adding 0.5 would round 0.49999997 up in float32)."""
    rounded = np.trunc(values)
    fraction = np.subtract(values, rounded)
    np.abs(fraction, out=fraction)
    np.copysign(fraction >= 0.5, values, out=fraction)
    rounded += fraction
    return rounded


def _holds_exactly(dtype, number):
    with np.errstate(over="ignore"):
        return float(dtype.type(number)) == number


def to_output_dtype(corrected, original, valid, dtype, nodata):
    """Cast corrected values to the output dtype.

    Integers are rounded half away from zero and clipped to the dtype range; floats are clipped
    to the finite range of the dtype. Invalid pixels get nodata (or keep their value when there is
    no nodata). A valid pixel that would equal nodata is nudged. Returns (array, clipped, nudged).
    """
    dtype = np.dtype(dtype)
    low, high = _limits(dtype)
    values = corrected
    if not (np.issubdtype(values.dtype, np.floating) and _holds_exactly(values.dtype, low)
            and _holds_exactly(values.dtype, high)):
        # the range test and the clip must see the limits exactly (int32 in float32 does not)
        values = values.astype(np.float64)
    clipped = 0
    with np.errstate(invalid="ignore", over="ignore"):
        if np.issubdtype(dtype, np.integer):
            values = _round_half_away_from_zero(values)
        # NaN fails both tests, so the common all-in-range tile takes two fast reductions
        if values.size and not (values.min() >= low and values.max() <= high):
            inside = (values >= low) & (values <= high)
            clipped = int(np.count_nonzero(valid & ~inside))
            values = np.clip(np.nan_to_num(values, nan=0.0, posinf=high, neginf=low), low, high)
        result = values.astype(dtype)
    nudged = 0
    invalid = ~valid
    if nodata is not None and not math.isnan(nodata):
        collides = result == nodata
        collides &= valid
        nudged = int(np.count_nonzero(collides))
        if nudged:
            # the side of nodata the value was on before rounding and clipping decides
            _nudge_away_from_nodata(result, corrected, collides, nodata, dtype)
        np.copyto(result, np.array(nodata, dtype=dtype), where=invalid)
    elif nodata is not None:
        np.copyto(result, np.array(np.nan, dtype=dtype), where=invalid)
    else:
        np.copyto(result, original, where=invalid, casting="unsafe")
    return result, clipped, nudged


def output_profile(image, dtype, nodata, threads):
    """Tiled DEFLATE GeoTIFF with every band of the input (its alpha band too). With
    ``threads`` > 1, GDAL compresses finished tiles on that many threads of its own while the
    engine computes the next ones; with 1 the run stays on one core, as asked."""
    floating = np.issubdtype(np.dtype(dtype), np.floating)
    profile = {
        "driver": "GTiff", "width": image.width, "height": image.height,
        "count": image.file_count, "dtype": dtype, "crs": image.crs,
        "transform": image.transform, "nodata": nodata,
        "tiled": True, "blockxsize": OUTPUT_TILE, "blockysize": OUTPUT_TILE,
        "compress": "DEFLATE", "predictor": 3 if floating else 2, "BIGTIFF": "IF_SAFER",
    }
    if threads > 1:
        profile["NUM_THREADS"] = str(threads)
    return profile


def _name_max(folder):
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def check_output_name(path):
    """An output's file name must fit the file system (checked before any pixel is read)."""
    folder, base = os.path.split(os.path.abspath(path))
    limit = _name_max(folder) if os.path.isdir(folder) else NAME_MAX
    size = len(os.fsencode(base))
    if size > limit:
        raise RadioMatchError(
            f"The output file name {base!r} is {size} bytes long, more than the {limit} the "
            f"file system of {folder!r} allows; choose a shorter output name.")


# ".<stem>.<pid>-<run>.partial" (or ".cog"); ".<stem>.<pid>.partial" from older versions
_TEMPORARY = re.compile(r"^\.(?P<stem>.+)\.(?P<pid>\d+)(?:-(?P<run>[0-9a-f]+))?\."
                        r"(?:partial|cog)$")
_SUFFIX_ROOM = 40                   # bytes for ".<pid>-<run>.partial"
_LIVE_RUNS = set()                  # runs of this process still in progress
_LIVE_LOCK = threading.Lock()


def _stem(base, name_max):
    """What stands for an output's name in its temporary names: the name, or when it would
    leave no room for the suffix, its beginning and a digest of the whole name."""
    encoded = os.fsencode(base)
    if len(encoded) + 1 + _SUFFIX_ROOM <= name_max:
        return base
    digest = hashlib.sha1(encoded).hexdigest()[:12]
    head = encoded[:max(1, name_max - _SUFFIX_ROOM - len(digest) - 2)]
    return head.decode("utf-8", "ignore") + "~" + digest


def _process_alive(pid):
    if os.name == "nt":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)   # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.GetLastError() == 5              # access denied: it exists
        try:
            code = ctypes.c_ulong()
            return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) \
                and code.value == 259                      # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                                        # another user's process
        return True
    return True


class TemporaryNames:
    """The hidden temporary names of one run's outputs, ``.<file>.<pid>-<run>.partial``: the
    run part keeps apart two runs of one process (two QGIS tasks), and the process id tells
    whether a file left in a folder belongs to a run still alive."""

    def __init__(self):
        self.run = secrets.token_hex(4)
        self._issued = []
        self._claimed = set()
        with _LIVE_LOCK:
            _LIVE_RUNS.add(self.run)

    def path(self, final_path, tag="partial"):
        folder, base = os.path.split(os.path.abspath(final_path))
        temporary = os.path.join(
            folder, f".{_stem(base, _name_max(folder))}.{os.getpid()}-{self.run}.{tag}")
        self._issued.append(temporary)
        return temporary

    def claim(self, final_path):
        """Reserve an output for this run before any pixel is read: its temporary file is
        created (empty), temporary files of runs that are no longer alive are removed, and
        one of a live run is an error naming it."""
        check_output_name(final_path)
        folder, base = os.path.split(os.path.abspath(final_path))
        mine = self.path(final_path)
        try:
            with open(mine, "x"):
                pass
        except OSError as error:
            raise RadioMatchError(
                f"The output {final_path!r} cannot be written ({error.strerror}).") from None
        self._claimed.add(os.path.abspath(final_path))
        stem = _stem(base, _name_max(folder))
        for entry in os.listdir(folder):
            match = _TEMPORARY.match(entry)
            path = os.path.join(folder, entry)
            if match is None or match["stem"] != stem or path == mine:
                continue
            pid = int(match["pid"])
            if pid == os.getpid():
                with _LIVE_LOCK:
                    alive = match["run"] in _LIVE_RUNS
            else:
                alive = _process_alive(pid)
            if alive:
                raise RadioMatchError(
                    f"The output {final_path!r} is being written by another run (process "
                    f"{pid}) right now; wait for it to finish or choose another output folder "
                    f"or name. (If no run is writing it, delete the hidden file {path!r}.)")
            try:
                os.remove(path)
            except OSError:
                pass

    def claimed(self, final_path):
        return os.path.abspath(final_path) in self._claimed

    def release(self):
        """Remove what is left of this run's temporary files (all of them after a failure;
        none after a run whose outputs were published) and forget the run."""
        for path in self._issued:
            try:
                os.remove(path)
            except OSError:
                pass
        with _LIVE_LOCK:
            _LIVE_RUNS.discard(self.run)


def replace_file(temporary, final_path):
    """Rename a finished temporary file into place; GDAL side files of the file it replaces
    go (statistics, an external mask or overviews of other pixels would be read with it)."""
    for suffix in RASTER_SIDE_FILES:
        if os.path.lexists(final_path + suffix):
            os.remove(final_path + suffix)
    os.replace(temporary, final_path)


def make_output_folder(path):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise RadioMatchError(
            f"The output folder {folder!r} cannot be created ({error.strerror}).") from None
    if not os.access(folder, os.W_OK):
        raise RadioMatchError(f"The output folder {folder!r} is not writable.")


class _GdalFailures(logging.Handler):
    """GDAL failures that rasterio reports as records of its ``rasterio._env`` logger for the
    calling thread. rasterio 1.3 raises nothing when a dataset is flushed and closed, so a full
    disk at that moment would otherwise leave a truncated file that looks finished."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.messages = []

    def emit(self, record):
        if record.thread != self.thread:
            return
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 (a logging problem must not hide the write)
            return
        if record.levelno >= logging.ERROR or "signalled an error" in text:
            self.messages.append(text)


@contextmanager
def gdal_failures():
    """Collect (in the yielded list) the GDAL errors signalled on this thread inside the block.
    The block runs inside a ``rasterio.Env`` so that they reach rasterio's error handler."""
    logger = logging.getLogger("rasterio._env")
    handler = _GdalFailures()
    old_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        with rasterio.Env():
            yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def gdal_message(text):
    """The readable part of rasterio's "GDAL signalled an error: err_no=1, msg='...'"."""
    marker = "msg="
    if marker in text:
        text = text.split(marker, 1)[1].strip().strip("'\"")
    return text


def write_failure(final_path, detail):
    return RadioMatchError(
        f"The output {final_path!r} could not be written completely ({detail}). Check that "
        "the disk has room and the folder is writable; nothing was kept of this run's outputs.")


@dataclass(frozen=True)
class OutputFile:
    """What a task needs to write one output: its final and temporary paths (both named on
    the machine that plans the run), the creation profile, the tile count, and the input's
    metadata and alpha band."""
    final_path: str
    temporary_path: str
    cog_path: object            # the COG copy's temporary path, None without save_as_cog
    profile: dict
    tiles: int
    metadata: object = None
    alpha_band: object = None

    @classmethod
    def named(cls, final_path, names, profile, save_as_cog, tiles, metadata=None,
              alpha_band=None):
        return cls(final_path, names.path(final_path),
                   names.path(final_path, "cog") if save_as_cog else None, profile, tiles,
                   metadata, alpha_band)


class OutputRaster:
    """One output GeoTIFF written under a temporary name and renamed only when complete.

    It is flushed and closed as soon as its last tile is written, and finished (COG copy,
    checked) by the task that wrote it: its compression then overlaps the other images' work,
    and its tiles leave GDAL's cache."""

    def __init__(self, file):
        self.file = file
        self.final_path = file.final_path
        self.temporary_path = file.temporary_path
        self._colour_bands = [band for band in range(1, file.profile["count"] + 1)
                              if band != file.alpha_band]
        self._dataset = None
        self._written = 0
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)

    def write(self, index, window, array, alpha=None, mask=None, check_cancelled=None):
        """Write tile ``index``: its corrected bands, the input's alpha band (as stored) and
        its per-dataset mask (0 = masked) when given. Tiles are written in their order,
        whichever thread computed them: the order in which the output's blocks reach the file,
        and so its bytes, then do not depend on the threads' timing (unless tiles smaller than
        the output's blocks meet a full GDAL cache, which may flush a block half written and
        rewrite it later). True when it was the last tile: the file is then closed, and
        :meth:`finish` is the writer's to call."""
        file = self.file
        with self._turn:
            if index >= file.tiles:
                raise RuntimeError(f"More tiles written to {self.final_path!r} than planned.")
            while index != self._written:
                # the tile before is being computed by another thread (it was taken first)
                self._turn.wait(_TURN_SECONDS)
                if check_cancelled is not None:
                    check_cancelled()
            if self._dataset is None:
                try:
                    self._dataset = rasterio.open(self.temporary_path, "w", **file.profile)
                    if file.metadata is not None:
                        write_metadata(self._dataset, file.metadata)
                except rasterio.errors.RasterioIOError as error:
                    raise RadioMatchError(
                        f"The output {self.final_path!r} cannot be written ({error}).") from None
            try:
                if file.alpha_band is None:
                    self._dataset.write(array, window=window)
                else:
                    self._dataset.write(array, self._colour_bands, window=window)
                    self._dataset.write(alpha, file.alpha_band, window=window)
                if mask is not None:
                    # in the GeoTIFF itself: a .msk beside the temporary file would be lost
                    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
                        self._dataset.write_mask(mask, window=window)
            except rasterio.errors.RasterioIOError as error:
                # a dirty block flushed to a full disk, or past a file size limit
                raise write_failure(self.final_path, error) from None
            self._written += 1
            self._turn.notify_all()
            if self._written < file.tiles:
                return False
            self._close(check=True)
            return True

    def close(self, check=True):
        """Flush and close the temporary file; with ``check``, a GDAL failure while flushing
        (which rasterio only logs) is an error naming the output."""
        with self._lock:
            self._close(check)

    def _close(self, check):
        if self._dataset is None:
            return
        dataset, self._dataset = self._dataset, None
        if not check:
            dataset.close()
            return
        with gdal_failures() as failures:
            dataset.close()
        if failures:
            raise write_failure(self.final_path, gdal_message(failures[0]))

    def finish(self):
        """Convert the closed file to COG if asked, and check it: the complete file stays
        under its temporary name until :meth:`publish`."""
        cog_path = self.file.cog_path
        if cog_path:
            with gdal_failures() as failures:
                try:
                    rasterio.shutil.copy(
                        self.temporary_path, cog_path, driver="COG", COMPRESS="DEFLATE",
                        PREDICTOR="YES", OVERVIEWS="AUTO", BIGTIFF="IF_SAFER",
                        NUM_THREADS=self.file.profile.get("NUM_THREADS", "1"))
                except (rasterio.errors.RasterioError, CPLE_BaseError) as error:
                    failures.append(str(error))
            if failures:
                raise write_failure(self.final_path, gdal_message(failures[0]))
            os.remove(self.temporary_path)
            os.replace(cog_path, self.temporary_path)
        self.check_complete()

    def check_complete(self):
        """The finished temporary file must open again (a file whose directory could not be
        written does not); the empty file that reserved the output was never written."""
        try:
            written = os.path.getsize(self.temporary_path) > 0
        except OSError:
            written = False
        if not written:
            raise RadioMatchError(f"The output {self.final_path!r} was never written.")
        try:
            with gdal_failures() as failures:
                with rasterio.open(self.temporary_path):
                    pass
        except rasterio.errors.RasterioIOError as error:
            raise write_failure(self.final_path, error) from None
        if failures:
            raise write_failure(self.final_path, gdal_message(failures[0]))

    def publish(self):
        replace_file(self.temporary_path, self.final_path)

    def discard(self):
        self.close(check=False)
        for path in (self.temporary_path, self.file.cog_path):
            if path and os.path.exists(path):
                os.remove(path)


def publish_all(outputs):
    """Rename every finished temporary file into place (after all of them are complete)."""
    for output in outputs:
        output.publish()
