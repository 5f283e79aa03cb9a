"""Opening a run's rasters in the project when it ends: one layer group per run, and one
renderer for the corrected rasters and their mosaic (the same bands, one contrast stretch), so
that the display makes up no seam between balanced images.

QGIS's own default would stretch each layer on its own pixels, and two balanced tiles would
then be shown with different contrasts.
"""

import bisect

from qgis.core import (
    QgsContrastEnhancement,
    QgsLayerTree,
    QgsMultiBandColorRenderer,
    QgsProcessingContext,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsRaster,
    QgsRasterMinMaxOrigin,
    QgsSingleBandGrayRenderer,
)


def band_mapping(source, band_count, alpha):
    """The 1-based bands to show: those of ``source`` (the first input's layer, if it is in the
    project and shows its bands in colour or grey), else red, green, blue = bands 1, 2, 3, or
    the first band as grey."""
    renderer = source.renderer() if source is not None else None
    if isinstance(renderer, QgsMultiBandColorRenderer):
        bands = (renderer.redBand(), renderer.greenBand(), renderer.blueBand())
    elif isinstance(renderer, QgsSingleBandGrayRenderer):
        bands = (renderer.grayBand(),)
    else:
        bands = ()
    if bands and all(1 <= band <= band_count for band in bands):
        return bands
    data = [band for band in range(1, band_count + 1) if band != alpha]
    return tuple(data[:3]) if len(data) >= 3 else tuple(data[:1])


def shared_renderer(layer, source, limits):
    """A renderer of ``layer`` with the bands of :func:`band_mapping` stretched linearly
    between ``limits`` (0-based per band: (low, high), or None to keep QGIS's own)."""
    provider = layer.dataProvider()
    count = layer.bandCount()
    alpha = next((band for band in range(1, count + 1)
                  if provider.colorInterpretation(band) == QgsRaster.AlphaBand), None)
    bands = band_mapping(source, count, alpha)
    if len(bands) == 3:
        renderer = QgsMultiBandColorRenderer(provider, *bands)
        setters = (renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
                   renderer.setBlueContrastEnhancement)
    else:
        renderer = QgsSingleBandGrayRenderer(provider, bands[0])
        setters = (renderer.setContrastEnhancement,)
    for band, setter in zip(bands, setters):
        limit = limits[band - 1] if band - 1 < len(limits) else None
        if limit is None:
            continue
        enhancement = QgsContrastEnhancement(provider.dataType(band))
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancement.setMinimumValue(limit[0])
        enhancement.setMaximumValue(limit[1])
        setter(enhancement)
    if alpha is not None:
        renderer.setAlphaBand(alpha)
    # the limits are the run's own: QGIS must not recompute them from this layer alone
    origin = renderer.minMaxOrigin()
    origin.setLimits(QgsRasterMinMaxOrigin.None_)
    renderer.setMinMaxOrigin(origin)
    return renderer


class RunLayers:
    """The layers a run opens, in one group: each gets a post-processor that QGIS calls on the
    main thread once the layer is in the project, to give it the shared renderer (when asked)
    and move it into the group, in its place. Layers are added top to bottom.

    The context deletes each post-processor with its layer's details, so every layer has its
    own; their Python side lives only as long as a Python reference, so the run holds them (in
    ``_open``) until its last layer is placed.
    """

    _open = set()

    def __init__(self, group_name, limits, source_layer_id=None):
        self.group_name = group_name
        self.limits = limits
        self.source_layer_id = source_layer_id
        self.processors = []
        self.placed = []
        self.handled = 0
        self.group = None

    def add(self, context, project, path, name, output_name, styled=True, visible=True):
        """Open ``path`` in ``project`` when the algorithm finishes, under the next place of
        the group."""
        processor = _LayerPlacement(self, len(self.processors), styled, visible)
        details = QgsProcessingContext.LayerDetails(name, project, output_name,
                                                    QgsProcessingUtils.LayerHint.Raster)
        details.forceName = True
        details.setPostProcessor(processor)
        context.addLayerToLoadOnCompletion(path, details)
        self.processors.append(processor)
        RunLayers._open.add(self)

    def place(self, layer, rank, styled, visible):
        """Style ``layer`` (now in its project) and move it to place ``rank`` of the group."""
        project = layer.project()
        if styled:
            source = project.mapLayer(self.source_layer_id) if self.source_layer_id else None
            layer.setRenderer(shared_renderer(layer, source, self.limits))
            layer.triggerRepaint()
        node = project.layerTreeRoot().findLayer(layer.id())
        if node is not None:
            parent = node.parent()
            if self.group is None:
                position = next(index for index, child in enumerate(parent.children())
                                if QgsLayerTree.isLayer(child) and child.layerId() == layer.id())
                self.group = parent.insertGroup(position, self.group_name)
            index = bisect.bisect(self.placed, rank)
            self.placed.insert(index, rank)
            moved = node.clone()
            moved.setItemVisibilityChecked(visible)
            self.group.insertChildNode(index, moved)
            parent.removeChildNode(node)
        self.handled += 1
        if self.handled == len(self.processors):
            RunLayers._open.discard(self)


class _LayerPlacement(QgsProcessingLayerPostProcessorInterface):
    """The post-processor of one layer of a :class:`RunLayers`."""

    def __init__(self, run, rank, styled, visible):
        super().__init__()
        self.run, self.rank, self.styled, self.visible = run, rank, styled, visible

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        self.run.place(layer, self.rank, self.styled, self.visible)
