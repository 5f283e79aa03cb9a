"""The plugin object QGIS creates through :func:`radiomatch.classFactory`."""

import os

from qgis.core import QgsApplication, QgsSettings
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


class RadioMatchPlugin:
    """Registers the RadioMatch Processing provider.

    ``initProcessing`` is what ``qgis_process`` calls (it never calls ``initGui``); the desktop
    application calls ``initGui``, which registers the provider too.
    """

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None
        self.translator = None

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
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
