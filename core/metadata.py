"""What an output keeps of its input besides the pixels and the grid: colour interpretation,
band descriptions, units, scale and offset, and the tags of the dataset and of each band.

Scale and offset are copied unchanged: the corrections act on the stored values, so
``physical = scale * stored + offset`` holds for an output as it does for its input.
"""
from dataclasses import dataclass

# GDAL caches band statistics as tags; after a correction they would describe other pixels.
_STALE_TAG_PREFIX = "STATISTICS_"


@dataclass(frozen=True)
class RasterMetadata:
    """Per band (every band of the file, alpha included) and per dataset."""
    colorinterp: tuple
    descriptions: tuple
    units: tuple
    scales: tuple
    offsets: tuple
    band_tags: tuple
    tags: dict


def read_metadata(dataset):
    return RasterMetadata(
        colorinterp=tuple(dataset.colorinterp), descriptions=tuple(dataset.descriptions),
        units=tuple(dataset.units), scales=tuple(dataset.scales),
        offsets=tuple(dataset.offsets),
        band_tags=tuple({key: value for key, value in dataset.tags(band).items()
                         if not key.startswith(_STALE_TAG_PREFIX)}
                        for band in range(1, dataset.count + 1)),
        tags=dict(dataset.tags()))


def write_metadata(dataset, metadata):
    """Set ``metadata`` on a dataset just created with as many bands (before any pixel is
    written: a GeoTIFF records an alpha band in its header)."""
    dataset.colorinterp = metadata.colorinterp
    for band, description in enumerate(metadata.descriptions, start=1):
        if description:
            dataset.set_band_description(band, description)
    if any(metadata.units):
        dataset.units = tuple(unit or "" for unit in metadata.units)
    if any(scale != 1 for scale in metadata.scales) or any(metadata.offsets):
        dataset.scales = metadata.scales
        dataset.offsets = metadata.offsets
    for band, tags in enumerate(metadata.band_tags, start=1):
        if tags:
            dataset.update_tags(band, **tags)
    if metadata.tags:
        dataset.update_tags(**metadata.tags)
