"""The QGIS Processing layer of RadioMatch (provider and algorithms; no numerics here)."""
