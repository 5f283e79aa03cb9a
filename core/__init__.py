"""RadioMatch engine: relative radiometric normalisation of overlapping rasters.

Depends on numpy, rasterio and scipy only and never imports qgis, so it runs inside QGIS as
``radiomatch.core`` and standalone as ``core``.
"""
from .errors import CancelledError, RadioMatchError
from .global_regression import global_regression
from .local_block_adjustment import local_block_adjustment
from .run import RunResult

__all__ = ["global_regression", "local_block_adjustment", "RadioMatchError", "CancelledError", "RunResult"]
