"""The RadioMatch Processing provider."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .about import icon_path, plugin_version
from .engine import log_missing_dependencies
from .global_regression import GlobalRegression
from .local_block_adjustment import LocalBlockAdjustment


class RadioMatchProvider(QgsProcessingProvider):
    """Provider ``radiomatch`` with ``globalregression`` and ``localblockadjustment``.

    The algorithms are registered even when numpy, rasterio or scipy are missing, so that the
    toolbox shows them; the log then says what to install, and running one raises a
    QgsProcessingException with the same advice.
    """

    def __init__(self):
        super().__init__()
        self.dependencies_missing = False

    def id(self):
        return "radiomatch"

    def name(self):
        return "RadioMatch"

    def longName(self):  # noqa: N802
        return QCoreApplication.translate(
            "RadioMatchProvider", "RadioMatch radiometric normalization")

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802
        return icon_path("radiomatch.svg")

    def versionInfo(self):  # noqa: N802
        return plugin_version()

    # The one raster destination, MOSAIC, is a GDAL virtual raster of the corrected rasters.
    def defaultRasterFileExtension(self):  # noqa: N802
        return "vrt"

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        return ["vrt"]

    def loadAlgorithms(self):  # noqa: N802
        self.dependencies_missing = log_missing_dependencies()
        for algorithm in (GlobalRegression(), LocalBlockAdjustment()):
            self.addAlgorithm(algorithm)
