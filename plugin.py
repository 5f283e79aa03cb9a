"""The plugin object QGIS creates through :func:`radiomatch.classFactory`."""

from qgis.core import QgsApplication


class RadioMatchPlugin:
    """Registers the RadioMatch Processing provider.

    ``initProcessing`` is what ``qgis_process`` calls (it never calls ``initGui``); the desktop
    application calls ``initGui``, which registers the provider too.
    """

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is not None:
            return
        from .algorithms.provider import RadioMatchProvider

        self.provider = RadioMatchProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
