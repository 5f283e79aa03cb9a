"""The plugin shell: metadata, classFactory, provider registration, icons, help, dependencies."""

import configparser
import os
import sys

import pytest

ALGORITHM_IDS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


def read_metadata(root):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    with open(os.path.join(root, "metadata.txt"), encoding="utf-8") as handle:
        parser.read_file(handle)
    return dict(parser.items("general"))


def test_metadata_fields(rm):
    from qgis.core import Qgis

    meta = read_metadata(rm.REPO_ROOT)
    for key in ("name", "description", "version", "qgisMinimumVersion", "author", "email",
                "about", "tracker", "repository", "homepage", "category", "icon", "tags",
                "changelog"):
        assert meta.get(key, "").strip(), key
    assert meta["hasProcessingProvider"] == "yes"
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["category"] == "Raster"
    assert meta["experimental"] == "False"
    assert meta["tracker"].startswith("https://") and meta["repository"].startswith("https://")
    assert os.path.isfile(os.path.join(rm.REPO_ROOT, meta["icon"]))
    # the running QGIS is inside the declared range
    version = Qgis.QGIS_VERSION_INT
    low = [int(part) for part in meta["qgisMinimumVersion"].split(".")]
    high = [int(part) for part in meta["qgisMaximumVersion"].split(".")]
    assert low[0] * 10000 + low[1] * 100 <= version <= high[0] * 10000 + high[1] * 100 + 99


def test_license_is_gpl2(rm):
    with open(os.path.join(rm.REPO_ROOT, "LICENSE"), encoding="utf-8") as handle:
        text = handle.read()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 2, June 1991" in text


def test_provider_lifecycle(radiomatch_provider):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("radiomatch")
    assert provider is radiomatch_provider
    assert provider.name() == "RadioMatch"
    assert provider.versionInfo() == "0.1.0"
    assert os.path.isfile(provider.svgIconPath())
    assert not provider.icon().isNull()
    ids = sorted(alg.id() for alg in provider.algorithms())
    assert ids == sorted(ALGORITHM_IDS)


@pytest.mark.parametrize("entry_point, with_iface", [("initProcessing", False),
                                                     ("initGui", True)])
def test_registration_and_unload(radiomatch_plugin, qgis_iface, entry_point, with_iface):
    """qgis_process: classFactory(None).initProcessing(); desktop: classFactory(iface).initGui().
    Both register the provider; unload removes it."""
    from qgis.core import QgsApplication

    import radiomatch

    registry = QgsApplication.processingRegistry()
    radiomatch_plugin.unload()
    assert registry.providerById("radiomatch") is None
    try:
        plugin = radiomatch.classFactory(qgis_iface if with_iface else None)
        getattr(plugin, entry_point)()
        assert registry.providerById("radiomatch") is plugin.provider
        assert len(plugin.provider.algorithms()) == 2
        plugin.unload()
        assert registry.providerById("radiomatch") is None
        plugin.unload()  # a second unload is harmless
    finally:
        radiomatch_plugin.initProcessing()  # restore the session provider
    assert registry.providerById("radiomatch") is radiomatch_plugin.provider


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_algorithm_identity_and_help(radiomatch_provider, alg_id):
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    assert alg is not None
    assert alg.name().isalnum() and alg.name().islower()
    assert alg.groupId() == "radiometricnormalization"
    assert alg.group() == "Radiometric normalization"
    assert os.path.isfile(alg.svgIconPath()) and not alg.icon().isNull()
    assert alg.helpUrl().startswith("https://github.com/radiomatch/radiomatch")
    assert isinstance(alg.createInstance(), type(alg))
    help_text = alg.shortHelpString()
    # every parameter and every output is documented by name
    names = [p.name() for p in alg.parameterDefinitions()]
    names += [o.name() for o in alg.outputDefinitions()]
    for name in names:
        assert "<code>{}</code>".format(name) in help_text, name
        entry = help_text.split("<code>{}</code>): ".format(name), 1)[1].split("</p>", 1)[0]
        assert len(entry) > 20, name


def test_display_names(radiomatch_provider):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    assert registry.algorithmById(ALGORITHM_IDS[0]).displayName() == "Global regression"
    assert registry.algorithmById(ALGORITHM_IDS[1]).displayName() == "Local block adjustment"


def test_help_to_text_strips_html():
    from radiomatch.algorithms.algorithm import html_to_text

    text = html_to_text("<p>A <b>bold</b> &amp; <code>$</code></p><p>next</p>")
    assert text == "A bold & $\nnext"


