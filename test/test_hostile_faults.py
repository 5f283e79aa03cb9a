"""Faults during a run, through processing.run and qgis_process (issue 5, "Faults"): a read-only
output folder, an output that is an input, a full disk, a cancelled run and a killed process.

Whatever happens, the inputs stay byte-identical and no output is left that looks finished but
is not: every output is written under a hidden temporary name (``.<file>.<pid>.partial``) and
renamed only when all of them are complete.

The tests run as root in CI, where permission bits do not stop writes: read-only folders are
made with ``chattr +i`` (or a read-only bind mount), and the full disk is a small tmpfs.
"""
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core_helpers import InputGuard
from hostile_helpers import (ALGORITHMS, GR, LBA, SUFFIX, check, cli_arguments,
                             expected_outputs, files_under, parse_cli, read, temporary_files)


@pytest.fixture
def guard():
    return InputGuard()


def _try(*command):
    return subprocess.run(list(command), capture_output=True, text=True).returncode == 0


def _can_write(folder):
    probe = os.path.join(folder, ".write-probe")
    try:
        with open(probe, "w"):
            pass
    except OSError:
        return False
    os.remove(probe)
    return True


@contextlib.contextmanager
def read_only(folder):
    """Make ``folder`` read-only even for root: the immutable attribute, else a read-only bind
    mount, else (not root) permission bits; skip when nothing works."""
    folder = os.fspath(folder)
    undo = None
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        undo = ("chmod",)
    elif shutil.which("chattr") and _try("chattr", "+i", folder):
        undo = ("chattr", "-i", folder)
    elif _try("mount", "--bind", folder, folder):
        if _try("mount", "-o", "remount,ro,bind", folder):
            undo = ("umount", folder)
        else:
            _try("umount", folder)
    if undo is None or _can_write(folder):
        if undo and undo[0] != "chmod":
            _try(*undo)
        pytest.skip("cannot make a folder read-only here (no chattr +i, no bind mount)")
    try:
        yield folder
    finally:
        if undo[0] == "chmod":
            os.chmod(folder, 0o755)
        else:
            assert _try(*undo), undo


@contextlib.contextmanager
def small_disk(folder, kilobytes):
    """A tmpfs of ``kilobytes`` mounted on ``folder`` (root only; skip otherwise)."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() != 0 or not _try("mount", "-t", "tmpfs", "-o",
                                     "size={}k".format(kilobytes), "tmpfs", folder):
        pytest.skip("cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        yield folder
    finally:
        assert _try("umount", folder)


# ---------------------------------------------------------------------------------------------
# Read-only output folders
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("where", ["folder", "parent"])
def test_read_only_output_folder(runner, alg_id, where, tiles, tmp_path, guard):
    """The output folder exists and is read-only, or would be created in a read-only one."""
    locked = tmp_path / "locked"
    locked.mkdir()
    out = locked if where == "folder" else locked / "new"
    guard.watch(tmp_path / "input", locked)
    with read_only(locked):
        outcome = runner.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(out)})
    check(outcome, guard=guard, outputs=[locked], expect_ok=False,
          needles=[str(out)], any_needles=["not writable", "Read-only", "ermission",
                                           "not permitted"])


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_output_folder_under_a_file(runner, alg_id, tiles, tmp_path, guard):
    out = os.path.join(tiles[0], "out")
    guard.watch(tmp_path / "input")
    outcome = runner.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": out})
    check(outcome, guard=guard, outputs=[], expect_ok=False, needles=[tiles[0]],
          any_needles=["Not a directory", "not a folder"])


@pytest.mark.parametrize("alg_id, option", [(GR, "SAVE_ADJUSTMENTS"), (LBA, "SAVE_BLOCK_MAPS")])
def test_read_only_side_file_folder(runner, alg_id, option, tiles, tmp_path, guard):
    """The rasters could be written but the adjustments file or the block maps could not: the
    run fails and leaves no raster either (all outputs are published together)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / ("adjustments.json" if option == "SAVE_ADJUSTMENTS" else "maps")
    out = tmp_path / "out"
    guard.watch(tmp_path / "input", locked)
    with read_only(locked):
        outcome = runner.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(out),
                                      option: str(target)})
    check(outcome, guard=guard, outputs=[out, locked], expect_ok=False, needles=[str(locked)])


