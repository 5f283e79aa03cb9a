"""Writing outputs: casting corrected values to the output data type (rounding, clipping,
nodata and nudging, exactly, whatever the calculation dtype: the apply step's hot path,
rewritten for speed) and the outputs' compression threads."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import core_helpers as H
from core import RadioMatchError, global_regression
from core.rasters import open_image
from core.writing import output_profile, to_output_dtype


def cast(values, dtype, nodata=None, valid=None, original=None, calculation="float32"):
    values = np.asarray(values, dtype=calculation).reshape(1, 1, -1)
    valid = np.ones(values.shape, bool) if valid is None else np.asarray(valid).reshape(values.shape)
    original = (np.zeros(values.shape, dtype) if original is None
                else np.asarray(original, dtype).reshape(values.shape))
    array, clipped, nudged = to_output_dtype(values, original, valid, dtype, nodata)
    assert array.dtype == np.dtype(dtype)
    return array.ravel().tolist(), clipped, nudged


@pytest.mark.parametrize("calculation", ["float32", "float64"])
def test_integers_round_half_away_from_zero(calculation):
    values = [0.5, 1.5, 2.5, -0.5, -1.5, 2.4999998, -2.4999998, 7.0]
    assert cast(values, "int16", calculation=calculation)[0] == [1, 2, 3, -1, -2, 2, -2, 7]


def test_largest_float32_below_a_half_rounds_down():
    below_half = np.nextafter(np.float32(0.5), np.float32(0))      # 0.49999997
    assert cast([below_half, -below_half], "int8")[0] == [0, 0]


@pytest.mark.parametrize("calculation", ["float32", "float64"])
def test_out_of_range_and_non_finite_valid_values_are_clipped_and_counted(calculation):
    values = [-3.0, 255.4, 255.5, 300.0, np.nan, np.inf, -np.inf, 17.0]
    array, clipped, _ = cast(values, "uint8", calculation=calculation)
    assert array == [0, 255, 255, 255, 0, 255, 0, 17]
    assert clipped == 6


def test_invalid_pixels_are_not_counted_and_get_nodata():
    values = [np.nan, 500.0, 12.0]
    array, clipped, nudged = cast(values, "uint8", nodata=255, valid=[False, False, True])
    assert array == [255, 255, 12] and clipped == 0 and nudged == 0


def test_int32_limits_are_exact_with_a_float32_calculation():
    # 2147483647 is not a float32: float32(2**31) must still count as out of range
    array, clipped, _ = cast([2.0 ** 31, -(2.0 ** 31), 16777216.0], "int32")
    assert array == [2147483647, -2147483648, 16777216] and clipped == 1


def test_float_outputs_are_clipped_to_the_finite_range():
    array, clipped, _ = cast([1e40, -1e40, 1.25], "float32", calculation="float64")
    limit = float(np.finfo(np.float32).max)
    assert array == [limit, -limit, 1.25] and clipped == 2


def test_valid_values_equal_to_nodata_move_away_on_their_side():
    # 0.4 rounds to nodata 0 from above: nudged up to 1; 255.2 rounds to nodata 255: down
    array, _, nudged = cast([0.4, 3.0], "uint8", nodata=0)
    assert array == [1, 3] and nudged == 1
    array, _, nudged = cast([255.2, -0.3], "uint8", nodata=255)
    assert array == [254, 0] and nudged == 1


def test_nan_nodata_marks_invalid_float_pixels():
    array, _, _ = cast([1.0, 2.0], "float32", nodata=float("nan"), valid=[True, False])
    assert array[0] == 1.0 and np.isnan(array[1])


def test_without_nodata_invalid_pixels_keep_their_input_value():
    array, _, _ = cast([10.6, 99.0], "uint16", valid=[True, False], original=[3, 42])
    assert array == [11, 42]


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_outputs_compress_on_the_runs_threads_only(tmp_path, threads):
    # one thread means one core: GDAL must not compress on threads of its own then
    path = H.write_raster(str(tmp_path / "in.tif"), H.cast(H.scene(8, 8), "uint16"),
                          H.scene_transform(0, 0))
    profile = output_profile(open_image(path), "uint16", None, threads)
    assert profile.get("NUM_THREADS") == (None if threads == 1 else str(threads))


# ---------------------------------------------------------------------------------------------
# Temporary names: one run's never match another's; only those of runs no longer alive go
# ---------------------------------------------------------------------------------------------
def two_tiles(folder):
    scene = H.scene(40, 70, seed=5)
    return [H.write_tile(str(folder / "a.tif"), scene, 0, 0, 40, 40, nodata=0),
            H.write_tile(str(folder / "b.tif"), scene, 0, 30, 40, 40, gain=1.2, nodata=0)]


def test_a_second_run_on_the_same_outputs_is_refused_while_the_first_runs(tmp_path):
    paths = two_tiles(tmp_path / "in")
    out = str(tmp_path / "out")
    started, release, failures = threading.Event(), threading.Event(), []

    def hold(fraction, message):
        started.set()
        release.wait(30)

    def first():
        try:
            global_regression(paths, out, progress_callback=hold)
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert started.wait(30)
        # another run of the same process (a second QGIS task) is refused
        with pytest.raises(RadioMatchError, match="another run") as error:
            global_regression(paths, out)
        assert "a_Global.tif" in str(error.value)
    finally:
        release.set()
        worker.join(60)
    assert failures == []
    assert sorted(os.listdir(out)) == ["a_Global.tif", "b_Global.tif"]
    assert H.read(os.path.join(out, "b_Global.tif")).any()


def test_temporary_files_of_a_live_process_are_never_removed(tmp_path):
    paths = two_tiles(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    other = out / ".a_Global.tif.{}-0123abcd.partial".format(os.getppid())   # alive
    other.write_bytes(b"half written")
    with pytest.raises(RadioMatchError, match="another run") as error:
        global_regression(paths, str(out))
    assert str(other) in str(error.value)
    assert sorted(os.listdir(out)) == [other.name]
    assert other.read_bytes() == b"half written"


def test_temporary_files_of_dead_processes_are_removed(tmp_path):
    paths = two_tiles(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [".a_Global.tif.{}-0123abcd.partial".format(dead.pid),
             ".b_Global.tif.{}.partial".format(dead.pid),              # older versions' names
             ".b_Global.tif.{}-0123abcd.cog".format(dead.pid)]
    keep = ["notes.txt", ".a_Global.tif.notes"]
    for name in stale + keep:
        (out / name).write_text("x")
    global_regression(paths, str(out))
    assert sorted(os.listdir(out)) == sorted(keep + ["a_Global.tif", "b_Global.tif"])


# ---------------------------------------------------------------------------------------------
# The bytes of an output do not depend on the threads that wrote it
# ---------------------------------------------------------------------------------------------
def test_threads_write_each_outputs_tiles_in_order_so_the_files_do_not_depend_on_them(
        tmp_path, monkeypatch):
    """Issue 17: an output's bytes depend on the order its blocks reach the file. With GDAL's
    cache too small to hold an output (here 2 MB for 6 MB outputs), blocks are flushed as they
    age; tiles written as the threads finished them made every 3-thread run's files
    different, in order they are the 1-thread run's files (and a cluster's)."""
    from core import parallel

    monkeypatch.setattr(parallel, "WORKING_CACHE_BYTES", 2 * 1024 * 1024)
    data = H.scene(1300, 1300, bands=3, seed=2)
    paths = [H.write_tile(str(tmp_path / "in" / f"t{k}.tif"), data, 276 * (k // 2),
                          276 * (k % 2), 1024, 1024, gain=1 + 0.1 * k, nodata=0)
             for k in range(4)]
    runs = {}
    for label, threads in (("one", None), ("three", ("thread", 3)), ("again", ("thread", 3))):
        out = tmp_path / label
        global_regression(paths, str(out), window_size=512, image_parallel_workers=threads)
        runs[label] = [H.sha256(str(out / name)) for name in sorted(os.listdir(out))]
    assert runs["three"] == runs["one"] and runs["again"] == runs["one"]
