"""Translations: i18n/radiomatch_fr.ts is complete and up to date with the code (pylupdate5),
compiles (lrelease), and the plugin speaks French when the QGIS locale is French."""

import collections
import glob
import html
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TS_FILE = os.path.join(ROOT, "i18n", "radiomatch_fr.ts")
QM_FILE = os.path.join(ROOT, "i18n", "radiomatch_fr.qm")
# what `make translations` hands to pylupdate5
SOURCES = ["__init__.py", "plugin.py"] + sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "algorithms", "*.py")))
PYLUPDATE = shutil.which("pylupdate5")
LRELEASE = shutil.which("lrelease") or "/usr/lib/qt5/bin/lrelease"

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[a-z]+>")
PARAMETER_NAME = re.compile(r"\b[A-Z]+(?:_[A-Z]+)+\b")


def messages(path):
    """[(context, source, translation element)] of a .ts file."""
    root = ElementTree.parse(path).getroot()
    found = []
    for context in root.iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            found.append((name, message.findtext("source"), message.find("translation")))
    return found


@pytest.fixture(scope="session")
def qm_file():
    """The compiled French translation (make test builds it; plain pytest gets it here)."""
    if not os.path.isfile(QM_FILE) or os.path.getmtime(QM_FILE) < os.path.getmtime(TS_FILE):
        if not os.path.exists(LRELEASE):
            pytest.skip("lrelease is not installed (make setup: qttools5-dev-tools)")
        subprocess.run([LRELEASE, "-silent", TS_FILE, "-qm", QM_FILE], check=True)
    return QM_FILE


def test_french_translation_is_complete():
    found = messages(TS_FILE)
    assert len(found) > 150
    root = ElementTree.parse(TS_FILE).getroot()
    assert root.get("language") == "fr_FR"
    for context, source, translation in found:
        where = "{}: {!r}".format(context, source)
        assert translation is not None and (translation.text or "").strip(), where
        assert translation.get("type") is None, where + " is " + translation.get("type")
        text = translation.text
        assert PLACEHOLDER.findall(text) == PLACEHOLDER.findall(source), where
        assert collections.Counter(TAG.findall(text)) == collections.Counter(
            TAG.findall(source)), where
        assert set(PARAMETER_NAME.findall(text)) == set(PARAMETER_NAME.findall(source)), where
        assert text.count("$") == source.count("$"), where
        if source != text:
            continue
        # identical only for names and formats that are the same in French
        assert source in ("Images", "Image", "Alpha", "gamma", "gain", "Gamma", "Gain"), where


def test_translatable_sources_are_ascii():
    """pylupdate5 reads sources in the locale's encoding: keep tr() strings ASCII (use \\u
    escapes outside tr() for other characters)."""
    for name in SOURCES:
        with open(os.path.join(ROOT, name), "rb") as handle:
            data = handle.read()
        assert all(byte < 128 for byte in data), name