# ---------------------------------------------------------------------------------------------
# An output that is an input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("how", ["same-folder", "symlinked-folder"])
def test_output_equal_to_input(runner, alg_id, how, tiles, tmp_path, guard):
    folder = tmp_path / "input"
    if how == "symlinked-folder":
        folder = tmp_path / "link"
        os.symlink(str(tmp_path / "input"), str(folder))
    guard.watch(tmp_path / "input")
    outcome = runner.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(folder),
                                  "OUTPUT_NAME": "$"})
    check(outcome, guard=guard, expect_ok=False, needles=["inputs are never overwritten"],
          any_needles=tiles)
    assert temporary_files(str(tmp_path / "input")) == []


def test_adjustments_file_equal_to_an_input(runner, tiles, tmp_path, guard):
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    outcome = runner.run(GR, {"INPUT": tiles, "OUTPUT_FOLDER": str(out),
                              "SAVE_ADJUSTMENTS": tiles[1]})
    check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=[tiles[1]])


def test_block_map_that_is_also_a_corrected_raster(runner, tiles, tmp_path, guard):
    """The block maps saved into the output folder under the outputs' own names would replace
    the corrected rasters: refused before anything is written."""
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    outcome = runner.run(LBA, {"INPUT": tiles, "OUTPUT_FOLDER": str(out),
                               "OUTPUT_NAME": "$_block_map", "SAVE_BLOCK_MAPS": str(out)})
    check(outcome, guard=guard, outputs=[out], expect_ok=False,
          needles=["is also the corrected raster", "SAVE_BLOCK_MAPS",
                   os.path.join(str(out), "tile0_block_map.tif")])


def test_block_map_folder_holding_the_inputs(runner, tmp_path, guard, rm):
    """Block maps are named <image>_block_map.tif: an input of that name in the block-map
    folder would be replaced."""
    paths = rm.write_tiles(tmp_path / "input", names=["a", "b", "a_block_map"])
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    outcome = runner.run(LBA, {"INPUT": paths, "OUTPUT_FOLDER": str(out),
                               "SAVE_BLOCK_MAPS": str(tmp_path / "input")})
    check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=[paths[2]])


# ---------------------------------------------------------------------------------------------
# A full disk
# ---------------------------------------------------------------------------------------------
def noisy_tiles(folder, size=192, names=("n0", "n1", "n2")):
    """Overlapping tiles of incompressible noise (outputs of a known, large size)."""
    rng = np.random.default_rng(5)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for k, name in enumerate(names):
        data = rng.integers(100, 60000, (size, size)).astype("uint16")
        path = os.path.join(os.fspath(folder), name + ".tif")
        with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1,
                           dtype="uint16", crs="EPSG:32618", nodata=0,
                           transform=from_origin(500000 + k * size * 15, 4000000, 30, 30)) as d:
            d.write(data, 1)
        paths.append(path)
    return paths


@pytest.mark.parametrize("alg_id, cog, kilobytes", [(GR, False, 160), (LBA, False, 160),
                                                     (GR, True, 260)],
                         ids=["global", "local", "global-cog"])
def test_disk_full(runner, alg_id, cog, kilobytes, tmp_path, guard):
    """Three outputs of about 75 kB each on a 160 kB file system: the second or third one
    fails to be written. With SAVE_AS_COG on 260 kB, the disk fills while the Cloud-Optimized
    copies are made. The run fails naming the output, and nothing is left on the disk."""
    paths = noisy_tiles(tmp_path / "input")
    guard.watch(tmp_path / "input")
    with small_disk(tmp_path / "disk", kilobytes) as disk:
        outcome = runner.run(alg_id, {"INPUT": paths, "OUTPUT_FOLDER": disk, "SAVE_AS_COG": cog})
        check(outcome, guard=guard, outputs=[disk], expect_ok=False,
              any_needles=["No space left", "disk is full", "space"])
        assert any(path in outcome.text for path in expected_outputs(disk, paths,
                                                                     SUFFIX[alg_id])), outcome.text


