"""RadioMatch engine: relative radiometric normalisation of overlapping rasters.

Depends on numpy, rasterio and scipy only and never imports qgis, so it runs inside QGIS as
``radiomatch.core`` and standalone as ``core``. ``global_regression`` and
``local_block_adjustment`` return the list of output paths, as the reference's functions do: a
:class:`RunResult`, which also carries the warnings and the run's details.
"""
from .errors import CancelledError, RadioMatchError
from .global_regression import global_regression
from .local_block_adjustment import local_block_adjustment
from .run import RunResult

__all__ = ["global_regression", "local_block_adjustment", "RadioMatchError", "CancelledError", "RunResult"]
