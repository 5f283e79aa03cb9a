"""`make package`: the zip that users install with "Install from ZIP" and that
plugins.qgis.org accepts.

The checks follow the plugin repository's validator: one top folder named like the plugin
identifier, __init__.py, metadata.txt and LICENSE in it, the required metadata fields, no
.pyc / __pycache__ / .git / __MACOSX, at most 25 MB. On top of that: hasProcessingProvider=yes
(else qgis_process never loads the plugin), no tests, demo data or dev files, and the
extracted zip works as a plugin in qgis_process. No QGIS fixture is needed.
"""

import codecs
import configparser
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from urllib.parse import urlparse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_ID = "radiomatch"
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
MAX_BYTES = 25_000_000
REQUIRED_METADATA = ("name", "description", "version", "qgisMinimumVersion", "author",
                     "email", "about", "tracker", "repository")
FORBIDDEN_DIRS = {".git", "__pycache__", "__MACOSX", "test", "tests", "demo", "dist",
                  "build", ".venv", ".ci", "scripts", ".pytest_cache"}


def build_package(output_dir):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "package.py"),
                           "--output-dir", str(output_dir)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = proc.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), proc.stdout
    return path


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return build_package(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def metadata(package):
    with zipfile.ZipFile(package) as zf:
        text = codecs.decode(zf.read(f"{PLUGIN_ID}/metadata.txt"), "utf8")
    # the validator's parser: default interpolation, so a stray '%' is an error there too
    parser = configparser.ConfigParser()
    parser.optionxform = str
    parser.read_file(io.StringIO(text))
    assert parser.has_section("general"), "metadata.txt has no [general] section"
    return dict(parser.items("general"))


def test_zip_name_and_size(package, metadata):
    assert os.path.basename(package) == f"{PLUGIN_ID}-{metadata['version'].strip()}.zip"
    assert os.path.getsize(package) <= MAX_BYTES


def test_zip_layout(package):
    with zipfile.ZipFile(package) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
    # the validator takes the package name from the first entry
    assert names[0].split("/")[0] == PLUGIN_ID and "/" in names[0]
    assert re.match(r"^[A-Za-z][A-Za-z0-9-_]+$", PLUGIN_ID) and PLUGIN_ID.isidentifier()
    assert {n.split("/")[0] for n in names} == {PLUGIN_ID}
    for required in ("__init__.py", "metadata.txt", "LICENSE", "README.md"):
        assert f"{PLUGIN_ID}/{required}" in names, required
    assert any(n.startswith(f"{PLUGIN_ID}/core/") and n.endswith(".py") for n in names)
    assert any(n.startswith(f"{PLUGIN_ID}/algorithms/") and n.endswith(".py") for n in names)


def test_zip_has_no_forbidden_or_dev_files(package):
    with zipfile.ZipFile(package) as zf:
        names = zf.namelist()
    for name in names:
        parts = name.rstrip("/").split("/")
        assert ".." not in name and not name.startswith("/"), name
        assert ".pyc" not in name and not name.endswith(".pyo"), name
        assert not FORBIDDEN_DIRS.intersection(parts[1:]), name
        assert not parts[-1].startswith("test_") and parts[-1] != "conftest.py", name
        assert not parts[-1].startswith(".") or len(parts) == 1, name
        assert not parts[-1].endswith((".tif", ".ts", "~")), name
    for dev_file in ("Makefile", "requirements-test.txt", "pytest.ini", ".gitignore"):
        assert f"{PLUGIN_ID}/{dev_file}" not in names, dev_file


def test_metadata_required_fields(metadata, package):
    missing = [f for f in REQUIRED_METADATA if not metadata.get(f, "").strip()]
    assert not missing, f"metadata.txt lacks {missing}"
    assert metadata.get("hasProcessingProvider", "").strip().lower() == "yes"
    assert "/" not in metadata["author"]
    minimum = tuple(int(p) for p in metadata["qgisMinimumVersion"].strip().split("."))
    assert minimum <= (3, 22), "Debian 12 ships QGIS 3.22"
    assert re.match(r"^\d+\.\d+(\.\d+)?([-.]?\w+)?$", metadata["version"].strip())
    for key in ("tracker", "repository", "homepage"):
        if key in metadata:
            url = urlparse(metadata[key].strip())
            assert url.scheme in ("http", "https") and url.netloc, f"{key}: {metadata[key]}"
    for flag in ("experimental", "deprecated", "server"):
        if flag in metadata:
            assert metadata[flag].strip().lower() in ("true", "false", "1", "0", "yes", "no")
    if metadata.get("icon"):
        with zipfile.ZipFile(package) as zf:
            assert f"{PLUGIN_ID}/{metadata['icon'].strip().lstrip('./')}" in zf.namelist(), \
                "metadata icon is not in the zip"


def test_zip_matches_repository_sources(package):
    """Every plugin module in the work tree is shipped, and the shipped Python compiles."""
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        for name in names:
            if name.endswith(".py"):
                compile(zf.read(name), name, "exec")
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others",
                              "--exclude-standard", "--", "core", "algorithms", "*.py"],
                             capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git work tree")
    for rel in tracked.stdout.split():
        top = rel.split("/")[0]
        if rel.endswith(".py") and top in ("core", "algorithms", "__init__.py", "plugin.py") \
                and os.path.isfile(os.path.join(ROOT, rel)):
            assert f"{PLUGIN_ID}/{rel}" in names, f"{rel} missing from the zip"