@pytest.mark.parametrize("alg_id, option", [
    (GR, "SAVE_ADJUSTMENTS"),
    (LBA, "SAVE_BLOCK_MAPS")])
def test_disk_full_when_writing_side_files(runner, alg_id, option, tmp_path, guard):
    """The disk has room for the rasters and one more page: the adjustments file or the block
    maps, written after the rasters, do not fit. Nothing may be kept."""
    import core

    paths = noisy_tiles(tmp_path / "input")
    guard.watch(tmp_path / "input")
    # the size of the rasters, from the same run with the engine alone
    getattr(core, "global_regression" if alg_id == GR else "local_block_adjustment")(
        paths, str(tmp_path / "measure"))
    pages = sum(-(-os.path.getsize(str(tmp_path / "measure" / name)) // 4096)
                for name in os.listdir(str(tmp_path / "measure")))
    with small_disk(tmp_path / "disk", 4 * (pages + 1)) as disk:
        target = os.path.join(disk, "adjustments.json" if alg_id == GR else "maps")
        outcome = runner.run(alg_id, {"INPUT": paths, "OUTPUT_FOLDER": disk, option: target})
        check(outcome, guard=guard, outputs=[disk], expect_ok=False,
              any_needles=["No space left", "space"])


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_file_size_limit_in_qgis_process(qgis_process, alg_id, tmp_path, guard):
    """``ulimit -f``: a write past the limit raises SIGXFSZ, which kills the process unless it
    is ignored. The run must end with a clear error (the file too large), not a killed process,
    and leave no output."""
    paths = noisy_tiles(tmp_path / "input")
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    limit = 40 * 1024

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(qgis_process.env, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(["/usr/bin/qgis_process.bin"]
                          + cli_arguments(alg_id, {"INPUT": paths, "OUTPUT_FOLDER": str(out)}),
                          capture_output=True, text=True, env=env, cwd=qgis_process.cwd,
                          timeout=300, preexec_fn=limit_file_size)
    assert proc.returncode != -signal.SIGXFSZ, "qgis_process was killed by SIGXFSZ"
    outcome = parse_cli(proc)
    check(outcome, guard=guard, outputs=[out], expect_ok=False,
          any_needles=["File too large", "too large"])


# ---------------------------------------------------------------------------------------------
# Cancelled half way through
# ---------------------------------------------------------------------------------------------
def big_tiles(folder, size=384):
    """Three overlapping tiles large enough for a run of a few seconds with small windows."""
    rng = np.random.default_rng(11)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for k, (col, row) in enumerate(((0, 0), (size // 2, 0), (size // 4, size // 2))):
        data = (1000 + 300 * k + rng.normal(0, 50, (size, size))).astype("uint16")
        path = os.path.join(os.fspath(folder), "big{}.tif".format(k))
        with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1,
                           dtype="uint16", crs="EPSG:32618", nodata=0,
                           transform=from_origin(500000 + col * 30, 4000000 - row * 30, 30,
                                                 30)) as dst:
            dst.write(data, 1)
        paths.append(path)
    return paths


SLOW = {"WINDOW_SIZE": 16}     # many small tiles: a few seconds, many progress steps


def wait_for_temporary_file(folder, proc, timeout=120):
    """Wait until a ``.partial`` output appears in ``folder`` (the run is half way through)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if temporary_files(folder):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_cancel_half_way(runner, alg_id, tmp_path, guard, qgis_processing):
    """processing.run: the feedback is cancelled once the progress passes 50 % and outputs are
    being written. qgis_process: Ctrl+C (SIGINT) once a temporary output exists, which
    qgis_process turns into a cancellation of the feedback."""
    out = tmp_path / "out"
    parameters = dict(SLOW, INPUT=None, OUTPUT_FOLDER=str(out))
    if runner.name == "processing.run":
        from qgis.core import QgsProcessingFeedback

        paths = big_tiles(tmp_path / "input", size=128)
        guard.watch(tmp_path / "input")
        feedback = QgsProcessingFeedback()
        seen = {}

        def half_way(percent):
            if percent >= 50 and not feedback.isCanceled() and temporary_files(str(out)):
                seen["temporary"] = temporary_files(str(out))
                feedback.cancel()

        feedback.progressChanged.connect(half_way)
        outcome = runner.run(alg_id, dict(parameters, INPUT=paths), feedback=feedback)
        assert seen.get("temporary"), "no output was being written when the run was cancelled"
    else:
        # qgis_process 3.22 notices Ctrl+C in its event loop, which it runs on a progress update
        # at most every 2 s (and never in JSON mode): plain output, and at least 2.5 s of
        # writing left when the signal comes (small tiles; Global regression skips its
        # statistics with a saved adjustments file)
        paths = big_tiles(tmp_path / "input")
        guard.watch(tmp_path / "input")
        parameters.update(INPUT=paths, WINDOW_SIZE=6)
        if alg_id == GR:
            import core

            statistics = str(tmp_path / "statistics" / "adjustments.json")
            core.global_regression(paths, str(tmp_path / "statistics"),
                                   save_adjustments=statistics)
            guard.watch(tmp_path / "statistics")
            parameters.update(LOAD_ADJUSTMENTS=statistics, WINDOW_SIZE=3)
        else:
            parameters.update(WINDOW_SIZE=4)    # the smooth surfaces apply quickly
        proc = runner.call.popen(*cli_arguments(alg_id, parameters, json_output=False),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert wait_for_temporary_file(str(out), proc), "the run ended before writing"
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=120)
        outcome = parse_cli(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, ""))
    check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=["Cancel"])


# ---------------------------------------------------------------------------------------------
# Killed half way through
# ---------------------------------------------------------------------------------------------
PROCESSING_SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing
    Processing.initialize()
    import processing
    parent = tempfile.mkdtemp()
    os.symlink(sys.argv[1], os.path.join(parent, "radiomatch"))
    sys.path.insert(0, parent)
    import radiomatch
    plugin = radiomatch.classFactory(None)
    plugin.initProcessing()
    print(json.dumps(processing.run(sys.argv[2], json.loads(sys.argv[3]))), flush=True)
""")


def start_run(runner, alg_id, parameters, rm):
    """Start a run in a process of its own: qgis_process, or Python calling processing.run."""
    if runner.name == "qgis_process":
        return runner.call.popen(*cli_arguments(alg_id, parameters), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-c", PROCESSING_SCRIPT, rm.REPO_ROOT, alg_id,
                             json.dumps(parameters)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_killed_half_way_then_run_again(runner, alg_id, tmp_path, guard, rm):
    paths = big_tiles(tmp_path / "input")
    guard.watch(tmp_path / "input")
    out = tmp_path / "out"
    parameters = dict(SLOW, INPUT=paths, OUTPUT_FOLDER=str(out))
    if alg_id == GR:
        parameters["SAVE_ADJUSTMENTS"] = str(out / "adjustments.json")
    proc = start_run(runner, alg_id, parameters, rm)
    try:
        assert wait_for_temporary_file(str(out), proc), "the run ended before writing"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    guard.verify()
    # nothing that looks finished: only hidden temporary files of the killed process
    assert files_under(str(out)), "the killed run had not started writing"
    assert all(os.path.basename(name).startswith(".") for name in files_under(str(out))), (
        files_under(str(out)))

    outcome = runner.run(alg_id, dict(parameters, WINDOW_SIZE=None))
    complete = expected_outputs(out, paths, SUFFIX[alg_id])
    others = [parameters["SAVE_ADJUSTMENTS"]] if alg_id == GR else []
    if alg_id == GR:
        others.append(str(out / "adjustments.meta.json"))
    check(outcome, guard=guard, outputs=[out], complete=complete, like=paths, others=others,
          expect_ok=True)
    assert all(read(path).any() for path in complete)
