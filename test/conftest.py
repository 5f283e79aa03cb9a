"""Shared fixtures.

pytest-qgis (2.1.0) starts one QgsApplication for the session (``qgis_app``) and
``qgis_processing`` initialises Processing. Processing does not load plugin providers, so
``radiomatch_provider`` registers ours the way QGIS and qgis_process do: ``classFactory(iface)``
then ``initProcessing()``.

The repository root *is* the plugin folder, so it is made importable as the package
``radiomatch`` through a symlink in a temporary directory put on ``sys.path``.
"""

import atexit
import os
import shutil
import sys
import tempfile

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_NAME = "radiomatch"

_PACKAGE_PARENT = tempfile.mkdtemp(prefix="radiomatch-pkg-")
os.symlink(REPO_ROOT, os.path.join(_PACKAGE_PARENT, PLUGIN_NAME))
sys.path.insert(0, _PACKAGE_PARENT)
atexit.register(shutil.rmtree, _PACKAGE_PARENT, True)


@pytest.fixture(scope="session")
def radiomatch_plugin(qgis_processing, qgis_iface):
    """The plugin object, loaded and with its provider registered (like QGIS does)."""
    from qgis.core import QgsApplication

    import radiomatch

    plugin = radiomatch.classFactory(qgis_iface)
    plugin.initProcessing()
    assert QgsApplication.processingRegistry().providerById(PLUGIN_NAME) is not None
    yield plugin
    plugin.unload()


@pytest.fixture
def radiomatch_provider(radiomatch_plugin):
    """The registered provider (function scope: a test may unload and re-register it)."""
    return radiomatch_plugin.provider


def new_processing_context():
    """A fresh context + feedback whose messages are kept for assertions: a namespace
    (``.context``, ``.feedback``); release it with :func:`release_processing_context`."""
    import types

    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    class RecordingFeedback(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.infos, self.warnings, self.errors, self.texts = [], [], [], []
            self.progress_values = []
            self.progressChanged.connect(self.progress_values.append)

        def pushInfo(self, info):  # noqa: N802
            self.infos.append(info)
            super().pushInfo(info)

        def pushWarning(self, warning):  # noqa: N802
            self.warnings.append(warning)
            super().pushWarning(warning)

        def reportError(self, error, fatalError=False):  # noqa: N802,N803
            self.errors.append(error)
            super().reportError(error, fatalError)

        def setProgressText(self, text):  # noqa: N802
            self.texts.append(text)
            super().setProgressText(text)

    feedback = RecordingFeedback()
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    context.setFeedback(feedback)
    return types.SimpleNamespace(context=context, feedback=feedback)


def release_processing_context(run):
    """Remove the context's temporary layers and drop the references: pytest keeps fixture
    values until after the session teardown, and a context still holding raster layers when
    QGIS has exited segfaults."""
    if run.context is not None:
        run.context.temporaryLayerStore().removeAllMapLayers()
    run.context = run.feedback = None


@pytest.fixture
def processing_context(qgis_processing):
    """A fresh context + feedback whose messages are kept for assertions.

    Yields a namespace (``.context``, ``.feedback``), released at teardown.
    """
    run = new_processing_context()
    yield run
    release_processing_context(run)


@pytest.fixture
def processing_contexts(qgis_processing):
    """A factory of fresh contexts (see :func:`new_processing_context`), all released at
    teardown: for tests that run several algorithms one after the other."""
    made = []

    def make():
        made.append(new_processing_context())
        return made[-1]

    yield make
    for run in made:
        release_processing_context(run)


# ---------------------------------------------------------------------------------------------
# qgis_process (QGIS 3.22) against the plugin folder, in an isolated profile.
#
# /usr/bin/qgis_process is broken on Debian 12 (it passes --noversioncheck), so the binary
# /usr/bin/qgis_process.bin is called directly, headless. The plugin is found through
# QGIS_PLUGINPATH (a directory holding a `radiomatch` symlink to the repository) and enabled in a
# fresh profile (QGIS_CUSTOM_CONFIG_PATH); qgis_process then calls classFactory(None) and
# initProcessing().
# ---------------------------------------------------------------------------------------------
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
QGIS_PROCESS_TIMEOUT = 300


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory):
    """A function running qgis_process with the plugin enabled in an isolated profile:
    ``qgis_process(*args, timeout=...)`` returns the CompletedProcess (text). ``.popen(*args,
    **kwargs)`` starts it without waiting; ``.env`` and ``.cwd`` are its environment."""
    import subprocess

    if not os.access(QGIS_PROCESS, os.X_OK):
        pytest.skip("qgis_process.bin is not installed")
    root = tmp_path_factory.mktemp("qgis_process")
    os.chmod(str(root), 0o700)  # XDG_RUNTIME_DIR must be private
    plugins = root / "plugins"
    plugins.mkdir()
    os.symlink(REPO_ROOT, str(plugins / PLUGIN_NAME))
    profile = root / "profile"
    profile.mkdir()
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(profile),
               QGIS_PLUGINPATH=str(plugins), XDG_RUNTIME_DIR=str(root))
    env.pop("PYTHONPATH", None)

    def call(*args, timeout=QGIS_PROCESS_TIMEOUT, **kwargs):
        return subprocess.run([QGIS_PROCESS] + list(args), capture_output=True, text=True,
                              env=env, cwd=str(root), timeout=timeout, **kwargs)

    def popen(*args, **kwargs):
        return subprocess.Popen([QGIS_PROCESS] + list(args), env=env, cwd=str(root), **kwargs)

    call.popen, call.env, call.cwd = popen, env, str(root)
    enabled = call("plugins", "enable", PLUGIN_NAME)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    return call


