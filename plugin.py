"""The plugin object QGIS creates through :func:`radiomatch.classFactory`."""

import inspect
import os
import time

from qgis.core import Qgis, QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

I18N_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "i18n")


def user_locale():
    """QGIS's user interface locale (``locale/userLocale``, e.g. ``fr`` or ``fr_FR``); the
    system locale when QGIS has not set it (``qgis_process`` in a fresh profile)."""
    value = QgsSettings().value("locale/userLocale", "") or ""
    return str(value) or QLocale.system().name()


def translation_file(locale):
    """``i18n/radiomatch_<locale>.qm``, else ``radiomatch_<language>.qm``, else None."""
    locale = locale.replace("-", "_")
    for code in dict.fromkeys((locale, locale.split("_")[0])):
        path = os.path.join(I18N_DIR, "radiomatch_{}.qm".format(code))
        if code and os.path.isfile(path):
            return path
    return None


def results_list_class():
    """The class of the Processing Results Viewer's list, or None outside desktop QGIS."""
    try:
        from processing.core.ProcessingResults import ProcessingResults
    except ImportError:
        return None
    return ProcessingResults


def install_batch_results_fix():
    """QGIS 3.22's batch dialog adds a run's HTML outputs (REPORT) to the Results Viewer
    without the ``timestamp`` that ``ProcessingResults.addResult`` requires, so a batch whose
    rows wrote reports ends in a TypeError before its summary. Where ``timestamp`` has no
    default, give it "now"; return the original method (None when nothing was changed)."""
    results = results_list_class()
    if results is None:
        return None
    original = results.addResult
    timestamp = inspect.signature(original).parameters.get("timestamp")
    if timestamp is None or timestamp.default is not inspect.Parameter.empty:
        return None

    def add_result(self, icon, name, timestamp=None, result=None):
        return original(self, icon, name, time.localtime() if timestamp is None else timestamp,
                        result)

    results.addResult = add_result
    return original


class RadioMatchPlugin:
    """Registers the RadioMatch Processing provider.

    ``initProcessing`` is what ``qgis_process`` calls (it never calls ``initGui``); the desktop
    application calls ``initGui``, which registers the provider too.
    """

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None
        self.translator = None
        self.original_add_result = None

    def install_translator(self):
        """Load the translation of the QGIS locale, if there is one (before the provider, so
        that names, help and messages are translated)."""
        if self.translator is not None:
            return
        path = translation_file(user_locale())
        if path is None:
            return
        translator = QTranslator()
        if translator.load(path):
            QCoreApplication.installTranslator(translator)
            self.translator = translator

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is not None:
            return
        self.install_translator()
        from .algorithms.provider import RadioMatchProvider

        self.provider = RadioMatchProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API name)
        """Register the provider, say at once what to install when a dependency is missing
        (not only when Run is clicked), and let batch runs list their reports."""
        self.initProcessing()
        if self.provider.dependencies_missing and self.iface is not None:
            from .algorithms.engine import dependency_message

            self.iface.messageBar().pushMessage("RadioMatch", dependency_message(),
                                                Qgis.Warning, 0)
        if self.original_add_result is None:
            self.original_add_result = install_batch_results_fix()

    def unload(self):
        if self.original_add_result is not None:
            results_list_class().addResult = self.original_add_result
            self.original_add_result = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
