"""QGIS started headless for the scripts, with Processing and this plugin folder loaded as the
package ``radiomatch`` (as QGIS loads it from its plugin folder)."""

import os
import sys
import tempfile
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextmanager
def qgis_with_plugin(gui=False):
    """Yield the started plugin; unload it and remove the package link afterwards."""
    from qgis.core import QgsApplication

    app = QgsApplication([], gui)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    parent = tempfile.mkdtemp(prefix="radiomatch-script-")
    os.symlink(ROOT, os.path.join(parent, "radiomatch"))
    sys.path.insert(0, parent)
    import radiomatch

    plugin = radiomatch.classFactory(None)
    plugin.initProcessing()
    try:
        yield plugin
    finally:
        plugin.unload()
        os.remove(os.path.join(parent, "radiomatch"))
        os.rmdir(parent)
        del app