def test_zip_ships_translations_icons_and_model(package):
    """Compiled translations (one .qm per i18n/*.ts, never the .ts), the icons and the model."""
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        sources = sorted(glob.glob(os.path.join(ROOT, "i18n", "*.ts")))
        assert sources, "no translation sources in i18n/"
        for ts in sources:
            qm = "{}/i18n/{}.qm".format(PLUGIN_ID, os.path.basename(ts)[:-3])
            assert qm in names, qm
            # the Qt .qm magic number: lrelease really compiled it
            assert zf.read(qm)[:16] == bytes.fromhex("3cb86418caef9c95cd211cbf60a1bddd"), qm
    for icon in ("radiomatch.svg", "globalregression.svg", "localblockadjustment.svg",
                 "radiomatch_global_then_local.model3"):
        assert "{}/resources/{}".format(PLUGIN_ID, icon) in names, icon
    assert not [n for n in names if n.endswith(".ts")]


def test_package_is_reproducible(package, tmp_path):
    again = build_package(tmp_path)
    with open(package, "rb") as a, open(again, "rb") as b:
        assert a.read() == b.read()


def install(package, folder):
    """Unzip into a plugin folder and enable it in an isolated profile; returns a function
    running qgis_process there."""
    plugins = folder / "plugins"
    with zipfile.ZipFile(package) as zf:
        zf.extractall(plugins)
    (folder / "profile").mkdir()
    (folder / "xdg").mkdir(mode=0o700)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=str(folder / "profile"),
               QGIS_PLUGINPATH=str(plugins), XDG_RUNTIME_DIR=str(folder / "xdg"))
    env.pop("PYTHONPATH", None)

    def qgis_process(*args):
        return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)

    return qgis_process


def demo_tiles(folder, count=2):
    """Copies of demo tiles (QGIS writes .aux.xml statistics next to every raster it loads)."""
    tiles = []
    for tile in sorted(glob.glob(os.path.join(ROOT, "demo", "data", "*.tif")))[:count]:
        tiles.append(str(folder / os.path.basename(tile)))
        shutil.copyfile(tile, tiles[-1])
    return tiles


@pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason="qgis_process.bin not installed")
def test_installed_zip_runs_in_qgis_process(package, tmp_path):
    """Unzip into a plugin folder, enable it in an isolated profile, run Global regression,
    then Local block adjustment on its outputs, both with their HTML report."""
    qgis_process = install(package, tmp_path)

    enabled = qgis_process("plugins", "enable", PLUGIN_ID)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    listed = qgis_process("list")
    assert listed.returncode == 0, listed.stderr
    for alg in ("globalregression", "localblockadjustment"):
        assert f"{PLUGIN_ID}:{alg}" in listed.stdout, listed.stdout + listed.stderr

    tiles = demo_tiles(tmp_path)
    out = tmp_path / "out"
    run = qgis_process("run", f"{PLUGIN_ID}:globalregression",
                       *[f"--INPUT={t}" for t in tiles], f"--OUTPUT_FOLDER={out}",
                       f"--REPORT={tmp_path / 'global.html'}")
    assert run.returncode == 0, run.stdout + run.stderr
    corrected = sorted(glob.glob(str(out / "*.tif")))
    assert len(corrected) == len(tiles), run.stdout
    local = tmp_path / "local"
    run = qgis_process("run", f"{PLUGIN_ID}:localblockadjustment",
                       *[f"--INPUT={t}" for t in corrected], f"--OUTPUT_FOLDER={local}",
                       "--NUMBER_OF_BLOCKS=20", f"--REPORT={tmp_path / 'local.html'}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(os.listdir(local)) == sorted(
        os.path.basename(p)[:-4] + "_Local.tif" for p in corrected), run.stdout
    for report in ("global.html", "local.html"):
        with open(tmp_path / report, encoding="utf-8") as handle:
            assert handle.read().startswith("<!DOCTYPE html>"), report


@pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason="qgis_process.bin not installed")
def test_installed_zip_runs_the_shipped_model(package, tmp_path):
    qgis_process = install(package, tmp_path)
    assert qgis_process("plugins", "enable", PLUGIN_ID).returncode == 0
    model = tmp_path / "plugins" / PLUGIN_ID / "resources" / "radiomatch_global_then_local.model3"
    tiles = demo_tiles(tmp_path)
    out = tmp_path / "balanced"
    run = qgis_process("run", str(model), *[f"--rasters={t}" for t in tiles], "--blocks=20",
                       "--alpha=1", f"--local:Balanced rasters={out}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(os.listdir(out)) == sorted(
        os.path.basename(t)[:-4] + "_Global_Local.tif" for t in tiles), run.stdout


@pytest.mark.skipif(not os.access(QGIS_PROCESS, os.X_OK), reason="qgis_process.bin not installed")
def test_installed_zip_speaks_french_in_a_french_profile(package, tmp_path):
    """The compiled translation in the zip is found: French names with locale/userLocale=fr_FR."""
    qgis_process = install(package, tmp_path)
    assert qgis_process("plugins", "enable", PLUGIN_ID).returncode == 0
    ini = tmp_path / "profile" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    with open(ini, "a", encoding="utf-8") as handle:
        handle.write("\n[locale]\nuserLocale=fr_FR\noverrideFlag=true\n")
    listed = qgis_process("list")
    assert listed.returncode == 0, listed.stderr
    assert f"{PLUGIN_ID}:globalregression\tR\u00e9gression globale" in listed.stdout, listed.stdout
    assert f"{PLUGIN_ID}:localblockadjustment\tAjustement local par blocs" in listed.stdout
