#!/usr/bin/python3
"""Make the README's pictures from the demo tiles, headless, with QGIS's own widgets:

* docs/dialog-global-regression.png: the Global regression dialog;
* docs/outputs-with-mosaic.png: the inputs as QGIS shows them alone (each layer stretched on
  its own pixels) beside Global regression's mosaic and corrected rasters as the plugin opens
  them (one group, one style), with the layer tree;
* docs/report-global-regression.png, docs/report-local-block-adjustment.png: the top of the
  two reports (Global regression, then Local block adjustment on its outputs), rendered by
  QtWebKit, the engine of QGIS's own HTML views.

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/screenshots.py
"""

import glob
import os
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
REPORT_SIZE = (1000, 1900)
MAP_SIZE = 520


def save(image, path):
    """A 256-colour PNG (error-diffused, so colours stay true): a fifth of the size."""
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtGui import QImage

    image.convertToFormat(QImage.Format_Indexed8, Qt.DiffuseDither).save(path, "PNG", 0)


def dialog_picture(path):
    from qgis.core import QgsApplication
    from qgis.PyQt.QtWidgets import QSplitter

    from processing.gui.AlgorithmDialog import AlgorithmDialog

    dialog = AlgorithmDialog(
        QgsApplication.processingRegistry().createAlgorithmById("radiomatch:globalregression"))
    dialog.show()
    dialog.resize(900, 740)
    QgsApplication.processEvents()
    dialog.findChild(QSplitter).setSizes([500, 380])
    QgsApplication.processEvents()
    save(dialog.grab().toImage(), path)
    dialog.close()


def render(layers, extent, size):
    """The layers drawn as QGIS draws them, on a white background."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(size, size))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def outputs_picture(path, tiles, work):
    """The inputs with QGIS's default styles beside the run's outputs as the plugin opens
    them, and the layer tree of the project."""
    import processing
    from qgis.core import (QgsLayerTreeModel, QgsProcessingContext,
                           QgsProcessingFeedback, QgsProcessingOutputLayerDefinition,
                           QgsProject, QgsRasterLayer)
    from qgis.gui import QgsLayerTreeView
    from qgis.PyQt.QtCore import QPoint, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

    from processing.gui.Postprocessing import handleAlgorithmResults

    project = QgsProject.instance()
    inputs = [QgsRasterLayer(tile, os.path.basename(tile)) for tile in tiles]
    context = QgsProcessingContext()
    context.setProject(project)
    feedback = QgsProcessingFeedback()
    alg_id = "radiomatch:globalregression"
    results = processing.run(alg_id, {
        "INPUT": tiles, "OUTPUT_FOLDER": os.path.join(work, "global"),
        "MOSAIC": QgsProcessingOutputLayerDefinition(os.path.join(work, "global", "mosaic.vrt"),
                                                     project)},
        context=context, feedback=feedback)
    from qgis.core import QgsApplication

    handleAlgorithmResults(QgsApplication.processingRegistry().algorithmById(alg_id), context,
                           feedback)
    mosaic = project.mapLayersByName("Mosaic")[0]
    extent = mosaic.extent()
    extent.scale(1.02)
    before = render(inputs[::-1], extent, MAP_SIZE)
    after = render([mosaic], extent, MAP_SIZE)
    for node in project.layerTreeRoot().children()[0].children():
        node.setExpanded(False)
    view = QgsLayerTreeView()
    model = QgsLayerTreeModel(project.layerTreeRoot(), view)
    model.setFlag(QgsLayerTreeModel.AllowNodeChangeVisibility)
    view.setModel(model)
    view.resize(340, MAP_SIZE)
    view.show()
    QgsApplication.processEvents()
    tree = view.grab()
    view.close()

    width = 2 * MAP_SIZE + tree.width() + 40
    picture = QImage(width, MAP_SIZE + 40, QImage.Format_ARGB32)
    picture.fill(QColor(255, 255, 255))
    painter = QPainter(picture)
    painter.setFont(QFont("DejaVu Sans", 11))
    painter.drawText(QPoint(10, 22), "The inputs, each stretched on its own pixels "
                                     "(QGIS's default)")
    painter.drawText(QPoint(MAP_SIZE + 20, 22), "After Global regression: the mosaic, "
                                                "one style for all")
    painter.drawImage(QPoint(0, 36), before)
    painter.drawImage(QPoint(MAP_SIZE + 20, 36), after)
    painter.drawPixmap(QPoint(2 * MAP_SIZE + 40, 36), tree)
    painter.setPen(Qt.gray)
    painter.drawRect(0, 36, MAP_SIZE - 1, MAP_SIZE - 1)
    painter.drawRect(MAP_SIZE + 20, 36, MAP_SIZE - 1, MAP_SIZE - 1)
    painter.end()
    save(picture, path)
    project.clear()
    return results["OUTPUT_LAYERS"]


def report_picture(html, path):
    from qgis.PyQt.QtCore import QEventLoop, QSize, Qt, QUrl
    from qgis.PyQt.QtGui import QColor, QImage, QPainter
    from qgis.PyQt.QtWebKitWidgets import QWebPage

    page = QWebPage()
    page.setViewportSize(QSize(*REPORT_SIZE))
    for orientation in (Qt.Horizontal, Qt.Vertical):
        page.mainFrame().setScrollBarPolicy(orientation, Qt.ScrollBarAlwaysOff)
    loop = QEventLoop()
    page.mainFrame().loadFinished.connect(loop.quit)
    page.mainFrame().load(QUrl.fromLocalFile(html))
    loop.exec_()
    picture = QImage(QSize(*REPORT_SIZE), QImage.Format_ARGB32)
    picture.fill(QColor(255, 255, 255))
    painter = QPainter(picture)
    page.mainFrame().render(painter)
    painter.end()
    save(picture, path)


def main():
    from qgis_session import qgis_with_plugin

    with qgis_with_plugin(gui=True):
        make_pictures()


def make_pictures():
    import processing

    work = tempfile.mkdtemp(prefix="radiomatch-shots-")
    tiles = []
    for tile in sorted(glob.glob(os.path.join(ROOT, "demo", "data", "tile_*.tif"))):
        tiles.append(shutil.copy(tile, work))
    dialog_picture(os.path.join(DOCS, "dialog-global-regression.png"))
    corrected = outputs_picture(os.path.join(DOCS, "outputs-with-mosaic.png"), tiles, work)
    global_report = os.path.join(work, "global.html")
    processing.run("radiomatch:globalregression", {
        "INPUT": tiles, "OUTPUT_FOLDER": os.path.join(work, "global2"), "REPORT": global_report})
    local_report = os.path.join(work, "local.html")
    processing.run("radiomatch:localblockadjustment", {
        "INPUT": corrected, "OUTPUT_FOLDER": os.path.join(work, "local"),
        "REPORT": local_report})
    report_picture(global_report, os.path.join(DOCS, "report-global-regression.png"))
    report_picture(local_report, os.path.join(DOCS, "report-local-block-adjustment.png"))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
