"""qgis_process (QGIS 3.22) against the plugin folder, in an isolated profile.

The ``qgis_process`` fixture (conftest.py) calls /usr/bin/qgis_process.bin with the plugin
enabled in a fresh profile.
"""

import json
import os
import re

import pytest

QGIS_PROCESS = "/usr/bin/qgis_process.bin"

pytestmark = pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK),
                                reason="qgis_process.bin is not installed")


def parse_json(proc):
    out = proc.stdout
    start = out.find("{")
    assert start >= 0, "no JSON in stdout:\n" + out + proc.stderr
    return json.loads(out[start:])


def test_plugin_is_loaded(qgis_process):
    proc = qgis_process("plugins")
    assert proc.returncode == 0, proc.stderr
    # loaded plugins are starred
    assert re.search(r"^\s*\*\s*radiomatch\b", proc.stdout, re.MULTILINE), proc.stdout


def test_list(qgis_process):
    proc = qgis_process("list")
    assert proc.returncode == 0, proc.stderr
    assert "radiomatch:globalregression" in proc.stdout
    assert "radiomatch:localblockadjustment" in proc.stdout
    assert "Global regression" in proc.stdout and "Local block adjustment" in proc.stdout


@pytest.mark.parametrize("alg_id", ["radiomatch:globalregression",
                                    "radiomatch:localblockadjustment"])
def test_help(qgis_process, radiomatch_provider, alg_id):
    from qgis.core import QgsApplication

    proc = qgis_process("help", alg_id)
    assert proc.returncode == 0, proc.stderr
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    names = [d.name() for d in alg.parameterDefinitions()]
    names += [d.name() for d in alg.outputDefinitions()]
    for name in names:
        assert name in proc.stdout, name
    # the help text is printed as plain text, not HTML
    assert "<p>" not in proc.stdout and "<code>" not in proc.stdout
    assert "qgis_process run {}".format(alg_id) in proc.stdout
    assert alg.displayName() in proc.stdout


