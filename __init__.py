"""RadioMatch: relative radiometric normalization for QGIS Processing.

The plugin folder is the Python package ``radiomatch``. Nothing heavy is imported here:
QGIS imports this module at start-up and ``qgis_process`` calls :func:`classFactory` with
``iface=None``.
"""

__copyright__ = "Copyright (C) 2024 RadioMatch developers"
__license__ = "GPL-2.0-or-later"


def classFactory(iface=None):  # noqa: N802 (QGIS API name)
    """Return the plugin instance; ``iface`` is None under ``qgis_process``."""
    from .plugin import RadioMatchPlugin

    return RadioMatchPlugin(iface)