@pytest.mark.skipif(PYLUPDATE is None, reason="pylupdate5 not installed (pyqt5-dev-tools)")
def test_ts_is_up_to_date_with_the_code(tmp_path):
    """pylupdate5 on the current code finds no string that the committed .ts lacks."""
    copy = tmp_path / "radiomatch_fr.ts"
    shutil.copyfile(TS_FILE, copy)
    proc = subprocess.run([PYLUPDATE, "-noobsolete", *SOURCES, "-ts", str(copy)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    committed = {(c, s) for c, s, _t in messages(TS_FILE)}
    current = {(c, s) for c, s, _t in messages(str(copy))}
    assert current == committed, (
        "run `make translations` and translate the new strings in i18n/radiomatch_fr.ts: "
        "new {}, gone {}".format(sorted(current - committed), sorted(committed - current)))
    untranslated = [s for c, s, t in messages(str(copy)) if t.get("type") == "unfinished"]
    assert not untranslated


def test_qm_compiles(qm_file, tmp_path):
    proc = subprocess.run([LRELEASE, TS_FILE, "-qm", str(tmp_path / "fr.qm")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "0 unfinished" in proc.stdout and "ignored" not in proc.stdout, proc.stdout


def test_translation_file_lookup(qm_file):
    from radiomatch.plugin import translation_file

    for locale in ("fr", "fr_FR", "fr_CA", "fr-BE"):
        assert os.path.realpath(translation_file(locale)) == os.path.realpath(QM_FILE), locale
    assert translation_file("de_DE") is None
    assert translation_file("en_US") is None
    assert translation_file("") is None


@pytest.fixture
def french_locale(radiomatch_plugin, qm_file):
    """QGIS locale set to French with the session plugin unloaded; both restored afterwards."""
    from qgis.core import QgsSettings

    settings = QgsSettings()
    old = settings.value("locale/userLocale", None)
    radiomatch_plugin.unload()
    settings.setValue("locale/userLocale", "fr_FR")
    try:
        yield
    finally:
        if old is None:
            settings.remove("locale/userLocale")
        else:
            settings.setValue("locale/userLocale", old)
        radiomatch_plugin.initProcessing()


def test_plugin_speaks_french_in_a_french_qgis(french_locale, tiles, tmp_path):
    from qgis.core import QgsApplication, QgsProcessingContext

    import radiomatch
    from radiomatch.algorithms import report

    registry = QgsApplication.processingRegistry()
    plugin = radiomatch.classFactory(None)
    plugin.initProcessing()
    tile = tiles[0]
    try:
        assert plugin.translator is not None
        provider = registry.providerById("radiomatch")
        assert provider.longName() == "Normalisation radiom\u00e9trique RadioMatch"
        gr = registry.algorithmById("radiomatch:globalregression")
        lba = registry.algorithmById("radiomatch:localblockadjustment")
        # display names, group, parameter descriptions, enum options
        assert gr.displayName() == "R\u00e9gression globale"
        assert lba.displayName() == "Ajustement local par blocs"
        assert gr.group() == lba.group() == "Normalisation radiom\u00e9trique"
        assert gr.parameterDefinition("INPUT").description() == "Rasters en entr\u00e9e"
        assert gr.parameterDefinition("REPORT").description() == "Rapport"
        assert lba.parameterDefinition("BLOCK_RULE").options()[1] == "Lignes et colonnes"
        assert gr.parameterDefinition("MOSAIC").description() == "Mosa\u00efque"
        # tooltips (the help) in French, and the run's messages
        assert gr.parameterDefinition("MOSAIC").help().startswith(
            "Raster virtuel GDAL (.vrt) facultatif")
        assert "Ouvrir le fichier en sortie" in gr.parameterDefinition("MOSAIC").help()
        assert gr.parameterDefinition("MOSAIC").help() in gr.parameterDefinition(
            "MOSAIC").toolTip()
        assert gr.parameterDefinition("MASK_MODE").options()[0].startswith("Inclure")
        # help (algorithm's own and shared), tags
        help_text = gr.shortHelpString()
        assert "La r\u00e9gression globale rend des rasters" in help_text
        assert "Dossier o\u00f9 sont \u00e9crits les GeoTIFF corrig\u00e9s" in help_text
        assert "mosa\u00efque" in lba.tags()
        # messages
        ok, message = gr.checkParameterValues({"INPUT": []}, QgsProcessingContext())
        assert not ok and message.startswith("Aucun raster en entr\u00e9e")
        ok, message = gr.checkParameterValues({"INPUT": [tile]}, QgsProcessingContext())
        assert not ok and message.startswith("Un seul raster en entr\u00e9e")
        # the report
        assert report.tr("Warnings") == "Avertissements"
        assert report.tr("The mosaic before and after") == "La mosa\u00efque avant et apr\u00e8s"
    finally:
        plugin.unload()
    assert plugin.translator is None
    # the translator is gone with the plugin
    assert registry.providerById("radiomatch") is None


def test_english_after_the_french_plugin_is_unloaded(radiomatch_provider):
    """Runs after the French test: the session plugin is English again."""
    from qgis.core import QgsApplication

    gr = QgsApplication.processingRegistry().algorithmById("radiomatch:globalregression")
    assert gr.displayName() == "Global regression"
    assert gr.parameterDefinition("INPUT").description() == "Input rasters"


def test_no_translator_for_other_locales(radiomatch_plugin, qm_file):
    from qgis.core import QgsSettings

    import radiomatch

    settings = QgsSettings()
    old = settings.value("locale/userLocale", None)
    settings.setValue("locale/userLocale", "de_DE")
    try:
        plugin = radiomatch.classFactory(None)
        plugin.install_translator()
        assert plugin.translator is None
    finally:
        if old is None:
            settings.remove("locale/userLocale")
        else:
            settings.setValue("locale/userLocale", old)


def test_ts_sources_match_runtime_strings(radiomatch_provider):
    """Spot check that the contexts pylupdate5 wrote are those tr() uses at run time."""
    contexts = {(c, html.unescape(s)) for c, s, _t in messages(TS_FILE)}
    assert ("GlobalRegression", "Global regression") in contexts
    assert ("LocalBlockAdjustment", "Local block adjustment") in contexts
    assert ("RadioMatchAlgorithm", "Input rasters") in contexts
    assert ("RadioMatchProvider", "RadioMatch radiometric normalization") in contexts
    assert ("@default", "Warnings") in contexts
