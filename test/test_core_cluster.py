"""Issue 17: the same runs on a Dask cluster (``dask_scheduler``): outputs byte for byte those
of the threaded run, a worker killed while writing, cancel, and a path a worker cannot read.

The cluster (conftest.py ``dask_cluster``, cluster_helpers.py) is a command-line scheduler and
two worker processes of one thread each, in folders of their own and without this repository
on their Python path: the engine reaches them only as the driver uploads it.
"""
import glob
import os
import pickle
import signal
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

import core_helpers as H
from core import CancelledError, RadioMatchError, global_regression, local_block_adjustment
from core import cluster

MASK = {"type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": H.CRS}},
        "features": [{"type": "Feature", "properties": {}, "geometry": {
            "type": "Polygon", "coordinates": [[
                (H.ORIGIN[0] + 100, H.ORIGIN[1] - 100), (H.ORIGIN[0] + 500, H.ORIGIN[1] - 100),
                (H.ORIGIN[0] + 500, H.ORIGIN[1] - 500), (H.ORIGIN[0] + 100, H.ORIGIN[1] - 500),
                (H.ORIGIN[0] + 100, H.ORIGIN[1] - 100)]]}}]}


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
    """Four overlapping 3-band uint16 tiles on a 2 x 2 grid, each with its own gain and offset;
    one has nodata holes (a cloud cut out), one a brighter blob in an overlap."""
    folder = tmp_path_factory.mktemp("cluster_tiles")
    data = H.scene(520, 520, bands=3, seed=11)
    holes = np.zeros((320, 320), dtype=bool)
    holes[40:90, 200:260] = True
    paths = []
    for k in range(4):
        row, col = 200 * (k // 2), 200 * (k % 2)
        tile = data.copy()
        if k == 3:
            tile[:, 220:260, 220:280] *= 1.4
        paths.append(H.write_tile(str(folder / f"tile{k}.tif"), tile, row, col, 320, 320,
                                  gain=[1 + 0.08 * k, 1.1 - 0.05 * k, 0.9 + 0.1 * k],
                                  offset=30 * k, nodata=0, holes=holes if k == 1 else None,
                                  tiled=True, blockxsize=128, blockysize=128))
    return paths


def files_of(folder):
    """{name: bytes} of every file in a folder (hidden temporaries included)."""
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in sorted(os.listdir(folder))}


def threaded_then_on_the_cluster(function, tiles, folder, dask_cluster, **options):
    """The run on this machine's threads, its files moved to ``threaded``, then the same run
    on the cluster into the same paths: (threaded result, cluster result, threaded files,
    cluster files)."""
    out = os.path.join(folder, "out")
    threaded = function(tiles, out, **options)
    os.rename(out, os.path.join(folder, "threaded"))
    dask_cluster.ready()
    on_cluster = function(tiles, out, dask_scheduler=dask_cluster.address, **options)
    return (threaded, on_cluster, files_of(os.path.join(folder, "threaded")), files_of(out))


CONFIGURATIONS = {
    "global regression, robust, mask, adjustments saved": (global_regression, lambda tmp: dict(
        vector_mask=("exclude", MASK), window_size=64,
        save_adjustments=os.path.join(tmp, "out", "adjustments.json"))),
    "global regression, all pixels, 2 threads, COG": (global_regression, lambda tmp: dict(
        overlap_statistics="all_pixels", image_parallel_workers=("thread", 2),
        save_as_cog=True)),
    "local block adjustment, surfaces, maps saved": (local_block_adjustment, lambda tmp: dict(
        window_size=96, number_of_blocks=16, save_block_maps=(
            os.path.join(tmp, "out", "reference.tif"), os.path.join(tmp, "out", "$_map.tif")))),
    "local block adjustment, block means, variation grid": (
        local_block_adjustment, lambda tmp: dict(
            local_model="block_means", number_of_blocks="coefficient_of_variation",
            window_size=64, calculation_dtype="float64")),
}


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_cluster_writes_the_threaded_runs_files_byte_for_byte(configuration, tiles,
                                                                  tmp_path, dask_cluster):
    function, options = CONFIGURATIONS[configuration]
    threaded, on_cluster, expected, written = threaded_then_on_the_cluster(
        function, tiles, str(tmp_path), dask_cluster, **options(str(tmp_path)))
    assert list(written) == list(expected) and len(written) >= 4
    for name in expected:
        assert written[name] == expected[name], name
    assert on_cluster == threaded
    assert on_cluster.warnings == threaded.warnings
    assert on_cluster.clipped_pixels == threaded.clipped_pixels
    assert on_cluster.nudged_pixels == threaded.nudged_pixels
    assert pickle.dumps(on_cluster.details) == pickle.dumps(threaded.details)


def test_the_workers_run_the_engine_the_driver_uploaded(tiles, tmp_path, dask_cluster):
    """The workers cannot import this repository: their engine comes from the driver's zip."""
    dask_cluster.ready()
    global_regression(tiles[:2], str(tmp_path / "out"), dask_scheduler=dask_cluster.address)
    loaded = dask_cluster.client.run(lambda: sys.modules["core.cluster"].__file__)
    assert len(loaded) == 2
    for path in loaded.values():
        assert "radiomatch-" in path and ".zip" in path
        assert not path.startswith(H.REPO_ROOT)