def test_run_global_regression_json(qgis_process, radiomatch_provider, tiles, rm, tmp_path):
    out = tmp_path / "out"
    adjustments = tmp_path / "adjustments.json"
    args = ["--json", "run", "radiomatch:globalregression", "--"]
    args += ["INPUT={}".format(path) for path in tiles]
    args += ["OUTPUT_FOLDER={}".format(out), "OUTPUT_NAME=$_norm", "OUTPUT_DTYPE=6",
             "SAVE_ADJUSTMENTS={}".format(adjustments), "DEBUG_LOGS=true"]
    proc = qgis_process(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = parse_json(proc)
    results = document["results"]
    expected = [str(out / "tile{}_norm.tif".format(k)) for k in range(3)]
    assert results["OUTPUT_LAYERS"] == expected
    assert results["OUTPUT_FOLDER"] == str(out)
    assert results["SAVE_ADJUSTMENTS"] == str(adjustments)
    assert all(os.path.isfile(path) for path in expected)
    assert os.path.isfile(adjustments)
    assert rm.overlap_difference(expected) < 0.1 * rm.overlap_difference(tiles)
    assert rm.read_band(expected[0])[0].dtype == "float32"
    info = "\n".join(document.get("log", {}).get("info", []) if isinstance(
        document.get("log"), dict) else [])
    assert "scale" in info or "scale" in proc.stdout


def test_run_local_block_adjustment_json(qgis_process, tiles, rm, tmp_path):
    out = tmp_path / "out"
    maps = tmp_path / "maps"
    args = ["--json", "run", "radiomatch:localblockadjustment", "--"]
    args += ["INPUT={}".format(path) for path in tiles]
    args += ["OUTPUT_FOLDER={}".format(out), "BLOCK_RULE=1", "BLOCK_ROWS=3", "BLOCK_COLS=5",
             "CORRECTION_METHOD=0", "SAVE_BLOCK_MAPS={}".format(maps),
             "OVERRIDE_BOUNDS_CANVAS_COORDS={},{},{},{} [EPSG:32618]".format(
                 rm.ORIGIN_X, rm.ORIGIN_X + 96 * rm.PIXEL, rm.ORIGIN_Y - 96 * rm.PIXEL,
                 rm.ORIGIN_Y)]
    proc = qgis_process(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = parse_json(proc)["results"]
    expected = [str(out / "tile{}_Local.tif".format(k)) for k in range(3)]
    assert results["OUTPUT_LAYERS"] == expected
    assert results["SAVE_BLOCK_MAPS"] == str(maps)
    assert results["BLOCK_MAP_LAYERS"][0] == str(maps / "reference_block_map.tif")
    assert len(results["BLOCK_MAP_LAYERS"]) == 4
    reference, _transform, _nodata = rm.read_band(str(maps / "reference_block_map.tif"))
    assert reference.shape == (3, 5)
    # a coarse 3 x 5 grid: still much closer, though less than with the default 100 blocks
    assert rm.overlap_difference(expected) < 0.5 * rm.overlap_difference(tiles)

    # the saved maps load back (repeated LOAD_LOCAL_BLOCK_MAPS) and give the same outputs
    again = tmp_path / "again"
    args = ["--json", "run", "radiomatch:localblockadjustment", "--"]
    args += ["INPUT={}".format(path) for path in tiles]
    args += ["OUTPUT_FOLDER={}".format(again),
             "LOAD_BLOCK_MAPS={}".format(results["BLOCK_MAP_LAYERS"][0])]
    args += ["LOAD_LOCAL_BLOCK_MAPS={}".format(path) for path in results["BLOCK_MAP_LAYERS"][1:]]
    proc = qgis_process(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reloaded = parse_json(proc)["results"]["OUTPUT_LAYERS"]
    for first, second in zip(expected, reloaded):
        assert (rm.read_band(first)[0] == rm.read_band(second)[0]).all()


def test_run_error_names_the_file(qgis_process, tiles, tmp_path):
    missing = str(tmp_path / "missing.tif")
    proc = qgis_process("run", "radiomatch:globalregression", "--", "INPUT={}".format(tiles[0]),
                        "INPUT={}".format(missing), "OUTPUT_FOLDER={}".format(tmp_path / "out"))
    assert proc.returncode != 0
    assert missing in proc.stdout + proc.stderr


def test_engine_error_and_warning(qgis_process, rm, tmp_path):
    """An engine warning is printed as a warning; an engine error fails the run with its text."""
    paths = rm.write_tiles(tmp_path / "apart", offsets=((0, 0), (32, 0), (0, 200)))
    proc = qgis_process("--json", "run", "radiomatch:globalregression", "--",
                        *["INPUT={}".format(p) for p in paths],
                        "OUTPUT_FOLDER={}".format(tmp_path / "out"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = parse_json(proc)
    warnings = document.get("log", {}).get("warning", []) if isinstance(
        document.get("log"), dict) else []
    assert any("group" in warning for warning in warnings), document.get("log")

    folder = os.path.dirname(paths[0])
    proc = qgis_process("run", "radiomatch:globalregression", "--",
                        *["INPUT={}".format(p) for p in paths],
                        "OUTPUT_FOLDER={}".format(folder), "OUTPUT_NAME=$")
    assert proc.returncode != 0
    assert any(path in proc.stdout + proc.stderr for path in paths)


@pytest.mark.parametrize("json_output", [False, True])
def test_an_error_is_printed_once(qgis_process, rm, tmp_path, json_output):
    """qgis_process 3.22 prints an algorithm's error three times unless the plugin stops it
    (algorithm.error_printed_once); a refusal before the run is printed once by QGIS."""
    paths = rm.write_tiles(tmp_path / "a", names=["a0", "a1", "a2"])
    odd = rm.write_tiles(tmp_path / "b", names=["b0", "b1", "odd_crs"], crs="EPSG:32619")[2]
    prefix = ["--json"] if json_output else []
    engine_error = qgis_process(*prefix, "run", "radiomatch:globalregression", "--",
                                "INPUT={}".format(paths[0]), "INPUT={}".format(odd),
                                "OUTPUT_FOLDER={}".format(tmp_path / "out"))
    refused = qgis_process(*prefix, "run", "radiomatch:globalregression", "--",
                           "INPUT={}".format(paths[0]), "OUTPUT_FOLDER={}".format(tmp_path / "o"))
    for proc, needle in ((engine_error, "odd_crs"), (refused, "Only one input raster")):
        assert proc.returncode != 0
        printed = proc.stdout + proc.stderr
        assert printed.count(needle) == 1, printed