def test_plugin_import_is_light():
    """Importing the plugin package and its algorithms must not import the engine or rasterio."""
    import subprocess

    import radiomatch

    code = (
        "import sys; sys.path.insert(0, {parent!r});"
        "import radiomatch, radiomatch.plugin, radiomatch.algorithms.provider;"
        "heavy = [m for m in ('rasterio', 'scipy', 'radiomatch.core') if m in sys.modules];"
        "print(heavy)"
    ).format(parent=os.path.dirname(radiomatch.__path__[0]))

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------------------------
# Missing dependencies: the plugin loads, logs what to install, and the algorithms say it too.
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def without_rasterio(monkeypatch):
    """Make ``import rasterio`` fail and forget the already imported engine."""
    monkeypatch.setitem(sys.modules, "rasterio", None)
    for name in list(sys.modules):
        if name == "radiomatch.core" or name.startswith("radiomatch.core."):
            monkeypatch.delitem(sys.modules, name)


def test_missing_dependency_is_logged(radiomatch_provider, without_rasterio):
    from qgis.core import Qgis, QgsApplication

    from radiomatch.algorithms.provider import RadioMatchProvider

    messages = []

    def record(message, tag, level):
        messages.append((message, tag, level))

    log = QgsApplication.messageLog()
    log.messageReceived.connect(record)
    try:
        provider = RadioMatchProvider()
        provider.loadAlgorithms()
    finally:
        log.messageReceived.disconnect(record)
    assert provider.dependencies_missing
    assert len(provider.algorithms()) == 2  # still listed, so users find them and the advice
    warnings = [m for m, tag, level in messages if tag == "RadioMatch" and level == Qgis.Warning]
    assert warnings, messages
    assert "rasterio" in warnings[0] and "sudo apt install python3-rasterio" in warnings[0]


def test_no_warning_when_dependencies_present(radiomatch_provider):
    from radiomatch.algorithms.engine import missing_dependencies

    assert missing_dependencies() == []
    assert radiomatch_provider.dependencies_missing is False


def test_missing_dependency_error_when_running(radiomatch_provider, tiles, tmp_path,
                                               without_rasterio):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException) as raised:
        processing.run("radiomatch:globalregression",
                       {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out")})
    message = str(raised.value)
    assert "rasterio" in message and "sudo apt install python3-rasterio" in message
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


@pytest.fixture
def start_plugin(radiomatch_plugin, qgis_iface, monkeypatch):
    """Start the plugin as QGIS does (classFactory(iface).initGui()) on an empty message bar;
    returns the warnings the bar then shows. The registered plugin is restored afterwards."""
    from qgis.core import Qgis

    import radiomatch

    bar = qgis_iface.messageBar()
    monkeypatch.setattr(bar, "messages", {level: [] for level in bar.messages})
    radiomatch_plugin.unload()
    started = []

    def start():
        plugin = radiomatch.classFactory(qgis_iface)
        started.append(plugin)
        plugin.initGui()
        return bar.get_messages(Qgis.Warning)

    yield start
    for plugin in started:
        plugin.unload()
    radiomatch_plugin.initProcessing()


@pytest.mark.parametrize("module", ["numpy", "rasterio", "scipy"])
def test_missing_dependency_said_when_qgis_starts(start_plugin, monkeypatch, module):
    """QGIS starting the plugin with a module missing: the plugin loads, its algorithms are
    listed, and the message bar says what to install, with the command for this platform."""
    from qgis.core import QgsApplication

    monkeypatch.setitem(sys.modules, module, None)
    shown = start_plugin()
    assert len(QgsApplication.processingRegistry().providerById("radiomatch")
               .algorithms()) == 2
    assert len(shown) == 1 and shown[0].startswith("RadioMatch:")
    assert module in shown[0]
    assert "sudo apt install python3-{}".format(module) in shown[0]


def test_nothing_said_at_start_when_everything_is_there(start_plugin):
    assert start_plugin() == []


@pytest.mark.parametrize("platform, prefix, executable, command", [
    ("win32", "C:/OSGeo4W/apps/Python39", "C:/OSGeo4W/bin/qgis-bin.exe",
     "python -m pip install rasterio scipy"),
    ("darwin", "/x", "/Applications/QGIS-LTR.app/Contents/MacOS/QGIS",
     '"/Applications/QGIS-LTR.app/Contents/MacOS/bin/python3" -m pip install rasterio scipy'),
    ("linux", "CONDA", "/opt/conda/bin/qgis", "conda install -c conda-forge rasterio scipy"),
    ("linux", "/usr", "/usr/bin/qgis", "sudo apt install python3-rasterio python3-scipy")])
def test_install_command_per_platform(radiomatch_plugin, tmp_path, platform, prefix, executable,
                                      command):
    """The one command for the user's platform: the OSGeo4W Shell on Windows, the QGIS.app
    Python on macOS, conda, Debian and Ubuntu."""
    from radiomatch.algorithms.engine import install_advice

    if prefix == "CONDA":
        (tmp_path / "conda-meta").mkdir()
        prefix = str(tmp_path)
    advice = install_advice(["rasterio", "scipy"], platform, prefix, executable)
    assert command in advice
    where = {"win32": "OSGeo4W Shell", "darwin": "QGIS.app"}.get(platform)
    assert where is None or where in advice