def kill_or_cancel_while_writing(folder, action):
    """A progress callback that, once the apply stage starts, waits in a thread until a
    worker has started writing an output (a temporary file with bytes in it), then calls
    ``action()``; the callback returns what the last ``action()`` returned (True: cancel)."""
    state = {"started": False, "acted": None, "done": threading.Event()}

    def watch():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            partial = [path for path in glob.glob(os.path.join(folder, ".*.partial"))
                       if os.path.getsize(path) > 0]
            if partial:
                state["acted"] = action()
                break
            time.sleep(0.002)
        state["done"].set()

    def progress(fraction, message):
        if message.startswith("Applying") and not state["started"]:
            state["started"] = True
            threading.Thread(target=watch, daemon=True).start()
        return bool(state["acted"])

    return progress, state


def kill_a_worker(dask_cluster):
    """SIGKILL one worker process (its nanny starts another); the run goes on (False)."""
    os.kill(sorted(dask_cluster.worker_pids().values())[0], signal.SIGKILL)
    return False


def test_a_worker_killed_while_writing_its_output_is_replaced_and_the_files_are_the_same(
        tiles, tmp_path, dask_cluster):
    """The scheduler runs the dead worker's task again (it allows 3 such failures): the task
    writes the whole output again, so the run ends with the threaded run's files."""
    out = str(tmp_path / "out")
    global_regression(tiles, str(tmp_path / "threaded"), window_size=32)
    dask_cluster.ready()
    before = dask_cluster.worker_pids()
    progress, state = kill_or_cancel_while_writing(out, lambda: kill_a_worker(dask_cluster))
    global_regression(tiles, out, window_size=32, dask_scheduler=dask_cluster.address,
                      progress_callback=progress)
    assert state["done"].wait(10)
    dask_cluster.ready()
    assert set(dask_cluster.worker_pids().values()) != set(before.values())   # one was killed
    assert files_of(out) == files_of(str(tmp_path / "threaded"))


def test_a_worker_killed_while_writing_fails_the_run_cleanly_when_the_task_is_not_retried(
        tiles, tmp_path, dask_cluster):
    out = str(tmp_path / "out")
    dask_cluster.ready()
    dask_cluster.set_allowed_failures(0)
    try:
        progress, state = kill_or_cancel_while_writing(out, lambda: kill_a_worker(dask_cluster))
        with pytest.raises(RadioMatchError, match="died while running the task.*nothing of "
                                                  "its outputs was kept"):
            global_regression(tiles, out, window_size=32, dask_scheduler=dask_cluster.address,
                              progress_callback=progress)
    finally:
        dask_cluster.set_allowed_failures(3)
    assert os.listdir(out) == []
    time.sleep(1.0)                     # no task of the run writes anything afterwards
    assert os.listdir(out) == []


def test_cancel_stops_the_workers_and_removes_every_partial_output(tiles, tmp_path,
                                                                   dask_cluster):
    out = str(tmp_path / "out")
    dask_cluster.ready()
    progress, state = kill_or_cancel_while_writing(out, lambda: True)
    with pytest.raises(CancelledError):
        local_block_adjustment(tiles, out, window_size=32, dask_scheduler=dask_cluster.address,
                               progress_callback=progress)
    assert state["acted"] is True
    assert os.listdir(out) == []
    time.sleep(1.0)
    assert os.listdir(out) == []
    assert all(count == 0 for count in dask_cluster.client.run(
        lambda: sum(run.batches for run in sys.modules["core.cluster"]._RUNS.values())).values())


def test_a_path_a_worker_cannot_read_is_named_before_any_pixel_is_read(tiles, tmp_path,
                                                                       dask_cluster,
                                                                       monkeypatch):
    """A relative path is resolved in each process's working directory: the tests' here, the
    workers' in their own folders, where there is no such file."""
    monkeypatch.chdir(os.path.dirname(tiles[0]))
    dask_cluster.ready()
    out = str(tmp_path / "out")
    with pytest.raises(RadioMatchError) as raised:
        global_regression([os.path.basename(path) for path in tiles], out,
                          dask_scheduler=dask_cluster.address)
    message = str(raised.value)
    assert "The Dask worker tcp://127.0.0.1:" in message
    assert "cannot read the input 'tile0.tif' (relative to its working directory" in message
    assert dask_cluster.folder in message
    assert os.listdir(out) == []


def zipped(tiles, folder):
    """The tiles inside one zip file, as GDAL virtual paths (/vsizip/...)."""
    archive = os.path.join(folder, "tiles.zip")
    with zipfile.ZipFile(archive, "w") as handle:
        for path in tiles:
            handle.write(path, os.path.basename(path))
    return ["/vsizip/{}/{}".format(archive, os.path.basename(path)) for path in tiles]