@pytest.fixture(params=("processing.run", "qgis_process"))
def runner(request):
    """Runs an algorithm through one entry point: each test using it runs once through
    processing.run and once through qgis_process (see hostile_helpers)."""
    import hostile_helpers

    return hostile_helpers.make_runner(request, request.param)


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A Dask scheduler and two worker processes started for the session (see
    cluster_helpers.py); the tests using it are skipped when distributed is not installed."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed (make setup "
                                              "installs python3-distributed)")
    import cluster_helpers

    cluster = cluster_helpers.LocalDaskCluster(tmp_path_factory.mktemp("dask"))
    yield cluster
    cluster.close()


# ---------------------------------------------------------------------------------------------
# Test rasters: overlapping tiles cut from one smooth scene, each with a known gain and offset.
# ---------------------------------------------------------------------------------------------
TILE = 64
PIXEL = 30.0
ORIGIN_X, ORIGIN_Y = 500000.0, 4000000.0
# (column, row) of each tile's top-left pixel on the 96 x 96 scene
TILE_OFFSETS = ((0, 0), (32, 0), (16, 32))
GAINS = ((1.0, 0.0), (1.3, 150.0), (0.8, 300.0))


def scene(rows=96, cols=96):
    import numpy as np

    r, c = np.mgrid[0:rows, 0:cols].astype("float64")
    rng = np.random.default_rng(42)
    return (1000 + 400 * np.sin(c / 9) + 300 * np.cos(r / 7) + 100 * np.sin((r + c) / 5)
            + rng.normal(0, 20, (rows, cols)))


def write_tiles(folder, gains=GAINS, offsets=TILE_OFFSETS, names=None, crs="EPSG:32618",
                dtype="uint16", nodata=0, edit=None):
    """Write one GeoTIFF per tile: round(gain * scene + offset). ``edit(k, array)`` may change
    a tile before it is written. Returns the paths in tile order."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    os.makedirs(folder, exist_ok=True)
    truth = scene()
    names = names or ["tile{}".format(k) for k in range(len(offsets))]
    paths = []
    for k, ((col, row), (gain, offset)) in enumerate(zip(offsets, gains)):
        data = gain * truth[row:row + TILE, col:col + TILE] + offset
        data = np.clip(np.round(data), 1, 65535).astype(dtype)
        if edit is not None:
            edit(k, data)
        path = os.path.join(str(folder), names[k] + ".tif")
        profile = dict(driver="GTiff", width=TILE, height=TILE, count=1, dtype=dtype, crs=crs,
                       nodata=nodata, transform=from_origin(ORIGIN_X + col * PIXEL,
                                                            ORIGIN_Y - row * PIXEL, PIXEL, PIXEL))
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
        paths.append(path)
    return paths


def read_band(path):
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1), src.transform, src.nodata


def on_scene(path, rows=96, cols=96):
    """The raster placed on the scene grid, NaN outside it and at nodata."""
    import numpy as np

    data, transform, nodata = read_band(path)
    col = int(round((transform.c - ORIGIN_X) / PIXEL))
    row = int(round((ORIGIN_Y - transform.f) / PIXEL))
    canvas = np.full((rows, cols), np.nan)
    values = data.astype("float64")
    if nodata is not None:
        values[data == nodata] = np.nan
    canvas[row:row + data.shape[0], col:col + data.shape[1]] = values
    return canvas


def overlap_difference(paths, ignore=None):
    """Mean absolute difference between overlapping images over all pairs (pixel weighted).
    ``ignore``: optional boolean scene mask of pixels to leave out."""
    import numpy as np

    grids = [on_scene(path) for path in paths]
    total, count = 0.0, 0
    for i in range(len(grids)):
        for j in range(i + 1, len(grids)):
            both = ~np.isnan(grids[i]) & ~np.isnan(grids[j])
            if ignore is not None:
                both &= ~ignore
            total += float(np.abs(grids[i][both] - grids[j][both]).sum())
            count += int(both.sum())
    assert count > 0, "the test tiles do not overlap"
    return total / count


@pytest.fixture
def tiles(tmp_path):
    """Three overlapping 64 x 64 uint16 tiles with different gains and offsets."""
    return write_tiles(tmp_path / "input")


@pytest.fixture(scope="session")
def rm():
    """The raster helpers above, for test modules (no `import conftest` needed)."""
    import types

    return types.SimpleNamespace(
        write_tiles=write_tiles, read_band=read_band, on_scene=on_scene,
        overlap_difference=overlap_difference, scene=scene, TILE=TILE, PIXEL=PIXEL,
        ORIGIN_X=ORIGIN_X, ORIGIN_Y=ORIGIN_Y, TILE_OFFSETS=TILE_OFFSETS, GAINS=GAINS,
        REPO_ROOT=REPO_ROOT)