def test_inputs_in_a_gdal_virtual_file_system_give_the_files_of_plain_inputs(tiles, tmp_path,
                                                                            dask_cluster):
    """Inputs every worker reaches through GDAL (here a zip file on the shared disk; an object
    store such as /vsis3/ alike): the cluster's outputs are the plain inputs' threaded ones."""
    threaded = str(tmp_path / "threaded")
    local_block_adjustment(tiles, threaded, window_size=96, number_of_blocks=16)
    dask_cluster.ready()
    out = str(tmp_path / "out")
    local_block_adjustment(zipped(tiles, str(tmp_path)), out, window_size=96,
                           number_of_blocks=16, dask_scheduler=dask_cluster.address)
    assert files_of(out) == files_of(threaded)


def test_a_virtual_path_only_this_machine_sees_is_named_before_any_pixel_is_read(
        tiles, tmp_path, dask_cluster):
    """/vsimem/ lives in this process's memory: this machine opens it, no worker can."""
    from rasterio.io import MemoryFile

    dask_cluster.ready()
    out = str(tmp_path / "out")
    with open(tiles[1], "rb") as handle, MemoryFile(handle.read(), filename="tile1.tif") as memory:
        with pytest.raises(RadioMatchError) as raised:
            global_regression([tiles[0], memory.name], out, dask_scheduler=dask_cluster.address)
    message = str(raised.value)
    assert "The Dask worker tcp://127.0.0.1:" in message
    assert "cannot read the input '{}'".format(memory.name) in message
    assert os.listdir(out) == []


def test_a_worker_that_sees_another_raster_at_a_virtual_path_is_named(tiles, tmp_path,
                                                                     dask_cluster, monkeypatch):
    """A virtual path has no file size to compare: the band count and size tell. The archive
    is relative: here the tiles' zip, in each worker's folder a zip with a smaller tile0."""
    here = tmp_path / "here"
    here.mkdir()
    zipped(tiles, str(here))
    smaller = H.write_tile(str(tmp_path / "tile0.tif"), H.scene(200, 200, bands=3, seed=5), 0, 0,
                           100, 100, nodata=0)
    planted = [os.path.join(dask_cluster.folder, f"worker{k}", "tiles.zip")
               for k in range(dask_cluster.workers)]
    for archive in planted:
        with zipfile.ZipFile(archive, "w") as handle:
            handle.write(smaller, "tile0.tif")
    monkeypatch.chdir(here)
    dask_cluster.ready()
    out = str(tmp_path / "out")
    try:
        with pytest.raises(RadioMatchError) as raised:
            global_regression(["/vsizip/tiles.zip/tile0.tif", tiles[1]], out,
                              dask_scheduler=dask_cluster.address)
    finally:
        for archive in planted:
            os.remove(archive)
    assert ("sees another raster at the input '/vsizip/tiles.zip/tile0.tif' (3 bands of "
            "100 x 100 pixels, not 3 of 320 x 320)") in str(raised.value)
    assert os.listdir(out) == []


def test_a_client_is_used_as_given_and_left_open(tiles, tmp_path, dask_cluster):
    dask_cluster.ready()
    result = global_regression(tiles[:2], str(tmp_path / "out"),
                               dask_scheduler=dask_cluster.client)
    assert len(result) == 2
    assert dask_cluster.client.status == "running"


def test_dask_scheduler_must_be_an_address_or_a_client(tiles, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with pytest.raises(RadioMatchError, match="dask_scheduler must be a Dask scheduler address"):
        global_regression(tiles[:2], str(tmp_path / "out"), dask_scheduler=8786)
    assert os.listdir(tmp_path) == []


def test_without_distributed_the_error_says_what_to_install(tiles, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)       # import distributed fails
    with pytest.raises(RadioMatchError, match="python3-distributed"):
        local_block_adjustment(tiles[:2], str(tmp_path / "out"),
                               dask_scheduler="tcp://127.0.0.1:8786")
    assert os.listdir(tmp_path) == []


def test_the_uploaded_archive_holds_the_package_under_the_name_it_is_imported_by(
        tmp_path, monkeypatch):
    """Inside QGIS the engine is radiomatch.core: the archive then holds an empty
    radiomatch/__init__.py (importing the plugin would import qgis on the workers)."""
    path, digest = cluster.package_archive(str(tmp_path))
    names = zipfile.ZipFile(path).namelist()
    assert "core/cluster.py" in names and "core/__init__.py" in names
    assert not any(name.startswith("radiomatch/") for name in names)
    monkeypatch.setattr(cluster, "PACKAGE", "radiomatch.core")
    other, other_digest = cluster.package_archive(str(tmp_path))
    with zipfile.ZipFile(other) as archive:
        assert archive.read("radiomatch/__init__.py") == b""
        assert "radiomatch/core/run.py" in archive.namelist()
        assert "import_module('radiomatch.core')" in archive.read(
            "_radiomatch_loader.py").decode()
    assert other_digest != digest and digest in os.path.basename(path)
    (tmp_path / "again").mkdir()
    assert cluster.package_archive(str(tmp_path / "again"))[1] == other_digest
